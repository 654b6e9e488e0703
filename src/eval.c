// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A connection's verdict for audit and the lock-out guard: the
 * interpreter's answer (interp_run.c) cut down to one verdict and the rule
 * that decided it, the first packet's or, when that passes, the reply's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "eval.h"
#include "interp.h"

static enum mverdict to_mverdict(enum ix_verdict v)
{
	switch (v) {
	case IXV_ACCEPT:	return MV_ACCEPT;
	case IXV_DROP:		return MV_DROP;
	case IXV_REJECT:	return MV_REJECT_ICMPX;
	case IXV_UNDETERMINED:	break;
	}
	return MV_NONE;
}

int eval_packet(const struct ix_host *h, const struct packet *pkt,
		struct eval_result *res)
{
	struct ix_conn_result cr;
	const struct ix_packet_result *pr;
	const struct ix_step *st;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = ix_eval_conn(h, pkt, &cr);
	if (ret < 0)
		return ret;
	res->ports_read = cr.ports_read;
	res->reply = cr.first.verdict == IXV_ACCEPT && cr.has_reply &&
		     cr.reply.verdict != IXV_ACCEPT;
	pr = res->reply ? &cr.reply : &cr.first;
	res->verdict = to_mverdict(pr->verdict);
	res->undetermined = pr->verdict == IXV_UNDETERMINED;
	if (pr->why[0])
		snprintf(res->why, sizeof(res->why), "%s", pr->why);
	st = pr->decider >= 0 ? &pr->steps[pr->decider] : NULL;
	if (!st) {
		res->label = "default";
		return 0;
	}
	res->origin = st->origin;
	res->label = st->origin ? NULL : st->label ? st->label : st->rule;
	res->table = st->table;
	res->chain = st->rule_chain ? st->rule_chain : st->chain;
	res->handle = st->handle;
	return 0;
}

const char *mverdict_name(enum mverdict v)
{
	switch (v) {
	case MV_ACCEPT:
		return "accept";
	case MV_DROP:
		return "drop";
	case MV_REJECT_TCP:
	case MV_REJECT_ICMPX:
		return "reject";
	case MV_QUEUE:
		return "queue";
	case MV_NONE:
		break;
	}
	return "undetermined";
}
