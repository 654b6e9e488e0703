// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Applying a model: build the transaction (nl_batch.c), send it and read
 * every ack (nl_sock.c), and when the replies were lost, ask the table
 * itself whether the transaction committed (nl_read.c). Also removing a
 * table.
 */
#include <errno.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "model_cmp.h"
#include "nl.h"
#include "nl_priv.h"
#include "nl_sock.h"

/* Replies were lost: the table itself says whether the batch committed. */
static int outcome_from_table(struct nl_sock *s, const struct model *m,
			      struct diag *d)
{
	struct model *live = NULL;
	int ret = nl_read_table(s, m->table, &live);

	if (!ret && model_equal(live, m)) {
		model_free(live);
		return 0;
	}
	model_free(live);
	diag_error(d, NULL, "the kernel did not take the transaction for table \"%s\" (its replies were lost)",
		   m->table);
	return -EPROTO;
}

int nl_apply(struct nl_sock *s, const struct model *m, struct diag *d)
{
	struct nl_err_ctx ec = { .m = m, .d = d };
	struct nl_txn t;
	uint32_t gen, after;
	int ret;

	s->applied_gen = 0;
	nl_txn_begin(&t, s);
	ret = nl_build_replace(&t, m, d);
	if (ret < 0)
		goto out;
	nl_txn_end(&t, s);
	if (nl_get_generation(s, &gen) < 0)
		gen = 0;
	ret = nl_txn_talk(s, &t, nl_report_error, &ec);
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
