// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's readers: nftables event messages built as the kernel sends
 * them (nf_tables_api.c: nf_tables_gen_notify, nf_tables_fill_rule_info)
 * parsed back; truncated and lying lengths refused; the last-change note
 * written and read back in a temporary directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "drift_note.h"
#include "nft_events.h"

static struct nlmsghdr *msg(char *buf, uint16_t type, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	return nlh;
}

static void test_gen(void **state)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = msg(buf, NFT_MSG_NEWGEN, NFPROTO_UNSPEC);
	struct nft_ev e;

	mnl_attr_put_u32(nlh, NFTA_GEN_ID, htonl(42));
	mnl_attr_put_u32(nlh, NFTA_GEN_PROC_PID, htonl(1234));
	mnl_attr_put_strz(nlh, NFTA_GEN_PROC_NAME, "nft");
	assert_int_equal(nft_ev_parse(buf, nlh->nlmsg_len, &e), 0);
	assert_int_equal(e.kind, NFT_EV_GEN);
	assert_int_equal(e.gen_id, 42);
	assert_int_equal(e.pid, 1234);
	assert_string_equal(e.comm, "nft");
	/* cut short: refused, never read past the end */
	assert_int_equal(nft_ev_parse(buf, 10, &e), -EINVAL);
	assert_int_equal(nft_ev_parse(buf, nlh->nlmsg_len - 4, &e), -EINVAL);
}

static void test_rule(void **state)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = msg(buf, NFT_MSG_DELRULE, NFPROTO_INET);
	struct nft_ev e;

	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "portwarden");
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "input");
	mnl_attr_put_u64(nlh, NFTA_RULE_HANDLE, htobe64(7));
	assert_int_equal(nft_ev_parse(buf, nlh->nlmsg_len, &e), 0);
	assert_int_equal(e.kind, NFT_EV_RULE);
	assert_true(e.del);
	assert_int_equal(e.family, NFPROTO_INET);
	assert_string_equal(e.table, "portwarden");
	assert_string_equal(e.chain, "input");
	assert_int_equal(e.handle, 7);
}

static void test_bad_attrs(void **state)
{
	char buf[512] = { 0 };
	struct nlmsghdr *nlh = msg(buf, NFT_MSG_NEWGEN, NFPROTO_UNSPEC);
	struct nft_ev e;
	char big[400];

	/* a u32 attribute of the wrong size */
	mnl_attr_put_u16(nlh, NFTA_GEN_ID, 1);
	assert_int_equal(nft_ev_parse(buf, nlh->nlmsg_len, &e), -EINVAL);
	/* a name longer than any the kernel allows */
	memset(buf, 0, sizeof(buf));
	nlh = msg(buf, NFT_MSG_DELTABLE, NFPROTO_INET);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, big);
	assert_int_equal(nft_ev_parse(buf, nlh->nlmsg_len, &e), -EINVAL);
	/* a name without its NUL is cut at the attribute's end */
	memset(buf, 0, sizeof(buf));
	nlh = msg(buf, NFT_MSG_DELTABLE, NFPROTO_INET);
	mnl_attr_put(nlh, NFTA_TABLE_NAME, 3, "pwx");
	assert_int_equal(nft_ev_parse(buf, nlh->nlmsg_len, &e), 0);
	assert_string_equal(e.table, "pwx");
}

struct seen {
	int n;
	enum nft_ev_kind kinds[4];
};

static int collect(const struct nft_ev *e, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 4)
		s->kinds[s->n] = e->kind;
	s->n++;
	return 0;
}

static void test_walk(void **state)
{
	char buf[1024] = { 0 };
	struct nlmsghdr *a = msg(buf, NFT_MSG_DELTABLE, NFPROTO_INET), *b;
	struct seen s = { 0 };
	size_t bad = 0, len;

	mnl_attr_put_strz(a, NFTA_TABLE_NAME, "portwarden");
	b = msg(buf + NLMSG_ALIGN(a->nlmsg_len), NFT_MSG_NEWGEN, NFPROTO_UNSPEC);
	mnl_attr_put_u32(b, NFTA_GEN_ID, htonl(3));
	len = NLMSG_ALIGN(a->nlmsg_len) + b->nlmsg_len;
	assert_int_equal(nft_ev_walk(buf, len, collect, &s, &bad), 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.kinds[0], NFT_EV_TABLE);
	assert_int_equal(s.kinds[1], NFT_EV_GEN);
	assert_int_equal(bad, 0);
	/* a second message that claims more than the datagram holds */
	b->nlmsg_len = 0x80000010u;
	s.n = 0;
	assert_int_equal(nft_ev_walk(buf, len, collect, &s, &bad), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(bad, 1);
}

static void test_note(void **state)
{
	char dir[] = "/tmp/pwnote.XXXXXX", *path;
	struct drift_note n = {
		.table = "portwarden", .pid = 99, .comm = "evil\nname\"",
		.time = 1764470000, .generation = 12, .what = "table deleted",
	}, back;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(drift_note_load(dir, &back), -ENOENT);
	assert_int_equal(drift_note_save(dir, &n), 0);
	assert_int_equal(drift_note_load(dir, &back), 0);
	assert_string_equal(back.table, "portwarden");
	assert_string_equal(back.comm, "evil\nname\"");
	assert_string_equal(back.what, "table deleted");
	assert_int_equal(back.pid, 99);
	assert_int_equal(back.generation, 12);
	assert_int_equal(back.time, 1764470000);
	drift_note_release(&back);
	/* damaged: refused */
	assert_true(asprintf(&path, "%s/last-change", dir) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("table \"t\"\npid 1\npid 2\n", f);
	fclose(f);
	assert_int_equal(drift_note_load(dir, &back), -EINVAL);
	unlink(path);
	free(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gen),
		cmocka_unit_test(test_rule),
		cmocka_unit_test(test_bad_attrs),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_note),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
