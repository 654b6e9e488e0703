// SPDX-License-Identifier: GPL-2.0-or-later
/* nfqueue.c: the IP, UDP and TCP headers of queued packets, hostile ones
 * included (no kernel needed). */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "nfqueue.h"

static size_t ipv4_udp(uint8_t *b, size_t payload)
{
	memset(b, 0, 28 + payload);
	b[0] = 0x45;
	b[2] = (uint8_t)((28 + payload) >> 8);
	b[3] = (uint8_t)(28 + payload);
	b[6] = 0x40;			/* DF */
	b[9] = IPPROTO_UDP;
	b[12] = 10, b[13] = 77, b[14] = 0, b[15] = 2;
	b[16] = 10, b[17] = 77, b[18] = 0, b[19] = 1;
	b[20] = 0, b[21] = 53;		/* sport */
	b[22] = 0x9c, b[23] = 0x40;	/* dport 40000 */
	b[24] = (uint8_t)((8 + payload) >> 8);
	b[25] = (uint8_t)(8 + payload);
	for (size_t i = 0; i < payload; i++)
		b[28 + i] = (uint8_t)i;
	return 28 + payload;
}

static void test_ipv4_udp(void **state)
{
	uint8_t b[128];
	struct nfq_packet p = { .id = 7 };
	size_t n = ipv4_udp(b, 20);

	(void)state;
	assert_int_equal(nfq_parse_ip(b, n, &p), 0);
	assert_int_equal(p.id, 7);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.l4proto, IPPROTO_UDP);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 40000);
	assert_int_equal(p.data_len, 20);
	assert_ptr_equal(p.data, b + 28);
	assert_int_equal(p.saddr[3], 2);

	/* hostile: header length below 20, beyond the packet; UDP length
	 * beyond the packet is cut to what we have; a later fragment */
	n = ipv4_udp(b, 20);
	b[0] = 0x44;
	assert_int_equal(nfq_parse_ip(b, n, &p), -EINVAL);
	b[0] = 0x4f;
	assert_int_equal(nfq_parse_ip(b, 40, &p), -EINVAL);
	n = ipv4_udp(b, 20);
	b[24] = 0xff;
	assert_int_equal(nfq_parse_ip(b, n, &p), 0);
	assert_int_equal(p.data_len, 20);
	n = ipv4_udp(b, 20);
	b[7] = 8;			/* fragment offset 64 */
	assert_int_equal(nfq_parse_ip(b, n, &p), -EINVAL);
	n = ipv4_udp(b, 20);
	assert_int_equal(nfq_parse_ip(b, 27, &p), -EINVAL);	/* UDP header cut */
	assert_int_equal(nfq_parse_ip(b, 0, &p), -EINVAL);
	b[0] = 0x55;			/* version 5 */
	assert_int_equal(nfq_parse_ip(b, n, &p), -EINVAL);
}

static void test_ipv6_tcp(void **state)
{
	uint8_t b[128] = { 0 };
	struct nfq_packet p = { .id = 1 };
	size_t n = 40 + 8 + 20 + 6;

	(void)state;
	b[0] = 0x60;
	b[5] = (uint8_t)(n - 40);
	b[6] = IPPROTO_DSTOPTS;		/* one extension header, then TCP */
	b[8 + 15] = 2;
	b[24 + 15] = 1;
	b[40] = IPPROTO_TCP;
	b[41] = 0;			/* 8 bytes */
	b[48 + 1] = 53;
	b[48 + 4] = 0x12, b[48 + 5] = 0x34, b[48 + 6] = 0x56, b[48 + 7] = 0x78;
	b[48 + 12] = 0x50;		/* data offset 5 */
	assert_int_equal(nfq_parse_ip(b, n, &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.l4proto, IPPROTO_TCP);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.tcp_seq, 0x12345678u);
	assert_int_equal(p.data_len, 6);
	assert_ptr_equal(p.data, b + 68);

	/* a TCP data offset beyond the segment */
	b[48 + 12] = 0xf0;
	assert_int_equal(nfq_parse_ip(b, n, &p), -EINVAL);
	b[48 + 12] = 0x50;
	/* an extension header longer than the packet */
	b[41] = 200;
	assert_int_equal(nfq_parse_ip(b, n, &p), -EINVAL);
	b[41] = 0;
	/* a chain of 9 extension headers is not followed */
	memset(b + 40, 0, 88);
	for (int i = 0; i < 9; i++)
		b[40 + 8 * i] = IPPROTO_DSTOPTS;
	b[5] = 88;
	assert_int_equal(nfq_parse_ip(b, 128, &p), -EINVAL);
	/* a fragment header */
	b[6] = IPPROTO_FRAGMENT;
	assert_int_equal(nfq_parse_ip(b, 128, &p), -EINVAL);
	assert_int_equal(nfq_parse_ip(b, 39, &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_udp),
		cmocka_unit_test(test_ipv6_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
