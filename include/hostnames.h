/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_HOSTNAMES_H
#define PORTWARDEN_HOSTNAMES_H

/*
 * Hostnames in outbound rules (SPEC §8): the names' syntax, which set of
 * portwarden's table each name's addresses go into, and which resolvers'
 * answers count. The checker (policy_values.c) validates names with
 * hostname_check(); the compiler and `portwarden daemon` both take the
 * set names from host_targets_from_policy(), so the two can never
 * disagree on them.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

#define HOSTNAME_MAX	253	/* characters, "*." included, no final dot */
#define HOSTNAME_LABEL_MAX 63

/* Defaults of the `dns:` settings (SPEC §8). */
#define DNS_DEFAULT_MIN_TTL	60u
#define DNS_DEFAULT_MAX_TTL	86400u
#define DNS_DEFAULT_GRACE	300u
#define DNS_DEFAULT_MAX_ADDRS	1000u
#define DNS_DEFAULT_QUEUE	53u
#define DNS_MAX_SECONDS		2592000u	/* 30 days: ttl and grace limit */
#define DNS_MAX_ADDRS_LIMIT	1000000u
#define DNS_MAX_RESOLVERS	64u

/**
 * enum hostname_error - what hostname_check() found wrong
 */
enum hostname_error {
	HOSTNAME_OK = 0,
	HOSTNAME_EMPTY,		/* "" */
	HOSTNAME_TOO_LONG,	/* more than HOSTNAME_MAX characters */
	HOSTNAME_EMPTY_LABEL,	/* "a..b", ".a", "a." (@pos: the dot) */
	HOSTNAME_LABEL_TOO_LONG, /* a label over 63 (@pos: its start) */
	HOSTNAME_BAD_CHAR,	/* not a letter, digit, '-' or '.' (@pos) */
	HOSTNAME_BAD_WILDCARD,	/* '*' anywhere but a leading "*." (@pos) */
	HOSTNAME_HYPHEN,	/* a label starts or ends with '-' (@pos) */
};

/**
 * hostname_check() - is @s a hostname or a `*.`-wildcard of the language?
 * @s:   the text (need not be NUL-terminated)
 * @len: its length in bytes
 * @pos: receives the byte offset of the offending character or label
 *
 * Letters, digits, '-' and '.'; labels of 1..63 characters that neither
 * start nor end with '-'; at most 253 characters; '*' only as a leading
 * "*." followed by a valid name. A final dot is an empty label (error).
 * Return: HOSTNAME_OK or the first enum hostname_error found.
 */
int hostname_check(const char *s, size_t len, size_t *pos);

/** hostname_valid() - hostname_check() == HOSTNAME_OK */
bool hostname_valid(const char *s, size_t len);

/** hostname_error_text() - "an empty label" and so on, for messages */
const char *hostname_error_text(int err);

/**
 * struct host_target - one hostname of one rule
 * @pattern:   lower case, no final dot; for "*.x" the suffix "x"
 * @wildcard:  written as "*.x": matches names ending in ".x", never "x"
 * @exclude:   from `not_to` (the rule must not match these addresses)
 * @set4, @set6: the `flags timeout` sets of portwarden's table that the
 *             name's A / AAAA addresses go into; NULL when the rule does
 *             not apply to that family. Several targets of one rule share
 *             them (`<rule>_dns_v4`, `<rule>_dns_v6`; `<rule>_notdns_v4`
 *             for `not_to`).
 * @rule:      the policy rule (points into the policy)
 * @rule_name: its name
 * @file, @line, @col: where the name is written
 */
struct host_target {
	char *pattern;
	bool wildcard;
	bool exclude;
	char *set4, *set6;
	const struct rule *rule;
	const char *rule_name;
	const char *file;
	unsigned int line, col;
};

/**
 * struct host_targets - every hostname of a policy
 * @v:    in policy order (outbound rules, `to` before `not_to`)
 * @dns:  a copy of the policy's `dns:` settings (@dns.resolvers owned)
 */
struct host_targets {
	struct host_target *v;
	size_t n;
	struct dns_settings dns;
};

/**
 * host_targets_from_policy() - the hostnames of @p and their sets
 * @p:   a checked policy
 * @out: filled; release with host_targets_release() (also on error)
 *
 * Set names are the rule name reduced to [A-Za-z0-9_] (runs of other
 * characters become one '_', none at either end; "r" when nothing is
 * left) followed by `_dns_v4`/`_dns_v6` (`_notdns_v4`... for `not_to`);
 * when two rules reduce to the same name, or a named set `S` of the
 * policy would compile to the same name (`S_v4`), `_2`, `_3`... is put
 * before the suffix. compile_policy() uses these names.
 * Return: 0, or -EINVAL when @p is NULL.
 */
int host_targets_from_policy(const struct policy *p, struct host_targets *out);

/** host_targets_release() - free what host_targets_from_policy() filled */
void host_targets_release(struct host_targets *t);

/**
 * host_target_matches() - does a queried name match a target?
 * @t:     the target
 * @qname: a DNS name in presentation form, with or without a final dot
 *
 * Case-insensitive (ASCII). "x" matches only "x"; "*.x" matches names of
 * one or more labels followed by ".x", never "x" itself.
 */
bool host_target_matches(const struct host_target *t, const char *qname);

/**
 * dns_settings_default() - the defaults of SPEC §8 (resolvers: system)
 */
void dns_settings_default(struct dns_settings *s);

/**
 * resolv_conf_parse() - the `nameserver` addresses of a resolv.conf text
 * @buf, @len: the file's bytes (untrusted; need not be NUL-terminated)
 * @out, @n:   receive a malloc'ed array of single addresses (/32, /128)
 *
 * Reads lines `nameserver ADDR` (keyword and address separated by blanks;
 * an IPv6 `%zone` suffix is dropped); other lines, comments ('#', ';'),
 * lines of more than 1,024 bytes and addresses that do not parse are
 * skipped. At most DNS_MAX_RESOLVERS addresses, duplicates removed.
 * Return: the number of addresses (0 is not an error).
 */
size_t resolv_conf_parse(const char *buf, size_t len, struct cidr **out,
			 size_t *n);

/**
 * dns_trusted_resolvers() - the resolvers whose answers count
 * @s:           the `dns:` settings
 * @resolv_conf: the file to read for `resolvers: system` (NULL:
 *               /etc/resolv.conf); at most 64 KiB of it are read
 * @out, @n:     receive a malloc'ed array
 *
 * An explicit list is copied. `system` is the nameservers of
 * @resolv_conf plus the local stubs 127.0.0.0/8 and ::1/128 (always, so a
 * systemd-resolved or dnsmasq on this host counts even when the file is
 * missing or unreadable).
 * Return: 0, or a negative errno when @resolv_conf exists but cannot be
 * read (the local stubs are still returned).
 */
int dns_trusted_resolvers(const struct dns_settings *s,
			  const char *resolv_conf, struct cidr **out,
			  size_t *n);

/**
 * dns_resolver_in() - is the source address of an answer in @list?
 * @family: 4 or 6; @addr: 4 or 16 bytes, network order
 */
bool dns_resolver_in(const struct cidr *list, size_t n, uint8_t family,
		     const uint8_t *addr);

#endif
