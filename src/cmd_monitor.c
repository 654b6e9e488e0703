// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portwarden monitor [--format text|json] [--netns NAME|PATH | --all-netns]
 *                    [--group G] [--count N] [--timeout SECONDS]
 *                    [--rcvbuf BYTES]
 *
 * Prints, live, one line per NFLOG record of portwarden's rules (SPEC §9):
 * what was refused (kind denied), what `log: true` rules saw (logged),
 * where a staged policy disagrees (staged), and how many records the
 * kernel could not deliver (lost, from the sequence numbers). Each record
 * is tied to the local socket and process behind it (monitor_attr.h).
 *
 * One epoll loop over the NFLOG sockets (one per network namespace), a
 * signalfd and an optional timerfd; no threads (STYLE "Long-running
 * programs"). Output is flushed after every read from the kernel.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "eval.h"
#include "interp.h"
#include "logprefix.h"
#include "model.h"
#include "monitor_attr.h"
#include "monitor_events.h"
#include "netns.h"
#include "nflog.h"
#include "nl.h"
#include "sdnotify.h"
#include "util.h"

#define MON_DEFAULT_GROUP 1000
#define IFCACHE 256

/* One network namespace being watched. Every socket is opened inside the
 * namespace and keeps it, so the loop never has to switch namespaces. */
struct mon_ns {
	char *label;			/* "netns" of the events, or NULL */
	struct nflog *nf;
	struct attr_cache *attr;
	struct devents *dev;		/* the daemon's events file */
	struct nl_sock *nl;		/* staged records: the live ruleset */
	struct ix_host *host;
	struct model *live;		/* its inet table of @live_name */
	char *live_name;
	uint32_t host_gen;
	int ifd;			/* SIOCGIFNAME in the namespace */
	uint64_t batch;
	char ifname[IFCACHE][IF_NAMESIZE];
};

struct mon {
	const struct cli *c;
	bool json;
	uint64_t limit, printed, foreign;
	bool stop;
	struct mon_ns **ns;
	size_t n_ns, cap_ns;
};

struct rec_ctx {
	struct mon *m;
	struct mon_ns *ns;
};

/* ---- the namespaces -------------------------------------------------- */

static void ns_free(struct mon_ns *ns)
{
	if (!ns)
		return;
	nflog_close(ns->nf);
	attr_free(ns->attr);
	devents_free(ns->dev);
	nl_sock_close(ns->nl);
	ix_host_free(ns->host);
	model_free(ns->live);
	free(ns->live_name);
	if (ns->ifd >= 0)
		close(ns->ifd);
	free(ns->label);
	free(ns);
}

/* Is @group bound by a reader in this namespace? (The kernel refuses a
 * second one with EPERM, which also means "not root".) */
static bool group_taken(uint16_t group)
{
	FILE *f = fopen("/proc/net/netfilter/nfnetlink_log", "re");
	unsigned int g;
	char line[256];
	bool taken = false;

	if (!f)
		return false;
	while (!taken && fgets(line, sizeof(line), f))
		taken = sscanf(line, "%u", &g) == 1 && g == group;
	fclose(f);
	return taken;
}

/* Open everything in the namespace this thread is in now. */
static int ns_open(const char *label, uint16_t group, int rcvbuf,
		   struct mon_ns **out)
{
	struct mon_ns *ns = xcalloc(1, sizeof(*ns));
	int ret;

	ns->ifd = -1;
	ns->label = label ? xstrdup(label) : NULL;
	/* the daemon's events from the file's end as of now: before the
	 * group is bound, which tells a watcher that monitor is ready */
	ns->dev = devents_new();
	devents_poll(ns->dev, NULL, NULL, NULL);
	ret = nflog_open(&ns->nf, group, rcvbuf);
	if (ret < 0) {
		fprintf(stderr, "portwarden: monitor: cannot bind NFLOG group %u%s",
			(unsigned int)group, label ? " in " : "");
		if (label)
			text_put(stderr, label);
		fprintf(stderr, ": %s\n", group_taken(group) ?
			"another program reads it (ulogd2?); give one of them another group (--group, log_group)" :
			strerror(-ret));
		goto fail;
	}
	ret = attr_new(&ns->attr);
	if (ret < 0) {
		fprintf(stderr, "portwarden: monitor: sock_diag: %s\n", strerror(-ret));
		goto fail;
	}
	/* netlink for the live ruleset, only needed for staged records */
	if (nl_sock_open(&ns->nl) < 0)
		ns->nl = NULL;
	ns->ifd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	*out = ns;
	return 0;
fail:
	ns_free(ns);
	return ret;
}

static void ns_push(struct mon *m, struct mon_ns *ns)
{
	*ARRAY_PUSH(m->ns, m->n_ns, m->cap_ns) = ns;
}

static int open_all(struct mon *m, uint16_t group, int rcvbuf)
{
	struct netns_entry *v = NULL;
	struct mon_ns *ns;
	size_t n = 0, i;
	int orig, fd, ret;

	ret = netns_list(&v, &n);
	if (ret < 0) {
		fprintf(stderr, "portwarden: monitor: /proc/self/ns/net: %s\n",
			strerror(-ret));
		return ret;
	}
	orig = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (orig < 0) {
		ret = -errno;
		goto out;
	}
	for (i = 0; i < n; i++) {
		fd = v[i].self ? dup(orig) : open(v[i].path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;	/* the process has gone */
		if (setns(fd, CLONE_NEWNET) < 0) {
			ret = -errno;
			fprintf(stderr, "portwarden: monitor: cannot enter %s: %s\n",
				v[i].path, strerror(errno));
			close(fd);
			break;
		}
		close(fd);
		ret = ns_open(v[i].path, group, rcvbuf, &ns);
		if (ret < 0 && !v[i].self) {
			/* said why; the other namespaces are still watched */
			ret = 0;
			continue;
		}
		if (ret < 0)
			break;
		ns_push(m, ns);
	}
	if (setns(orig, CLONE_NEWNET) < 0 && !ret)
		ret = -errno;
	close(orig);
out:
	netns_list_free(v, n);
	return ret;
}

/* ---- one event ------------------------------------------------------- */

static const char *ifname(struct mon_ns *ns, uint32_t idx, char *tmp)
{
	struct ifreq ifr;

	if (!idx)
		return NULL;
	if (idx < IFCACHE && ns->ifname[idx][0])
		return ns->ifname[idx];
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_ifindex = (int)idx;
	if (ns->ifd < 0 || ioctl(ns->ifd, SIOCGIFNAME, &ifr) < 0) {
		snprintf(tmp, IF_NAMESIZE + 8, "if%" PRIu32, idx);
		return tmp;
	}
	if (idx < IFCACHE) {
		memcpy(ns->ifname[idx], ifr.ifr_name, IF_NAMESIZE);
		ns->ifname[idx][IF_NAMESIZE - 1] = '\0';
		return ns->ifname[idx];
	}
	snprintf(tmp, IF_NAMESIZE + 8, "%.*s", IF_NAMESIZE, ifr.ifr_name);
	return tmp;
}

static const char *proto_name(uint8_t proto, char *tmp)
{
	switch (proto) {
	case IPPROTO_TCP: return "tcp";
	case IPPROTO_UDP: return "udp";
	case IPPROTO_ICMP: return "icmp";
	case IPPROTO_ICMPV6: return "icmpv6";
	case IPPROTO_SCTP: return "sctp";
	}
	snprintf(tmp, 8, "%u", proto);
	return tmp;
}

/* "A.B.C.D:PORT", "[V6]:PORT", or the bare address without ports. */
static void addr_text(const struct nflog_pkt *p, const uint8_t *a,
		      uint16_t port, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	inet_ntop(p->l3 == 4 ? AF_INET : AF_INET6, a, ip, sizeof(ip));
	if (!p->has_ports)
		snprintf(buf, len, "%s", ip);
	else if (p->l3 == 4)
		snprintf(buf, len, "%s:%u", ip, (unsigned int)port);
	else
		snprintf(buf, len, "[%s]:%u", ip, (unsigned int)port);
}

static void time_text(const struct nflog_pkt *p, char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	time_t sec;
	long usec;

	if (p && p->has_time) {
		sec = (time_t)p->sec;
		usec = (long)(p->usec % 1000000);
	} else {
		clock_gettime(CLOCK_REALTIME, &ts);
		sec = ts.tv_sec;
		usec = ts.tv_nsec / 1000;
	}
	gmtime_r(&sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, usec);
}

static const char *owner_name(enum attr_owner o)
{
	switch (o) {
	case ATTR_FOUND: return "process";
	case ATTR_NO_PROCESS: return "no-process";
	case ATTR_GONE: return "gone";
	case ATTR_NO_LISTENER: return "no-listener";
	case ATTR_NONE: break;
	}
	return "none";
}

static const char *kind_name(enum logprefix_kind k)
{
	return k == LOGPREFIX_DENIED ? "denied" :
	       k == LOGPREFIX_LOGGED ? "logged" : "staged";
}

/* The enforced side of a staged record: the rule of the live ruleset
 * that decides the packet (eval_packet(), exact for portwarden's own
 * table). The host is read again when the ruleset generation moved. */
struct enforced {
	const char *rule;
	char at[LOGPREFIX_AT_MAX + 1];
};

/* FILE:LINE of the live rule @handle of @table ("inet NAME"), from its
 * own NFLOG prefix (a rule that logs nothing has none: left empty). */
static void live_rule_at(struct mon_ns *ns, const char *table, uint64_t handle,
			 char at[LOGPREFIX_AT_MAX + 1])
{
	struct log_id id;
	size_t i, j;

	if (strncmp(table, "inet ", 5))
		return;
	table += 5;
	if (!ns->live_name || strcmp(ns->live_name, table)) {
		model_free(ns->live);
		ns->live = NULL;
		free(ns->live_name);
		ns->live_name = xstrdup(table);
		if (nl_read_table(ns->nl, table, &ns->live) < 0)
			ns->live = NULL;
	}
	for (i = 0; ns->live && i < ns->live->n_chains; i++)
		for (j = 0; j < ns->live->chains[i].n_rules; j++) {
			const struct mrule *r = &ns->live->chains[i].rules[j];

			if (r->handle != handle || !r->nflog_prefix)
				continue;
			if (logprefix_parse(r->nflog_prefix,
					    strlen(r->nflog_prefix), &id) == 0)
				memcpy(at, id.at, sizeof(id.at));
			return;
		}
}

static void enforced_rule(struct mon_ns *ns, const struct nflog_pkt *p,
			  const struct log_id *id, const char *iif,
			  const char *oif, struct enforced *out)
{
	struct eval_result res;
	struct packet pkt;
	uint32_t gen = 0;

	out->rule = NULL;
	out->at[0] = '\0';
	if (!ns->nl || !p->l3 || nl_get_generation(ns->nl, &gen) < 0)
		return;
	if (!ns->host || gen != ns->host_gen) {
		struct ix_host *h = ix_host_new();

		ix_host_free(ns->host);
		ns->host = NULL;
		if (ix_host_load_live(h, ns->nl, NULL) < 0) {
			ix_host_free(h);
			return;
		}
		ns->host = h;
		ns->host_gen = gen;
		model_free(ns->live);
		ns->live = NULL;
		free(ns->live_name);
		ns->live_name = NULL;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.dir = id->dir;
	pkt.l4proto = p->proto;
	pkt.src.family = pkt.dst.family = p->l3;
	pkt.src.plen = pkt.dst.plen = p->l3 == 4 ? 32 : 128;
	memcpy(pkt.src.addr, p->src, p->l3 == 4 ? 4 : 16);
	memcpy(pkt.dst.addr, p->dst, p->l3 == 4 ? 4 : 16);
	pkt.has_src = true;
	pkt.sport = p->sport;
	pkt.dport = p->dport;
	pkt.has_sport = pkt.has_dport = p->has_ports;
	pkt.uid = p->uid;
	pkt.has_uid = p->has_uid;
	pkt.gid = p->gid;
	pkt.has_gid = p->has_gid;
	pkt.iif = iif;
	pkt.oif = oif;
	pkt.icmp_type = p->icmp_type;
	if (eval_packet(ns->host, &pkt, &res) < 0 || res.undetermined)
		return;
	out->rule = res.origin ? res.origin->name : res.label;
	if (res.handle && res.table)
		live_rule_at(ns, res.table, res.handle, out->at);
}

static void json_field(FILE *f, const char *key, const char *v)
{
	fprintf(f, ", \"%s\": ", key);
	json_string(f, v);
}

static void json_num(FILE *f, const char *key, bool has, uint64_t v)
{
	if (has)
		fprintf(f, ", \"%s\": %" PRIu64, key, v);
	else
		fprintf(f, ", \"%s\": null", key);
}

static void text_field(FILE *f, const char *key, const char *v)
{
	if (!v)
		return;
	fprintf(f, " %s=", key);
	text_put(f, v);
}

static void print_lost(struct mon *m, const struct mon_ns *ns, uint64_t n)
{
	char t[96];

	time_text(NULL, t, sizeof(t));
	if (m->json) {
		printf("{\"time\": \"%s\", \"kind\": \"lost\", \"count\": %" PRIu64,
		       t, n);
		if (ns->label)
			json_field(stdout, "netns", ns->label);
		fputs("}\n", stdout);
	} else {
		printf("%s lost %" PRIu64 " record%s the kernel could not deliver",
		       t, n, n == 1 ? "" : "s");
		text_field(stdout, "netns", ns->label);
		fputc('\n', stdout);
	}
	m->printed++;
}

static void print_event(struct mon *m, struct mon_ns *ns,
			const struct nflog_pkt *p, const struct log_id *id)
{
	char t[96], src[64], dst[64], pb[8], ib[IF_NAMESIZE + 8],
	     ob[IF_NAMESIZE + 8], cg[4096];
	const char *iif = ifname(ns, p->indev, ib), *oif = ifname(ns, p->outdev, ob);
	const char *proto = p->l3 ? proto_name(p->proto, pb) : NULL;
	const char *verdict = verdict_name(id->verdict), *rule = id->name;
	const char *at = id->at[0] ? id->at : NULL;
	struct attr_result r;
	struct enforced enf = { 0 };
	bool staged = id->kind == LOGPREFIX_STAGED;
	bool has_uid, has_pid;
	uint32_t uid;
	FILE *f = stdout;

	time_text(p, t, sizeof(t));
	src[0] = dst[0] = '\0';
	if (p->l3) {
		addr_text(p, p->src, p->sport, src, sizeof(src));
		addr_text(p, p->dst, p->dport, dst, sizeof(dst));
	}
	attr_lookup(ns->attr, p, id->dir == DIR_OUT, ns->batch, &r);
	has_pid = r.owner == ATTR_FOUND;
	/* the kernel's word on the socket's owner first */
	has_uid = p->has_uid || r.owner == ATTR_FOUND || r.owner == ATTR_NO_PROCESS;
	uid = p->has_uid ? p->uid : r.uid;
	if (r.cgroup)
		snprintf(cg, sizeof(cg), "/%s", r.cgroup);
	if (staged) {
		enforced_rule(ns, p, id, iif, oif, &enf);
		verdict = id->has_other ? verdict_name(id->other) : NULL;
		rule = enf.rule;
		at = enf.at[0] ? enf.at : NULL;
	}
	if (m->json) {
		fprintf(f, "{\"time\": \"%s\", \"kind\": \"%s\", \"dir\": \"%s\"",
			t, kind_name(id->kind), id->dir == DIR_OUT ? "out" : "in");
		json_field(f, "proto", proto);
		json_field(f, "src", p->l3 ? src : NULL);
		json_field(f, "dst", p->l3 ? dst : NULL);
		json_field(f, "verdict", verdict);
		json_field(f, "rule", rule);
		json_field(f, "at", at);
		json_num(f, "uid", has_uid, uid);
		json_num(f, "gid", p->has_gid, p->gid);
		json_num(f, "pid", has_pid, (uint64_t)r.pid);
		json_field(f, "comm", has_pid ? r.comm : NULL);
		json_field(f, "cgroup", r.cgroup ? cg : NULL);
		json_field(f, "iif", iif);
		json_field(f, "oif", oif);
		json_field(f, "owner", owner_name(r.owner));
		if (staged) {
			fputs(", \"staged\": {\"verdict\": ", f);
			json_string(f, verdict_name(id->verdict));
			json_field(f, "rule", id->name);
			json_field(f, "at", id->at[0] ? id->at : NULL);
			fputc('}', f);
		} else {
			fputs(", \"staged\": null", f);
		}
		if (ns->label)
			json_field(f, "netns", ns->label);
		fputs("}\n", f);
	} else {
		fprintf(f, "%s %s %s %s %s -> %s %s ", t, kind_name(id->kind),
			id->dir == DIR_OUT ? "out" : "in", proto ? proto : "-",
			p->l3 ? src : "-", p->l3 ? dst : "-",
			verdict ? verdict : "-");
		text_put(f, rule ? rule : "-");
		if (at) {
			fputs(" (", f);
			text_put(f, at);
			fputc(')', f);
		}
		if (staged) {
			fprintf(f, " staged=%s:", verdict_name(id->verdict));
			text_put(f, id->name);
		}
		if (has_uid)
			fprintf(f, " uid=%" PRIu32, uid);
		if (p->has_gid)
			fprintf(f, " gid=%" PRIu32, p->gid);
		if (has_pid) {
			fprintf(f, " pid=%d comm=", r.pid);
			text_put(f, r.comm);
		} else if (r.owner != ATTR_NONE) {
			fprintf(f, " owner=%s", owner_name(r.owner));
		}
		text_field(f, "cgroup", r.cgroup ? cg : NULL);
		text_field(f, "iif", iif);
		text_field(f, "oif", oif);
		text_field(f, "netns", ns->label);
		fputc('\n', f);
	}
	m->printed++;
}

static int on_record(const struct nflog_pkt *p, uint64_t lost, void *arg)
{
	struct rec_ctx *x = arg;
	struct mon *m = x->m;
	struct log_id id;

	if (lost) {
		print_lost(m, x->ns, lost);
		if (m->limit && m->printed >= m->limit)
			return -ECANCELED;
	}
	/* another program's records on the same group: not ours to name */
	if (logprefix_parse(p->prefix, p->prefix_len, &id) < 0) {
		m->foreign++;
		return 0;
	}
	print_event(m, x->ns, p, &id);
	if (m->limit && m->printed >= m->limit)
		return -ECANCELED;
	return 0;
}

/* A `learned` or `repaired` event of the daemon: passed on as it wrote
 * it, with the namespace added. */
static void on_daemon_event(const char *line, const char *kind, void *arg)
{
	struct rec_ctx *x = arg;

	if (x->m->limit && x->m->printed >= x->m->limit)
		return;
	if (x->m->json) {
		fwrite(line, 1, strlen(line) - 1, stdout);
		if (x->ns->label)
			json_field(stdout, "netns", x->ns->label);
		fputs("}\n", stdout);
	} else {
		/* checked printable by devents */
		printf("%s %s", kind, line);
		text_field(stdout, "netns", x->ns->label);
		fputc('\n', stdout);
	}
	x->m->printed++;
	if (x->m->limit && x->m->printed >= x->m->limit)
		x->m->stop = true;
}

static void poll_daemon(struct mon *m)
{
	static const char *const kinds[] = { "learned", "repaired", NULL };
	size_t k;

	for (k = 0; k < m->n_ns && !m->stop; k++) {
		struct rec_ctx x = { .m = m, .ns = m->ns[k] };

		devents_poll(m->ns[k]->dev, kinds, on_daemon_event, &x);
	}
	fflush(stdout);
}

/* ---- the loop -------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int run(struct mon *m, uint64_t timeout)
{
	struct epoll_event ev, evs[16];
	int ep = -1, sfd = -1, tfd = -1, pfd = -1, ret = 0, n, i;
	sigset_t mask;
	size_t k;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		ret = -errno;
		goto out;
	}
	ev.events = EPOLLIN;
	ev.data.u64 = UINT64_MAX;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	if (timeout) {
		struct itimerspec its = { .it_value.tv_sec = (time_t)timeout };

		tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0) {
			ret = -errno;
			goto out;
		}
		ev.data.u64 = UINT64_MAX - 1;
		epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	}
	/* the daemon's events file, twice a second */
	pfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (pfd >= 0) {
		struct itimerspec its = {
			.it_value.tv_nsec = 500000000,
			.it_interval.tv_nsec = 500000000,
		};

		timerfd_settime(pfd, 0, &its, NULL);
		ev.data.u64 = UINT64_MAX - 2;
		epoll_ctl(ep, EPOLL_CTL_ADD, pfd, &ev);
	}
	for (k = 0; k < m->n_ns; k++) {
		ev.data.u64 = k;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, nflog_fd(m->ns[k]->nf), &ev) < 0) {
			ret = -errno;
			goto out;
		}
	}
	/* Type=notify: ready once every group is bound */
	(void)sd_notify_send("READY=1");
	while (!m->stop) {
		n = epoll_wait(ep, evs, (int)ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		for (i = 0; i < n && !m->stop; i++) {
			uint64_t id = evs[i].data.u64;
			struct rec_ctx x = { .m = m };
			int r;

			if (id == UINT64_MAX - 2) {
				uint64_t ticks;

				if (read(pfd, &ticks, sizeof(ticks)) < 0)
					ticks = 0;
				poll_daemon(m);
				continue;
			}
			if (id >= UINT64_MAX - 1) {
				struct signalfd_siginfo si;

				/* consumed, so that unblocking does not kill */
				if (id == UINT64_MAX)
					while (read(sfd, &si, sizeof(si)) == sizeof(si))
						;
				m->stop = true;
				break;
			}
			x.ns = m->ns[id];
			/* drain what is waiting, a bounded number of reads so
			 * that one busy namespace cannot starve the others */
			for (k = 0; k < 64; k++) {
				x.ns->batch++;
				r = nflog_read(x.ns->nf, on_record, &x);
				if (r == -ECANCELED) {
					m->stop = true;
					break;
				}
				if (r < 0) {
					ret = r;
					m->stop = true;
					break;
				}
				if (r == 0)
					break;
			}
			fflush(stdout);
		}
	}
out:
	fflush(stdout);
	if (tfd >= 0)
		close(tfd);
	if (pfd >= 0)
		close(pfd);
	if (sfd >= 0)
		close(sfd);
	if (ep >= 0)
		close(ep);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	return ret;
}

int monitor_main(struct cli *c)
{
	struct mon m = { .c = c, .json = c->format == FMT_JSON };
	uint64_t group = MON_DEFAULT_GROUP, timeout = 0, rcvbuf = 0, over = 0,
		 bad = 0, dumps = 0, scans = 0;
	struct mon_ns *ns;
	int ret, rc = EXIT_RUNTIME;
	size_t i;

	if (c->n_args) {
		fputs("portwarden: monitor: takes no arguments, only options\nTry 'portwarden monitor --help'.\n",
		      stderr);
		return EXIT_INVALID;
	}
	if (c->netns && c->all_netns) {
		fputs("portwarden: monitor: --netns and --all-netns exclude each other\n",
		      stderr);
		return EXIT_INVALID;
	}
	if ((c->group && parse_u64(c->group, 65535, &group) < 0) ||
	    (c->count && parse_u64(c->count, UINT64_MAX, &m.limit) < 0) ||
	    (c->timeout && (parse_u64(c->timeout, 86400 * 365, &timeout) < 0 ||
			    !timeout)) ||
	    (c->rcvbuf && (parse_u64(c->rcvbuf, INT32_MAX / 2, &rcvbuf) < 0 ||
			   rcvbuf < 4096))) {
		fputs("portwarden: monitor: --group takes 0-65535, --count a number, --timeout seconds (1 or more), --rcvbuf bytes (4096 or more)\nTry 'portwarden monitor --help'.\n",
		      stderr);
		return EXIT_INVALID;
	}
	if (c->all_netns) {
		if (open_all(&m, (uint16_t)group, (int)rcvbuf) < 0)
			goto out;
	} else {
		if (c->netns) {
			ret = netns_enter(c->netns);
			if (ret < 0) {
				fprintf(stderr, "portwarden: monitor: cannot enter network namespace '%s': %s\n",
					c->netns, strerror(-ret));
				goto out;
			}
		}
		if (ns_open(c->netns, (uint16_t)group, (int)rcvbuf, &ns) < 0)
			goto out;
		ns_push(&m, ns);
	}
	ret = run(&m, timeout);
	if (ret < 0) {
		fprintf(stderr, "portwarden: monitor: %s\n", strerror(-ret));
		goto out;
	}
	rc = EXIT_OK;
out:
	for (i = 0; i < m.n_ns; i++) {
		uint64_t d, sc;

		over += nflog_overruns(m.ns[i]->nf);
		bad += nflog_bad(m.ns[i]->nf);
		attr_stats(m.ns[i]->attr, &d, &sc);
		dumps += d;
		scans += sc;
	}
	if (c->verbose && m.n_ns)
		fprintf(stderr, "portwarden: monitor: %" PRIu64 " events, %" PRIu64
			" socket overruns, %" PRIu64 " malformed records, %" PRIu64
			" records of other programs; %" PRIu64 " socket dumps, %"
			PRIu64 " /proc scans\n", m.printed, over, bad, m.foreign,
			dumps, scans);
	for (i = 0; i < m.n_ns; i++)
		ns_free(m.ns[i]);
	free(m.ns);
	return rc;
}
