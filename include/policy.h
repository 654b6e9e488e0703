/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_POLICY_H
#define PORTWARDEN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/*
 * The checked policy: what policy_load() hands to the compiler once the
 * YAML tree has been validated. Every value is normalised (names resolved,
 * port ranges sorted and merged, CIDRs with host bits cleared) and every
 * node keeps the location it came from.
 */

enum verdict {
	VERDICT_ACCEPT,
	VERDICT_DROP,
	VERDICT_REJECT,
};

enum direction {
	DIR_IN = 0,
	DIR_OUT = 1,
};
#define DIR_MAX 2

enum icmp_mode {
	ICMP_ESSENTIAL,
	ICMP_ALL,
	ICMP_NONE,
};

/* Protocol bits of rule.protos and listener.protos. */
#define PROTO_TCP	0x01u
#define PROTO_UDP	0x02u
#define PROTO_ICMP	0x04u
#define PROTO_ICMPV6	0x08u
#define PROTO_ANY	0x10u	/* every L4 protocol; never combined */

/* Family bits. */
#define FAM_V4		0x1u
#define FAM_V6		0x2u
#define FAM_BOTH	(FAM_V4 | FAM_V6)

struct port_range {
	uint16_t lo, hi;	/* inclusive, 1 <= lo <= hi <= 65535 */
};

/**
 * struct port_set - a normalised list of port ranges
 * @any: the field was absent (matches every port); @v is then empty
 * @v:   sorted by lo, non-overlapping, adjacent ranges merged
 * @ref: name of the $set when the whole field was one set reference
 */
struct port_set {
	bool any;
	struct port_range *v;
	size_t n;
	const char *ref;
};

/**
 * struct cidr - one IPv4 or IPv6 prefix, host bits cleared
 * @family: 4 or 6
 * @plen:   prefix length (0..32 or 0..128)
 * @addr:   network byte order; IPv4 uses addr[0..3]
 */
struct cidr {
	uint8_t family;
	uint8_t plen;
	uint8_t addr[16];
};

/**
 * struct addr_set - a normalised list of prefixes
 * @any: the field was absent or `any`; @v is then empty
 * @v:   IPv4 prefixes first, then IPv6, each sorted by address, with
 *       prefixes covered by another removed
 * @ref: name of the $set when the whole field was one set reference
 */
struct addr_set {
	bool any;
	struct cidr *v;
	size_t n;
	const char *ref;
};

/**
 * struct hostname - a hostname of an outbound `to`/`not_to` (SPEC §8)
 * @name:     lower case, no final dot; for `*.x` the suffix "x"
 * @wildcard: written as `*.x`
 * @loc:      where it is written
 */
struct hostname {
	char *name;
	bool wildcard;
	struct loc loc;
};

/**
 * struct host_list - the hostnames of one field, in the order written,
 * duplicates removed; n == 0 when the field has none
 */
struct host_list {
	struct hostname *v;
	size_t n;
};

/**
 * struct dns_settings - the `dns:` section (SPEC §8; defaults in
 * hostnames.h)
 * @min_ttl, @max_ttl: a learned address stays clamp(TTL) + @grace seconds
 * @max_addresses: per hostname rule and family; the oldest is evicted
 * @resolvers_system: `resolvers: system`; else @resolvers lists them
 * @queue_num: the NFQUEUE number DNS answers are held in (`queue:`)
 * @loc:       where `dns:` is written (line 0: absent, defaults)
 */
struct dns_settings {
	uint32_t min_ttl, max_ttl, grace, max_addresses;
	bool resolvers_system;
	struct cidr *resolvers;
	size_t n_resolvers;
	uint16_t queue_num;
	struct loc loc;
};

struct id_set {
	uint32_t *v;		/* sorted, unique */
	size_t n;		/* 0: the field was absent */
};

/**
 * struct iface_set - the interfaces of a rule
 * @v: names, sorted and unique; a name may end in '*' (prefix match) only
 *     when it is the only one
 * @n: 0 when the field was absent (every interface)
 */
struct iface_set {
	char **v;
	size_t n;
};

/**
 * struct rule - one inbound or outbound policy rule
 * @name:      `name` or the generated "inbound[3]" (0-based index)
 * @loc:       location of the rule's mapping node
 * @dir:       which list it came from
 * @index:     0-based position in that list
 * @protos:    PROTO_* bits; PROTO_ANY alone when no protocol applies
 * @dport:     `port`/`dport`; any when absent
 * @sport:     `sport`; any when absent
 * @sport_ephemeral: where `sport` is when it names `ephemeral` (itself or
 *             through a $set); line 0 otherwise
 * @from, @to: any when absent
 * @not_from, @not_to: excluded prefixes; n == 0 when absent
 * @to_hosts, @not_to_hosts: hostnames of `to`/`not_to` (outbound only).
 *             A `to` with hostnames has @to.any false and @to holding only
 *             its addresses (possibly none): the rule matches those and
 *             whatever the DNS daemon learned for the names.
 * @uids, @gids: socket owner (outbound only); n == 0 when absent
 * @cgroup:    cgroup v2 path or NULL
 * @ifaces:    input (inbound) or output (outbound) interfaces
 * @families:  FAM_* bits the rule applies to, after `family` and addresses
 * @log:       log matches
 * @comment:   `comment` or NULL
 */
struct rule {
	char *name;
	struct loc loc;
	enum direction dir;
	unsigned int index;
	enum verdict action;
	unsigned int protos;
	struct port_set dport, sport;
	struct loc sport_ephemeral;
	struct addr_set from, to, not_from, not_to;
	struct host_list to_hosts, not_to_hosts;
	struct id_set uids, gids;
	char *cgroup;
	struct iface_set ifaces;
	unsigned int families;
	bool log;
	char *comment;
};

/**
 * struct listener - one expected listening socket for the audit
 * @protos: PROTO_TCP and/or PROTO_UDP (default PROTO_TCP)
 * @ports:  the port(s) expected
 * @process: expected command name or NULL
 * @families: FAM_V4 and/or FAM_V6 (`family:`; default both): which
 *           sockets count, a dual-stack [::] one counting for both
 */
struct listener {
	struct loc loc;
	unsigned int protos;
	struct port_set ports;
	char *process;
	unsigned int families;
};

/**
 * struct policy_test - one entry of `tests:` (SPEC §10)
 * @loc:        the entry's mapping node
 * @packet:     explain's arguments, "out tcp 192.0.2.1:443 --user backup";
 *              parsed when the test runs (packet_args.h), errors at
 *              @packet_loc
 * @expect:     the verdict the connection must get
 * @rule:       the deciding rule's name (a policy rule, or a built-in
 *              label such as "default"), or NULL for any
 */
struct policy_test {
	struct loc loc;
	char *packet;
	struct loc packet_loc;
	enum verdict expect;
	struct loc expect_loc;
	char *rule;
	struct loc rule_loc;
};

/**
 * struct named_set - an entry of `sets:`
 */
struct named_set {
	char *name;
	struct loc loc;
	bool is_port;		/* else addresses */
	bool ephemeral;		/* an element is the name `ephemeral` */
	struct port_set ports;
	struct addr_set addrs;
	struct host_list hosts;	/* a set of hostnames only (outbound to/not_to) */
};

/**
 * struct policy - a whole checked policy, possibly merged from many files
 * @table:       nft table name (family inet)
 * @def:         default verdict per direction
 * @def_loc:     where each default was set (line 0: not set, built-in)
 * @log_default: log what the defaults drop or reject
 * @log_group:   NFLOG group of the rules' NFLOG records (SPEC §9)
 * @established: accept ct state established,related first
 * @loopback:    accept everything on lo
 * @icmp:        ICMP handling
 * @repair:      `portwarden daemon` restores the table after changes by
 *               other programs (`repair:`, default true)
 * @rules:       rules per direction, in file order
 * @dns:         the `dns:` settings (defaults when absent)
 * @has_hosts:   some outbound rule names a hostname
 * @files:       owned copies of the file names every loc.file points into
 */
struct policy {
	char *table;
	enum verdict def[DIR_MAX];
	struct loc def_loc[DIR_MAX];
	bool log_default;
	uint16_t log_group;
	bool established;
	bool loopback;
	enum icmp_mode icmp;
	bool repair;
	struct named_set *sets;
	size_t n_sets;
	struct rule *rules[DIR_MAX];
	size_t n_rules[DIR_MAX];
	struct listener *listeners;
	size_t n_listeners;
	struct policy_test *tests;	/* `tests:`, in file order */
	size_t n_tests;
	struct dns_settings dns;
	bool has_hosts;
	char **files;
	size_t n_files;
};

/**
 * policy_load() - read, merge and check policy files or directories
 * @out:   the checked policy on success (also when there are warnings)
 * @paths: files or directories, merged in this order
 * @n:     number of paths
 * @d:     receives every error and warning
 *
 * Return: 0 on success; -EINVAL when @d holds errors (then *@out is NULL);
 * another negative errno when a file cannot be read (also recorded in @d).
 */
int policy_load(struct policy **out, const char *const *paths, size_t n,
		struct diag *d);

/**
 * policy_load_buffer() - the same for one in-memory document (fuzzing, tests)
 */
int policy_load_buffer(struct policy **out, const char *name,
		       const char *buf, size_t len, struct diag *d);

void policy_free(struct policy *p);

/**
 * policy_warn_ephemeral() - outbound `sport: ephemeral` against the host
 * @p:      the checked policy
 * @lo, @hi: this host's net.ipv4.ip_local_port_range (the source ports
 *          its connections use; Linux's default is 32768-60999)
 * @d:      receives one warning per outbound rule whose `sport` names
 *          `ephemeral` (IANA 49152-65535) but does not hold all of
 *          @lo-@hi, at its `sport`
 *
 * Inbound rules are left alone: their source port is the remote host's.
 * Return: the number of warnings added.
 */
unsigned int policy_warn_ephemeral(const struct policy *p, unsigned int lo,
				   unsigned int hi, struct diag *d);

/* Well-known port names of the built-in table; NULL-terminated list. */
int port_by_name(const char *name, struct port_range *out);
const char *port_name(uint16_t port);	/* NULL when not in the table */
/* Every name of the built-in port table, for hints; @n receives the count. */
const char *const *port_names(size_t *n);

const char *verdict_name(enum verdict v);
const char *direction_name(enum direction d);	/* "inbound"/"outbound" */

/* Text forms shared by every output: "10.0.0.0/8", "2001:db8::/32". */
void cidr_format(const struct cidr *c, char *buf, size_t len);
/* Parse "A.B.C.D", "A.B.C.D/N", "V6", "V6/N"; returns 0, or -EINVAL.
 * *host_bits is set when bits beyond the prefix were set (then cleared). */
int cidr_parse(const char *s, struct cidr *out, bool *host_bits);
bool cidr_contains(const struct cidr *outer, const struct cidr *inner);
/* 127.0.0.0/8 or ::1 (the address, whatever the prefix length) */
bool cidr_is_loopback(const struct cidr *c);

#endif
