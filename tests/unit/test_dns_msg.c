// SPDX-License-Identifier: GPL-2.0-or-later
/* dns_msg.c: DNS answers built by hand, well formed and hostile. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <cmocka.h>

#include "dns_msg.h"

/* A message under construction (up to 64 KiB + the TCP prefix). */
struct pkt {
	uint8_t b[70000];
	size_t n;
};

static void put8(struct pkt *p, unsigned int v) { p->b[p->n++] = (uint8_t)v; }
static void put16(struct pkt *p, unsigned int v) { put8(p, v >> 8); put8(p, v & 0xff); }
static void put32(struct pkt *p, uint32_t v) { put16(p, v >> 16); put16(p, v & 0xffff); }

static void put_name(struct pkt *p, const char *name)
{
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t l = dot ? (size_t)(dot - name) : strlen(name);

		put8(p, (unsigned int)l);
		memcpy(p->b + p->n, name, l);
		p->n += l;
		name += l + (dot ? 1 : 0);
	}
	put8(p, 0);
}

/* Header: response (QR), RD+RA, rcode 0, one question, @an answers. */
static void header(struct pkt *p, unsigned int an)
{
	p->n = 0;
	put16(p, 0x1234);
	put16(p, 0x8180);
	put16(p, 1);
	put16(p, an);
	put16(p, 0);
	put16(p, 0);
}

static void question(struct pkt *p, const char *name, unsigned int type)
{
	put_name(p, name);
	put16(p, type);
	put16(p, 1);
}

static void rr_head(struct pkt *p, const char *owner, unsigned int type,
		    uint32_t ttl, unsigned int rdlen)
{
	if (owner)
		put_name(p, owner);
	else
		put16(p, 0xc00c);	/* pointer to the question's name */
	put16(p, type);
	put16(p, 1);
	put32(p, ttl);
	put16(p, rdlen);
}

static void rr_a(struct pkt *p, const char *owner, const char *addr, uint32_t ttl)
{
	uint8_t a[4];

	assert_int_equal(inet_pton(AF_INET, addr, a), 1);
	rr_head(p, owner, 1, ttl, 4);
	memcpy(p->b + p->n, a, 4);
	p->n += 4;
}

static void rr_aaaa(struct pkt *p, const char *owner, const char *addr, uint32_t ttl)
{
	uint8_t a[16];

	assert_int_equal(inet_pton(AF_INET6, addr, a), 1);
	rr_head(p, owner, 28, ttl, 16);
	memcpy(p->b + p->n, a, 16);
	p->n += 16;
}

static void rr_cname(struct pkt *p, const char *owner, const char *target, uint32_t ttl)
{
	struct pkt t = { .n = 0 };

	put_name(&t, target);
	rr_head(p, owner, 5, ttl, (unsigned int)t.n);
	memcpy(p->b + p->n, t.b, t.n);
	p->n += t.n;
}

static struct dns_answer ans;

static void addr_is(unsigned int i, int family, const char *text, uint32_t ttl,
		    unsigned int name)
{
	char buf[INET6_ADDRSTRLEN];

	assert_true(i < ans.n_addrs);
	assert_int_equal(ans.addrs[i].family, family);
	assert_non_null(inet_ntop(family, ans.addrs[i].addr, buf, sizeof(buf)));
	assert_string_equal(buf, text);
	assert_int_equal(ans.addrs[i].ttl, ttl);
	assert_int_equal(ans.addrs[i].name, name);
}

static void test_plain_answer(void **state)
{
	struct pkt p;

	(void)state;
	header(&p, 3);
	question(&p, "API.Example.COM", 1);
	rr_a(&p, NULL, "192.0.2.1", 300);
	rr_a(&p, "api.example.com.", "192.0.2.2", 0x80000000u);	/* RFC 2181: 0 */
	rr_aaaa(&p, NULL, "2001:db8::1", 60);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_OK);
	assert_int_equal(ans.n_chain, 1);
	assert_string_equal(ans.chain[0], "api.example.com");
	assert_int_equal(ans.qtype, 1);
	assert_int_equal(ans.n_addrs, 3);
	addr_is(0, AF_INET, "192.0.2.1", 300, 0);
	addr_is(1, AF_INET, "192.0.2.2", 0, 0);
	addr_is(2, AF_INET6, "2001:db8::1", 60, 0);
}

static void test_cname_chain(void **state)
{
	struct pkt p;

	(void)state;
	/* records out of order; an unrelated answer is ignored */
	header(&p, 5);
	question(&p, "www.a.test", 1);
	rr_a(&p, "lb.c.test", "10.0.0.9", 30);
	rr_a(&p, "evil.test", "6.6.6.6", 30);
	rr_cname(&p, "b.test", "lb.c.test", 30);
	rr_cname(&p, NULL, "B.test", 30);
	rr_a(&p, "other.test", "6.6.6.7", 30);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_OK);
	assert_int_equal(ans.n_chain, 3);
	assert_string_equal(ans.chain[0], "www.a.test");
	assert_string_equal(ans.chain[1], "b.test");
	assert_string_equal(ans.chain[2], "lb.c.test");
	assert_int_equal(ans.chain_cut, 0);
	assert_int_equal(ans.n_addrs, 1);
	addr_is(0, AF_INET, "10.0.0.9", 30, 2);
}

static void test_cname_loop_and_depth(void **state)
{
	struct pkt p;
	char a[32], b[32];

	(void)state;
	/* a -> b -> a: the chain stops, no endless walk */
	header(&p, 3);
	question(&p, "a.test", 1);
	rr_cname(&p, "a.test", "b.test", 30);
	rr_cname(&p, "b.test", "a.test", 30);
	rr_a(&p, "b.test", "10.0.0.1", 30);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_OK);
	assert_int_equal(ans.n_chain, 2);
	assert_int_equal(ans.chain_cut, 1);
	assert_int_equal(ans.n_addrs, 1);

	/* 40 links: only DNS_CHAIN_MAX are followed */
	header(&p, 40);
	question(&p, "n0.test", 1);
	for (int i = 0; i < 40; i++) {
		snprintf(a, sizeof(a), "n%d.test", i);
		snprintf(b, sizeof(b), "n%d.test", i + 1);
		rr_cname(&p, a, b, 30);
	}
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_OK);
	assert_int_equal(ans.n_chain, DNS_CHAIN_MAX + 1);
	assert_int_equal(ans.chain_cut, 1);
}

static void test_not_answers(void **state)
{
	struct pkt p;

	(void)state;
	header(&p, 0);
	question(&p, "a.test", 1);
	p.b[2] &= 0x7f;		/* a query */
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_NOT_ANSWER);
	header(&p, 0);
	p.b[5] = 2;		/* two questions */
	question(&p, "a.test", 1);
	question(&p, "b.test", 1);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_NOT_ANSWER);
	header(&p, 0);
	p.b[2] |= 0x28;		/* opcode 5 (update) */
	question(&p, "a.test", 1);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_NOT_ANSWER);
	assert_int_equal(dns_msg_parse(p.b, 5, &ans), DNS_MSG_MALFORMED);
	assert_int_equal(dns_msg_parse(p.b, 0, &ans), DNS_MSG_MALFORMED);
}

static void test_compression_loop(void **state)
{
	struct pkt p;

	(void)state;
	/* the question's name is a pointer to itself */
	header(&p, 0);
	put16(&p, 0xc00c);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_MALFORMED);

	/* an owner name: a label, then a pointer back to that label */
	header(&p, 1);
	question(&p, "a.test", 1);
	{
		size_t at = p.n;

		put8(&p, 1);
		put8(&p, 'x');
		put16(&p, 0xc000 | (unsigned int)at);
	}
	put16(&p, 1);
	put16(&p, 1);
	put32(&p, 30);
	put16(&p, 4);
	put32(&p, 0x0a000001);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_MALFORMED);

	/* a CNAME whose rdata loops */
	header(&p, 1);
	question(&p, "a.test", 1);
	rr_head(&p, NULL, 5, 30, 2);
	put16(&p, 0xc000 | (unsigned int)p.n);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_BAD_RDATA);
}

static void test_long_names(void **state)
{
	struct pkt p;
	char name[400];
	size_t n = 0;

	(void)state;
	/* 253 characters (63.63.63.61): the longest name there is */
	for (int l = 0; l < 4; l++) {
		int len = l < 3 ? 63 : 61;

		for (int i = 0; i < len; i++)
			name[n++] = 'a' + (char)l;
		name[n++] = '.';
	}
	name[n - 1] = '\0';
	assert_int_equal(strlen(name), 253);
	header(&p, 1);
	question(&p, name, 1);
	rr_a(&p, NULL, "10.0.0.1", 30);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_OK);
	assert_int_equal(strlen(ans.chain[0]), 253);
	assert_int_equal(ans.n_addrs, 1);

	/* one more label: 255 characters, 257 octets on the wire */
	memmove(name + 2, name, n);
	name[0] = 'z';
	name[1] = '.';
	header(&p, 1);
	question(&p, name, 1);
	rr_a(&p, NULL, "10.0.0.1", 30);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_MALFORMED);

	/* a label of 64 octets (the length byte's top bits say "pointer" or
	 * "extended"): refused */
	header(&p, 0);
	put8(&p, 64);
	for (int i = 0; i < 64; i++)
		put8(&p, 'a');
	put8(&p, 0);
	put16(&p, 1);
	put16(&p, 1);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_MALFORMED);
}

static void test_lying_rdlength(void **state)
{
	struct pkt p;

	(void)state;
	/* an A record with 16 bytes of rdata */
	header(&p, 1);
	question(&p, "a.test", 1);
	rr_head(&p, NULL, 1, 30, 16);
	for (int i = 0; i < 16; i++)
		put8(&p, i);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_BAD_RDATA);

	/* an AAAA record with 4 */
	header(&p, 1);
	question(&p, "a.test", 28);
	rr_head(&p, NULL, 28, 30, 4);
	put32(&p, 0x0a000001);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_BAD_RDATA);

	/* rdlength past the end of the message */
	header(&p, 1);
	question(&p, "a.test", 1);
	rr_head(&p, NULL, 1, 30, 200);
	put32(&p, 0x0a000001);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_MALFORMED);

	/* a CNAME whose name is shorter than its rdlength says */
	header(&p, 1);
	question(&p, "a.test", 1);
	rr_head(&p, NULL, 5, 30, 10);
	put_name(&p, "b.test");		/* 8 octets */
	put16(&p, 0);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_BAD_RDATA);

	/* an unrelated record's rdata is not looked at */
	header(&p, 2);
	question(&p, "a.test", 1);
	rr_head(&p, "x.test", 1, 30, 7);
	for (int i = 0; i < 7; i++)
		put8(&p, i);
	rr_a(&p, NULL, "10.0.0.3", 30);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_OK);
	assert_int_equal(ans.n_addrs, 1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_too_many_records(void **state)
{
	static struct pkt p;
	double t0;
	int rounds = 0;

	(void)state;
	/* a header claiming 10,000 answers, with as many as fit in 64 KiB */
	header(&p, 10000);
	question(&p, "a.test", 1);
	while (p.n + 16 <= 65535)
		rr_a(&p, NULL, "10.0.0.1", 30);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_TOO_MANY);
	/* the largest count allowed is read, and the worst case of the
	 * CNAME walk (DNS_CHAIN_MAX passes over every record) is cheap */
	header(&p, DNS_MAX_ANSWERS);
	question(&p, "a.test", 1);
	rr_cname(&p, NULL, "b.test", 30);
	for (int i = 1; i < DNS_MAX_ANSWERS; i++)
		rr_a(&p, "b.test", "10.0.0.1", 30);
	t0 = now();
	do {
		assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_OK);
		rounds++;
	} while (now() - t0 < 0.05);
	assert_int_equal(ans.n_addrs, DNS_MAX_ANSWERS - 1);
	print_message("# %d answers of %d records in 50 ms\n", rounds, DNS_MAX_ANSWERS);
	/* a count beyond the records present is caught by libresolv */
	header(&p, 3);
	question(&p, "a.test", 1);
	rr_a(&p, NULL, "10.0.0.1", 30);
	assert_int_equal(dns_msg_parse(p.b, p.n, &ans), DNS_MSG_MALFORMED);
}

static void test_tcp_frames(void **state)
{
	struct pkt m, s = { .n = 0 };
	const uint8_t *msg;
	size_t len, off = 0;

	(void)state;
	header(&m, 1);
	question(&m, "a.test", 1);
	rr_a(&m, NULL, "10.0.0.1", 30);
	for (int i = 0; i < 2; i++) {
		put16(&s, (unsigned int)m.n);
		memcpy(s.b + s.n, m.b, m.n);
		s.n += m.n;
	}
	assert_int_equal(dns_tcp_frame(s.b, s.n, &off, &msg, &len), 1);
	assert_int_equal(len, m.n);
	assert_int_equal(dns_msg_parse(msg, len, &ans), DNS_MSG_OK);
	assert_int_equal(dns_tcp_frame(s.b, s.n, &off, &msg, &len), 1);
	assert_int_equal(dns_tcp_frame(s.b, s.n, &off, &msg, &len), 0);
	/* cut in the body, in the prefix */
	off = 0;
	assert_int_equal(dns_tcp_frame(s.b, m.n + 1, &off, &msg, &len), -EAGAIN);
	off = 0;
	assert_int_equal(dns_tcp_frame(s.b, 1, &off, &msg, &len), -EAGAIN);
	off = m.n + 2;
	assert_int_equal(dns_tcp_frame(s.b, m.n + 3, &off, &msg, &len), -EAGAIN);
	/* a frame too short for a header */
	s.b[0] = 0;
	s.b[1] = 3;
	off = 0;
	assert_int_equal(dns_tcp_frame(s.b, s.n, &off, &msg, &len), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_answer),
		cmocka_unit_test(test_cname_chain),
		cmocka_unit_test(test_cname_loop_and_depth),
		cmocka_unit_test(test_not_answers),
		cmocka_unit_test(test_compression_loop),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_lying_rdlength),
		cmocka_unit_test(test_too_many_records),
		cmocka_unit_test(test_tcp_frames),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
