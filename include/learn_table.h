/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_LEARN_TABLE_H
#define PORTWARDEN_LEARN_TABLE_H

/*
 * The daemon's own record of the addresses it put into one hostname set
 * (one rule and family): which name each was learned for and until when.
 * Bounded: at most @max entries, the least recently learned or renewed
 * one is evicted first (a list in learning order), and a hash finds an
 * address in constant time, so 100,000 addresses cost a few MB.
 */
#include <stddef.h>
#include <stdint.h>

/**
 * struct learn_entry - one address of the set
 * @addr:    4 (IPv4, the rest zero) or 16 bytes
 * @name:    the hostname it was learned for (owned)
 * @expires: seconds since the epoch when the kernel's timeout ends
 * @prev, @next: learning order, indexes (LT_NONE at the ends)
 * @hnext:   next entry of the same hash bucket
 * @used:    the slot holds an entry
 */
struct learn_entry {
	uint8_t addr[16];
	char *name;
	int64_t expires;
	uint32_t prev, next, hnext;
	uint8_t used;
};

#define LT_NONE UINT32_MAX

/**
 * struct learn_table - the learned addresses of one set
 * @set:    the set's name in the table (owned)
 * @family: 4 or 6
 * @max:    entries at most (max_addresses)
 */
struct learn_table {
	char *set;
	int family;
	size_t max;
	struct learn_entry *v;
	size_t n, cap;		/* entries in use; slots */
	uint32_t free_head;	/* free slots, through @next */
	uint32_t head, tail;	/* oldest, newest */
	uint32_t *buckets;
	size_t n_buckets;
};

/* An empty table of @set (copied) for @family, bounded at @max. */
void learn_table_init(struct learn_table *t, const char *set, int family,
		      size_t max);
void learn_table_release(struct learn_table *t);

/* The entry for @addr, or NULL. */
struct learn_entry *learn_table_find(struct learn_table *t, const uint8_t *addr);

/**
 * learn_table_put() - add @addr, or renew it, as the newest entry
 * @name:    the hostname (copied when the entry is new or learned for
 *           another name now)
 * @expires: its new expiry (an entry keeps the later of old and new)
 * @evicted: when the table was full, receives the address that was
 *           evicted to make room (the caller removes it from the kernel)
 * Return: 1 when an entry was evicted, 0 otherwise.
 */
int learn_table_put(struct learn_table *t, const uint8_t *addr,
		    const char *name, int64_t expires, uint8_t evicted[16]);

/* Drop the entry of @addr, if any. */
void learn_table_del(struct learn_table *t, const uint8_t *addr);

/* Drop the entries that expired at or before @now; how many. */
size_t learn_table_expire(struct learn_table *t, int64_t now);

/* Iteration from the oldest entry: LT_NONE ends it. */
static inline uint32_t learn_table_first(const struct learn_table *t)
{
	return t->head;
}

static inline uint32_t learn_table_next(const struct learn_table *t, uint32_t i)
{
	return t->v[i].next;
}

#endif
