// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * portwarden learn [--duration SECONDS] [--events FILE] [--by user|cgroup]
 * (SPEC §10): watch the host and print a proposed policy. It never
 * applies anything and changes nothing.
 *
 * Sources:
 *  - sock_diag snapshots every LEARN_INTERVAL_MS for --duration seconds
 *    (one epoll loop over a timerfd and a signalfd: SIGINT or SIGTERM ends
 *    the watch early and the proposal is still printed): listeners with
 *    their processes, established TCP and connected UDP sockets;
 *  - monitor's JSON events (--events FILE: `portwarden monitor --format
 *    json` of a staged or logging policy): the connections it logged;
 *  - the daemon's learned hostnames (SPEC §8): monitor's `learned` events
 *    and the daemon's state files (learn_hostnames()).
 * proposal.c turns what was seen into the policy.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "learn_state.h"
#include "mon_event.h"
#include "netns.h"
#include "procmap.h"
#include "proposal.h"
#include "sockdiag.h"
#include "util.h"

#define LEARN_INTERVAL_MS	200
#define LEARN_MAX_SOCKS		1000000u	/* per snapshot */

enum { TCP_ESTAB = 1, TCP_LISTEN_ST = 10, TCP_CLOSE_ST = 7 };

struct learner {
	struct proposal *prop;
	struct proposal_stats st;
	bool by_cgroup;
	struct sockdiag *sd;
	struct procmap *pm;
	bool pm_fresh;		/* built during this snapshot */
	struct cidr *local;	/* this host's addresses */
	size_t n_local;
	unsigned int eph_lo, eph_hi;
	struct sock_info *socks;	/* one snapshot */
	size_t n_socks, cap_socks;
	unsigned long too_many;
	unsigned long names;	/* addresses named by `learned` events */
	char names_text[160];
	/* listening ports seen (proto, port): bit sets */
	uint8_t listening[2][65536 / 8];
	char owner[4200];
};

static int learn_usage(const char *fmt, const char *arg)
{
	char *esc = text_escape(arg);	/* a word from the command line */

	fputs("portwarden: learn: ", stderr);
	fprintf(stderr, fmt, esc);
	free(esc);
	fputs("\nusage: portwarden learn [--duration SECONDS] [--events FILE] [--by user|cgroup]\n",
	      stderr);
	return EXIT_INVALID;
}

/* ::ffff:a.b.c.d is a.b.c.d */
static void sock_addr(uint8_t family, const uint8_t *a, struct cidr *c)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(c, 0, sizeof(*c));
	if (family == AF_INET6 && !memcmp(a, mapped, 12)) {
		c->family = 4;
		memcpy(c->addr, a + 12, 4);
	} else if (family == AF_INET6) {
		c->family = 6;
		memcpy(c->addr, a, 16);
	} else {
		c->family = 4;
		memcpy(c->addr, a, 4);
	}
	c->plen = c->family == 4 ? 32 : 128;
}

static bool is_local(const struct learner *l, const struct cidr *c)
{
	size_t i;

	if (cidr_is_loopback(c))
		return true;
	for (i = 0; i < l->n_local; i++)
		if (l->local[i].family == c->family &&
		    !memcmp(l->local[i].addr, c->addr, c->family == 4 ? 4 : 16))
			return true;
	return false;
}

static void load_local_addrs(struct learner *l)
{
	struct ifaddrs *ifa, *i;
	size_t cap = 0;

	if (getifaddrs(&ifa) < 0)
		return;
	for (i = ifa; i; i = i->ifa_next) {
		struct cidr *c;

		if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET &&
				     i->ifa_addr->sa_family != AF_INET6))
			continue;
		c = ARRAY_PUSH(l->local, l->n_local, cap);
		if (i->ifa_addr->sa_family == AF_INET)
			sock_addr(AF_INET, (const uint8_t *)
				  &((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, c);
		else
			sock_addr(AF_INET6, ((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr.s6_addr, c);
	}
	freeifaddrs(ifa);
}

static int collect(const struct sock_info *s, void *arg)
{
	struct learner *l = arg;

	if (l->n_socks >= LEARN_MAX_SOCKS) {
		l->too_many++;
		return 0;
	}
	*ARRAY_PUSH(l->socks, l->n_socks, l->cap_socks) = *s;
	return 0;
}

static int pidx(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 0 : 1;
}

static bool listening(const struct learner *l, uint8_t proto, uint16_t port)
{
	return l->listening[pidx(proto)][port / 8] & (1u << (port % 8));
}

static bool is_listener(const struct learner *l, const struct sock_info *s)
{
	if (s->proto == IPPROTO_TCP)
		return s->state == TCP_LISTEN_ST;
	/* an unconnected bound UDP socket on a port outside the ephemeral
	 * range: a service; on an ephemeral port, a client's */
	return s->state == TCP_CLOSE_ST && s->sport && !s->dport &&
	       (s->sport < l->eph_lo || s->sport > l->eph_hi);
}

static const char *comm_of(struct learner *l, uint64_t inode)
{
	const struct proc_info *pi;
	size_t it = 0;

	if (!inode)
		return NULL;
	if (!l->pm || (!(pi = procmap_next(l->pm, inode, &it)) && !l->pm_fresh)) {
		procmap_free(l->pm);
		l->pm = NULL;
		if (procmap_build(&l->pm, "/proc") < 0)
			return NULL;
		l->pm_fresh = true;
		it = 0;
		pi = procmap_next(l->pm, inode, &it);
	}
	return pi ? pi->comm : NULL;
}

/* "user:NAME" (or the number), or "cgroup:PATH" with --by cgroup */
static const char *owner_of(struct learner *l, uint32_t uid, uint64_t cgroup_id,
			    const char *cgroup)
{
	struct passwd *pw;

	if (l->by_cgroup) {
		const char *path = cgroup && *cgroup ? cgroup : NULL;

		if (!path && cgroup_id && (l->pm || procmap_build(&l->pm, "/proc") == 0) &&
		    procmap_cgroup_path(l->pm, NULL, cgroup_id, &path) < 0)
			path = NULL;
		if (path && *path) {
			snprintf(l->owner, sizeof(l->owner), "cgroup:%s", path);
			return l->owner;
		}
	}
	pw = getpwuid(uid);
	if (pw)
		snprintf(l->owner, sizeof(l->owner), "user:%s", pw->pw_name);
	else
		snprintf(l->owner, sizeof(l->owner), "user:%u", uid);
	return l->owner;
}

static int snapshot(struct learner *l)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const uint8_t fams[] = { AF_INET, AF_INET6 };
	time_t now = time(NULL);
	size_t i, k;
	int ret;

	l->n_socks = 0;
	l->pm_fresh = false;
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		for (k = 0; k < ARRAY_SIZE(fams); k++) {
			ret = sockdiag_dump(l->sd, protos[i], fams[k], collect, l);
			if (ret < 0)
				return ret;
		}
	l->st.snapshots++;
	l->st.sockets += l->n_socks;
	/* listeners first: they say which established sockets are inbound */
	for (i = 0; i < l->n_socks; i++) {
		const struct sock_info *s = &l->socks[i];
		struct cidr a;

		if (!is_listener(l, s))
			continue;
		sock_addr(s->family, s->src, &a);
		if (cidr_is_loopback(&a))
			continue;	/* reachable from this host only */
		l->listening[pidx(s->proto)][s->sport / 8] |= (uint8_t)(1u << (s->sport % 8));
		proposal_listener(l->prop, s->proto, &a, s->sport,
				  comm_of(l, s->inode), now);
	}
	for (i = 0; i < l->n_socks; i++) {
		const struct sock_info *s = &l->socks[i];
		struct cidr local, remote;

		if (s->state != TCP_ESTAB || !s->dport)
			continue;
		sock_addr(s->family, s->src, &local);
		sock_addr(s->family, s->dst, &remote);
		if (cidr_is_loopback(&local) || is_local(l, &remote))
			continue;	/* on lo: loopback: true accepts it */
		if (listening(l, s->proto, s->sport))
			proposal_flow(l->prop, DIR_IN, s->proto, &remote, s->sport,
				      s->dport, NULL, now);
		else
			proposal_flow(l->prop, DIR_OUT, s->proto, &remote, s->dport,
				      s->sport, owner_of(l, s->uid, s->cgroup_id, NULL),
				      now);
	}
	return 0;
}

/* "A.B.C.D:PORT" or "[V6]:PORT" */
static int parse_addr_port(const char *s, struct cidr *c, uint16_t *port)
{
	char buf[64];
	const char *colon;
	char *e;
	long v;

	if (*s == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof(buf))
			return -EINVAL;
		memcpy(buf, s + 1, (size_t)(end - s - 1));
		buf[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof(buf) || memchr(s, ':', (size_t)(colon - s)))
			return -EINVAL;
		memcpy(buf, s, (size_t)(colon - s));
		buf[colon - s] = '\0';
	}
	if (strchr(buf, '/') || cidr_parse(buf, c, NULL) < 0)
		return -EINVAL;
	errno = 0;
	v = strtol(colon + 1, &e, 10);
	if (!colon[1] || *e || errno || v < 1 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static bool hostname_ok(const char *s)
{
	size_t n = strlen(s);

	return n && n <= 253 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
				       "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == n;
}

/* a `learned` event (SPEC §9): the daemon's name for each address */
static int learn_names(struct learner *l, const struct mon_event *ev)
{
	struct cidr a;
	size_t i;

	if (!hostname_ok(ev->name) || !ev->n_addrs)
		return -EINVAL;
	for (i = 0; i < ev->n_addrs; i++) {
		if (strchr(ev->addrs[i], '/') || cidr_parse(ev->addrs[i], &a, NULL) < 0)
			return -EINVAL;
		proposal_hostname(l->prop, &a, ev->name);
		l->names++;
	}
	return 0;
}

/* one monitor event; -EINVAL when it is not a connection learn can use */
static int learn_event(struct learner *l, const struct mon_event *ev)
{
	struct cidr src, dst;
	uint16_t sport, dport;
	uint8_t proto;
	time_t when = ev->has_time ? ev->time : time(NULL);

	if (!strcmp(ev->kind, "learned"))
		return learn_names(l, ev);
	if (strcmp(ev->kind, "denied") && strcmp(ev->kind, "logged") &&
	    strcmp(ev->kind, "staged"))
		return 1;	/* not a packet: lost, learned, repaired, ... */
	if (!strcmp(ev->proto, "tcp"))
		proto = IPPROTO_TCP;
	else if (!strcmp(ev->proto, "udp"))
		proto = IPPROTO_UDP;
	else
		return 1;	/* ICMP and others: the built-ins decide them */
	if (parse_addr_port(ev->src, &src, &sport) < 0 ||
	    parse_addr_port(ev->dst, &dst, &dport) < 0)
		return -EINVAL;
	src.plen = src.family == 4 ? 32 : 128;
	dst.plen = dst.family == 4 ? 32 : 128;
	if (!strcmp(ev->dir, "out")) {
		if (is_local(l, &dst))
			return 1;
		if (!ev->has_uid && !(l->by_cgroup && ev->cgroup[0]))
			return 1;	/* no owner: the rule could not name one */
		proposal_flow(l->prop, DIR_OUT, proto, &dst, dport, sport,
			      owner_of(l, ev->has_uid ? ev->uid : 0, 0, ev->cgroup), when);
	} else if (!strcmp(ev->dir, "in")) {
		if (cidr_is_loopback(&src))
			return 1;
		/* the listener that would have received it (monitor names it) */
		if (ev->comm[0])
			proposal_listener(l->prop, proto, &dst, dport, ev->comm, when);
		proposal_flow(l->prop, DIR_IN, proto, &src, dport, sport, NULL, when);
	} else {
		return -EINVAL;
	}
	return 0;
}

static int read_events(struct learner *l, const char *path)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct mon_event ev;
	int ret;

	if (!f)
		return -errno;
	while ((n = getline(&line, &cap, f)) >= 0) {
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			n--;
		if (!n)
			continue;
		l->st.events++;
		if (mon_event_parse(line, (size_t)n, &ev) < 0) {
			l->st.events_bad++;
			continue;
		}
		ret = learn_event(l, &ev);
		if (ret < 0)
			l->st.events_bad++;
		else if (ret == 0)
			l->st.events_used++;
		if (ev.has_time && (!l->st.start || ev.time < l->st.start))
			l->st.start = ev.time;
	}
	free(line);
	fclose(f);
	return 0;
}

/* one line of the daemon's learned-address file */
static void learned_line(void *ctx, const struct learned_addr *a)
{
	struct learner *l = ctx;
	struct cidr c = { .family = (uint8_t)a->family,
			  .plen = a->family == 4 ? 32 : 128 };

	memcpy(c.addr, a->addr, a->family == 4 ? 4 : 16);
	proposal_hostname(l->prop, &c, a->name);
	l->names++;
}

/*
 * The daemon's learned hostnames (SPEC §8) come from two places: `learned`
 * events in --events (learn_names()), and the daemon's state files,
 * STATE_DIR/learned-TABLE (or $PORTWARDEN_STATE_DIR), read here with the
 * daemon's own checked reader. Each names its addresses in the proposal.
 */
static const char *learn_hostnames(struct learner *l)
{
	const char *dir = getenv(STATE_DIR_ENV);
	unsigned long files = 0, bad = 0;
	DIR *d;
	struct dirent *e;

	if (!dir || !*dir)
		dir = STATE_DIR;
	d = opendir(dir);
	while (d && (e = readdir(d)) && files < 64) {
		char *path;
		size_t b = 0;

		if (strncmp(e->d_name, "learned-", 8) ||
		    (strlen(e->d_name) > 4 &&
		     !strcmp(e->d_name + strlen(e->d_name) - 4, ".tmp")))
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (learn_state_read(path, learned_line, l, &b) >= 0)
			files++;
		bad += b;
		free(path);
	}
	if (d)
		closedir(d);
	snprintf(l->names_text, sizeof(l->names_text),
		 "%lu address%s named (learned events, %lu daemon state file%s%s), shown as comments",
		 l->names, l->names == 1 ? "" : "es", files, files == 1 ? "" : "s",
		 bad ? "; unreadable lines skipped" : "");
	return l->names_text;
}

static int watch(struct learner *l, long duration)
{
	struct itimerspec tick = {
		.it_interval = { 0, LEARN_INTERVAL_MS * 1000000L },
		.it_value = { 0, LEARN_INTERVAL_MS * 1000000L },
	};
	struct itimerspec end = { .it_value = { duration, 0 } };
	int ep = -1, tfd = -1, efd = -1, sfd = -1, ret = 0;
	struct epoll_event ev;
	sigset_t mask;
	bool done = false;

	ret = snapshot(l);
	if (ret < 0 || duration <= 0)
		return ret;
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ep = epoll_create1(EPOLL_CLOEXEC);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	efd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (ep < 0 || tfd < 0 || efd < 0 || sfd < 0 ||
	    timerfd_settime(tfd, 0, &tick, NULL) < 0 ||
	    timerfd_settime(efd, 0, &end, NULL) < 0) {
		ret = -errno;
		goto out;
	}
	ev = (struct epoll_event){ .events = EPOLLIN, .data.fd = tfd };
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	ev.data.fd = efd;
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	ev.data.fd = sfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	while (!done) {
		struct epoll_event evs[3];
		int n = epoll_wait(ep, evs, 3, -1), i;
		uint64_t x;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd == tfd) {
				if (read(tfd, &x, sizeof(x)) < 0)
					continue;
				ret = snapshot(l);
				if (ret < 0)
					done = true;
			} else {
				done = true;	/* the end, or a signal */
			}
		}
	}
	if (!ret)
		ret = snapshot(l);	/* the last moment too */
out:
	if (ep >= 0)
		close(ep);
	if (tfd >= 0)
		close(tfd);
	if (efd >= 0)
		close(efd);
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	return ret;
}

int learn_main(struct cli *c)
{
	struct learner l = { .eph_lo = 32768, .eph_hi = 60999 };
	long duration = 60;
	char *e;
	int ret, rc = EXIT_OK;

	if (c->n_args)
		return learn_usage("takes no policy or other argument: '%s'", c->args[0]);
	if (c->format != FMT_TEXT)
		return learn_usage("%s", "prints a policy (YAML): --format is text only");
	if (c->duration) {
		errno = 0;
		duration = strtol(c->duration, &e, 10);
		if (errno || !*c->duration || *e || duration < 0 || duration > 86400 * 7)
			return learn_usage("--duration is a number of seconds from 0 to 604800, not '%s'",
					   c->duration);
	}
	if (c->by && strcmp(c->by, "user") && strcmp(c->by, "cgroup"))
		return learn_usage("--by is 'user' or 'cgroup', not '%s'", c->by);
	l.by_cgroup = c->by && !strcmp(c->by, "cgroup");
	if (c->netns && (ret = netns_enter(c->netns)) < 0) {
		fprintf(stderr, "portwarden: learn: cannot enter network namespace %s: %s\n",
			c->netns, strerror(-ret));
		return EXIT_RUNTIME;
	}
	netns_local_port_range(&l.eph_lo, &l.eph_hi);
	load_local_addrs(&l);
	l.prop = proposal_new();
	l.st.start = time(NULL);
	if (c->events) {
		ret = read_events(&l, c->events);
		if (ret < 0) {
			char *esc = text_escape(c->events);

			fprintf(stderr, "portwarden: learn: cannot read %s: %s\n",
				esc, strerror(-ret));
			free(esc);
			rc = EXIT_RUNTIME;
			goto out;
		}
	}
	l.st.hostnames = learn_hostnames(&l);
	ret = sockdiag_open(&l.sd, NULL);
	if (!ret)
		ret = watch(&l, duration);
	if (ret < 0) {
		fprintf(stderr, "portwarden: learn: cannot read the socket table: %s\n",
			strerror(-ret));
		rc = EXIT_RUNTIME;
		goto out;
	}
	l.st.end = time(NULL);
	if (l.too_many)
		fprintf(stderr, "portwarden: learn: %lu sockets beyond %u a snapshot were not looked at\n",
			l.too_many, LEARN_MAX_SOCKS);
	if (c->verbose)
		fprintf(stderr, "portwarden: learn: %lu snapshots, %lu sockets, %lu of %lu events used\n",
			l.st.snapshots, l.st.sockets, l.st.events_used, l.st.events);
	if (proposal_write(l.prop, &l.st, stdout) < 0 || fflush(stdout))
		rc = EXIT_RUNTIME;
out:
	sockdiag_close(l.sd);
	procmap_free(l.pm);
	proposal_free(l.prop);
	free(l.socks);
	free(l.local);
	return rc;
}
