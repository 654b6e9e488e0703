/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_DNS_LEARN_H
#define PORTWARDEN_DNS_LEARN_H

/*
 * The hostname learner of `portwarden daemon` (SPEC §8): DNS answers from
 * the trusted resolvers wait in an NFQUEUE until every A/AAAA address of
 * every name of the answer's chain that a hostname rule names is in that
 * rule's set, with timeout clamp(TTL, min_ttl, max_ttl) + grace and the
 * hostname as the element's comment; then the answer is released.
 *
 * Per read of the queue: every answer read is parsed (dns_msg.c), the
 * elements of all of them go into one nftables transaction, the kernel
 * handles it within sendmsg() and its acks are read, and only then one
 * batch verdict accepts every packet of the read. Answers with nothing
 * to learn are released in the same verdict; answers that cannot be
 * parsed are released unlearned and counted. The queue is bound
 * fail-open: DNS keeps working when the daemon is slow or gone; the
 * traffic to the names then stays closed until an answer is learned.
 *
 * Whether an answer is the reply to a query this host sent is conntrack's
 * check: the compiler's queue rule only takes `ct state established`
 * packets from the trusted resolvers' port 53, i.e. replies on a flow
 * this host opened. The learner checks the source again (resolver and
 * port 53) and drops nothing.
 */
#include <stdint.h>

struct daemon;
struct dns_learner;

/**
 * struct dns_learn_counters - what the learner did since it started
 * @held:       answers held until the kernel's ack (they had addresses to add)
 * @learned:    of those, answers released after the ack
 * @unlearned:  answers released with nothing to learn (no matching name,
 *              an untrusted source, a TCP frame cut over segments)
 * @unparsable: messages dns_msg_parse() refused (malformed, too many
 *              records, bad rdata, not an answer)
 * @timed_out:  held answers released without a good ack: the kernel
 *              refused the transaction, the acks were lost, or the hold
 *              exceeded its bound (DNS_HOLD_BOUND_MS)
 * @queue_full: answers the kernel released without queueing them (queue
 *              or socket buffer full; fail-open)
 * @tcp_partial: DNS-over-TCP segments carrying a cut frame
 * @addresses:  addresses in the sets now (as the learner counts them)
 * @added, @renewed, @evicted: element operations sent
 * @hold_p50_us, @hold_p99_us, @hold_max_us: how long the last (up to
 *              4,096) held answers waited in the daemon, from the read of
 *              the queue to the verdict (the kernel's queueing and the
 *              daemon's wake-up are not in it)
 */
struct dns_learn_counters {
	uint64_t held, learned, unlearned, unparsable, timed_out, queue_full;
	uint64_t tcp_partial, addresses, added, renewed, evicted;
	uint64_t hold_p50_us, hold_p99_us, hold_max_us;
};

/* A held answer released later than this counts as timed out. */
#define DNS_HOLD_BOUND_MS 500

/**
 * dns_learner_start() - start learning for the daemon's policy
 * Does nothing (and sets *@out to a learner that does nothing) when the
 * policy names no hostname. Otherwise binds the policy's queue, restores
 * the saved addresses, sends the queries for the exact names, and hangs
 * its sources, timers and reload/exit callbacks on @d.
 * Return: 0 or a negative errno (-EBUSY: the queue has another reader).
 */
int dns_learner_start(struct dns_learner **out, struct daemon *d);

/* Free everything (after the loop ended); NULL is fine. */
void dns_learner_free(struct dns_learner *l);

/* The counters so far. */
const struct dns_learn_counters *dns_learner_counters(const struct dns_learner *l);

/**
 * dns_counters_path() - RUN_DIR/net-INODE/dns: the counters as
 * "NAME VALUE" lines, rewritten each second while they change, for
 * `status`. 0 or a negative errno.
 */
int dns_counters_path(char *buf, size_t len);

#endif
