/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_COMPARE_PRIV_H
#define PORTWARDEN_COMPARE_PRIV_H

/* Shared by compare_space.c (boxes) and compare.c (the decision). */

#include "compare.h"

#define CMP_MAX (~(cmp_u128)0)

/*
 * box groups: side * CMP_LISTS + list. A connection's first packet
 * crosses the chain of its direction (GRP_FIRST), its reply the other
 * chain (GRP_REPLY); on lo each packet crosses both, output then input:
 * GRP_OTHER + GRP_FIRST / GRP_REPLY hold the boxes of the chain it
 * crosses besides, all on the lo interface.
 */
#define GRP_FIRST	0
#define GRP_REPLY	1
#define GRP_OTHER	2
#define CMP_LISTS	4
#define CMP_GROUPS	8

/**
 * struct cmp_box - one box of one rule
 * @dim:  per dimension an interned list id (0: any)
 * @who:  index into cmp_space.who (rule and verdict)
 * @grp:  side (0 old, 1 new) * CMP_LISTS + list (GRP_*)
 * @last: the highest dimension that is not "any"
 * @seq:  creation order (priority within a group)
 */
struct cmp_box {
	uint32_t dim[CD_N];
	uint32_t who;
	uint32_t seq;
	uint8_t grp;
	uint8_t last;
};

struct cmp_space {
	struct cmp_list *lists;		/* interned; [0] is "any" */
	size_t n_lists, cap_lists;
	uint32_t *htab;
	size_t hcap;
	struct cmp_box *boxes;		/* by group, then priority */
	size_t n_boxes, cap_boxes;
	struct cmp_who *who;		/* distinct: one per rule and verdict */
	size_t n_who, cap_who;
	uint32_t *who_tab;		/* hash of @who, 0: free, else index + 1 */
	size_t who_cap;
	struct cmp_atoms atoms;
	uint32_t lo_atom;		/* the atom of "lo" (always named) */
};

void cmp_space_init(struct cmp_space *sp, const struct model *const *m,
		    size_t n);
/* add the boxes of @m as side @side (0 old, 1 new) */
int cmp_space_add(struct cmp_space *sp, const struct model *m, int side);
void cmp_space_finish(struct cmp_space *sp);
void cmp_space_release(struct cmp_space *sp);
void cmp_atoms_release(struct cmp_atoms *a);

/* @l becomes its complement within [0, @max] */
void cmp_list_complement(struct cmp_list *l, cmp_u128 max);
uint32_t cmp_intern(struct cmp_space *sp, struct cmp_list *l);
cmp_u128 cmp_addr_max(int fam);
cmp_u128 cmp_dim_max(const struct cmp_space *sp, int d, int fam);

#endif
