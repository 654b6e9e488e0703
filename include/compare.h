/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_COMPARE_H
#define PORTWARDEN_COMPARE_H

/*
 * `compare`: every region of traffic whose verdict differs between two
 * compiled policies, exactly (SPEC §10).
 *
 * The traffic space is the space of connections `explain` takes: one
 * point is (direction, family, protocol, remote address, destination
 * port or ICMP type, source port, local address, interface, uid, gid,
 * cgroup). Every rule of both compiled tables (include/model.h) becomes
 * one or more boxes in that space, per dimension a union of intervals
 * (addresses as 128-bit numbers, interfaces and cgroups as atoms: the
 * names the policies mention and "any other"). A rule of the chain the
 * first packet crosses lands in the FIRST list of its side; a rule of the
 * other chain, seen by the reply (source and destination swapped, ct
 * state established), in the REPLY list. The verdict of a point is
 * explain's: the first packet's first match, unless it is accepted and
 * the reply (TCP, UDP, ICMP echo) is not.
 *
 * compare_run() cuts the space dimension by dimension into the
 * elementary intervals the live boxes' bounds induce (a firewall decision
 * diagram in the spirit of Gouda and Liu), keeps in each branch only the
 * boxes that still match there, stops a list at its first box that
 * covers the rest of the branch, shares the work of branches whose live
 * boxes are the same, and merges cells with the same pair of outcomes
 * back into regions (regions_join). No point is sampled.
 *
 * Hostnames (SPEC §8, `to: [github.com]`) compare by name: CD_HOST is
 * an atom dimension like CD_IFACE, atom 0 "an address no name of the
 * policies was learned for", then each name (`*.x`: the names under x
 * that no other atom takes). A lookup in a hostname rule's `flags
 * timeout` set (what the daemon learns, plus the single addresses listed
 * beside the names) is two boxes: the names' atoms in CD_HOST, or the
 * listed addresses in the address dimension; `not_to` names negate both.
 * An address match on any other run-time-filled set makes compare_run()
 * return -ENOTSUP.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

typedef unsigned __int128 cmp_u128;

enum cmp_dim {
	CD_DIR,		/* 0 in, 1 out */
	CD_FAM,		/* 0 IPv4, 1 IPv6 */
	CD_IFACE,	/* atom index, see struct cmp_atoms; early: on lo a
			 * connection crosses both chains (GRP_OTHER) */
	CD_PROTO,	/* 0..255 */
	CD_REMOTE,	/* address as a number (IPv4: 0..2^32-1) */
	CD_DPORT,	/* destination port; the ICMP type for ICMP */
	CD_SPORT,
	CD_LOCAL,
	CD_UID,
	CD_GID,
	CD_CGROUP,	/* atom index */
	CD_HOST,	/* atom index: the hostname (SPEC §8) the address was
			 * learned for, compared by name */
	CD_N,
};

/** struct cmp_ival - an inclusive interval of one dimension */
struct cmp_ival {
	cmp_u128 lo, hi;
};

/**
 * struct cmp_list - a sorted union of disjoint, non-adjacent intervals
 * @n == 0 stands for the whole dimension ("any").
 */
struct cmp_list {
	struct cmp_ival *v;
	size_t n;
};

/*
 * cmp_list_union() - add @iv to @l, keeping it sorted and merged
 * (adjacent intervals join: 1-5 and 6-9 become 1-9)
 */
void cmp_list_add(struct cmp_list *l, cmp_u128 lo, cmp_u128 hi);

/*
 * cmp_prefixes() - the interval [@lo, @hi] of a @bits-bit space as the
 * fewest prefixes; calls @fn(addr, plen, arg) for each, in order.
 * Return: the number of prefixes.
 */
size_t cmp_prefixes(cmp_u128 lo, cmp_u128 hi, unsigned int bits,
		    void (*fn)(cmp_u128 addr, unsigned int plen, void *arg),
		    void *arg);

/**
 * struct cmp_who - what decided: a policy rule, or a built-in
 * @origin:  the policy rule, or NULL
 * @label:   "default", "established", "loopback", "icmp" when @origin
 *           is NULL
 * @dir:     the chain the rule sits in (for the default's location)
 * @verdict: MV_ACCEPT, MV_DROP or MV_REJECT_ICMPX (every reject)
 */
struct cmp_who {
	const struct rule *origin;
	const char *label;
	enum direction dir;
	enum mverdict verdict;
};

/**
 * struct cmp_region - one region whose verdict differs
 * @dim:      per dimension the values (n == 0: any)
 * @old, @new: the deciding rule on each side, with its verdict
 * @not_lo:   the region is off the loopback interface: CD_IFACE (shown as
 *            any) holds every interface but lo. A loopback address travels
 *            on lo only, so such a region never holds one and its address
 *            lists may name the loopback block when that reads simpler
 *            ("any" instead of "everything but 127.0.0.0/8")
 */
struct cmp_region {
	struct cmp_list dim[CD_N];
	struct cmp_who old, new;
	bool not_lo;
};

/**
 * struct cmp_atoms - the names behind CD_IFACE, CD_CGROUP and CD_HOST
 * @iface: interface atoms: [0] is "any other name", then each name the
 *         policies mention; a name ending in '*' stands for the names
 *         with that prefix that no longer name of the list takes
 * @cgroup: [0] "no cgroup the policies name", then each cgroup path: the
 *         cgroups at or below it and below no longer path of the list
 */
struct cmp_atoms {
	char **iface;
	size_t n_iface;
	char **cgroup;
	size_t n_cgroup;
	char **host;		/* [0] "", then "name" or "*.suffix" */
	size_t n_host;
};

/**
 * struct cmp_result - what compare_run() found
 * @regions: in a stable order (direction, family, protocol, ports...)
 * @stats_cells: number of decision-diagram nodes evaluated (for -v)
 */
struct cmp_result {
	struct cmp_region *regions;
	size_t n_regions;
	struct cmp_atoms atoms;
	size_t stats_nodes;
};

/**
 * compare_run() - the regions where @old and @new decide differently
 * @old, @new: compiled models (model->policy set: names and locations)
 * @out:      the result, to free with cmp_result_free()
 *
 * Return: 0 or a negative errno (-ENOTSUP for a match compare cannot
 * place in the traffic space).
 */
int compare_run(const struct model *old, const struct model *new,
		struct cmp_result **out);

void cmp_result_free(struct cmp_result *r);

/**
 * cmp_example() - one point of region @g, as explain's arguments
 * ("in tcp 10.0.0.5:22 --from 192.0.2.1:40000"), written to @buf
 * Return: 0, or -ENOENT when the region holds no point explain can name.
 */
int cmp_example(const struct cmp_result *r, const struct cmp_region *g,
		char *buf, size_t len);

/**
 * cmp_region_words() - region @g in words: "in tcp/22 from 0.0.0.0/0",
 * "out udp/53 to 10.0.0.0/8 user 1000"
 */
#include <stdio.h>
void cmp_region_words(FILE *f, const struct cmp_result *r,
		      const struct cmp_region *g);

/**
 * cmp_put_dim() - the values of dimension @d of @g: comma separated
 * (ports and numbers as ranges, addresses as CIDRs), or as JSON strings
 */
void cmp_put_dim(FILE *f, const struct cmp_result *r,
		 const struct cmp_region *g, int d, bool json);

/* "opens", "closes", "rejects instead of dropping", ... */
const char *cmp_change_verb(const struct cmp_region *g);

#endif
