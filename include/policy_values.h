/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_POLICY_VALUES_H
#define PORTWARDEN_POLICY_VALUES_H

/* Values of the policy language (policy_values.c); see policy_ctx.h. */

#include "policy_ctx.h"

/**
 * chk_q() - a policy string made safe for a message: control and non-ASCII
 * bytes shown as '?', cut to 64 characters with "..."; valid until four
 * more calls
 */
const char *chk_q(struct ctx *c, const char *s);
/** chk_want_scalar() - @n is a non-null scalar, else an error naming @what */
bool chk_want_scalar(struct ctx *c, const struct node *n, const char *what);
/** chk_get_bool() - true/false (and yes/no/on/off); 0 or -EINVAL */
int chk_get_bool(struct ctx *c, const struct node *n, bool *out);
/** chk_hint_for() - closest_word() plus one swap of adjacent letters */
const char *chk_hint_for(const char *word, const char *const *names,
			 size_t n);
/** chk_get_enum() - index of @n in @names, or an error with a hint */
int chk_get_enum(struct ctx *c, const struct node *n, const char *what,
		 const char *const *names, size_t count, int *out);
/** chk_unknown_key() - report an unknown mapping key with a hint */
void chk_unknown_key(struct ctx *c, const struct node *k, const char *where,
		     const char *const *keys, size_t n);
/** chk_key_index() - index of key @k in @keys, or -1 */
int chk_key_index(const struct node *k, const char *const *keys, size_t n);
/** chk_all_digits() - non-empty and only 0-9 */
bool chk_all_digits(const char *s);
/** chk_merge_setting() - record a top-level setting, or report a conflict
 * naming both places */
void chk_merge_setting(struct ctx *c, struct setting *s, const char *what,
		       const struct node *n, int value);
/** chk_addr_families() - FAM_* bits present in a normalised set */
unsigned int chk_addr_families(const struct addr_set *s);
/** chk_field_items() - the items of a scalar-or-list field; @one holds
 * the node itself for a scalar; NULL after an error */
struct node *const *chk_field_items(struct ctx *c, struct node *const *one,
				    const struct node *n, const char *what,
				    size_t *count);
/** chk_check_sets() - check every collected `sets:` entry into c->p */
void chk_check_sets(struct ctx *c);
/** chk_parse_ports() - a Ports field (numbers, ranges, names, $sets) */
void chk_parse_ports(struct ctx *c, const struct node *n, const char *field,
		     struct port_set *out);
/** chk_names_ephemeral() - a port field names `ephemeral` (or a $set that
 * holds it) */
bool chk_names_ephemeral(struct ctx *c, const struct node *n);
/**
 * chk_parse_addrs() - an Addresses field; @exclude for not_from/not_to
 * @hosts: receives the field's hostnames (outbound to/not_to), sorted and
 *         unique; NULL where hostnames are errors (inbound rules, from)
 */
void chk_parse_addrs(struct ctx *c, const struct node *n, const char *field,
		     bool exclude, struct addr_set *out,
		     struct host_list *hosts);
/** chk_looks_like_host() - not an address, and more than digits and dots:
 * meant as a hostname (and checked as one) */
bool chk_looks_like_host(const char *s);
/** chk_parse_ids() - user or group names/numbers, sorted and unique */
void chk_parse_ids(struct ctx *c, const struct node *n, bool group,
		   struct id_set *out);
/** chk_parse_ifaces() - an interface name or a list of them, sorted and
 * unique; a '*' pattern only alone */
void chk_parse_ifaces(struct ctx *c, const struct node *n,
		      struct iface_set *out);
/** chk_text_ok() - 1..@max printable ASCII characters, no '"' */
bool chk_text_ok(const char *s, size_t len, size_t max);
/** chk_iface_ok() - a Linux interface name, '*' allowed at the end */
bool chk_iface_ok(const char *s, size_t len);
/** chk_ports_normalise() - sort and merge overlapping/adjacent ranges */
void chk_ports_normalise(struct port_set *s);
/** chk_cidr_cmp() - qsort order: IPv4 first, by address, then prefix length */
int chk_cidr_cmp(const void *a, const void *b);
/** chk_addrs_normalise() - sort, drop prefixes covered by another */
void chk_addrs_normalise(struct addr_set *s);

#endif
