/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NFQUEUE_H
#define PORTWARDEN_NFQUEUE_H

/*
 * One NFQUEUE (nfnetlink_queue) through libmnl, for the daemon's DNS
 * answers: bind a queue, read queued packets, give verdicts. The queue is
 * bound fail-open (NFQA_CFG_F_FAIL_OPEN): when it is full, or this
 * socket's buffer is, the kernel accepts the packet instead of queueing
 * it. Such packets still take a packet id, so a gap in the ids we receive
 * counts them (&nfq.lost).
 */
#include <stddef.h>
#include <stdint.h>

struct mnl_socket;

/**
 * struct nfq_packet - one queued packet and what it carries
 * @id:       the kernel's packet id, for the verdict
 * @family:   AF_INET or AF_INET6 (0: not an IP packet we can read)
 * @saddr, @daddr: 4 or 16 bytes
 * @l4proto:  IPPROTO_UDP or IPPROTO_TCP (0: neither, or unreadable)
 * @sport, @dport: host order
 * @tcp_seq:  TCP: the segment's sequence number (host order)
 * @data, @data_len: the UDP payload, or the TCP segment's payload
 */
struct nfq_packet {
	uint32_t id;
	int family;
	uint8_t saddr[16], daddr[16];
	uint8_t l4proto;
	uint16_t sport, dport;
	uint32_t tcp_seq;
	const uint8_t *data;
	size_t data_len;
};

/**
 * nfq_parse_ip() - find the UDP/TCP payload of the IP packet @pkt
 * Every length is checked against @len (untrusted bytes). IPv4 fragments
 * after the first and IPv6 packets with more than 8 extension headers are
 * not read. Return: 0 with @p's address, port and data fields set;
 * -EINVAL when the packet is not a whole UDP or TCP packet of either family.
 */
int nfq_parse_ip(const uint8_t *pkt, size_t len, struct nfq_packet *p);

/**
 * struct nfq - a bound queue
 * @received: packets read
 * @lost:     packets the kernel accepted without queueing them (queue or
 *            socket buffer full: the gaps in the packet ids) and batches
 *            lost to ENOBUFS
 * @enobufs:  times the socket reported ENOBUFS
 */
struct nfq {
	struct mnl_socket *nl;
	uint32_t portid;
	uint16_t num;
	uint32_t next_id;
	int have_id;
	char *buf;
	size_t buf_size;
	uint64_t received, lost, enobufs;
};

/**
 * nfq_open() - bind queue @num, copying whole packets, fail-open, at most
 * @maxlen packets waiting in the kernel
 * Return: 0 or a negative errno (-EBUSY: another program has the queue).
 */
int nfq_open(uint16_t num, uint32_t maxlen, struct nfq **out);

/* Unbind and close; NULL is fine. Held packets are accepted by the kernel
 * (fail-open) when the socket closes. */
void nfq_close(struct nfq *q);

/* The socket's descriptor (non-blocking), for epoll. */
int nfq_fd(const struct nfq *q);

/* Called for each packet of a read. @pkt is NULL when the packet's
 * attributes could not be read (it must still get a verdict). */
typedef void (*nfq_packet_fn)(void *ctx, uint32_t id, const struct nfq_packet *pkt);

/**
 * nfq_read() - read what is waiting (one recv) and call @fn for each packet
 * Return: packets seen (0 when nothing was waiting), or a negative errno;
 * -ENOBUFS is counted and returned, and the caller goes on reading.
 */
int nfq_read(struct nfq *q, nfq_packet_fn fn, void *ctx);

/* Accept packet @id. 0 or a negative errno. */
int nfq_accept(struct nfq *q, uint32_t id);

/* Accept every packet with an id up to @id (NFQNL_MSG_VERDICT_BATCH). */
int nfq_accept_upto(struct nfq *q, uint32_t id);

#endif
