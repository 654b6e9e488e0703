/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_NFLOG_H
#define PORTWARDEN_NFLOG_H

/*
 * Reading NFLOG records (nfnetlink_log) through libmnl, for `monitor`.
 *
 * One socket binds one group in the network namespace it was opened in,
 * asks for the first NFLOG_COPY_RANGE bytes of each packet (headers are
 * enough) and for per-instance sequence numbers (NFULNL_CFG_F_SEQ), so
 * that a gap between two delivered records counts exactly the records the
 * kernel built but could not deliver (a full socket buffer, ENOBUFS).
 * NFULNL_CFG_CMD_PF_BIND is not sent: since Linux 3.17 the logger of every
 * family is nfnetlink_log's own and the command is a no-op.
 *
 * nflog_parse() reads one message from untrusted bytes with explicit
 * length checks (fuzz/fuzz_nflog.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NFLOG_COPY_RANGE 128
#define NFLOG_PREFIX_MAX 128

/**
 * struct nflog_pkt - what one NFLOG record says
 * @has_seq, @seq:      NFULA_SEQ (per instance, from 0 at bind)
 * @prefix, @prefix_len: NFULA_PREFIX (NUL-terminated, at most 128 bytes)
 * @hook:               NFULA_PACKET_HDR hook number (1 input, 3 output)
 * @has_time:           NFULA_TIMESTAMP present: @sec, @usec (kernel time)
 * @has_uid, @uid, @has_gid, @gid: the socket's owner (NFULA_UID/GID)
 * @indev, @outdev:     interface indexes, 0 when absent
 * @l3:                 4, 6, or 0 when the payload is no IP header
 * @src, @dst:          addresses (IPv4 in the first 4 bytes)
 * @proto:              IP protocol (IPv6: the first next header)
 * @has_ports, @sport, @dport: TCP/UDP/SCTP/UDPLite ports, host order
 * @has_icmp, @icmp_type, @icmp_code: ICMP/ICMPv6 header
 */
struct nflog_pkt {
	bool has_seq;
	uint32_t seq;
	char prefix[NFLOG_PREFIX_MAX + 1];
	size_t prefix_len;
	uint8_t hook;
	bool has_time;
	uint64_t sec, usec;
	bool has_uid, has_gid;
	uint32_t uid, gid;
	uint32_t indev, outdev;
	uint8_t l3;
	uint8_t src[16], dst[16];
	uint8_t proto;
	bool has_ports;
	uint16_t sport, dport;
	bool has_icmp;
	uint8_t icmp_type, icmp_code;
};

/**
 * nflog_parse() - one netlink message (header included) of nfnetlink_log
 * @buf: the message bytes (untrusted)
 * @len: their number
 * @out: filled on success
 *
 * Return: 0; -ENOMSG for a message that is no NFULNL_MSG_PACKET (skip
 * it); -EINVAL for a malformed one.
 */
int nflog_parse(const void *buf, size_t len, struct nflog_pkt *out);

struct nflog;

/**
 * nflog_open() - bind NFLOG group @group in the current network namespace
 * @out:    the handle
 * @group:  NFLOG group
 * @rcvbuf: socket receive buffer in bytes (SO_RCVBUFFORCE, else
 *          SO_RCVBUF); 0 for the default of nflog (32 MiB)
 *
 * Return: 0 or a negative errno (-EPERM: another socket has the group,
 *         or no CAP_NET_ADMIN).
 */
int nflog_open(struct nflog **out, uint16_t group, int rcvbuf);
void nflog_close(struct nflog *nf);
int nflog_fd(const struct nflog *nf);

/*
 * Called for every record, in order; @lost is the number of records the
 * kernel built before this one and could not deliver (0 normally).
 * Return 0 to go on, a negative errno to stop.
 */
typedef int (*nflog_cb)(const struct nflog_pkt *p, uint64_t lost, void *arg);

/**
 * nflog_read() - read once from the socket (non-blocking) and deliver
 * @nf:  the handle
 * @cb:  called for each record
 * @arg: passed to @cb
 *
 * ENOBUFS is not an error: it is counted (nflog_overruns()) and the
 * records lost are reported to @cb as the sequence gap before the next
 * record delivered. Malformed messages are counted (nflog_bad()).
 * Return: the number of records delivered (0 when nothing was waiting),
 * or a negative errno.
 */
int nflog_read(struct nflog *nf, nflog_cb cb, void *arg);

/* Times recv() reported ENOBUFS. */
uint64_t nflog_overruns(const struct nflog *nf);
/* Malformed messages skipped. */
uint64_t nflog_bad(const struct nflog *nf);

#endif
