// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portwarden audit [POLICY...] [--netns NAME|PATH] [--all-netns]
 *                  [--format text|json|junit|prometheus]
 *                  [--record FILE] [--replay FILE]
 *
 * Collects (procmap, sockdiag), judges (audit.c) and prints the report.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "interp.h"
#include "cli.h"
#include "drift_note.h"
#include "explain_hosts.h"
#include "gen_cache.h"
#include "model_cmp.h"
#include "netns.h"
#include "nl.h"
#include "state.h"
#include "util.h"

struct out_ctx {
	const struct cli *c;
	const struct audit_report *r;
	const struct procmap *pm;
	struct audit *a;
	bool show_netns;
	bool color;
};

static const char *proto_str(uint8_t proto)
{
	return proto == IPPROTO_TCP ? "tcp" : proto == IPPROTO_UDP ? "udp" : NULL;
}

/* ---- shared output helpers --------------------------------------------- */

static void format_local(const struct audit_sock *as, char *buf, size_t len)
{
	sock_addr_format(as->s.family, as->s.src, as->s.sport, buf, len);
}

static void format_remote(const struct audit_sock *as, char *buf, size_t len)
{
	sock_addr_format(as->s.family, as->s.dst, as->s.dport, buf, len);
}

/* "sshd(812),sshd(901)" or "unattributed: no permission" (malloc'd). */
static char *procs_text(const struct out_ctx *o, const struct sock_info *s)
{
	const struct proc_info *pi;
	const char *why;
	char *out = NULL, *tmp;
	size_t it = 0;

	why = audit_why_unattributed(o->pm, s);
	if (why)
		return xasprintf("unattributed: %s", why);
	while ((pi = procmap_next(o->pm, s->inode, &it))) {
		/* any process may name itself: escape (SPEC §6) */
		char *comm = text_escape(pi->comm);

		tmp = out ? xasprintf("%s,%s(%d)", out, comm, pi->pid)
			  : xasprintf("%s(%d)", comm, pi->pid);
		free(comm);
		free(out);
		out = tmp;
	}
	return out ? out : xstrdup("-");
}

static const char *color(const struct out_ctx *o, const char *code)
{
	return o->color ? code : "";
}

#define C_RED	"\033[1;31m"
#define C_YEL	"\033[33m"
#define C_GRN	"\033[32m"
#define C_DIM	"\033[2m"
#define C_OFF	"\033[0m"

static const char *state_color(enum listen_state s)
{
	return s == LISTEN_OPEN ? C_YEL : s == LISTEN_FILTERED ? C_GRN : C_DIM;
}

static int listener_cmp(const void *a, const void *b)
{
	const struct audit_sock *x = a, *y = b;

	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->s.proto != y->s.proto)
		return x->s.proto < y->s.proto ? -1 : 1;
	if (x->s.sport != y->s.sport)
		return x->s.sport < y->s.sport ? -1 : 1;
	if (x->s.family != y->s.family)
		return x->s.family < y->s.family ? -1 : 1;
	return memcmp(x->s.src, y->s.src, 16);
}

/* ---- text -------------------------------------------------------------- */

static void print_text(const struct out_ctx *o)
{
	const struct audit_report *r = o->r;
	struct audit_sock *ls;
	char **procs, **netns, local[80];
	size_t i, wl = 13, wp = 9, wn = 5;

	/* namespace names come from /run/netns: escaped like all
	 * foreign text */
	netns = xcalloc(r->n_netns + 1, sizeof(*netns));
	for (i = 0; i < r->n_netns; i++)
		netns[i] = text_escape(r->netns[i]);
	ls = xmalloc((r->n_listeners + 1) * sizeof(*ls));
	if (r->n_listeners)
		memcpy(ls, r->listeners, r->n_listeners * sizeof(*ls));
	qsort(ls, r->n_listeners, sizeof(*ls), listener_cmp);
	procs = xcalloc(r->n_listeners + 1, sizeof(*procs));
	for (i = 0; i < r->n_listeners; i++) {
		format_local(&ls[i], local, sizeof(local));
		if (strlen(local) + (ls[i].dual ? 13 : 0) > wl)
			wl = strlen(local) + (ls[i].dual ? 13 : 0);
		procs[i] = procs_text(o, &ls[i].s);
		if (strlen(procs[i]) > wp)
			wp = strlen(procs[i]);
		if (o->show_netns && strlen(netns[ls[i].netns]) > wn)
			wn = strlen(netns[ls[i].netns]);
	}
	if (o->show_netns)
		printf("%-*s  ", (int)wn, "NETNS");
	printf("%-5s  %-*s  %-8s  %-*s  %s\n", "PROTO", (int)wl, "LOCAL ADDRESS",
	       "STATE", (int)wp, "PROCESSES", "RULE");
	for (i = 0; i < r->n_listeners; i++) {
		const struct audit_sock *l = &ls[i];

		format_local(l, local, sizeof(local));
		if (l->dual)
			strcat(local, " (dual-stack)");
		if (o->show_netns)
			printf("%-*s  ", (int)wn, netns[l->netns]);
		printf("%-5s  %-*s  %s%-8s%s  %-*s  %s\n", proto_str(l->s.proto),
		       (int)wl, local, color(o, state_color(l->state)),
		       listen_state_name(l->state), color(o, C_OFF),
		       (int)wp, procs[i],
		       l->state == LISTEN_LOCAL ? "-" : l->rule ? l->rule : "(default)");
		free(procs[i]);
	}
	free(procs);
	free(ls);

	printf("\n");
	if (!r->n_findings)
		printf("%sno findings%s\n", color(o, C_GRN), color(o, C_OFF));
	else
		printf("findings (%zu):\n", r->n_findings);
	for (i = 0; i < r->n_findings; i++) {
		const struct finding *f = &r->findings[i];

		printf("  %s%-21s%s", color(o, C_RED), finding_kind_name(f->kind),
		       color(o, C_OFF));
		if (o->show_netns)
			printf(" [%s]", netns[f->netns]);
		fputc(' ', stdout);
		text_put(stdout, f->detail);
		if (f->has_sock) {
			char *p = procs_text(o, &f->sock.s);

			const char *cg = audit_cgroup_path(o->a, &f->sock.s);

			printf("; processes: %s", p);
			if (f->sock.s.inode)
				printf("; uid %u", f->sock.s.uid);
			if (cg) {
				fputs("; cgroup /", stdout);
				text_put(stdout, cg);
			}
			free(p);
		}
		printf("\n");
	}
	for (i = 0; i < r->n_netns; i++)
		free(netns[i]);
	free(netns);
	printf("\n%zu sockets, %zu listeners, %zu connections checked, %zu finding%s%s\n",
	       r->sockets, r->n_listeners, r->n_conns, r->n_findings,
	       r->n_findings == 1 ? "" : "s",
	       r->drift_checked ? "" : " (ruleset drift not checked)");
}

/* -vv: every socket judged, with its attribution, one line each. */
static void print_verbose_sockets(const struct out_ctx *o, FILE *f)
{
	const struct audit_report *r = o->r;
	char local[80], remote[80];
	size_t i;

	for (i = 0; i < r->n_listeners + r->n_conns; i++) {
		bool listener = i < r->n_listeners;
		const struct audit_sock *as = listener ? &r->listeners[i] :
					      &r->conns[i - r->n_listeners];
		const char *cg = audit_cgroup_path(o->a, &as->s);
		char *procs = procs_text(o, &as->s);

		format_local(as, local, sizeof(local));
		fprintf(f, "portwarden: audit: %s %s", proto_str(as->s.proto) ? proto_str(as->s.proto) : "?", local);
		if (listener) {
			fprintf(f, " listener, %s", listen_state_name(as->state));
		} else {
			format_remote(as, remote, sizeof(remote));
			fprintf(f, " %s %s %s", as->inbound ? "<-" : "->", remote,
				as->inbound ? "inbound" : "outbound");
		}
		fprintf(f, " (rule %s", as->rule ? as->rule : "default");
		if (as->host) {	/* a set element's comment: foreign text */
			fputs(", host ", f);
			text_put(f, as->host);
		}
		fprintf(f, "); inode %" PRIu64 ", uid %u; processes %s",
			as->s.inode, as->s.uid, procs);
		if (cg) {
			fputs("; cgroup /", f);
			text_put(f, cg);
		}
		if (o->show_netns) {
			fputs("; netns ", f);
			text_put(f, r->netns[as->netns]);
		}
		fputc('\n', f);
		free(procs);
	}
}

/* ---- json -------------------------------------------------------------- */

static void json_processes(const struct out_ctx *o, const struct sock_info *s)
{
	const struct proc_info *pi;
	size_t it = 0;
	bool first = true;

	fputc('[', stdout);
	while ((pi = procmap_next(o->pm, s->inode, &it))) {
		printf("%s{\"pid\": %d, \"comm\": ", first ? "" : ", ", pi->pid);
		json_string(stdout, pi->comm);
		fputc('}', stdout);
		first = false;
	}
	fputc(']', stdout);
}

static void print_json(const struct out_ctx *o)
{
	const struct audit_report *r = o->r;
	char buf[80];
	size_t i;

	printf("{\"compliant\": %s,\n \"sockets\": %zu,\n \"findings\": [",
	       r->n_findings ? "false" : "true", r->sockets);
	for (i = 0; i < r->n_findings; i++) {
		const struct finding *f = &r->findings[i];
		const char *why = NULL, *cg;
		char *detail;

		printf("%s\n  {\"kind\": \"%s\", \"proto\": ", i ? "," : "",
		       finding_kind_name(f->kind));
		json_string(stdout, proto_str(f->proto));
		printf(", \"local\": ");
		if (f->has_sock) {
			format_local(&f->sock, buf, sizeof(buf));
			json_string(stdout, buf);
		} else if (f->kind == FIND_MISSING_LISTENER) {
			/* listeners entries name no address: any address of
			 * either family, or of IPv6 only */
			snprintf(buf, sizeof(buf), "%s:%u",
				 f->entry && f->entry->families == FAM_V6 ?
				 "[::]" : "*", f->port);
			json_string(stdout, buf);
		} else {
			fputs("null", stdout);
		}
		printf(", \"port\": ");
		if (f->port)
			printf("%u", f->port);
		else
			fputs("null", stdout);
		printf(", \"remote\": ");
		if (f->has_sock && f->kind == FIND_DISALLOWED_CONNECTION) {
			format_remote(&f->sock, buf, sizeof(buf));
			json_string(stdout, buf);
		} else {
			fputs("null", stdout);
		}
		printf(", \"processes\": ");
		if (f->has_sock) {
			json_processes(o, &f->sock.s);
			why = audit_why_unattributed(o->pm, &f->sock.s);
		} else {
			fputs("[]", stdout);
		}
		printf(", \"uid\": ");
		if (f->has_sock && f->sock.s.inode)
			printf("%u", f->sock.s.uid);
		else
			fputs("null", stdout);
		printf(", \"cgroup\": ");
		cg = f->has_sock ? audit_cgroup_path(o->a, &f->sock.s) : NULL;
		json_string(stdout, cg && !*cg ? "/" : cg);	/* the root: "/" */
		printf(", \"rule\": ");
		json_string(stdout, f->rule);
		if (o->show_netns) {
			printf(", \"netns\": ");
			json_string(stdout, r->netns[f->netns]);
		}
		printf(", \"detail\": ");
		detail = why ? xasprintf("%s (unattributed: %s)", f->detail, why)
			     : xstrdup(f->detail);
		json_string(stdout, detail);
		free(detail);
		fputc('}', stdout);
	}
	printf("%s]}\n", r->n_findings ? "\n " : "");
}

/* ---- junit ------------------------------------------------------------- */

static void xml_text(const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", stdout); break;
		case '<': fputs("&lt;", stdout); break;
		case '>': fputs("&gt;", stdout); break;
		case '"': fputs("&quot;", stdout); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\n' || *s == '\t')
				fputc(*s, stdout);
		}
	}
}

static void junit_case(const struct out_ctx *o, const char *cls,
		       const char *name, unsigned int netns,
		       const struct finding *f)
{
	printf("    <testcase classname=\"portwarden.audit.%s\" name=\"", cls);
	xml_text(name);
	if (o->show_netns) {
		fputs(" [", stdout);
		xml_text(o->r->netns[netns]);
		fputs("]", stdout);
	}
	if (!f) {
		printf("\"/>\n");
		return;
	}
	printf("\">\n      <failure type=\"%s\" message=\"", finding_kind_name(f->kind));
	xml_text(f->detail);
	printf("\">");
	xml_text(f->detail);
	printf("</failure>\n    </testcase>\n");
}

static size_t count_fail(const struct audit_sock *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += v[i].finding != 0;
	return k;
}

static void print_junit(const struct out_ctx *o)
{
	const struct audit_report *r = o->r;
	size_t i, lf, cf, pf = 0, pn = 0;
	char name[200], a[80], b[80];

	lf = count_fail(r->listeners, r->n_listeners);
	cf = count_fail(r->conns, r->n_conns);
	for (i = 0; i < r->n_findings; i++)
		if (r->findings[i].kind == FIND_MISSING_LISTENER ||
		    r->findings[i].kind == FIND_FILTERED_LISTENER ||
		    r->findings[i].kind == FIND_LOCAL_ONLY_LISTENER ||
		    r->findings[i].kind == FIND_RULESET_DRIFT)
			pf++;
	pn = pf + (r->drift_checked && !pf ? 1 : 0);
	printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	printf("<testsuites name=\"portwarden audit\" tests=\"%zu\" failures=\"%zu\">\n",
	       r->n_listeners + r->n_conns + pn, lf + cf + pf);
	printf("  <testsuite name=\"listeners\" tests=\"%zu\" failures=\"%zu\">\n",
	       r->n_listeners, lf);
	for (i = 0; i < r->n_listeners; i++) {
		const struct audit_sock *l = &r->listeners[i];

		format_local(l, a, sizeof(a));
		snprintf(name, sizeof(name), "%s %s %s", proto_str(l->s.proto),
			 a, listen_state_name(l->state));
		junit_case(o, "listener", name, l->netns,
			   l->finding ? &r->findings[l->finding - 1] : NULL);
	}
	printf("  </testsuite>\n");
	printf("  <testsuite name=\"connections\" tests=\"%zu\" failures=\"%zu\">\n",
	       r->n_conns, cf);
	for (i = 0; i < r->n_conns; i++) {
		const struct audit_sock *c = &r->conns[i];

		format_local(c, a, sizeof(a));
		format_remote(c, b, sizeof(b));
		snprintf(name, sizeof(name), "%s %s %s %s %s%s%.64s%s",
			 c->inbound ? "in" : "out", proto_str(c->s.proto), a,
			 c->inbound ? "<-" : "->", b, c->host ? " (" : "",
			 c->host ? c->host : "", c->host ? ")" : "");
		junit_case(o, "connection", name, c->netns,
			   c->finding ? &r->findings[c->finding - 1] : NULL);
	}
	printf("  </testsuite>\n");
	/* The policy's own expectations: one case per failing entry, and
	 * the ruleset as a whole. */
	printf("  <testsuite name=\"policy\" tests=\"%zu\" failures=\"%zu\">\n",
	       pn, pf);
	for (i = 0; i < r->n_findings; i++) {
		const struct finding *f = &r->findings[i];

		if (f->kind == FIND_RULESET_DRIFT)
			junit_case(o, "ruleset", "ruleset", f->netns, f);
		else if (f->kind == FIND_MISSING_LISTENER ||
			 f->kind == FIND_FILTERED_LISTENER ||
			 f->kind == FIND_LOCAL_ONLY_LISTENER) {
			snprintf(name, sizeof(name), "listeners entry %s:%u %s",
				 f->entry && f->entry->loc.file ? f->entry->loc.file : "policy",
				 f->entry ? f->entry->loc.line : 0, proto_str(f->proto));
			junit_case(o, "listeners", name, f->netns, f);
		}
	}
	if (r->drift_checked && !pf)
		junit_case(o, "ruleset", "ruleset", 0, NULL);
	printf("  </testsuite>\n</testsuites>\n");
}

/* ---- prometheus -------------------------------------------------------- */

static void print_prometheus(const struct out_ctx *o)
{
	const struct audit_report *r = o->r;
	size_t kinds[FIND_MAX] = { 0 }, states[LISTEN_MAX] = { 0 }, i;

	for (i = 0; i < r->n_findings; i++)
		kinds[r->findings[i].kind]++;
	for (i = 0; i < r->n_listeners; i++)
		states[r->listeners[i].state]++;
	printf("# HELP portwarden_findings Audit findings by kind.\n"
	       "# TYPE portwarden_findings gauge\n");
	for (i = 0; i < FIND_MAX; i++)
		printf("portwarden_findings{kind=\"%s\"} %zu\n",
		       finding_kind_name((enum finding_kind)i), kinds[i]);
	printf("# HELP portwarden_listeners Listening sockets by state under the policy.\n"
	       "# TYPE portwarden_listeners gauge\n");
	for (i = 0; i < LISTEN_MAX; i++)
		printf("portwarden_listeners{state=\"%s\"} %zu\n",
		       listen_state_name((enum listen_state)i), states[i]);
	printf("# HELP portwarden_compliant 1 when the audit found nothing, else 0.\n"
	       "# TYPE portwarden_compliant gauge\n"
	       "portwarden_compliant %d\n", r->n_findings ? 0 : 1);
	printf("# HELP portwarden_sockets TCP and UDP sockets seen, every state.\n"
	       "# TYPE portwarden_sockets gauge\n"
	       "portwarden_sockets %zu\n", r->sockets);
}

/* ---- collection -------------------------------------------------------- */

/*
 * The /proc scan (one readlink per descriptor on the host) and the
 * sock_diag dumps are independent: the scan runs in a second thread while
 * the first dumps, and is joined before the first judgement needs it.
 */
struct pm_job {
	pthread_t thread;
	bool started, joined;
	struct procmap *pm;
	int ret;
};

static void *pm_job_run(void *arg)
{
	struct pm_job *job = arg;

	job->ret = procmap_build(&job->pm, "/proc");
	return NULL;
}

static void pm_job_start(struct pm_job *job)
{
	if (pthread_create(&job->thread, NULL, pm_job_run, job) == 0) {
		job->started = true;
		return;
	}
	pm_job_run(job);	/* no thread: scan now */
}

/*
 * The namespace's tables, with the policy standing in for portwarden's own
 * (SPEC §5): Docker's or firewalld's drops make a port filtered too. NULL
 * (the policy alone) when they cannot be read, unprivileged, with a note.
 */
static struct ix_host *live_host(struct audit *a, const struct cli *c)
{
	struct ix_host *h = ix_host_new();
	struct nl_sock *nl = NULL;
	int ret = nl_sock_open(&nl);

	if (!ret)
		ret = ix_host_load_live(h, nl, audit_model(a)->table);
	/* the addresses portwarden daemon learned count as the policy's:
	 * the compiled table stands in for the live one (with more than one
	 * namespace, those learned in one count in the next as well) */
	if (!ret)
		explain_learned(nl, (struct model *)audit_model(a));
	nl_sock_close(nl);
	if (!ret)
		ret = ix_host_add_model(h, audit_model(a));
	if (ret < 0) {
		if (!c->quiet)
			fprintf(stderr, "portwarden: audit: note: the namespace's other tables were not read (%s); verdicts are the policy's alone\n",
				strerror(-ret));
		ix_host_free(h);
		return NULL;
	}
	return h;
}

/* Return 0 when the map is ready (attached to @a), or a negative errno. */
static int pm_job_wait(struct pm_job *job, struct audit *a)
{
	if (job->started && !job->joined) {
		pthread_join(job->thread, NULL);
		job->joined = true;
	}
	if (job->ret < 0)
		return job->ret;
	audit_set_procmap(a, job->pm);
	return 0;
}

/* The daemon's note of the last change to @table in this namespace. */
static void drift_who(struct audit *a, const char *table)
{
	struct drift_note n;
	char dir[256], when[32], *who;
	struct tm tm;
	time_t t;

	if (safe_state_dir(dir, sizeof(dir)) < 0 || drift_note_load(dir, &n) < 0)
		return;
	if (!strcmp(n.table, table)) {
		t = (time_t)n.time;
		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
		who = xasprintf("%s (pid %u) at %s: %s",
				n.comm ? n.comm : "unknown", n.pid, when,
				n.what ? n.what : "changed");
		audit_drift_who(a, who);
		free(who);
	}
	drift_note_release(&n);
}

/*
 * Ruleset drift of the current namespace. While the kernel's ruleset
 * generation is the one the generation cache (gen_cache.h) holds for this
 * namespace, table and policy, no transaction has touched any table since
 * portwarden last wrote or read it, and the live table is the policy's
 * model: nothing is read (a table of 100,000 rules costs seconds to dump).
 * Otherwise the table is read; when it equals the policy at an unchanged
 * generation, that is recorded for the next run.
 *
 * The record is written without the run lock, which would make audit wait
 * for a running apply: each writer states what it saw at one generation,
 * the file is replaced by rename, and a record of a generation that has
 * moved on only costs the next run a full read.
 * Return: 1 when the cache vouched (nothing read), 0 when the table was
 * read (drift recorded in @a either way), or the negative errno of the read.
 */
static int drift_check(struct audit *a, struct nl_sock *nl,
		       const struct model *want)
{
	uint64_t cookie = 0, hash = model_hash(want);
	uint32_t g0 = 0, g1 = 0;
	struct model *live = NULL;
	bool have_cookie = nl_netns_cookie(nl, &cookie) == 0;
	int ret;

	if (nl_get_generation(nl, &g0) < 0)
		g0 = 0;
	if (g0 && have_cookie &&
	    gen_cache_hit(RUN_DIR, cookie, want->table, g0, hash)) {
		audit_drift_none(a);
		return 1;
	}
	ret = nl_read_table(nl, want->table, &live);
	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (!audit_drift(a, live, ret))
		drift_who(a, want->table);
	else if (g0 && have_cookie &&
	    nl_get_generation(nl, &g1) == 0 && g1 == g0 &&
	    (mkdir(RUN_DIR, 0700) == 0 || errno == EEXIST))
		gen_cache_store(RUN_DIR, cookie, want->table, g0, hash);
	model_free(live);
	return 0;
}

static int audit_one(struct audit *a, struct pm_job *job, const char *label,
		     const char *record, bool primary, bool drift,
		     const struct model *want, const struct cli *c)
{
	struct sockdiag *sd = NULL;
	struct nl_sock *nl = NULL;
	int ret;

	audit_begin_netns(a, label);
	ret = sockdiag_open(&sd, record);
	if (ret < 0) {
		fprintf(stderr, "portwarden: audit: cannot open sock_diag in %s%s%s: %s\n",
			label, record ? " or write " : "", record ? record : "",
			strerror(-ret));
		goto out;
	}
	ret = audit_dump(a, sd);
	if (ret < 0) {
		fprintf(stderr, "portwarden: audit: socket dump in %s: %s\n",
			label, strerror(-ret));
		goto out;
	}
	ret = pm_job_wait(job, a);
	if (ret < 0) {
		fprintf(stderr, "portwarden: audit: /proc: %s\n", strerror(-ret));
		goto out;
	}
	audit_take_host(a, live_host(a, c));
	audit_end_netns(a, primary);
	if (!drift)
		goto out;
	ret = nl_sock_open(&nl);
	if (!ret)
		ret = drift_check(a, nl, want);
	if (ret == 1 && c->verbose)
		fprintf(stderr, "portwarden: audit: table inet %s: ruleset generation unchanged since portwarden last read or wrote it; not read again\n",
			want->table);
	if (ret < 0 && !c->quiet)
		fprintf(stderr, "portwarden: audit: warning: ruleset drift not checked: %s\n",
			strerror(-ret));
	ret = 0;
out:
	nl_sock_close(nl);
	sockdiag_close(sd);
	return ret;
}

static int collect_all_netns(struct audit *a, struct pm_job *job,
			     const struct cli *c, const struct model *want)
{
	struct netns_entry *v = NULL;
	size_t n = 0, i;
	int orig, fd, ret;

	/* every namespace, named ones first; portwarden's own pid is left
	 * out (a name that vanishes when the audit ends names nothing) */
	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ret = orig < 0 ? -errno : netns_list(&v, &n);
	if (ret < 0) {
		fprintf(stderr, "portwarden: audit: /proc/self/ns/net: %s\n",
			strerror(-ret));
		goto out;
	}
	for (i = 0; i < n && !ret; i++) {
		fd = v[i].self ? dup(orig) : open(v[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* the process has gone */
		if (setns(fd, CLONE_NEWNET) < 0) {
			ret = -errno;
			fprintf(stderr, "portwarden: audit: cannot enter %s: %s\n",
				v[i].path, strerror(errno));
			close(fd);
			break;
		}
		close(fd);
		ret = audit_one(a, job, v[i].path, NULL, v[i].self, v[i].self,
				want, c);
	}
	if (setns(orig, CLONE_NEWNET) < 0 && !ret)
		ret = -errno;
out:
	if (orig >= 0)
		close(orig);
	netns_list_free(v, n);
	return ret;
}

int audit_main(struct cli *c)
{
	struct policy *p = NULL;
	struct model *m = NULL;
	struct pm_job job = { .ret = 0 };
	struct audit *a = NULL;
	struct sockdiag *sd = NULL;
	struct out_ctx o = { .c = c };
	struct diag d;
	int ret, rc = EXIT_RUNTIME;

	diag_init(&d);
	if (c->replay && (c->record || c->netns || c->all_netns)) {
		fprintf(stderr, "portwarden: audit: --replay reads a recording; it takes no --record, --netns or --all-netns\n");
		rc = EXIT_INVALID;
		goto out;
	}
	if (c->record && c->all_netns) {
		fprintf(stderr, "portwarden: audit: --record records one namespace; use --netns\n");
		rc = EXIT_INVALID;
		goto out;
	}
	p = cli_load_policy(c, 0, c->n_args, &rc);
	if (!p)
		goto out;
	ret = compile_policy(p, &m, &d);
	cli_print_diag(c, &d);
	if (ret < 0) {
		fprintf(stderr, "portwarden: audit: cannot compile the policy: %s\n",
			strerror(-ret));
		rc = ret == -EINVAL ? EXIT_INVALID : EXIT_RUNTIME;
		goto out;
	}
	rc = EXIT_RUNTIME;
	if (c->netns) {
		ret = netns_enter(c->netns);
		if (ret < 0) {
			fprintf(stderr, "portwarden: audit: cannot enter network namespace %s: %s\n",
				c->netns, strerror(-ret));
			goto out;
		}
	}
	a = audit_new(p, m, NULL);
	if (!c->replay)
		pm_job_start(&job);
	if (c->replay) {
		ret = sockdiag_open_replay(&sd, c->replay);
		if (ret < 0) {
			fprintf(stderr, "portwarden: audit: cannot replay %s: %s\n",
				c->replay, ret == -EINVAL ? "not a sock_diag recording"
							  : strerror(-ret));
			goto out;
		}
		if (!c->quiet)
			fprintf(stderr, "portwarden: audit: note: replaying %s; ruleset drift not checked, processes not attributed\n",
				c->replay);
		audit_begin_netns(a, c->replay);
		ret = audit_dump(a, sd);
		if (ret < 0) {
			fprintf(stderr, "portwarden: audit: replay %s: %s\n",
				c->replay, strerror(-ret));
			goto out;
		}
		audit_end_netns(a, true);
	} else if (c->all_netns) {
		o.show_netns = true;
		if (collect_all_netns(a, &job, c, m) < 0)
			goto out;
	} else {
		o.show_netns = c->netns != NULL;
		if (audit_one(a, &job, c->netns ? c->netns : "/proc/self/ns/net",
			      c->record, true, true, m, c) < 0)
			goto out;
	}
	o.r = audit_report(a);
	o.pm = job.pm;
	o.a = a;
	if (c->verbose)
		fprintf(stderr, "portwarden: audit: %zu sockets in %zu namespace%s; processes %s\n",
			o.r->sockets, o.r->n_netns, o.r->n_netns == 1 ? "" : "s",
			c->replay ? "not attributed (replay)" :
			!strcmp(procmap_method(job.pm), "bpf") ?
			"from the BPF task_file iterator" : "from /proc/PID/fd");
	if (c->verbose >= 2)
		print_verbose_sockets(&o, stderr);
	o.color = c->format == FMT_TEXT && isatty(STDOUT_FILENO);
	switch (c->format) {
	case FMT_JSON:
		print_json(&o);
		break;
	case FMT_JUNIT:
		print_junit(&o);
		break;
	case FMT_PROMETHEUS:
		print_prometheus(&o);
		break;
	default:
		print_text(&o);
		break;
	}
	if (fflush(stdout) != 0)
		goto out;
	rc = o.r->n_findings ? EXIT_FINDINGS : EXIT_OK;
out:
	sockdiag_close(sd);
	audit_free(a);
	if (job.started && !job.joined)
		pthread_join(job.thread, NULL);
	procmap_free(job.pm);
	model_free(m);
	policy_free(p);
	diag_release(&d);
	return rc;
}
