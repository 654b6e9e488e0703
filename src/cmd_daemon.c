// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * `portwarden daemon [POLICY...]`: apply the policy, tell systemd we are
 * ready, then run the loop of daemon.c: SIGHUP re-applies the policy
 * (incrementally: counters and learned set elements survive), SIGTERM
 * ends it leaving the table in place. The drift repair (repair.c) and the
 * hostname learner hang their sources and callbacks on the loop.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "daemon.h"
#include "dns_learn.h"
#include "model.h"
#include "netns.h"
#include "policy.h"
#include "repair.h"
#include "sdnotify.h"
#include "util.h"

struct daemon_cmd {
	struct cli *c;
	struct repair *repair;
	struct dns_learner *learner;
};

static void model_size(const struct model *m, size_t *rules, size_t *elems)
{
	size_t i;

	*rules = *elems = 0;
	for (i = 0; i < m->n_chains; i++)
		*rules += m->chains[i].n_rules;
	for (i = 0; i < m->n_sets; i++)
		*elems += m->sets[i].n_elems;
}

/*
 * Load, compile and apply the policy paths of the command line; on
 * success the daemon runs the new policy. Diagnostics and apply's errors
 * go to stderr as the commands print them. Return: an exit code.
 */
static int load_and_apply(struct daemon_cmd *dc, struct daemon *d,
			  const char *kind)
{
	struct cli ac = *dc->c;
	struct policy *p = NULL;
	struct model *m;
	size_t rules, elems;
	struct daemon_ev *e;
	bool changed = false;
	int rc = EXIT_INVALID;

	m = cli_load_model(dc->c, 0, dc->c->n_args, &p, &rc);
	if (!m) {
		policy_free(p);
		return rc;
	}
	/* apply's own output stays off stdout: the daemon reports events */
	ac.quiet = true;
	ac.format = FMT_TEXT;
	ac.netns = NULL;	/* entered once, at the start */
	ac.dry_run = false;
	ac.confirm = -1;
	rc = apply_loaded(&ac, p, &changed);
	if (rc != EXIT_OK) {
		model_free(m);
		policy_free(p);
		return rc;
	}
	model_size(m, &rules, &elems);
	e = daemon_ev_begin(d, kind);
	daemon_ev_str(e, "table", m->table);
	daemon_ev_bool(e, "changed", changed);
	daemon_ev_int(e, "rules", (long long)rules);
	daemon_ev_int(e, "elements", (long long)elems);
	daemon_ev_str(e, "repair", p->repair ? "on" : "off");
	daemon_ev_end(e);
	daemon_set_policy(d, p, m);
	return EXIT_OK;
}

static int on_reload(void *ctx, struct daemon *d)
{
	struct daemon_cmd *dc = ctx;
	int rc = load_and_apply(dc, d, "reloaded");

	if (rc != EXIT_OK) {
		daemon_event(d, "reload-failed",
			     "the policy was not re-applied (exit code %d, see above); the daemon keeps the table as it was",
			     rc);
		return 0;	/* keep running with what we had */
	}
	return repair_reload(dc->repair, d);
}

int daemon_main(struct cli *c)
{
	struct daemon_cmd dc = { .c = c };
	struct daemon *d = NULL;
	char status[160];
	int rc, ret;

	if (c->netns) {
		ret = netns_enter(c->netns);
		if (ret < 0) {
			fprintf(stderr, "portwarden: daemon: cannot enter network namespace %s: %s\n",
				c->netns, strerror(-ret));
			return EXIT_RUNTIME;
		}
	}
	ret = daemon_new(&d, c->format == FMT_JSON);
	if (ret < 0) {
		fprintf(stderr, "portwarden: daemon: cannot set up the event loop: %s\n",
			strerror(-ret));
		return EXIT_RUNTIME;
	}
	/* subscribe before the first apply: nothing between the apply and
	 * the subscription goes unseen */
	ret = repair_new(&dc.repair, d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: daemon: cannot subscribe to nftables events: %s\n",
			strerror(-ret));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = load_and_apply(&dc, d, "applied");
	if (rc != EXIT_OK)
		goto out;
	ret = repair_reload(dc.repair, d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: daemon: cannot start the drift repair: %s\n",
			strerror(-ret));
		rc = EXIT_RUNTIME;
		goto out;
	}
	daemon_on_reload(d, on_reload, &dc);
	/* after on_reload: a SIGHUP re-applies the policy, then the learner
	 * takes the new targets; restored addresses are in the sets before
	 * systemd hears we are ready */
	ret = dns_learner_start(&dc.learner, d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: daemon: cannot start learning hostnames: %s%s\n",
			strerror(-ret), ret == -EBUSY ?
			" (is another portwarden daemon running?)" : "");
		rc = EXIT_RUNTIME;
		goto out;
	}
	snprintf(status, sizeof(status), "READY=1\nSTATUS=keeping table inet %s",
		 daemon_model(d)->table);
	sd_notify_send(status);
	daemon_event(d, "ready", "keeping table inet %s as applied",
		     daemon_model(d)->table);
	ret = daemon_run(d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: daemon: stopped: %s\n", strerror(-ret));
		rc = EXIT_RUNTIME;
	} else {
		daemon_event(d, "stopped", "the table stays as it is");
	}
out:
	dns_learner_free(dc.learner);
	repair_free(dc.repair);
	daemon_free(d);
	return rc;
}
