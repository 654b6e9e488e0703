// SPDX-License-Identifier: GPL-2.0-or-later
/* nflog.c: NFLOG records as the kernel builds them, parsed back; cut and
 * malformed ones refused. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include "nflog.h"

struct msgbuf {
	uint8_t b[1024];
	size_t len;
};

static void put_attr(struct msgbuf *m, uint16_t type, const void *v, size_t n)
{
	struct nlattr a = { .nla_len = (uint16_t)(sizeof(a) + n), .nla_type = type };

	memcpy(m->b + m->len, &a, sizeof(a));
	memcpy(m->b + m->len + sizeof(a), v, n);
	m->len += NLA_ALIGN(sizeof(a) + n);
}

static void put_u32(struct msgbuf *m, uint16_t type, uint32_t v)
{
	v = htonl(v);
	put_attr(m, type, &v, 4);
}

static void begin(struct msgbuf *m, uint8_t hook)
{
	struct nlmsghdr h = { .nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET };
	struct nfgenmsg g = { .nfgen_family = AF_INET, .res_id = htons(1000) };
	struct nfulnl_msg_packet_hdr ph = { .hw_protocol = htons(0x0800), .hook = hook };

	memset(m, 0, sizeof(*m));
	memcpy(m->b, &h, sizeof(h));
	memcpy(m->b + NLMSG_HDRLEN, &g, sizeof(g));
	m->len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(g));
	put_attr(m, NFULA_PACKET_HDR, &ph, sizeof(ph));
}

static void end(struct msgbuf *m)
{
	((struct nlmsghdr *)m->b)->nlmsg_len = (uint32_t)m->len;
}

static const uint8_t tcp4[] = {
	0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2,
	0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 2, 0xfa, 0xf0,
	0, 0, 0, 0,
};

static void test_tcp4(void **state)
{
	const char prefix[] = "pw1 D out drop no-web p.yaml:14";
	struct nflog_pkt p;
	struct msgbuf m;

	(void)state;
	begin(&m, 3);
	put_attr(&m, NFULA_PREFIX, prefix, sizeof(prefix));
	put_u32(&m, NFULA_IFINDEX_OUTDEV, 2);
	put_u32(&m, NFULA_UID, 65534);
	put_u32(&m, NFULA_GID, 100);
	put_u32(&m, NFULA_SEQ, 41);
	put_attr(&m, NFULA_PAYLOAD, tcp4, sizeof(tcp4));
	end(&m);
	assert_int_equal(nflog_parse(m.b, m.len, &p), 0);
	assert_string_equal(p.prefix, prefix);
	assert_int_equal(p.prefix_len, strlen(prefix));
	assert_int_equal(p.hook, 3);
	assert_int_equal(p.outdev, 2);
	assert_int_equal(p.indev, 0);
	assert_true(p.has_uid && p.uid == 65534);
	assert_true(p.has_gid && p.gid == 100);
	assert_true(p.has_seq && p.seq == 41);
	assert_false(p.has_time);
	assert_int_equal(p.l3, 4);
	assert_int_equal(p.proto, 6);
	assert_memory_equal(p.src, ((uint8_t[]){ 10, 77, 0, 1 }), 4);
	assert_memory_equal(p.dst, ((uint8_t[]){ 10, 77, 0, 2 }), 4);
	assert_true(p.has_ports);
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 8080);
}

/* The copy range may cut the packet anywhere: what is whole is read. */
static void test_cut(void **state)
{
	struct nflog_pkt p;
	struct msgbuf m;
	size_t n;

	(void)state;
	for (n = 0; n <= sizeof(tcp4); n++) {
		begin(&m, 1);
		put_attr(&m, NFULA_PAYLOAD, tcp4, n);
		end(&m);
		assert_int_equal(nflog_parse(m.b, m.len, &p), 0);
		assert_int_equal(p.l3, n >= 20 ? 4 : 0);
		assert_int_equal(p.has_ports, n >= 24);
	}
}

static void test_malformed(void **state)
{
	struct nflog_pkt p;
	struct msgbuf m;
	size_t n;

	(void)state;
	begin(&m, 1);
	put_u32(&m, NFULA_SEQ, 1);
	end(&m);
	/* every cut of a message is refused or reads only what is there */
	for (n = 0; n < m.len; n++)
		assert_int_equal(nflog_parse(m.b, n, &p), -EINVAL);
	/* an attribute longer than its message */
	((struct nlattr *)(m.b + m.len - 8))->nla_len = 64;
	assert_int_equal(nflog_parse(m.b, m.len, &p), -EINVAL);
	/* a short fixed-size attribute */
	begin(&m, 1);
	put_attr(&m, NFULA_UID, "ab", 2);
	end(&m);
	assert_int_equal(nflog_parse(m.b, m.len, &p), -EINVAL);
	/* a prefix without NUL, longer than the kernel allows */
	begin(&m, 1);
	{
		char big[200];

		memset(big, 'a', sizeof(big));
		put_attr(&m, NFULA_PREFIX, big, sizeof(big));
	}
	end(&m);
	assert_int_equal(nflog_parse(m.b, m.len, &p), -EINVAL);
	/* another message type is skipped, not an error */
	begin(&m, 1);
	end(&m);
	((struct nlmsghdr *)m.b)->nlmsg_type = NLMSG_ERROR;
	assert_int_equal(nflog_parse(m.b, m.len, &p), -ENOMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4),
		cmocka_unit_test(test_cut),
		cmocka_unit_test(test_malformed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
