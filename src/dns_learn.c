// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's hostname learner: NFQUEUE answers -> dns_msg_parse() ->
 * the elements to add, renew or evict -> one nftables transaction -> its
 * acks -> one batch verdict. See include/dns_learn.h for the contract.
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <endian.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <limits.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "dns_learn.h"
#include "dns_msg.h"
#include "hostnames.h"
#include "learn_state.h"
#include "learn_table.h"
#include "model.h"
#include "nfqueue.h"
#include "nl.h"
#include "nl_sock.h"
#include "policy.h"
#include "state.h"
#include "util.h"

/* NFT_MSG_DESTROYSETELEM (Linux 6.3): delete, and no error when absent.
 * Older UAPI headers do not name it. */
#define PW_NFT_MSG_DESTROYSETELEM 30

#define ELEMS_PER_MSG	256
#define QUEUE_MAXLEN	4096
#define READS_PER_WAKEUP 16
#define PACKETS_PER_BATCH 64
#define SAVE_EVERY_MS	60000
#define TICK_MS		1000
/* The test-only way to show that the hold matters (see README): release
 * first, learn NO_HOLD_DELAY_MS later, as a learner outside the path of
 * the answer would. */
#define NO_HOLD_ENV	"PORTWARDEN_DNS_NO_HOLD"
#define NO_HOLD_DELAY_MS 20
#define HOLD_SAMPLES	4096

/* OP_READD: an element of our table put back into a set made anew */
enum op_kind { OP_ADD, OP_RENEW, OP_EVICT, OP_READD };

/* One element operation of the pending transaction. */
struct op {
	enum op_kind kind;
	size_t tab;
	uint8_t addr[16];
	uint64_t timeout_ms;
	char name[DNS_NAME_MAX + 1];
};

/*
 * DNS over TCP: servers such as dnsmasq write a response's 2-byte length
 * and its message in two segments. The length alone carries nothing to
 * learn and is released at once; we remember it for the flow, and the
 * next segment of that flow (by sequence number) is read as the message.
 * A few flows at a time (a ring: the oldest is forgotten).
 */
#define TCP_PENDING_MAX 64

struct tcp_pending {
	int family;
	uint8_t saddr[16], daddr[16];
	uint16_t sport, dport;
	uint32_t next_seq;
	uint16_t need;
	bool used;
};

/* A `learned` event waiting for the ack. */
struct pending_event {
	char *name, *set, *addrs;
	uint32_t ttl;
};

struct dns_learner {
	struct daemon *d;
	bool active;
	char *table;
	struct host_targets targets;
	size_t *tab4, *tab6;		/* per target: index into @tabs or SIZE_MAX */
	struct learn_table *tabs;
	size_t n_tabs;
	struct cidr *resolvers;
	size_t n_resolvers;
	struct nl_sock *nl;
	struct nfq *q;
	uint16_t queue_num;
	bool in_place;			/* the kernel renews a timeout in place */
	bool no_hold;
	struct dns_learn_counters c, c_written;
	bool dirty;			/* learned since the last save */
	double last_save_ms;
	char state_path[PATH_MAX];

	/* the read being handled */
	struct op *ops;
	size_t n_ops, cap_ops;
	struct pending_event *evs;
	size_t n_evs, cap_evs;
	uint32_t max_id;
	bool have_id;
	uint64_t held_now;		/* answers of this read with operations */
	double read_ms;			/* when this read began */
	float hold_us[HOLD_SAMPLES];	/* a ring of recent hold times */
	size_t n_hold;
	int no_hold_timer;

	struct tcp_pending tcp[TCP_PENDING_MAX];
	unsigned int tcp_next;

	uint64_t table_handle, seen_handle;	/* see watch_table() */

	int qfd;			/* socket of the start-up queries, or -1 */
	int tick_timer;
};

/* ---- small helpers ---- */

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static size_t alen(int family)
{
	return family == 4 ? 4 : 16;
}

/* Linux 6.12 renews the timeout of an element that is added again with
 * its expiration; older kernels keep the old one, so we destroy and add
 * in the same batch (hostnames_life.sh checks the renewal). */
static bool kernel_renews_in_place(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;

	if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major > 6 || (major == 6 && minor >= 12);
}

static size_t find_tab(const struct dns_learner *l, const char *set, int family)
{
	for (size_t i = 0; i < l->n_tabs; i++)
		if (l->tabs[i].family == family && strcmp(l->tabs[i].set, set) == 0)
			return i;
	return SIZE_MAX;
}

/* Is @addr inside the addresses written beside the names (static
 * elements: never given a timeout, never counted as learned)? */
static bool is_static(const struct host_target *t, int family, const uint8_t *addr)
{
	const struct addr_set *as = t->exclude ? &t->rule->not_to : &t->rule->to;
	struct cidr one = { .family = (uint8_t)family,
			    .plen = (uint8_t)(family == 4 ? 32 : 128) };

	memcpy(one.addr, addr, alen(family));
	for (size_t i = 0; i < as->n; i++)
		if (as->v[i].family == family && cidr_contains(&as->v[i], &one))
			return true;
	return false;
}

static uint64_t clamp_timeout(const struct dns_settings *s, uint32_t ttl)
{
	uint64_t t = ttl;

	if (t < s->min_ttl)
		t = s->min_ttl;
	if (t > s->max_ttl)
		t = s->max_ttl;
	return t + s->grace;
}

/* ---- the targets and their tables ---- */

static void tables_for_targets(struct dns_learner *l, struct learn_table *old,
			       size_t n_old)
{
	const struct dns_settings *s = &l->targets.dns;

	l->tab4 = xcalloc(l->targets.n ? l->targets.n : 1, sizeof(size_t));
	l->tab6 = xcalloc(l->targets.n ? l->targets.n : 1, sizeof(size_t));
	for (size_t i = 0; i < l->targets.n; i++) {
		const struct host_target *t = &l->targets.v[i];

		for (int k = 0; k < 2; k++) {
			const char *set = k ? t->set6 : t->set4;
			int fam = k ? 6 : 4;
			size_t *slot = k ? &l->tab6[i] : &l->tab4[i];
			size_t j;

			*slot = SIZE_MAX;
			if (!set)
				continue;
			j = find_tab(l, set, fam);
			if (j == SIZE_MAX) {
				size_t cap = l->n_tabs;
				struct learn_table *nt;

				l->tabs = xrealloc(l->tabs, (cap + 1) * sizeof(*l->tabs));
				nt = &l->tabs[l->n_tabs];
				j = l->n_tabs++;
				/* a set that stays keeps what was learned for it */
				for (size_t o = 0; o < n_old; o++) {
					if (old[o].set && old[o].family == fam &&
					    strcmp(old[o].set, set) == 0) {
						*nt = old[o];
						memset(&old[o], 0, sizeof(old[o]));
						nt->max = s->max_addresses ? s->max_addresses : 1;
						goto have;
					}
				}
				learn_table_init(nt, set, fam, s->max_addresses);
			}
have:
			*slot = j;
		}
	}
}

static void targets_release(struct dns_learner *l)
{
	for (size_t i = 0; i < l->n_tabs; i++)
		learn_table_release(&l->tabs[i]);
	free(l->tabs);
	l->tabs = NULL;
	l->n_tabs = 0;
	free(l->tab4);
	free(l->tab6);
	l->tab4 = l->tab6 = NULL;
	host_targets_release(&l->targets);
	free(l->resolvers);
	l->resolvers = NULL;
	l->n_resolvers = 0;
}

/* ---- planning: answers -> operations ---- */

static struct op *op_push(struct dns_learner *l, enum op_kind kind, size_t tab,
			  const uint8_t *addr, uint64_t timeout_ms, const char *name)
{
	struct op *o = ARRAY_PUSH(l->ops, l->n_ops, l->cap_ops);

	o->kind = kind;
	o->tab = tab;
	memset(o->addr, 0, sizeof(o->addr));
	memcpy(o->addr, addr, alen(l->tabs[tab].family));
	o->timeout_ms = timeout_ms;
	snprintf(o->name, sizeof(o->name), "%s", name);
	return o;
}

/*
 * @addr of family @fam for @name into table @tab, valid @timeout seconds:
 * an add (maybe evicting the oldest), a renewal when it extends the
 * expiry, or nothing. Returns 1 when the address is new to the set.
 */
static int plan_addr(struct dns_learner *l, size_t tab, const uint8_t *addr,
		     const char *name, uint64_t timeout)
{
	struct learn_table *t = &l->tabs[tab];
	struct learn_entry *e = learn_table_find(t, addr);
	int64_t expires = now_s() + (int64_t)timeout;
	uint8_t evicted[16];

	if (e && e->expires >= expires)
		return 0;	/* already allowed as long as this answer says */
	if (e) {
		learn_table_put(t, addr, name, expires, evicted);
		if (!l->in_place)
			op_push(l, OP_EVICT, tab, addr, 0, name);
		op_push(l, OP_RENEW, tab, addr, timeout * 1000, name);
		return 0;
	}
	if (learn_table_put(t, addr, name, expires, evicted)) {
		op_push(l, OP_EVICT, tab, evicted, 0, name);
		l->c.evicted++;
	}
	op_push(l, OP_ADD, tab, addr, timeout * 1000, name);
	return 1;
}

static void event_add(struct dns_learner *l, const char *name, const char *set,
		      const char *addr, uint32_t ttl)
{
	struct pending_event *ev = NULL;

	for (size_t i = 0; i < l->n_evs; i++)
		if (strcmp(l->evs[i].name, name) == 0 && strcmp(l->evs[i].set, set) == 0) {
			ev = &l->evs[i];
			break;
		}
	if (!ev) {
		ev = ARRAY_PUSH(l->evs, l->n_evs, l->cap_evs);
		ev->name = xstrdup(name);
		ev->set = xstrdup(set);
		ev->addrs = xstrdup(addr);
		ev->ttl = ttl;
		return;
	}
	if (strlen(ev->addrs) < 4096) {
		char *s = xasprintf("%s,%s", ev->addrs, addr);

		free(ev->addrs);
		ev->addrs = s;
	}
}

/* The operations an answer asks for; returns how many it added. */
static size_t plan_answer(struct dns_learner *l, const struct dns_answer *a)
{
	size_t before = l->n_ops;

	for (size_t i = 0; i < l->targets.n; i++) {
		const struct host_target *t = &l->targets.v[i];
		const char *name = NULL;

		for (unsigned int k = 0; k < a->n_chain && !name; k++)
			if (host_target_matches(t, a->chain[k]))
				name = a->chain[k];
		if (!name)
			continue;
		for (unsigned int k = 0; k < a->n_addrs; k++) {
			const struct dns_addr *ad = &a->addrs[k];
			int fam = ad->family == AF_INET ? 4 : 6;
			size_t tab = fam == 4 ? l->tab4[i] : l->tab6[i];
			uint64_t timeout = clamp_timeout(&l->targets.dns, ad->ttl);
			char text[INET6_ADDRSTRLEN];

			if (tab == SIZE_MAX || is_static(t, fam, ad->addr))
				continue;
			if (plan_addr(l, tab, ad->addr, name, timeout) &&
			    inet_ntop(ad->family, ad->addr, text, sizeof(text)))
				event_add(l, name, l->tabs[tab].set, text,
					  (uint32_t)timeout);
		}
	}
	return l->n_ops - before;
}

static bool from_resolver(const struct dns_learner *l, const struct nfq_packet *p)
{
	return p->sport == 53 &&
	       dns_resolver_in(l->resolvers, l->n_resolvers,
			       p->family == AF_INET ? 4 : 6, p->saddr);
}

/* One message: parsed and planned; false when it could not be parsed. */
static bool take_message(struct dns_learner *l, const uint8_t *msg, size_t len,
			 size_t *n_ops)
{
	static struct dns_answer a;	/* 11 KiB: not on the stack */

	if (dns_msg_parse(msg, len, &a) != DNS_MSG_OK) {
		l->c.unparsable++;
		return false;
	}
	*n_ops += plan_answer(l, &a);
	return true;
}

static bool same_flow(const struct tcp_pending *t, const struct nfq_packet *p)
{
	return t->used && t->family == p->family && t->sport == p->sport &&
	       t->dport == p->dport && memcmp(t->saddr, p->saddr, 16) == 0 &&
	       memcmp(t->daddr, p->daddr, 16) == 0;
}

/* The length a previous segment of @p's flow announced for a message
 * starting at @p's first byte, or 0. */
static uint16_t tcp_take_pending(struct dns_learner *l, const struct nfq_packet *p)
{
	for (unsigned int i = 0; i < TCP_PENDING_MAX; i++) {
		struct tcp_pending *t = &l->tcp[i];

		if (same_flow(t, p)) {
			uint16_t need = t->next_seq == p->tcp_seq ? t->need : 0;

			t->used = false;
			return need;
		}
	}
	return 0;
}

static void tcp_put_pending(struct dns_learner *l, const struct nfq_packet *p,
			    uint16_t need)
{
	struct tcp_pending *t = &l->tcp[l->tcp_next++ % TCP_PENDING_MAX];

	t->used = true;
	t->family = p->family;
	memcpy(t->saddr, p->saddr, 16);
	memcpy(t->daddr, p->daddr, 16);
	t->sport = p->sport;
	t->dport = p->dport;
	t->next_seq = p->tcp_seq + (uint32_t)p->data_len;
	t->need = need;
}

/* The DNS messages of one TCP segment; false when one is unparsable. */
static bool take_segment(struct dns_learner *l, const struct nfq_packet *p,
			 size_t *n_ops)
{
	const uint8_t *msg;
	size_t off = 0, mlen;
	uint16_t need = tcp_take_pending(l, p);
	int r;

	if (need) {
		if (p->data_len < need) {
			l->c.tcp_partial++;
			return true;
		}
		if (!take_message(l, p->data, need, n_ops))
			return false;
		off = need;
	}
	while ((r = dns_tcp_frame(p->data, p->data_len, &off, &msg, &mlen)) == 1)
		if (!take_message(l, msg, mlen, n_ops))
			return false;
	if (r == -EAGAIN && p->data_len - off == 2) {
		/* only the next message's length: its body follows */
		tcp_put_pending(l, p, (uint16_t)(p->data[off] << 8 | p->data[off + 1]));
	} else if (r == -EAGAIN) {
		/* a message continued in the next segment: what is whole was
		 * learned, the rest is released unlearned */
		l->c.tcp_partial++;
	} else if (r == -EINVAL) {
		l->c.unparsable++;
		return false;
	}
	return true;
}

static void on_packet(void *ctx, uint32_t id, const struct nfq_packet *p)
{
	struct dns_learner *l = ctx;
	size_t n_ops = 0;

	if (!l->have_id || id > l->max_id)
		l->max_id = id;
	l->have_id = true;
	if (!p) {
		l->c.unparsable++;
		return;
	}
	if (!from_resolver(l, p)) {
		l->c.unlearned++;
		return;
	}
	if (p->l4proto == IPPROTO_UDP) {
		if (!take_message(l, p->data, p->data_len, &n_ops))
			return;
	} else {
		if (p->data_len == 0) {		/* a bare ACK, FIN, ... */
			l->c.unlearned++;
			return;
		}
		if (!take_segment(l, p, &n_ops))
			return;
	}
	if (n_ops) {
		l->c.held++;
		l->held_now++;
	} else {
		l->c.unlearned++;
	}
}

/* ---- the transaction ---- */

static void put_elem(struct nlmsghdr *nlh, uint16_t idx, const struct op *o,
		     int family)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, idx), *k;

	k = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, (uint32_t)alen(family), o->addr);
	mnl_attr_nest_end(nlh, k);
	if (o->kind != OP_EVICT) {
		/* the comment as nft writes it: one udata TLV, NUL included */
		uint8_t ud[2 + DNS_NAME_MAX + 1];
		size_t n = strlen(o->name) + 1;

		/* the expiration too: the kernel renews an element that is
		 * there only when it is given (or the timeout differs) */
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_TIMEOUT, htobe64(o->timeout_ms));
		mnl_attr_put_u64(nlh, NFTA_SET_ELEM_EXPIRATION, htobe64(o->timeout_ms));
		ud[0] = NFTNL_UDATA_SET_ELEM_COMMENT;
		ud[1] = (uint8_t)n;
		memcpy(ud + 2, o->name, n);
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, (uint32_t)(2 + n), ud);
	}
	mnl_attr_nest_end(nlh, e);
}

/* Consecutive operations of one kind on one set share a message. */
static void build_txn(struct dns_learner *l, struct nl_txn *t)
{
	size_t i = 0;

	nl_txn_begin(t, l->nl);
	while (i < l->n_ops) {
		const struct op *o = &l->ops[i];
		const struct learn_table *tab = &l->tabs[o->tab];
		bool evict = o->kind == OP_EVICT;
		struct nlmsghdr *nlh;
		struct nlattr *list;
		uint16_t n = 0;

		nlh = nl_txn_msg(t, evict ? PW_NFT_MSG_DESTROYSETELEM : NFT_MSG_NEWSETELEM,
				 evict ? 0 : NLM_F_CREATE);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, l->table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, tab->set);
		list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
		while (i < l->n_ops && n < ELEMS_PER_MSG && l->ops[i].tab == o->tab &&
		       (l->ops[i].kind == OP_EVICT) == evict)
			put_elem(nlh, ++n, &l->ops[i++], tab->family);
		mnl_attr_nest_end(nlh, list);
		nl_txn_commit(t, nlh, NULL);
	}
	nl_txn_end(t, l->nl);
}

static void emit_events(struct dns_learner *l)
{
	for (size_t i = 0; i < l->n_evs; i++) {
		struct pending_event *ev = &l->evs[i];
		struct daemon_ev *e = daemon_ev_begin(l->d, "learned");

		daemon_ev_str(e, "name", ev->name);
		daemon_ev_str(e, "addresses", ev->addrs);
		daemon_ev_int(e, "ttl", ev->ttl);
		daemon_ev_str(e, "set", ev->set);
		daemon_ev_end(e);
	}
}

static void events_clear(struct dns_learner *l)
{
	for (size_t i = 0; i < l->n_evs; i++) {
		free(l->evs[i].name);
		free(l->evs[i].set);
		free(l->evs[i].addrs);
	}
	l->n_evs = 0;
}

/* A failed transaction added nothing: forget the new entries. */
static void undo_adds(struct dns_learner *l)
{
	for (size_t i = 0; i < l->n_ops; i++)
		if (l->ops[i].kind == OP_ADD)
			learn_table_del(&l->tabs[l->ops[i].tab], l->ops[i].addr);
}

/* Send the pending operations; 0 when the kernel took them all. */
static int commit_ops(struct dns_learner *l)
{
	struct nl_txn t;
	int err;

	if (!l->n_ops)
		return 0;
	build_txn(l, &t);
	err = nl_txn_talk(l->nl, &t, NULL, NULL);
	nl_txn_release(&t);
	if (err < 0) {
		undo_adds(l);
		return err;
	}
	for (size_t i = 0; i < l->n_ops; i++) {
		if (l->ops[i].kind == OP_ADD)
			l->c.added++;
		else if (l->ops[i].kind == OP_RENEW)
			l->c.renewed++;
	}
	l->dirty = true;
	return 0;
}

static void count_addresses(struct dns_learner *l)
{
	uint64_t n = 0;

	for (size_t i = 0; i < l->n_tabs; i++)
		n += l->tabs[i].n;
	l->c.addresses = n;
}

/* The end of a read: learn, then release every packet of it. */
static void finish_read(struct dns_learner *l)
{
	int err = 0;

	if (l->no_hold && l->have_id) {
		nfq_accept_upto(l->q, l->max_id);
		l->have_id = false;
		if (l->n_ops)
			daemon_timer_arm(l->d, l->no_hold_timer, NO_HOLD_DELAY_MS, 0);
		return;		/* the timer commits */
	}
	err = commit_ops(l);
	/* release first, report after: the answers wait for nothing else */
	if (l->have_id)
		nfq_accept_upto(l->q, l->max_id);
	if (l->held_now)
		l->hold_us[l->n_hold++ % HOLD_SAMPLES] =
			(float)((daemon_now_ms() - l->read_ms) * 1000.0);
	if (err < 0 || daemon_now_ms() - l->read_ms > DNS_HOLD_BOUND_MS) {
		l->c.timed_out += l->held_now;
		if (err < 0)
			daemon_event(l->d, "learn-failed",
				     "the kernel did not take %zu set elements: %s; their answers were released",
				     l->n_ops, strerror(-err));
	} else {
		l->c.learned += l->held_now;
		emit_events(l);
	}
	l->have_id = false;
	l->held_now = 0;
	l->n_ops = 0;
	events_clear(l);
	count_addresses(l);
}

static int on_no_hold_timer(void *ctx, struct daemon *d)
{
	struct dns_learner *l = ctx;

	(void)d;
	if (commit_ops(l) == 0) {
		l->c.learned += l->held_now;
		emit_events(l);
	}
	l->held_now = 0;
	l->n_ops = 0;
	events_clear(l);
	count_addresses(l);
	return 0;
}

/*
 * Each packet is a netlink message of its own: read what is waiting (up
 * to PACKETS_PER_BATCH), then learn all of it in one transaction and
 * release it with one verdict. Under load the answers share the cost;
 * when they come one by one, each is released as soon as it is learned.
 */
static int on_queue(void *ctx, struct daemon *d)
{
	struct dns_learner *l = ctx;

	(void)d;
	for (int round = 0; round < READS_PER_WAKEUP; round++) {
		int got = 0;

		if (l->no_hold && l->n_ops)
			break;		/* the timer has not committed yet */
		l->read_ms = daemon_now_ms();
		while (got < PACKETS_PER_BATCH) {
			uint64_t lost = l->q->lost;
			int n = nfq_read(l->q, on_packet, l);

			l->c.queue_full += l->q->lost - lost;
			if (n == -ENOBUFS)
				continue;	/* counted (the id gap shows how many) */
			if (n <= 0)
				break;
			got += n;
		}
		if (!got)
			break;
		finish_read(l);
	}
	return 0;
}

/* ---- start-up queries for the exact names ---- */

static int on_query_reply(void *ctx, struct daemon *d)
{
	struct dns_learner *l = ctx;
	char buf[512];

	(void)d;
	/* the answers were learned on their way in; nothing to read here */
	while (recv(l->qfd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	return 0;
}

static void close_queries(struct dns_learner *l)
{
	if (l->qfd >= 0) {
		daemon_remove_source(l->d, l->qfd);
		close(l->qfd);
		l->qfd = -1;
	}
}

/*
 * Ask the first trusted resolver (not a local stub range) for the A and
 * AAAA records of every exact name, without waiting: the answers come
 * back through the queue and are learned like any other. One datagram
 * per question, never blocking (the socket is non-blocking and a full
 * buffer just skips the rest).
 */
static void send_queries(struct dns_learner *l)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	const struct cidr *r = NULL;

	close_queries(l);
	for (size_t i = 0; i < l->n_resolvers && !r; i++)
		if (l->resolvers[i].plen == (l->resolvers[i].family == 4 ? 32 : 128))
			r = &l->resolvers[i];
	if (!r)
		return;
	if (r->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(53);
		memcpy(&in->sin_addr, r->addr, 4);
		sl = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(53);
		memcpy(&in6->sin6_addr, r->addr, 16);
		sl = sizeof(*in6);
	}
	l->qfd = socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->qfd < 0)
		return;
	if (connect(l->qfd, (struct sockaddr *)&ss, sl) < 0 ||
	    daemon_add_source(l->d, l->qfd, on_query_reply, l) < 0) {
		close(l->qfd);
		l->qfd = -1;
		return;
	}
	for (size_t i = 0; i < l->targets.n; i++) {
		const struct host_target *t = &l->targets.v[i];

		if (t->wildcard)
			continue;
		for (int k = 0; k < 2; k++) {
			uint8_t q[NS_PACKETSZ];
			int n;

			if (!(k ? t->set6 : t->set4))
				continue;
			n = res_mkquery(ns_o_query, t->pattern, ns_c_in,
					k ? ns_t_aaaa : ns_t_a, NULL, 0, NULL, q,
					sizeof(q));
			if (n > 0 && send(l->qfd, q, (size_t)n, MSG_DONTWAIT) < 0 &&
			    errno == EAGAIN)
				return;
		}
	}
}

/* ---- saved addresses ---- */

static void restore_one(void *ctx, const struct learned_addr *a)
{
	struct dns_learner *l = ctx;
	int64_t left = a->expires - now_s();

	if (left <= 0)
		return;		/* expired while we were away */
	for (size_t i = 0; i < l->targets.n; i++) {
		const struct host_target *t = &l->targets.v[i];
		size_t tab = a->family == 4 ? l->tab4[i] : l->tab6[i];

		if (tab == SIZE_MAX || !host_target_matches(t, a->name) ||
		    is_static(t, a->family, a->addr))
			continue;
		plan_addr(l, tab, a->addr, a->name, (uint64_t)left);
	}
}

static void restore(struct dns_learner *l)
{
	size_t bad = 0;
	long n = learn_state_read(l->state_path, restore_one, l, &bad);
	int err;

	if (n == -ENOENT)
		return;
	if (n < 0) {
		daemon_event(l->d, "state-unreadable", "%s: %s; nothing restored",
			     l->state_path, strerror((int)-n));
		return;
	}
	err = commit_ops(l);
	daemon_event(l->d, "restored",
		     "%ld saved addresses read from %s (%zu lines skipped), %zu elements %s",
		     n, l->state_path, bad, l->n_ops,
		     err < 0 ? "refused by the kernel" : "in the sets");
	l->n_ops = 0;
	events_clear(l);
	count_addresses(l);
}

static int save(struct dns_learner *l)
{
	FILE *f = learn_state_open_tmp(l->state_path);
	int err = 0;

	if (!f)
		return -errno;
	err = learn_state_write_header(f);
	for (size_t i = 0; i < l->n_tabs && !err; i++) {
		struct learn_table *t = &l->tabs[i];

		for (uint32_t k = learn_table_first(t); k != LT_NONE && !err;
		     k = learn_table_next(t, k)) {
			struct learned_addr a = { .name = t->v[k].name,
						  .family = t->family,
						  .expires = t->v[k].expires };

			memcpy(a.addr, t->v[k].addr, 16);
			err = learn_state_write_line(f, &a);
		}
	}
	if (err) {
		fclose(f);
		return err;
	}
	err = learn_state_commit(f, l->state_path);
	if (!err)
		l->dirty = false;
	return err;
}

/* ---- counters for `status` ---- */

int dns_counters_path(char *buf, size_t len)
{
	char dir[PATH_MAX];
	int err = safe_state_dir(dir, sizeof(dir));
	int n;

	if (err < 0)
		return err;
	n = snprintf(buf, len, "%s/dns", dir);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

/* The hold-time figures of the counters, from the ring of samples. */
static void hold_percentiles(struct dns_learner *l)
{
	static float v[HOLD_SAMPLES];
	size_t n = l->n_hold < HOLD_SAMPLES ? l->n_hold : HOLD_SAMPLES;

	if (!n)
		return;
	memcpy(v, l->hold_us, n * sizeof(*v));
	qsort(v, n, sizeof(*v), cmp_float);
	l->c.hold_p50_us = (uint64_t)v[n / 2];
	l->c.hold_p99_us = (uint64_t)v[n * 99 / 100];
	l->c.hold_max_us = (uint64_t)v[n - 1];
}

static void write_counters(struct dns_learner *l)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	const struct dns_learn_counters *c = &l->c;
	FILE *f;

	hold_percentiles(l);
	if (memcmp(&l->c, &l->c_written, sizeof(l->c)) == 0)
		return;
	if (dns_counters_path(path, sizeof(path)) < 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f)
		return;
	fprintf(f, "held %llu\nreleased-learned %llu\nreleased-unlearned %llu\n"
		"unparsable %llu\ntimed-out %llu\nqueue-full %llu\ntcp-partial %llu\n"
		"addresses %llu\nadded %llu\nrenewed %llu\nevicted %llu\n"
		"hold-p50-us %llu\nhold-p99-us %llu\nhold-max-us %llu\npid %ld\n",
		(unsigned long long)c->held, (unsigned long long)c->learned,
		(unsigned long long)c->unlearned, (unsigned long long)c->unparsable,
		(unsigned long long)c->timed_out, (unsigned long long)c->queue_full,
		(unsigned long long)c->tcp_partial, (unsigned long long)c->addresses,
		(unsigned long long)c->added, (unsigned long long)c->renewed,
		(unsigned long long)c->evicted, (unsigned long long)c->hold_p50_us,
		(unsigned long long)c->hold_p99_us, (unsigned long long)c->hold_max_us,
		(long)getpid());
	if (fclose(f) == 0 && rename(tmp, path) == 0)
		l->c_written = l->c;
	else
		unlink(tmp);
}

/* Every live entry of table @i again, with the time it has left. */
static void readd_table(struct dns_learner *l, size_t i)
{
	struct learn_table *t = &l->tabs[i];
	int64_t now = now_s();

	for (uint32_t k = learn_table_first(t); k != LT_NONE; k = learn_table_next(t, k))
		if (t->v[k].expires > now)
			op_push(l, OP_READD, i, t->v[k].addr,
				(uint64_t)(t->v[k].expires - now) * 1000, t->v[k].name);
}

/*
 * A table whose kernel handle changed was made anew: someone deleted it
 * (`nft flush ruleset`) and the drift repair, or an apply that had to
 * recreate it, put it back. (Set handles count from 1 in every table, so
 * only the table's handle, unique in the namespace, tells.) The learned
 * elements are put back too, with the time they have left, so clients
 * with cached answers keep working. One GETTABLE dump a tick finds out.
 */
static int table_handle_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dns_learner *l = data;
	struct nftnl_table *nt = XALLOC(nftnl_table_alloc());

	if (nftnl_table_nlmsg_parse(nlh, nt) == 0 &&
	    nftnl_table_is_set(nt, NFTNL_TABLE_NAME) &&
	    nftnl_table_is_set(nt, NFTNL_TABLE_HANDLE) &&
	    strcmp(nftnl_table_get_str(nt, NFTNL_TABLE_NAME), l->table) == 0)
		l->seen_handle = nftnl_table_get_u64(nt, NFTNL_TABLE_HANDLE);
	nftnl_table_free(nt);
	return 0;
}

static void watch_table(struct dns_learner *l)
{
	int err;

	l->seen_handle = 0;
	if (nl_dump(l->nl, NFT_MSG_GETTABLE, NFPROTO_INET, NULL, NULL,
		    table_handle_cb, l) < 0 || !l->seen_handle)
		return;		/* gone for now: a later tick sees it back */
	if (l->table_handle && l->table_handle != l->seen_handle)
		for (size_t i = 0; i < l->n_tabs; i++)
			readd_table(l, i);
	l->table_handle = l->seen_handle;
	if (!l->n_ops)
		return;
	err = commit_ops(l);
	daemon_event(l->d, "relearned",
		     "%zu learned addresses put back into table %s made anew%s",
		     l->n_ops, l->table, err < 0 ? " (refused by the kernel)" : "");
	l->n_ops = 0;
	count_addresses(l);
}

static int on_tick(void *ctx, struct daemon *d)
{
	struct dns_learner *l = ctx;
	int64_t now = now_s();

	(void)d;
	if (!l->n_ops)		/* (test mode: ops may wait for their timer) */
		watch_table(l);
	/* the kernel drops expired elements itself; forget them too */
	for (size_t i = 0; i < l->n_tabs; i++)
		learn_table_expire(&l->tabs[i], now);
	count_addresses(l);
	write_counters(l);
	if (l->dirty && daemon_now_ms() - l->last_save_ms >= SAVE_EVERY_MS) {
		save(l);
		l->last_save_ms = daemon_now_ms();
	}
	return 0;
}

/* ---- life cycle ---- */

/* Targets, tables and resolvers of the daemon's current policy; the old
 * tables' entries move to the sets that keep their names. */
static int load_policy(struct dns_learner *l)
{
	const struct policy *p = daemon_policy(l->d);
	struct learn_table *old = l->tabs;
	size_t n_old = l->n_tabs;
	int err;

	free(l->tab4);
	free(l->tab6);
	l->tab4 = l->tab6 = NULL;
	l->tabs = NULL;
	l->n_tabs = 0;
	host_targets_release(&l->targets);
	free(l->resolvers);
	l->resolvers = NULL;
	err = host_targets_from_policy(p, &l->targets);
	if (err < 0)
		return err;
	tables_for_targets(l, old, n_old);
	for (size_t i = 0; i < n_old; i++)
		learn_table_release(&old[i]);
	free(old);
	dns_trusted_resolvers(&l->targets.dns, NULL, &l->resolvers, &l->n_resolvers);
	free(l->table);
	l->table = xstrdup(daemon_model(l->d)->table);
	count_addresses(l);
	return 0;
}

/* A smaller max_addresses after a reload: the oldest go now. */
static void trim_to_max(struct dns_learner *l)
{
	for (size_t i = 0; i < l->n_tabs; i++) {
		struct learn_table *t = &l->tabs[i];

		while (t->n > t->max) {
			op_push(l, OP_EVICT, i, t->v[t->head].addr, 0, t->v[t->head].name);
			learn_table_del(t, t->v[t->head].addr);
			l->c.evicted++;
		}
	}
	if (commit_ops(l) < 0)
		daemon_event(l->d, "learn-failed",
			     "the kernel did not take the removal of %zu addresses beyond max_addresses",
			     l->n_ops);
	l->n_ops = 0;
	count_addresses(l);
}

static int open_queue(struct dns_learner *l)
{
	int err;

	if (l->q && l->queue_num == l->targets.dns.queue_num)
		return 0;
	if (l->q) {
		daemon_remove_source(l->d, nfq_fd(l->q));
		nfq_close(l->q);
		l->q = NULL;
	}
	l->queue_num = l->targets.dns.queue_num;
	err = nfq_open(l->queue_num, QUEUE_MAXLEN, &l->q);
	if (err < 0)
		return err;
	return daemon_add_source(l->d, nfq_fd(l->q), on_queue, l);
}

static int activate(struct dns_learner *l);

static int on_reload(void *ctx, struct daemon *d)
{
	struct dns_learner *l = ctx;
	int err;

	(void)d;
	if (l->n_ops)
		on_no_hold_timer(l, d);	/* (test mode) before the tables move */
	if (!l->active) {
		const struct policy *p = daemon_policy(l->d);

		if (!p || !p->has_hosts)
			return 0;
		err = activate(l);	/* the new policy is the first with names */
		if (err < 0)
			daemon_event(l->d, "learn-failed", "hostname learning did not start: %s",
				     strerror(-err));
		return 0;
	}
	err = load_policy(l);
	if (!err)
		err = open_queue(l);
	if (err < 0) {
		daemon_event(l->d, "learn-failed", "hostname learning stopped: %s",
			     strerror(-err));
		return 0;
	}
	trim_to_max(l);
	send_queries(l);
	return 0;
}

static int on_exit_cb(void *ctx, struct daemon *d)
{
	struct dns_learner *l = ctx;
	int err;

	(void)d;
	if (!l->active)
		return 0;
	/* the kernel drops what is still queued when the queue goes away:
	 * release everything waiting first, then let go of the queue */
	if (l->q) {
		on_queue(l, d);
		daemon_remove_source(l->d, nfq_fd(l->q));
		nfq_close(l->q);
		l->q = NULL;
	}
	err = save(l);
	if (err < 0)
		daemon_event(l->d, "state-not-saved", "%s: %s", l->state_path,
			     strerror(-err));
	write_counters(l);
	return 0;
}

/* Start learning for the daemon's current policy (it names hostnames). */
static int activate(struct dns_learner *l)
{
	struct daemon *d = l->d;
	int err;

	l->active = true;
	l->in_place = kernel_renews_in_place();
	l->no_hold = getenv(NO_HOLD_ENV) && strcmp(getenv(NO_HOLD_ENV), "1") == 0;
	err = load_policy(l);
	if (err < 0)
		return err;
	err = learn_state_path(l->state_path, sizeof(l->state_path), l->table);
	if (err < 0)
		return err;
	err = nl_sock_open(&l->nl);
	if (err < 0)
		return err;
	restore(l);
	err = open_queue(l);
	if (err < 0)
		return err;
	l->no_hold_timer = daemon_add_timer(d, 0, 0, on_no_hold_timer, l);
	l->tick_timer = daemon_add_timer(d, TICK_MS, TICK_MS, on_tick, l);
	if (l->no_hold_timer < 0 || l->tick_timer < 0)
		return l->tick_timer < 0 ? l->tick_timer : l->no_hold_timer;
	l->last_save_ms = daemon_now_ms();
	daemon_on_exit(d, on_exit_cb, l);
	send_queries(l);
	memset(&l->c_written, 0xff, sizeof(l->c_written));	/* write once now */
	write_counters(l);
	daemon_event(d, "learning",
		     "hostnames of %zu rule targets, queue %u, %s renewal, state %s%s",
		     l->targets.n, l->queue_num, l->in_place ? "in-place" : "delete+add",
		     l->state_path, l->no_hold ? " (TEST MODE: answers are not held)" : "");
	return 0;
}

int dns_learner_start(struct dns_learner **out, struct daemon *d)
{
	struct dns_learner *l = xcalloc(1, sizeof(*l));
	const struct policy *p = daemon_policy(d);

	l->d = d;
	l->qfd = -1;
	*out = l;
	/* on every reload, also when learning starts only with a later policy */
	daemon_on_reload(d, on_reload, l);
	if (!p || !p->has_hosts)
		return 0;
	return activate(l);
}

void dns_learner_free(struct dns_learner *l)
{
	if (!l)
		return;
	if (l->qfd >= 0)
		close(l->qfd);
	nfq_close(l->q);
	nl_sock_close(l->nl);
	targets_release(l);
	events_clear(l);
	free(l->evs);
	free(l->ops);
	free(l->table);
	free(l);
}

const struct dns_learn_counters *dns_learner_counters(const struct dns_learner *l)
{
	return &l->c;
}
