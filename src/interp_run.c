// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A connection through the host's hooks.
 *
 * The first packet of a connection this host opens crosses output and
 * postrouting; one it receives crosses prerouting and input; one to the
 * host's own address crosses all four, on lo. On every hook the base
 * chains of the ip/ip6/inet tables registered there run in priority order
 * (the older chain first at equal priority, as the kernel registers them);
 * the packet goes on only while each accepts. Then the replies cross the
 * hooks of the other way with conntrack state established: a connection
 * whose first packet passes can still fail on its SYN-ACK.
 *
 * Conntrack runs at priority -200 on prerouting and output: a chain before
 * it sees ct state invalid (no entry yet). NAT-type chains see only the
 * first packet of a connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include "interp_priv.h"
#include "util.h"

#define CT_PRIORITY		(-200)
#define CT_BIT_ESTABLISHED	2u
#define CT_BIT_NEW		8u
#define JUMP_STACK		16

const char *ix_verdict_name(enum ix_verdict v)
{
	switch (v) {
	case IXV_ACCEPT:	return "accept";
	case IXV_DROP:		return "drop";
	case IXV_REJECT:	return "reject";
	case IXV_UNDETERMINED:	return "undetermined";
	}
	return "?";
}

const char *ix_hook_name(enum ix_hook h)
{
	switch (h) {
	case IXH_PREROUTING:	return "prerouting";
	case IXH_INPUT:		return "input";
	case IXH_FORWARD:	return "forward";
	case IXH_OUTPUT:	return "output";
	case IXH_POSTROUTING:	return "postrouting";
	}
	return "?";
}

const char *ix_family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_INET:	return "inet";
	case NFPROTO_IPV4:	return "ip";
	case NFPROTO_IPV6:	return "ip6";
	case NFPROTO_ARP:	return "arp";
	case NFPROTO_BRIDGE:	return "bridge";
	case NFPROTO_NETDEV:	return "netdev";
	}
	return "?";
}

/* ---- which packet ---- */

enum pkt_kind {
	PK_FIRST,		/* the opening packet, ct new */
	PK_REPLY,		/* the answer: SYN-ACK, datagram, echo reply */
	PK_ACK,			/* TCP: the opener's ACK */
};

/* The connection as the interpreter runs it: the first packet and where
 * it travels. */
struct conn {
	struct packet p;	/* family-normalised copy */
	bool local;		/* to an address of this host: on lo */
	const char *ifname;	/* the remote side's interface, or NULL */
	bool if_absent;		/* there is one, its name is not known */
	bool untracked;		/* the first packet met notrack */
	int dev_index, dev_type;	/* of the device, when known */
};

/* An echo request: ICMP type 8, ICMPv6 type 128 (each only in its own
 * protocol). */
static bool icmp_is_echo(uint8_t l4proto, uint8_t type)
{
	return (l4proto == IPPROTO_ICMP && type == 8) ||
	       (l4proto == IPPROTO_ICMPV6 && type == 128);
}

static void put(uint8_t *b, uint8_t *st, uint32_t off, const void *v,
		uint32_t len, enum ix_byte s)
{
	memcpy(b + off, v, len);
	memset(st + off, s, len);
}

static void mark(uint8_t *st, uint32_t off, uint32_t len, enum ix_byte s)
{
	memset(st + off, s, len);
}

static void build_headers(struct ix_pkt *x, const struct conn *c,
			  enum pkt_kind k)
{
	const struct packet *o = &c->p;
	bool swap = k == PK_REPLY;
	const struct cidr *src = swap ? &o->dst : &o->src;
	const struct cidr *dst = swap ? &o->src : &o->dst;
	bool has_src = swap ? true : o->has_src;
	bool has_dst = swap ? o->has_src : true;
	uint16_t sport = htons(swap ? o->dport : o->sport);
	uint16_t dport = htons(swap ? o->sport : o->dport);
	bool has_sport = swap ? o->has_dport : o->has_sport;
	bool has_dport = swap ? o->has_sport : o->has_dport;
	uint32_t alen = x->family == 6 ? 16 : 4;

	memset(x->nh, 0, sizeof(x->nh));
	memset(x->th, 0, sizeof(x->th));
	if (x->family == 4) {
		x->nh_len = 20;
		mark(x->nh_st, 0, 20, IXB_UNDET);
		x->nh[0] = 0x45;
		x->nh_st[0] = IXB_KNOWN;
		put(x->nh, x->nh_st, 9, &x->l4proto, 1, IXB_KNOWN);
		put(x->nh, x->nh_st, 12, src->addr, alen, has_src ? IXB_KNOWN : IXB_ABSENT);
		put(x->nh, x->nh_st, 16, dst->addr, alen, has_dst ? IXB_KNOWN : IXB_ABSENT);
	} else {
		x->nh_len = 40;
		mark(x->nh_st, 0, 40, IXB_UNDET);
		put(x->nh, x->nh_st, 6, &x->l4proto, 1, IXB_KNOWN);
		put(x->nh, x->nh_st, 8, src->addr, alen, has_src ? IXB_KNOWN : IXB_ABSENT);
		put(x->nh, x->nh_st, 24, dst->addr, alen, has_dst ? IXB_KNOWN : IXB_ABSENT);
	}
	mark(x->th_st, 0, sizeof(x->th_st), IXB_UNDET);
	switch (x->l4proto) {
	case IPPROTO_TCP:
		x->th_len = 20;
		put(x->th, x->th_st, 0, &sport, 2, has_sport ? IXB_KNOWN : IXB_ABSENT);
		put(x->th, x->th_st, 2, &dport, 2, has_dport ? IXB_KNOWN : IXB_ABSENT);
		x->th[13] = k == PK_FIRST ? 0x02 : k == PK_REPLY ? 0x12 : 0x10;
		x->th_st[13] = IXB_KNOWN;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		x->th_len = 8;
		put(x->th, x->th_st, 0, &sport, 2, has_sport ? IXB_KNOWN : IXB_ABSENT);
		put(x->th, x->th_st, 2, &dport, 2, has_dport ? IXB_KNOWN : IXB_ABSENT);
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		uint8_t type = o->icmp_type;
		bool echo = icmp_is_echo(o->l4proto, type);

		x->th_len = 8;
		if (k == PK_REPLY)
			type = o->l4proto == IPPROTO_ICMP ? 0 : 129;
		/* every caller names the type (explain defaults to an echo
		 * request); the code is known only for an echo */
		put(x->th, x->th_st, 0, &type, 1, IXB_KNOWN);
		put(x->th, x->th_st, 1, "\0", 1, echo ? IXB_KNOWN : IXB_UNDET);
		break;
	}
	default:
		x->th_len = 0;
		break;
	}
}

/* Has conntrack run when a chain of priority @prio on @hook sees it? (on
 * lo, the entry made at output travels with the packet to prerouting) */
static bool has_ct(const struct conn *c, enum ix_hook hook, int32_t prio)
{
	return !(prio < CT_PRIORITY && (hook == IXH_PREROUTING || hook == IXH_OUTPUT) &&
		 !(c->local && hook == IXH_PREROUTING));
}

/* the packet as hook @hook sees it */
static void build_pkt(struct ix_pkt *x, const struct ix_host *h,
		      const struct conn *c, enum pkt_kind k, enum ix_hook hook,
		      int32_t prio)
{
	const struct packet *o = &c->p;
	bool out_hook = hook == IXH_OUTPUT || hook == IXH_POSTROUTING;
	/* does this packet leave from a local socket of the connection's
	 * local side? the opener's packets when we opened it, the replies
	 * when it was opened towards us */
	bool ours = (o->dir == DIR_OUT) == (k != PK_REPLY);
	const char *dev = c->local ? "lo" : c->ifname;
	bool dev_absent = !c->local && !c->ifname;

	memset(x, 0, sizeof(*x));
	x->family = o->dst.family;
	x->l4proto = o->l4proto;
	x->hook = hook;
	x->orig = o;
	x->host = h;
	x->local_dst = c->local || (k == PK_REPLY ? o->dir == DIR_OUT : o->dir == DIR_IN);
	build_headers(x, c, k);
	x->view = *o;
	x->opener_port = x->th_len >= 4 && x->l4proto != IPPROTO_ICMP &&
			 x->l4proto != IPPROTO_ICMPV6 ? (k == PK_REPLY ? 2 : 0) : -1;
	if (k == PK_REPLY) {
		x->view.src = o->dst;
		x->view.dst = o->src;
		x->view.has_src = o->has_src;
		x->view.sport = o->dport;
		x->view.dport = o->sport;
		x->view.has_sport = o->has_dport;
		x->view.has_dport = o->has_sport;
		x->view.dir = o->dir == DIR_IN ? DIR_OUT : DIR_IN;
	}
	if (out_hook) {
		x->oif = dev;
		x->oif_absent = dev_absent;
	} else {
		x->iif = dev;
		x->iif_absent = dev_absent;
	}
	if (out_hook) {
		x->oif_index = c->dev_index;
		x->oif_type = c->dev_type;
	} else {
		x->iif_index = c->dev_index;
		x->iif_type = c->dev_type;
	}
	/* the socket: on the way out, the sending socket (a reply to a
	 * connection opened towards us leaves from the listener); on the
	 * way in, none before input, and at input only what early demux
	 * attaches to packets of connections it knows */
	if (out_hook && (ours || !c->local)) {
		x->has_sk = ours;
	} else if (out_hook) {
		x->has_sk = true;	/* the other local end's socket */
	} else if (hook == IXH_INPUT && k != PK_FIRST) {
		x->sk_undet = true;
	}
	if (x->has_sk && ours) {
		x->uid = o->uid;
		x->gid = o->gid;
		x->has_uid = o->has_uid;
		x->has_gid = o->has_gid;
		x->cgroup = o->cgroup;
	}
	/* conntrack */
	x->untracked = c->untracked && k == PK_FIRST;
	x->has_ct = has_ct(c, hook, prio);
	if (k == PK_FIRST || c->untracked) {
		x->ct_state = CT_BIT_NEW;
		x->ct_dir = 0;
	} else {
		x->ct_state = CT_BIT_ESTABLISHED;
		x->ct_dir = k == PK_REPLY ? 1 : 0;
	}
}

/* ---- one base chain ---- */

static bool is_model_table(const struct ix_table *t)
{
	return t->model != NULL;
}

static unsigned int proto_bit(uint8_t l4proto)
{
	switch (l4proto) {
	case IPPROTO_TCP:	return PROTO_TCP;
	case IPPROTO_UDP:	return PROTO_UDP;
	case IPPROTO_ICMP:	return PROTO_ICMP;
	case IPPROTO_ICMPV6:	return PROTO_ICMPV6;
	}
	return 0;
}

/*
 * Does the folded ("simple", see compile.c) policy rule @r match @p? Only
 * for naming: a folded set keeps one element where rules of its run
 * overlap, and the policy's first matching rule is the one to name.
 */
static bool simple_rule_match(const struct rule *r, const struct packet *p)
{
	const struct addr_set *remote = r->dir == DIR_OUT ? &r->to : &r->from;
	const struct cidr *addr = r->dir == DIR_OUT ? &p->dst : &p->src;
	size_t i;

	if (!(r->families & (p->dst.family == 6 ? FAM_V6 : FAM_V4)))
		return false;
	if (!(r->protos & proto_bit(p->l4proto)))
		return false;
	if (!remote->any) {
		if (r->dir == DIR_OUT ? !p->dst.family : !p->has_src)
			return false;
		for (i = 0; i < remote->n; i++)
			if (cidr_contains(&remote->v[i], addr))
				break;
		if (i == remote->n)
			return false;
	}
	if (!r->dport.any) {
		if (!p->has_dport)
			return false;
		for (i = 0; i < r->dport.n; i++)
			if (r->dport.v[i].lo <= p->dport &&
			    p->dport <= r->dport.v[i].hi)
				break;
		if (i == r->dport.n)
			return false;
	}
	return true;
}

static const struct rule *run_origin(const struct mrule *mr,
				     const struct packet *p)
{
	size_t i;

	for (i = 0; i < mr->origin_run; i++)
		if (simple_rule_match(&mr->origin[i], p))
			return &mr->origin[i];
	return NULL;
}

static void step_rule(struct ix_step *st, const struct ix_table *t,
		      const struct ix_chain *c, const struct ix_rule *r,
		      const struct rule *elem_origin, const struct packet *view)
{
	st->rule_chain = c->name;
	if (!r) {
		st->rule = NULL;
		if (is_model_table(t))
			st->label = "default";
		return;
	}
	st->handle = r->handle;
	if (r->mrule) {
		const struct mrule *mr = r->mrule;

		if (mr->origin_name) {
			st->label = mr->origin_name;
			st->rule = mr->origin_name;
		} else {
			const struct rule *run = mr->origin_run && mr->origin &&
						 view ? run_origin(mr, view) : NULL;

			st->origin = run ? run : elem_origin ? elem_origin : mr->origin;
			st->rule = st->origin ? st->origin->name : mr->comment;
			st->at = st->origin ? &st->origin->loc : NULL;
			if (!st->origin)
				st->label = "rule";
		}
		return;
	}
	st->rule = r->comment;
}

/*
 * A packet the kernel never sees: TCP or UDP without a destination port
 * (`explain out tcp 192.0.2.9`). A folded rule splits a port-less policy
 * rule's element around the ports of the rules before it, so no lookup
 * can match it; the policy's own rules of the run answer instead, as
 * their unfolded rules would.
 */
static bool folded_portless(const struct ix_rule *r, const struct ix_pkt *x)
{
	return r->mrule && r->mrule->origin_run && r->mrule->origin &&
	       !x->view.has_dport && (x->l4proto == IPPROTO_TCP ||
				      x->l4proto == IPPROTO_UDP) &&
	       run_origin(r->mrule, &x->view);
}

/* The verdict a rule ends with (its last verdict expression). */
static int32_t rule_verdict(const struct ix_rule *r, struct ix_vdict *vd)
{
	size_t i = r->n_ex;

	while (i--) {
		if (r->ex[i].op == IXO_REJECT) {
			vd->chain = -2;
			return vd->code = NF_DROP;
		}
		if (r->ex[i].op == IXO_IMMEDIATE && r->ex[i].to_verdict) {
			*vd = r->ex[i].vd;
			return vd->code;
		}
	}
	return NFT_CONTINUE;
}

/* Run base chain @bc of @t on @x; fill @st. Returns the verdict. */
static enum ix_verdict run_base(const struct ix_table *t, const struct ix_chain *bc,
				struct ix_pkt *x, struct ix_step *st, char *why,
				size_t why_len)
{
	struct { const struct ix_chain *c; size_t i; } stack[JUMP_STACK];
	size_t depth = 0, i = 0;
	const struct ix_chain *c = bc;
	struct ix_regs rg;
	struct ix_rule_out out;

	memset(&rg, 0, sizeof(rg));
	memset(rg.st, IXB_UNDET, sizeof(rg.st));
	for (;;) {
		const struct ix_rule *r;
		int32_t code;

		if (i >= c->n_rules) {
			if (depth) {
				depth--;
				c = stack[depth].c;
				i = stack[depth].i;
				continue;
			}
			break;
		}
		r = &c->rules[i];
		ix_rule_run(t, r, x, &rg, &out);
		if (out.undet) {
			snprintf(why, why_len, "%s %s chain %s rule handle %llu: %s",
				 ix_family_name(t->family), t->name, c->name,
				 (unsigned long long)r->handle, out.why);
			step_rule(st, t, c, r, NULL, NULL);
			return IXV_UNDETERMINED;
		}
		code = rg.vd.code;
		if (code == NFT_BREAK && folded_portless(r, x)) {
			/* see folded_portless() */
			code = rule_verdict(r, &rg.vd);
			out.origin = run_origin(r->mrule, &x->view);
		}
		switch (code) {
		case NFT_BREAK:
		case NFT_CONTINUE:
			i++;
			continue;
		case NFT_JUMP:
		case NFT_GOTO:
			if (rg.vd.chain < 0 || (size_t)rg.vd.chain >= t->n_chains ||
			    depth >= JUMP_STACK) {
				snprintf(why, why_len, "%s %s chain %s rule handle %llu: a jump the interpreter cannot follow",
					 ix_family_name(t->family), t->name, c->name,
					 (unsigned long long)r->handle);
				step_rule(st, t, c, r, NULL, NULL);
				return IXV_UNDETERMINED;
			}
			if (code == NFT_JUMP) {
				stack[depth].c = c;
				stack[depth].i = i + 1;
				depth++;
			}
			c = &t->chains[rg.vd.chain];
			i = 0;
			continue;
		case NFT_RETURN:
			if (!depth) {
				i = c->n_rules;
				continue;
			}
			depth--;
			c = stack[depth].c;
			i = stack[depth].i;
			continue;
		default:
			break;
		}
		step_rule(st, t, c, r, out.origin, &x->view);
		switch (code & NF_VERDICT_MASK) {
		case NF_ACCEPT:
			return IXV_ACCEPT;
		case NF_DROP:
			return rg.vd.chain == -2 ? IXV_REJECT : IXV_DROP;
		default:
			snprintf(why, why_len, "%s %s chain %s rule handle %llu: verdict %s (the packet goes to user space)",
				 ix_family_name(t->family), t->name, c->name,
				 (unsigned long long)r->handle,
				 (code & NF_VERDICT_MASK) == NF_QUEUE ? "queue" : "stolen");
			return IXV_UNDETERMINED;
		}
	}
	step_rule(st, t, bc, NULL, NULL, NULL);
	return bc->policy == NF_DROP ? IXV_DROP : IXV_ACCEPT;
}

/* ---- the hooks ---- */

static int hooked_cmp(const void *pa, const void *pb)
{
	const struct ix_hooked *a = pa, *b = pb;

	if (a->c->prio != b->c->prio)
		return a->c->prio < b->c->prio ? -1 : 1;
	if (a->t->handle != b->t->handle)
		return a->t->handle < b->t->handle ? -1 : 1;
	if (a->c->handle != b->c->handle)
		return a->c->handle < b->c->handle ? -1 : 1;
	return 0;
}

static bool table_sees(const struct ix_table *t, uint8_t family)
{
	if (t->flags & NFT_TABLE_F_DORMANT)
		return false;
	return t->family == NFPROTO_INET ||
	       (family == 4 && t->family == NFPROTO_IPV4) ||
	       (family == 6 && t->family == NFPROTO_IPV6);
}

static size_t chains_on(const struct ix_host *h, uint8_t family, enum ix_hook hook,
			bool first, struct ix_hooked *out, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < h->n_tables; i++) {
		const struct ix_table *t = &h->tables[i];

		if (!table_sees(t, family))
			continue;
		for (j = 0; j < t->n_chains && n < max; j++) {
			const struct ix_chain *c = &t->chains[j];

			if (!c->base || c->hooknum != (uint32_t)hook)
				continue;
			if (!first && !strcmp(c->type, "nat"))
				continue;
			out[n].t = t;
			out[n].c = c;
			n++;
		}
	}
	qsort(out, n, sizeof(*out), hooked_cmp);
	return n;
}

/* Ingress chains (netdev family, inet ingress) run before prerouting: the
 * interpreter does not run them, and says so when one could see the packet. */
static const struct ix_table *ingress_table(const struct ix_host *h,
					    const char *dev)
{
	size_t i, j;

	for (i = 0; i < h->n_tables; i++) {
		const struct ix_table *t = &h->tables[i];

		if (t->flags & NFT_TABLE_F_DORMANT)
			continue;
		if (t->family != NFPROTO_NETDEV && t->family != NFPROTO_INET)
			continue;
		for (j = 0; j < t->n_chains; j++) {
			const struct ix_chain *c = &t->chains[j];

			if (!c->base || c->hooknum != NF_NETDEV_INGRESS ||
			    (t->family == NFPROTO_INET && c->hooknum != NF_INET_INGRESS))
				continue;
			if (!dev || !c->dev || !strcmp(c->dev, dev))
				return t;
		}
	}
	return NULL;
}

static void run_hooks(const struct ix_host *h, struct conn *c, enum pkt_kind k,
		      struct ix_packet_result *res, unsigned int *ports_read)
{
	static const enum ix_hook out_path[] = { IXH_OUTPUT, IXH_POSTROUTING };
	static const enum ix_hook in_path[] = { IXH_PREROUTING, IXH_INPUT };
	static const enum ix_hook lo_path[] = { IXH_OUTPUT, IXH_POSTROUTING,
						IXH_PREROUTING, IXH_INPUT };
	bool leaving = (c->p.dir == DIR_OUT) == (k != PK_REPLY);
	const enum ix_hook *path = c->local ? lo_path : leaving ? out_path : in_path;
	size_t n_path = c->local ? 4 : 2, hi, i;
	int last_model = -1;
	uint32_t mark = 0, ct_mark = 0;
	bool untracked = false;

	/* not memset: the steps are written as they are taken */
	res->n_steps = 0;
	res->why[0] = '\0';
	res->verdict = IXV_ACCEPT;
	res->decider = -1;
	if (!c->local && !leaving) {
		const struct ix_table *t = ingress_table(h, c->ifname);

		if (t) {
			snprintf(res->why, sizeof(res->why),
				 "%s %s: an ingress chain (not interpreted) sees the packet first",
				 ix_family_name(t->family), t->name);
			res->verdict = IXV_UNDETERMINED;
			return;
		}
	}
	for (hi = 0; hi < n_path; hi++) {
		size_t n = h->n_hooks[path[hi]][c->p.dst.family == 6][k == PK_FIRST];
		const struct ix_hooked *hk = h->hooks[path[hi]][c->p.dst.family == 6][k == PK_FIRST];
		struct ix_pkt base;

		if (n) {
			build_pkt(&base, h, c, k, path[hi], 0);
			base.ports_read = ports_read;
		}

		for (i = 0; i < n; i++) {
			struct ix_step *st;
			struct ix_pkt x;
			enum ix_verdict v;

			if (res->n_steps >= IX_MAX_STEPS) {
				snprintf(res->why, sizeof(res->why), "more than %d base chains",
					 IX_MAX_STEPS);
				res->verdict = IXV_UNDETERMINED;
				return;
			}
			x = base;
			x.has_ct = has_ct(c, path[hi], hk[i].c->prio);
			x.mark = mark;
			x.ct_mark = ct_mark;
			x.untracked = x.untracked || untracked;
			st = &res->steps[res->n_steps++];
			memset(st, 0, sizeof(*st));
			st->table = hk[i].t->label;
			st->chain = hk[i].c->name;
			st->hook = path[hi];
			st->priority = hk[i].c->prio;
			v = run_base(hk[i].t, hk[i].c, &x, st, res->why, sizeof(res->why));
			st->verdict = v;
			mark = x.mark;
			ct_mark = x.ct_mark;
			if (x.untracked && !untracked) {
				untracked = true;
				if (k == PK_FIRST)
					c->untracked = true;
			}
			if (is_model_table(hk[i].t))
				last_model = (int)(res->n_steps - 1);
			if (v != IXV_ACCEPT) {
				res->verdict = v;
				res->decider = (int)(res->n_steps - 1);
				return;
			}
		}
		/* a packet to a local address moves from the mark's point of
		 * view through lo: the mark stays (skb->mark survives lo) */
	}
	res->decider = last_model >= 0 ? last_model : (int)res->n_steps - 1;
}

static void v4_mapped(struct cidr *a)
{
	static const uint8_t pfx[12] = { [10] = 0xff, [11] = 0xff };

	if (a->family == 6 && !memcmp(a->addr, pfx, 12)) {
		memmove(a->addr, a->addr + 12, 4);
		memset(a->addr + 4, 0, 12);
		a->family = 4;
		a->plen = a->plen >= 96 ? (uint8_t)(a->plen - 96) : 0;
	}
}

/* The hooks' chain lists, once per set of tables. */
static void hooks_build(struct ix_host *h)
{
	size_t i, max = 1;
	int hook, fam, first;

	ix_hooks_drop(h);
	for (i = 0; i < h->n_tables; i++)
		max += h->tables[i].n_chains;
	for (hook = 0; hook < 5; hook++)
		for (fam = 0; fam < 2; fam++)
			for (first = 0; first < 2; first++) {
				struct ix_hooked *v = xcalloc(max, sizeof(*v));

				h->n_hooks[hook][fam][first] =
					chains_on(h, fam ? 6 : 4, (enum ix_hook)hook,
						  first, v, max);
				h->hooks[hook][fam][first] = v;
			}
	h->hooks_ready = true;
}

void ix_hooks_drop(struct ix_host *h)
{
	int hook, fam, first;

	for (hook = 0; hook < 5; hook++)
		for (fam = 0; fam < 2; fam++)
			for (first = 0; first < 2; first++) {
				free(h->hooks[hook][fam][first]);
				h->hooks[hook][fam][first] = NULL;
				h->n_hooks[hook][fam][first] = 0;
			}
	h->hooks_ready = false;
}

int ix_eval_conn(const struct ix_host *h, const struct packet *pkt,
		 struct ix_conn_result *res)
{
	struct conn c;
	const char *given;

	if (!h->hooks_ready)
		hooks_build((struct ix_host *)h);	/* a cache, built once */

	res->has_reply = false;
	res->ports_read = 0;
	res->reply.n_steps = 0;
	res->reply.verdict = IXV_ACCEPT;
	res->reply.decider = -1;
	res->reply.why[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.p = *pkt;
	v4_mapped(&c.p.dst);
	if (c.p.has_src)
		v4_mapped(&c.p.src);
	if (!c.p.dst.family || (c.p.has_src && c.p.src.family != c.p.dst.family))
		return -EINVAL;
	if (c.p.dir == DIR_OUT)
		c.local = ix_host_is_local(h, &c.p.dst);
	else
		c.local = ix_host_iface_of(h, &c.p.dst) &&
			  !strcmp(ix_host_iface_of(h, &c.p.dst), "lo") ?
			  true : c.p.has_src && ix_host_is_local(h, &c.p.src);
	given = c.p.dir == DIR_OUT ? c.p.oif : c.p.iif;
	if (given && strcmp(given, "lo") && !c.local) {
		c.ifname = given;
	} else if (given && !strcmp(given, "lo")) {
		c.local = true;
	} else if (!c.local) {
		/* the interface that holds our end's address */
		const struct cidr *ours = c.p.dir == DIR_OUT ?
			(c.p.has_src ? &c.p.src : NULL) : &c.p.dst;

		c.ifname = ours ? ix_host_iface_of(h, ours) : NULL;
	}
	c.if_absent = !c.local && !c.ifname;
	if (c.local) {
		c.dev_type = ARPHRD_LOOPBACK;
		c.dev_index = 1;	/* lo, in every namespace */
	}
	if (c.ifname) {
		size_t i;

		for (i = 0; i < h->n_ifaces; i++)
			if (!strcmp(h->ifaces[i].name, c.ifname)) {
				c.dev_index = h->ifaces[i].index;
				c.dev_type = h->ifaces[i].type;
			}
	}
	run_hooks(h, &c, PK_FIRST, &res->first, &res->ports_read);
	res->verdict = res->first.verdict;
	switch (c.p.l4proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		res->has_reply = true;
		break;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		res->has_reply = icmp_is_echo(c.p.l4proto, c.p.icmp_type);
		break;
	default:
		break;
	}
	if (!res->has_reply || res->first.verdict != IXV_ACCEPT)
		return 0;
	run_hooks(h, &c, PK_REPLY, &res->reply, &res->ports_read);
	if (res->reply.verdict == IXV_ACCEPT && c.p.l4proto == IPPROTO_TCP) {
		/* the opener's ACK: reported only when it is what fails */
		struct ix_packet_result *ack = xmalloc(sizeof(*ack));

		run_hooks(h, &c, PK_ACK, ack, &res->ports_read);
		if (ack->verdict != IXV_ACCEPT)
			res->reply = *ack;
		free(ack);
	}
	res->verdict = res->reply.verdict;
	return 0;
}
