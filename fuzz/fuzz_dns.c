// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the daemon's DNS path (nfqueue.c's IP reader and
 * dns_msg.c): any bytes of a queued IP packet, a UDP answer, or a TCP
 * stream of length-framed answers, are classified
 * without crashing, reading out of bounds or taking unbounded time, and
 * what an answer says stays within its bounds.
 *
 *   make BUILD=build fuzz
 *   build/fuzz_dns -max_total_time=30 fuzz/corpus-dns
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_msg.h"
#include "nfqueue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct dns_answer *a)
{
	if (a->n_chain < 1 || a->n_chain > DNS_CHAIN_MAX + 1 ||
	    a->n_addrs > DNS_MAX_ANSWERS)
		__builtin_trap();
	for (unsigned int i = 0; i < a->n_chain; i++)
		if (strnlen(a->chain[i], DNS_NAME_MAX + 1) > DNS_NAME_MAX)
			__builtin_trap();
	for (unsigned int i = 0; i < a->n_addrs; i++)
		if (a->addrs[i].name >= a->n_chain ||
		    (a->addrs[i].family != AF_INET && a->addrs[i].family != AF_INET6) ||
		    a->addrs[i].ttl > 0x7fffffffu)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dns_answer a;
	const uint8_t *msg;
	size_t len, off = 0;

	/* as one UDP payload */
	if (dns_msg_parse(data, size, &a) == DNS_MSG_OK)
		check(&a);
	/* as a queued IP packet */
	{
		struct nfq_packet p = { .id = 0 };

		if (nfq_parse_ip(data, size, &p) == 0) {
			if (p.data < data || p.data + p.data_len > data + size)
				__builtin_trap();
			if (dns_msg_parse(p.data, p.data_len, &a) == DNS_MSG_OK)
				check(&a);
		}
	}
	/* as a TCP stream */
	while (dns_tcp_frame(data, size, &off, &msg, &len) == 1)
		if (dns_msg_parse(msg, len, &a) == DNS_MSG_OK)
			check(&a);
	return 0;
}
