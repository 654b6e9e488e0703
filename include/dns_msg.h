/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_DNS_MSG_H
#define PORTWARDEN_DNS_MSG_H

/*
 * DNS answers as the daemon sees them (SPEC §8): untrusted bytes from the
 * NFQUEUE, parsed with glibc's ns_initparse()/ns_parserr() plus our own
 * checks (header, one question, per-type rdata lengths, name lengths, a
 * bound on the records and on the CNAME chain). The result is what the
 * learner needs: the question, the names of its CNAME chain, and the
 * A/AAAA records of those names. Nothing else of the message is kept;
 * the authority and additional sections are never believed.
 */
#include <stddef.h>
#include <stdint.h>

/* A name as text: at most 253 characters, lower case, no final dot. */
#define DNS_NAME_MAX	253
/* Answer records read at most; a message claiming more is refused. */
#define DNS_MAX_ANSWERS	256
/* CNAME links followed from the question at most. */
#define DNS_CHAIN_MAX	16

/**
 * enum dns_msg_status - how a message was classified
 * @DNS_MSG_OK:        an answer; its addresses (maybe none) are in the result
 * @DNS_MSG_NOT_ANSWER: well formed, but not a response to a standard query
 *                     of class IN (QR clear, another opcode, qdcount != 1)
 * @DNS_MSG_MALFORMED: glibc's parser refused it (truncated, a name longer
 *                     than 255 octets, a compression loop, counts that
 *                     lie)
 * @DNS_MSG_TOO_MANY:  more than DNS_MAX_ANSWERS answer records
 * @DNS_MSG_BAD_RDATA: an A, AAAA or CNAME record of the chain whose rdata
 *                     is not what its type says (a lying rdlength)
 */
enum dns_msg_status {
	DNS_MSG_OK = 0,
	DNS_MSG_NOT_ANSWER,
	DNS_MSG_MALFORMED,
	DNS_MSG_TOO_MANY,
	DNS_MSG_BAD_RDATA,
};

/* Printable name of a status ("ok", "malformed", ...). */
const char *dns_msg_status_name(enum dns_msg_status st);

/**
 * struct dns_addr - one A or AAAA record of a name of the chain
 * @family: AF_INET or AF_INET6
 * @addr:   4 or 16 bytes, network order
 * @ttl:    the record's TTL (RFC 2181: above 2^31-1 counts as 0)
 * @name:   index into &dns_answer.chain of the record's owner
 */
struct dns_addr {
	int family;
	uint8_t addr[16];
	uint32_t ttl;
	unsigned int name;
};

/**
 * struct dns_answer - what a response says about its question
 * @chain:   chain[0] is the question's name, chain[i] the target of the
 *           CNAME of chain[i-1]; at most DNS_CHAIN_MAX + 1 names
 * @n_chain: names in @chain
 * @qtype:   the question's type
 * @rcode:   the response code
 * @addrs:   the A/AAAA records owned by names of the chain, in message
 *           order; records of other names are ignored
 * @n_addrs: their number (at most DNS_MAX_ANSWERS)
 * @chain_cut: the chain was longer than DNS_CHAIN_MAX (or looped); the
 *           names past the cut were not followed
 */
struct dns_answer {
	char chain[DNS_CHAIN_MAX + 1][DNS_NAME_MAX + 1];
	unsigned int n_chain;
	uint16_t qtype;
	uint8_t rcode;
	struct dns_addr addrs[DNS_MAX_ANSWERS];
	unsigned int n_addrs;
	int chain_cut;
};

/**
 * dns_msg_parse() - classify one DNS message and read its answer
 * @msg, @len: the message (a UDP payload, or one TCP frame without its
 *             length prefix)
 * @out:       filled when the result is DNS_MSG_OK; otherwise unspecified
 *
 * Time and memory are bounded by @len (at most 65535 is meaningful) and
 * DNS_MAX_ANSWERS; nothing is allocated.
 * Return: the classification.
 */
enum dns_msg_status dns_msg_parse(const uint8_t *msg, size_t len,
				  struct dns_answer *out);

/**
 * dns_tcp_frame() - the next complete message of a DNS-over-TCP stream
 * @buf, @len: stream bytes starting at a frame boundary
 * @off:       in: where the next frame starts; out: moved past it
 * @msg, @msg_len: the message found (inside @buf)
 *
 * Return: 1 and a message; 0 when no bytes are left; -EAGAIN when the
 * bytes left are a frame cut short (its length prefix or its body);
 * -EINVAL for a frame of length 0 or shorter than a DNS header.
 */
int dns_tcp_frame(const uint8_t *buf, size_t len, size_t *off,
		  const uint8_t **msg, size_t *msg_len);

/* Lower-case @s in place and drop one final '.', as names are compared. */
void dns_name_normalise(char *s);

#endif
