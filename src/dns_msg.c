// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * DNS responses, read with glibc's libresolv (ns_initparse() walks every
 * section once and refuses counts that run past the message, ns_parserr()
 * expands owner names with loop and length checks) plus what libresolv
 * leaves to its caller: the header's meaning, the question count, the
 * length of each record's rdata for its type, and a bound on how much of
 * the message we look at.
 */
#include <arpa/nameser.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns_msg.h"

const char *dns_msg_status_name(enum dns_msg_status st)
{
	switch (st) {
	case DNS_MSG_OK:		return "ok";
	case DNS_MSG_NOT_ANSWER:	return "not-an-answer";
	case DNS_MSG_MALFORMED:		return "malformed";
	case DNS_MSG_TOO_MANY:		return "too-many-records";
	case DNS_MSG_BAD_RDATA:		return "bad-rdata";
	}
	return "?";
}

void dns_name_normalise(char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		s[i] = (char)tolower((unsigned char)s[i]);
	if (n > 0 && s[n - 1] == '.')
		s[n - 1] = '\0';
}

/* @src as a chain name: normalised, at most DNS_NAME_MAX characters.
 * libresolv writes unusual bytes as \DDD escapes, so an over-long text is
 * possible from a 255-octet wire name; such a name matches no target
 * (targets are letters, digits, '-' and '.') and is refused here. */
static int name_copy(char dst[DNS_NAME_MAX + 1], const char *src)
{
	size_t n = strnlen(src, NS_MAXDNAME);

	if (n > 0 && src[n - 1] == '.')
		n--;
	if (n > DNS_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(dst, src, n);
	dst[n] = '\0';
	dns_name_normalise(dst);
	return 0;
}

/* Index of @name in the chain, or -1. */
static int chain_find(const struct dns_answer *a, const char *name)
{
	for (unsigned int i = 0; i < a->n_chain; i++)
		if (strcmp(a->chain[i], name) == 0)
			return (int)i;
	return -1;
}

/* TTL as RFC 2181 §8 reads it: a value with the top bit set is 0. */
static uint32_t ttl_of(const ns_rr *rr)
{
	uint32_t t = ns_rr_ttl(*rr);

	return t > 0x7fffffffu ? 0 : t;
}

/*
 * The CNAME edges of the answer section are followed from the question,
 * one pass per link: each pass looks for a CNAME owned by the last name
 * of the chain. DNS_CHAIN_MAX passes over at most DNS_MAX_ANSWERS records
 * bound the work whatever the order of the records.
 */
static enum dns_msg_status follow_chain(ns_msg *h, int n_an,
					struct dns_answer *a)
{
	char text[NS_MAXDNAME];
	char name[DNS_NAME_MAX + 1];

	for (unsigned int link = 0; link <= DNS_CHAIN_MAX; link++) {
		const char *last = a->chain[a->n_chain - 1];
		int found = 0;

		for (int i = 0; i < n_an && !found; i++) {
			ns_rr rr;
			int n;

			if (ns_parserr(h, ns_s_an, i, &rr) < 0)
				return DNS_MSG_MALFORMED;
			if (ns_rr_type(rr) != ns_t_cname || ns_rr_class(rr) != ns_c_in)
				continue;
			if (name_copy(name, ns_rr_name(rr)) < 0 || strcmp(name, last) != 0)
				continue;
			/* rdata is one (maybe compressed) name filling it exactly */
			n = ns_name_uncompress(ns_msg_base(*h), ns_msg_end(*h),
					       ns_rr_rdata(rr), text, sizeof(text));
			if (n < 0 || (size_t)n != ns_rr_rdlen(rr))
				return DNS_MSG_BAD_RDATA;
			if (name_copy(name, text) < 0)
				return DNS_MSG_BAD_RDATA;
			found = 1;
			if (chain_find(a, name) >= 0 || link == DNS_CHAIN_MAX) {
				a->chain_cut = 1;	/* a loop, or too long */
				return DNS_MSG_OK;
			}
			memcpy(a->chain[a->n_chain++], name, sizeof(name));
		}
		if (!found)
			break;
	}
	return DNS_MSG_OK;
}

static enum dns_msg_status read_addrs(ns_msg *h, int n_an, struct dns_answer *a)
{
	char name[DNS_NAME_MAX + 1];

	for (int i = 0; i < n_an; i++) {
		struct dns_addr *ad;
		ns_rr rr;
		size_t want;
		int owner, family;

		if (ns_parserr(h, ns_s_an, i, &rr) < 0)
			return DNS_MSG_MALFORMED;
		if (ns_rr_class(rr) != ns_c_in)
			continue;
		if (ns_rr_type(rr) == ns_t_a) {
			family = AF_INET;
			want = 4;
		} else if (ns_rr_type(rr) == ns_t_aaaa) {
			family = AF_INET6;
			want = 16;
		} else {
			continue;
		}
		if (name_copy(name, ns_rr_name(rr)) < 0)
			continue;
		owner = chain_find(a, name);
		if (owner < 0)
			continue;	/* unrelated to the question: never learned */
		if (ns_rr_rdlen(rr) != want)
			return DNS_MSG_BAD_RDATA;
		ad = &a->addrs[a->n_addrs++];
		ad->family = family;
		memset(ad->addr, 0, sizeof(ad->addr));
		memcpy(ad->addr, ns_rr_rdata(rr), want);
		ad->ttl = ttl_of(&rr);
		ad->name = (unsigned int)owner;
	}
	return DNS_MSG_OK;
}

enum dns_msg_status dns_msg_parse(const uint8_t *msg, size_t len,
				  struct dns_answer *out)
{
	char qname[NS_MAXDNAME];
	ns_msg h;
	ns_rr q;
	int n_an;
	enum dns_msg_status st;

	if (len < NS_HFIXEDSZ || len > 65535)
		return DNS_MSG_MALFORMED;
	/* The header first, before libresolv walks the sections: a count of
	 * answers beyond the bound is refused without reading them. */
	if ((msg[2] & 0x80) == 0)
		return DNS_MSG_NOT_ANSWER;	/* QR clear: a query */
	if (((msg[2] >> 3) & 0x0f) != ns_o_query)
		return DNS_MSG_NOT_ANSWER;
	if (((unsigned int)msg[4] << 8 | msg[5]) != 1)
		return DNS_MSG_NOT_ANSWER;
	if (((unsigned int)msg[6] << 8 | msg[7]) > DNS_MAX_ANSWERS)
		return DNS_MSG_TOO_MANY;
	if (ns_initparse(msg, (int)len, &h) < 0)
		return DNS_MSG_MALFORMED;
	if (ns_parserr(&h, ns_s_qd, 0, &q) < 0)
		return DNS_MSG_MALFORMED;
	if (ns_rr_class(q) != ns_c_in)
		return DNS_MSG_NOT_ANSWER;
	memset(out, 0, offsetof(struct dns_answer, addrs));
	out->n_addrs = 0;
	snprintf(qname, sizeof(qname), "%s", ns_rr_name(q));
	if (name_copy(out->chain[0], qname) < 0)
		return DNS_MSG_MALFORMED;
	out->n_chain = 1;
	out->qtype = ns_rr_type(q);
	out->rcode = (uint8_t)ns_msg_getflag(h, ns_f_rcode);
	n_an = ns_msg_count(h, ns_s_an);
	st = follow_chain(&h, n_an, out);
	if (st != DNS_MSG_OK)
		return st;
	return read_addrs(&h, n_an, out);
}

int dns_tcp_frame(const uint8_t *buf, size_t len, size_t *off,
		  const uint8_t **msg, size_t *msg_len)
{
	size_t at = *off, n;

	if (at >= len)
		return 0;
	if (len - at < 2)
		return -EAGAIN;
	n = (size_t)buf[at] << 8 | buf[at + 1];
	if (n < NS_HFIXEDSZ)
		return -EINVAL;
	if (len - at - 2 < n)
		return -EAGAIN;
	*msg = buf + at + 2;
	*msg_len = n;
	*off = at + 2 + n;
	return 1;
}
