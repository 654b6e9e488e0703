/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_GEN_CACHE_H
#define PORTWARDEN_GEN_CACHE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The generation cache. Dumping a table of 100,000 elements costs the
 * kernel far more than loading it, so apply remembers, per namespace and
 * table, the ruleset generation its last transaction (or its last full
 * comparison) left and the fingerprint (model_hash()) of the model. While
 * the generation has not moved, no transaction of anyone has touched any
 * table since, and an equal fingerprint means the table is still exactly
 * that model. The namespace is named by its SO_NETNS_COOKIE, which is
 * never reused during a boot; the directory (RUN_DIR) does not outlive a
 * boot.
 *
 * One small file per namespace and table: DIR/gen-COOKIE-TABLE holding
 * "GENERATION HASH", replaced by rename.
 */

/**
 * gen_cache_hit() - does the cache say the live table is the model of @hash?
 * Return: true when DIR's entry for @cookie and @table holds @gen and @hash.
 */
bool gen_cache_hit(const char *dir, uint64_t cookie, const char *table,
		   uint32_t gen, uint64_t hash);

/**
 * gen_cache_store() - remember that generation @gen holds the model of @hash
 * Call with the run lock held. @gen 0 (unknown) stores nothing. A cache
 * that cannot be written only costs the next run a full read.
 * Return: 0 or a negative errno.
 */
int gen_cache_store(const char *dir, uint64_t cookie, const char *table,
		    uint32_t gen, uint64_t hash);

#endif
