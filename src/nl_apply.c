// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Applying a model (SPEC §7): plan the change from the live table
 * (model_delta.c), build the transaction (nl_batch.c), send it and read
 * every ack (nl_sock.c), and when the replies were lost, ask the table
 * itself whether the transaction committed (nl_read.c). Also removing a
 * table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/netfilter/nf_tables.h>

#include "model_delta.h"
#include "nl.h"
#include "nl_priv.h"
#include "nl_sock.h"

/* Replies were lost: the table itself says whether the batch committed. */
static int outcome_from_table(struct nl_sock *s, const struct model *m,
			      struct diag *d)
{
	struct model *live = NULL;
	struct model_delta dl;
	int ret = nl_read_table(s, m->table, &live);
	bool done = false;

	if (!ret) {
		model_delta(live, m, &dl);
		done = !dl.n_changes;
		model_delta_release(&dl);
	}
	model_free(live);
	if (done)
		return 0;
	diag_error(d, NULL, "the kernel did not take the transaction for table \"%s\" (its replies were lost)",
		   m->table);
	return -EPROTO;
}

/* Move @from's entries to the end of @to. */
static void diag_move(struct diag *to, struct diag *from)
{
	size_t i;

	for (i = 0; i < from->n; i++)
		diag_add(to, from->v[i].severity,
			 from->v[i].file ? &from->v[i].loc : NULL, "%s",
			 from->v[i].msg);
	diag_release(from);
}

struct refusal {
	struct nl_err_ctx ec;
	bool live_shape;	/* a message about what the live table holds */
};

/* Report a refused message; note whether it concerned an object of the
 * live table (a delete) or a set's elements, which a table portwarden did
 * not make may hold in another shape than it would send. */
static void on_refusal(void *ctx, const struct nl_tag *tag, int err,
		       const char *why)
{
	struct refusal *r = ctx;

	if (tag && (tag->side == 0 || (tag->what == NL_TAG_SET && tag->elem)))
		r->live_shape = true;
	nl_report_error(&r->ec, tag, err, why);
}

/* One transaction of the plan @dl. @live_shape: set when the kernel
 * refused a message about the live table's objects. */
static int send_plan(struct nl_sock *s, const struct model *live,
		     const struct model *m, const struct model_delta *dl,
		     const char *drop, struct diag *d, bool *live_shape)
{
	struct refusal rf = { .ec = { .old = live, .m = m, .d = d } };
	struct nl_txn t;
	uint32_t gen, after;
	int ret;

	s->applied_gen = 0;
	s->last_msgs = s->last_bytes = 0;
	nl_txn_begin(&t, s);
	ret = dl->n_changes ? nl_build_delta(&t, live, m, dl, d) : 0;
	if (ret < 0)
		goto out;
	if (drop)
		nl_put_table(&t, drop, NFT_MSG_DELTABLE);
	nl_txn_end(&t, s);
	s->last_msgs = t.n_tags;
	s->last_bytes = t.len;
	if (nl_get_generation(s, &gen) < 0)
		gen = 0;
	ret = nl_txn_talk(s, &t, on_refusal, &rf);
	if (live_shape)
		*live_shape = rf.live_shape;
	if (ret == -ENOBUFS)
		ret = outcome_from_table(s, m, d);
	else if (ret < 0 && !d->errors)
		diag_error(d, NULL, "cannot send the batch for table \"%s\": %s",
			   m->table, strerror(-ret));
	/* every commit moves the generation by one: when it moved by exactly
	 * one, ours was the only one and the table is the model as of then */
	if (!ret && gen && nl_get_generation(s, &after) == 0 && after == gen + 1)
		s->applied_gen = after;
out:
	nl_txn_release(&t);
	return ret;
}

/* The probe's refusals: only the rule's ENOENT says something. */
static void probe_error(void *ctx, const struct nl_tag *tag, int err,
			const char *why)
{
	if (tag && tag->what == NL_TAG_RULE &&
	    (err == -ENOENT || err == -EOPNOTSUPP))
		*(bool *)ctx = true;
}

static bool has_queue(const struct model *m)
{
	for (size_t i = 0; i < m->n_chains; i++)
		for (size_t j = 0; j < m->chains[i].n_rules; j++)
			if (m->chains[i].rules[j].verdict == MV_QUEUE)
				return true;
	return false;
}

/*
 * Which form of the queue verdict does this kernel take (nl_priv.h)?
 * Try nft's own in a new table, in a transaction whose last message
 * deletes a table that does not exist, so that the kernel answers every
 * message and then aborts it all (nothing is committed, the generation
 * does not move). When the rule is refused with ENOENT the kernel lacks
 * the expression: use the xtables target. Once per process.
 */
static void queue_probe(struct nl_sock *s)
{
	static bool probed;
	struct model *p;
	struct mchain *c;
	struct mrule *r;
	struct diag d;
	struct nl_txn t;
	char name[40];
	bool missing = false;
	int ret;

	if (probed)
		return;
	probed = true;
	snprintf(name, sizeof(name), "portwarden_probe_%ld", (long)getpid());
	p = model_new(name);
	c = model_add_chain(p, "c", HOOK_INPUT, 0, MV_ACCEPT);
	r = mchain_add_rule(c);
	r->verdict = MV_QUEUE;
	diag_init(&d);
	nl_queue_set_form(NL_QUEUE_NATIVE);
	nl_txn_begin(&t, s);
	ret = nl_build_queue_probe(&t, p, &d);
	nl_txn_end(&t, s);
	if (!ret)
		nl_txn_talk(s, &t, probe_error, &missing);
	nl_txn_release(&t);
	if (missing)
		nl_queue_set_form(NL_QUEUE_XT);
	diag_release(&d);
	model_free(p);
}

int nl_apply_delta(struct nl_sock *s, const struct model *live,
		   const struct model *m, const struct model_delta *dl,
		   struct diag *d)
{
	return nl_apply_delta_drop(s, live, m, dl, NULL, d);
}

int nl_apply_delta_drop(struct nl_sock *s, const struct model *live,
			const struct model *m, const struct model_delta *dl,
			const char *drop, struct diag *d)
{
	struct model_delta whole;
	struct diag first;
	int ret;

	bool live_shape = false;

	if (has_queue(m))
		queue_probe(s);
	if (dl->create || dl->recreate)
		return send_plan(s, live, m, dl, drop, d, NULL);
	diag_init(&first);
	ret = send_plan(s, live, m, dl, drop, &first, &live_shape);
	if (ret >= 0 || !live_shape) {
		/* done, or the policy's own objects were refused */
		diag_move(d, &first);
		return ret;
	}
	/* The kernel refused to delete or change what the live table holds
	 * (a table of a shape portwarden would not make, whose elements it
	 * cannot name one by one): recreate the table in one transaction
	 * instead, counters carried over. */
	diag_release(&first);
	whole = *dl;
	whole.recreate = true;
	ret = send_plan(s, live, m, &whole, drop, d, NULL);
	if (!ret)
		diag_warning(d, NULL, "the kernel refused to change table \"%s\" in place; it was recreated instead (counters carried over)",
			     m->table);
	return ret;
}

int nl_apply(struct nl_sock *s, const struct model *m, struct diag *d)
{
	return nl_apply_known(s, m, NULL, 0, d);
}

int nl_apply_known(struct nl_sock *s, const struct model *m,
		   const struct model *known, uint32_t known_gen,
		   struct diag *d)
{
	struct model *live = NULL;
	struct model_delta dl;
	int ret;

	s->applied_gen = 0;
	ret = nl_read_table_known(s, m->table, known, known_gen, &live);
	if (ret < 0 && ret != -ENOENT) {
		diag_error(d, NULL, "cannot read table inet %s: %s", m->table,
			   strerror(-ret));
		return ret;
	}
	model_delta(live, m, &dl);
	ret = dl.n_changes ? nl_apply_delta(s, live, m, &dl, d) : 0;
	model_delta_release(&dl);
	model_free(live);
	return ret;
}

int nl_delete_table(struct nl_sock *s, const char *table)
{
	struct model m = { .table = (char *)table };
	struct diag d;
	struct nl_err_ctx ec = { .m = &m, .d = &d };
	struct nl_txn t;
	int ret;

	diag_init(&d);
	nl_txn_begin(&t, s);
	nl_put_table(&t, table, NFT_MSG_DELTABLE);
	nl_txn_end(&t, s);
	ret = nl_txn_talk(s, &t, nl_report_error, &ec);
	nl_txn_release(&t);
	diag_release(&d);
	return ret;
}
