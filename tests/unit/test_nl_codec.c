// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nl_expr.c / nl_decode.c round trip, no kernel: every rule of every
 * golden and example policy is built into a libnftnl rule, serialised to
 * a netlink message, parsed back and decoded; the result must be the same
 * rule (libnftnl's tests/ do build -> serialise -> parse -> compare too).
 * Plus the exact bytecode of a few forms, as `nft --debug=netlink` prints
 * it for the same text.
 */
#include <glob.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "model.h"
#include "model_cmp.h"
#include "render.h"
#include "util.h"
#include "../../src/nl_priv.h"

/* build -> netlink message -> parse -> decode */
static bool round_trip(struct model *m, const struct mchain *c,
		       const struct mrule *r, char **why_out)
{
	char buf[65536];
	struct nftnl_rule *nr, *back;
	struct nlmsghdr *nlh;
	struct mrule dec = { 0 };
	char why[64] = "";
	bool ok;
	int err;
	size_t i;

	*why_out = NULL;
	nr = nl_rule_build(m, c, r, &err);
	if (!nr) {
		*why_out = xasprintf("build: %s", strerror(-err));
		return false;
	}
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
	nftnl_rule_nlmsg_build_payload(nlh, nr);
	nftnl_rule_free(nr);
	back = nftnl_rule_alloc();
	assert_non_null(back);
	assert_true(nftnl_rule_nlmsg_parse(nlh, back) >= 0);
	ok = nl_rule_decode(m, back, &dec, why, sizeof(why));
	nftnl_rule_free(back);
	if (!ok) {
		*why_out = xasprintf("decode: %s", why);
	} else {
		mrule_strip_deps(&dec);
		dec.comment = r->comment ? xstrdup(r->comment) : NULL;
		ok = mrule_equal(m, r, m, &dec);
		if (!ok) {
			char *a = render_rule(m, r), *b = render_rule(m, &dec);

			*why_out = xasprintf("[%s] came back as [%s]", a, b);
			free(a);
			free(b);
		}
	}
	for (i = 0; i < dec.n_matches; i++)
		free(dec.matches[i].value.str);
	free(dec.matches);
	free(dec.log_prefix);
	free(dec.nflog_prefix);
	free(dec.comment);
	return ok;
}

/*
 * A cgroup match is built from the inode of its directory, which exists
 * only on the host that has it. Stand in an inode no cgroup has
 * ("inode:N", which nl_expr.c builds as it is and nl_decode.c gives back
 * when no directory has that inode), so the rule still round-trips.
 * Returns whether the rule had a cgroup match.
 */
static bool unhost_cgroup(struct mrule *r)
{
	bool had = false;
	size_t i;

	for (i = 0; i < r->n_matches; i++) {
		if (r->matches[i].key != KEY_CGROUPV2)
			continue;
		free(r->matches[i].value.str);
		r->matches[i].value.str = xasprintf("inode:%llu",
						    4000000000ull + i);
		had = true;
	}
	return had;
}

static void test_golden_round_trip(void **state)
{
	glob_t g;
	size_t i, j, k, n_rules = 0, n_files = 0, n_cgroup = 0;

	(void)state;
	assert_int_equal(glob("tests/golden/*.yaml", 0, NULL, &g), 0);
	glob("policies/*.yaml", GLOB_APPEND, NULL, &g);
	for (i = 0; i < g.gl_pathc; i++) {
		const char *path = g.gl_pathv[i];
		struct policy *p = NULL;
		struct model *m = NULL;
		struct diag d;

		diag_init(&d);
		/* every golden and example policy is valid: none is skipped */
		if (policy_load(&p, &path, 1, &d) < 0) {
			diag_print(&d, stderr);
			fail_msg("%s does not load", path);
		}
		assert_int_equal(compile_policy(p, &m, &d), 0);
		diag_release(&d);
		n_files++;
		for (j = 0; j < m->n_chains; j++)
			for (k = 0; k < m->chains[j].n_rules; k++) {
				struct mrule *r = &m->chains[j].rules[k];
				char *why;

				if (unhost_cgroup(r))
					n_cgroup++;
				if (!round_trip(m, &m->chains[j], r, &why)) {
					print_error("%s: %s\n", path, why);
					free(why);
					fail();
				}
				n_rules++;
			}
		model_free(m);
		policy_free(p);
	}
	assert_int_equal(n_files, g.gl_pathc);
	globfree(&g);
	assert_true(n_files >= 5);
	assert_true(n_rules >= 50);
	assert_true(n_cgroup >= 1);	/* owner.yaml */
}

/* The expressions of a built rule as "name name ..." */
static int name_cb(struct nftnl_expr *e, void *data)
{
	char **s = data, *t;

	t = xasprintf("%s%s%s", *s, **s ? " " : "",
		      nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
	free(*s);
	*s = t;
	return 0;
}

static char *expr_names(struct model *m, const struct mrule *r)
{
	struct nftnl_rule *nr;
	char *s = xstrdup("");
	int err;

	nr = nl_rule_build(m, &m->chains[0], r, &err);
	assert_non_null(nr);
	nftnl_expr_foreach(nr, name_cb, &s);
	nftnl_rule_free(nr);
	return s;
}

/* nft: `ip saddr 10.16.0.0/12` masks, `ip saddr 10.0.0.0/8` loads a byte,
 * `th sport 67 th dport 68` is one compare, negated ranges use `range` */
static void test_nft_shapes(void **state)
{
	struct model *m = model_new("t");
	struct mrule *r;
	struct match *mt;
	char *s;

	(void)state;
	model_add_chain(m, "input", HOOK_INPUT, 0, MV_ACCEPT);

	r = mchain_add_rule(&m->chains[0]);
	mt = mrule_add_match(r, KEY_SADDR);
	cidr_parse("10.16.0.0/12", &mt->value.prefix, &(bool){ false });
	r->verdict = MV_ACCEPT;
	s = expr_names(m, r);
	assert_string_equal(s, "meta cmp payload bitwise cmp immediate");
	free(s);

	mt->value.prefix.plen = 8;
	s = expr_names(m, r);
	assert_string_equal(s, "meta cmp payload cmp immediate");
	free(s);

	r = mchain_add_rule(&m->chains[0]);
	mrule_add_match(r, KEY_L4PROTO)->value.num = 17;
	mt = mrule_add_match(r, KEY_SPORT);
	mt->value.range = (struct port_range){ 67, 67 };
	mt = mrule_add_match(r, KEY_DPORT);
	mt->value.range = (struct port_range){ 68, 68 };
	r->counter = true;
	r->verdict = MV_ACCEPT;
	s = expr_names(m, r);
	assert_string_equal(s, "meta cmp payload cmp counter immediate");
	free(s);

	mt->value.range = (struct port_range){ 1000, 2000 };
	mt->negate = true;
	s = expr_names(m, r);
	assert_string_equal(s, "meta cmp payload cmp payload range counter immediate");
	free(s);

	/* a plain reject in an IPv4-only rule is nft's icmp port-unreachable */
	r = mchain_add_rule(&m->chains[0]);
	mt = mrule_add_match(r, KEY_DADDR);
	cidr_parse("169.254.169.254", &mt->value.prefix, &(bool){ false });
	r->verdict = MV_REJECT_ICMPX;
	{
		char *why;

		assert_true(round_trip(m, &m->chains[0], r, &why));
	}
	model_free(m);
}

/* The payload and bitwise of a built rule, as nft --debug=netlink shows */
struct shape {
	uint32_t load_len, load_off, mask_len;
	uint8_t mask[16];
	bool lookup_inv;
};

static int shape_cb(struct nftnl_expr *e, void *data)
{
	struct shape *sh = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
	const void *mask;

	if (!strcmp(name, "payload")) {
		sh->load_len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
		sh->load_off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
	} else if (!strcmp(name, "bitwise")) {
		mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &sh->mask_len);
		memcpy(sh->mask, mask, sh->mask_len > 16 ? 16 : sh->mask_len);
	} else if (!strcmp(name, "lookup")) {
		sh->lookup_inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
			(nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) &
			 NFT_LOOKUP_F_INV);
	}
	return 0;
}

/*
 * A masked lookup, as nft 1.0.6 emits `ip saddr & 255.255.255.240 @s`
 * and `ip6 daddr & ffff:ffff:ffff:ffff:: != @s`: the whole address is
 * loaded even when the mask is byte-aligned, then `bitwise & mask ^ 0`,
 * then the lookup:
 *   [ payload load 4b @ network header + 12 => reg 1 ]
 *   [ bitwise reg 1 = ( reg 1 & 0xf0ffffff ) ^ 0x00000000 ]
 *   [ lookup reg 1 set s4 ]
 * and the decoder gives back the same match.
 */
static void test_masked_lookup(void **state)
{
	static const uint8_t m28[4] = { 0xff, 0xff, 0xff, 0xf0 };
	static const uint8_t m64[16] = { 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff };
	struct model *m = model_new("t");
	struct mset *set;
	struct mrule *r;
	struct match *mt;
	struct nftnl_rule *nr;
	struct shape sh;
	char *s, *why;
	int err;

	(void)state;
	model_add_chain(m, "input", HOOK_INPUT, 0, MV_ACCEPT);
	set = model_add_set(m, "s4");
	set->keys[0] = KEY_SADDR;
	set->n_keys = 1;
	set->family = 4;
	set = model_add_set(m, "s6");
	set->keys[0] = KEY_DADDR;
	set->n_keys = 1;
	set->family = 6;

	r = mchain_add_rule(&m->chains[0]);
	mt = mrule_add_match(r, KEY_SADDR);
	mt->set = 0;
	mt->family = 4;
	mt->mask = 28;
	r->verdict = MV_ACCEPT;
	s = expr_names(m, r);
	assert_string_equal(s, "meta cmp payload bitwise lookup immediate");
	free(s);
	memset(&sh, 0, sizeof(sh));
	nr = nl_rule_build(m, &m->chains[0], r, &err);
	assert_non_null(nr);
	nftnl_expr_foreach(nr, shape_cb, &sh);
	nftnl_rule_free(nr);
	assert_int_equal(sh.load_len, 4);
	assert_int_equal(sh.load_off, 12);
	assert_int_equal(sh.mask_len, 4);
	assert_memory_equal(sh.mask, m28, 4);
	assert_false(sh.lookup_inv);
	assert_true(round_trip(m, &m->chains[0], r, &why));

	/* byte-aligned: still the whole address */
	mt->mask = 24;
	memset(&sh, 0, sizeof(sh));
	nr = nl_rule_build(m, &m->chains[0], r, &err);
	assert_non_null(nr);
	nftnl_expr_foreach(nr, shape_cb, &sh);
	nftnl_rule_free(nr);
	assert_int_equal(sh.load_len, 4);
	assert_int_equal(sh.mask_len, 4);
	assert_true(round_trip(m, &m->chains[0], r, &why));

	r = mchain_add_rule(&m->chains[0]);
	mt = mrule_add_match(r, KEY_DADDR);
	mt->set = 1;
	mt->family = 6;
	mt->mask = 64;
	mt->negate = true;
	r->verdict = MV_DROP;
	memset(&sh, 0, sizeof(sh));
	nr = nl_rule_build(m, &m->chains[0], r, &err);
	assert_non_null(nr);
	nftnl_expr_foreach(nr, shape_cb, &sh);
	nftnl_rule_free(nr);
	assert_int_equal(sh.load_len, 16);
	assert_int_equal(sh.load_off, 24);
	assert_int_equal(sh.mask_len, 16);
	assert_memory_equal(sh.mask, m64, 16);
	assert_true(sh.lookup_inv);
	assert_true(round_trip(m, &m->chains[0], r, &why));

	/* a masked rule and its plain twin are different rules */
	{
		struct mrule plain = *r;
		struct match pm = r->matches[0];

		pm.mask = 0;
		plain.matches = &pm;
		assert_false(mrule_equal(m, r, m, &plain));
	}
	model_free(m);
}

/* build with the set as it is, then decode after flipping its interval
 * flag: the form nft emits for one kind of set must not pass for the
 * other */
static bool decodes_as_other_kind(struct model *m, const struct mrule *r,
				  struct mset *set)
{
	char buf[65536], why[64];
	struct nftnl_rule *nr, *back;
	struct nlmsghdr *nlh;
	struct mrule dec = { 0 };
	bool ok;
	int err;
	size_t i;

	nr = nl_rule_build(m, &m->chains[0], r, &err);
	assert_non_null(nr);
	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
	nftnl_rule_nlmsg_build_payload(nlh, nr);
	nftnl_rule_free(nr);
	back = nftnl_rule_alloc();
	assert_non_null(back);
	assert_true(nftnl_rule_nlmsg_parse(nlh, back) >= 0);
	set->interval = !set->interval;
	ok = nl_rule_decode(m, back, &dec, why, sizeof(why));
	set->interval = !set->interval;
	nftnl_rule_free(back);
	for (i = 0; i < dec.n_matches; i++)
		free(dec.matches[i].value.str);
	free(dec.matches);
	free(dec.log_prefix);
	free(dec.nflog_prefix);
	return ok;
}

/*
 * A folded rule, `ip daddr . meta l4proto . th dport @s`, as nft 1.0.6
 * emits it: for an interval set the protocol is turned to network order
 *   [ meta load l4proto => reg 9 ]
 *   [ byteorder reg 9 = hton(reg 9, 2, 1) ]
 * ("data for range lookups needs to be in big endian order"); for a hash
 * set it is looked up as loaded, with no byteorder. Each decodes back, and
 * only for its own kind of set.
 */
static void test_fold_byteorder(void **state)
{
	struct model *m = model_new("t");
	struct mset *set;
	struct mrule *r;
	struct match *mt;
	char *s, *why;

	(void)state;
	model_add_chain(m, "output", HOOK_OUTPUT, 0, MV_ACCEPT);
	set = model_add_set(m, "out_fold1_v4");
	set->keys[0] = KEY_DADDR;
	set->keys[1] = KEY_L4PROTO;
	set->keys[2] = KEY_DPORT;
	set->n_keys = 3;
	set->family = 4;

	r = mchain_add_rule(&m->chains[0]);
	mt = mrule_add_match(r, KEY_CONCAT);
	mt->set = 0;
	mt->family = 4;
	r->counter = true;
	r->verdict = MV_ACCEPT;

	set->interval = false;
	s = expr_names(m, r);
	assert_string_equal(s, "meta cmp payload meta payload lookup counter immediate");
	free(s);
	assert_true(round_trip(m, &m->chains[0], r, &why));
	assert_false(decodes_as_other_kind(m, r, set));

	set->interval = true;
	s = expr_names(m, r);
	assert_string_equal(s, "meta cmp payload meta byteorder payload lookup counter immediate");
	free(s);
	assert_true(round_trip(m, &m->chains[0], r, &why));
	assert_false(decodes_as_other_kind(m, r, set));
	model_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_round_trip),
		cmocka_unit_test(test_nft_shapes),
		cmocka_unit_test(test_masked_lookup),
		cmocka_unit_test(test_fold_byteorder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
