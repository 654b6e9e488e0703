// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's loop: epoll over a signalfd, timerfds and the sources other
 * modules add (ulogd2 and conntrackd are the models: one loop, no
 * threads), and its event lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "daemon.h"
#include "model.h"
#include "policy.h"
#include "sdnotify.h"
#include "state.h"
#include "util.h"

#define EVENTS_FILE_MAX	(1024 * 1024)
#define OWN_GENS	16

struct source {
	int fd;
	bool timer;		/* the daemon owns fd, a timerfd */
	daemon_fn fn;
	void *ctx;
	struct source *next;
};

struct hook {
	daemon_fn fn;
	void *ctx;
};

struct daemon {
	int epfd, sigfd;
	bool json;
	bool stop;
	int stop_err;
	sigset_t oldmask;
	struct source *sources;		/* every source ever added */
	struct source **timers;		/* by timer id */
	size_t n_timers, cap_timers;
	struct hook *reload, *exit, *repair;
	size_t n_reload, cap_reload, n_exit, cap_exit, n_repair, cap_repair;
	struct policy *policy;
	struct model *model;
	uint32_t own[OWN_GENS];		/* daemon_mark_own(), a ring */
	size_t n_own;
	int events_fd;			/* RUN_DIR/net-INODE/events, or -1 */
};

double daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void events_file_open(struct daemon *d)
{
	char dir[256], *path;

	d->events_fd = -1;
	if (safe_state_dir(dir, sizeof(dir)) < 0)
		return;
	path = xasprintf("%s/events", dir);
	d->events_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
			    O_NOFOLLOW, 0600);
	free(path);
}

int daemon_new(struct daemon **out, bool json)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;
	int ret;

	d->json = json;
	d->sigfd = -1;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0) {
		ret = -errno;
		goto fail;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, &d->oldmask);
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0) {
		ret = -errno;
		goto fail;
	}
	ev.data.ptr = NULL;	/* NULL: the signalfd */
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev) < 0) {
		ret = -errno;
		goto fail;
	}
	events_file_open(d);
	*out = d;
	return 0;
fail:
	daemon_free(d);
	return ret;
}

void daemon_free(struct daemon *d)
{
	struct source *s, *next;

	if (!d)
		return;
	for (s = d->sources; s; s = next) {
		next = s->next;
		if (s->timer && s->fd >= 0)
			close(s->fd);
		free(s);
	}
	if (d->sigfd >= 0) {
		close(d->sigfd);
		sigprocmask(SIG_SETMASK, &d->oldmask, NULL);
	}
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->events_fd >= 0)
		close(d->events_fd);
	free(d->timers);
	free(d->reload);
	free(d->exit);
	free(d->repair);
	model_free(d->model);
	policy_free(d->policy);
	free(d);
}

static struct source *source_add(struct daemon *d, int fd, bool timer,
				 daemon_fn fn, void *ctx, int *err)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct source *s = xcalloc(1, sizeof(*s));

	s->fd = fd;
	s->timer = timer;
	s->fn = fn;
	s->ctx = ctx;
	ev.data.ptr = s;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		*err = -errno;
		free(s);
		return NULL;
	}
	s->next = d->sources;
	d->sources = s;
	return s;
}

int daemon_add_source(struct daemon *d, int fd, daemon_fn on_ready, void *ctx)
{
	int err = 0;

	return source_add(d, fd, false, on_ready, ctx, &err) ? 0 : err;
}

void daemon_remove_source(struct daemon *d, int fd)
{
	struct source *s;

	for (s = d->sources; s; s = s->next)
		if (!s->timer && s->fd == fd) {
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
			s->fd = -1;	/* freed with the daemon */
			s->fn = NULL;
		}
}

int daemon_timer_arm(struct daemon *d, int id, uint64_t first_ms,
		     uint64_t interval_ms)
{
	struct itimerspec its = {
		.it_value = { (time_t)(first_ms / 1000),
			      (long)(first_ms % 1000) * 1000000L },
		.it_interval = { (time_t)(interval_ms / 1000),
				 (long)(interval_ms % 1000) * 1000000L },
	};

	if (id < 0 || (size_t)id >= d->n_timers)
		return -EINVAL;
	if (timerfd_settime(d->timers[id]->fd, 0, &its, NULL) < 0)
		return -errno;
	return 0;
}

int daemon_add_timer(struct daemon *d, uint64_t first_ms, uint64_t interval_ms,
		     daemon_fn fn, void *ctx)
{
	struct source *s;
	int fd, err = 0;

	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	s = source_add(d, fd, true, fn, ctx, &err);
	if (!s) {
		close(fd);
		return err;
	}
	d->timers = grow_array(d->timers, &d->cap_timers, d->n_timers + 1,
			       sizeof(*d->timers));
	d->timers[d->n_timers] = s;
	d->n_timers++;
	err = daemon_timer_arm(d, (int)d->n_timers - 1, first_ms, interval_ms);
	return err < 0 ? err : (int)d->n_timers - 1;
}

static void hook_add(struct hook **v, size_t *n, size_t *cap, daemon_fn fn,
		     void *ctx)
{
	*v = grow_array(*v, cap, *n + 1, sizeof(**v));
	(*v)[*n].fn = fn;
	(*v)[*n].ctx = ctx;
	++*n;
}

void daemon_on_reload(struct daemon *d, daemon_fn fn, void *ctx)
{
	hook_add(&d->reload, &d->n_reload, &d->cap_reload, fn, ctx);
}

void daemon_on_exit(struct daemon *d, daemon_fn fn, void *ctx)
{
	hook_add(&d->exit, &d->n_exit, &d->cap_exit, fn, ctx);
}

void daemon_on_repair(struct daemon *d, daemon_fn fn, void *ctx)
{
	hook_add(&d->repair, &d->n_repair, &d->cap_repair, fn, ctx);
}

static int run_hooks(struct daemon *d, const struct hook *h, size_t n);

int daemon_repaired(struct daemon *d)
{
	return run_hooks(d, d->repair, d->n_repair);
}

void daemon_set_policy(struct daemon *d, struct policy *p, struct model *m)
{
	if (d->policy != p)
		policy_free(d->policy);
	if (d->model != m)
		model_free(d->model);
	d->policy = p;
	d->model = m;
}

const struct policy *daemon_policy(const struct daemon *d)
{
	return d->policy;
}

const struct model *daemon_model(const struct daemon *d)
{
	return d->model;
}

void daemon_mark_own(struct daemon *d, uint32_t gen)
{
	d->own[d->n_own++ % OWN_GENS] = gen;
}

bool daemon_is_own(const struct daemon *d, uint32_t gen)
{
	size_t i, n = d->n_own < OWN_GENS ? d->n_own : OWN_GENS;

	for (i = 0; i < n; i++)
		if (d->own[i] == gen && gen)
			return true;
	return false;
}

void daemon_stop(struct daemon *d, int err)
{
	d->stop = true;
	if (err && !d->stop_err)
		d->stop_err = err;
}

static int run_hooks(struct daemon *d, const struct hook *h, size_t n)
{
	size_t i;
	int ret, first = 0;

	for (i = 0; i < n; i++) {
		ret = h[i].fn(h[i].ctx, d);
		if (ret < 0 && !first)
			first = ret;
	}
	return first;
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;
	int ret;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sd_notify_send("RELOADING=1");
			ret = run_hooks(d, d->reload, d->n_reload);
			if (ret < 0)
				daemon_event(d, "reload-failed",
					     "reload failed: %s; the table stays as it was",
					     strerror(-ret));
			sd_notify_send("READY=1");
		} else {
			daemon_stop(d, 0);
		}
	}
}

int daemon_run(struct daemon *d)
{
	struct epoll_event evs[16];
	struct source *s;
	uint64_t ticks;
	int i, n, ret;

	while (!d->stop) {
		n = epoll_wait(d->epfd, evs, (int)ARRAY_SIZE(evs), -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			daemon_stop(d, -errno);
			break;
		}
		for (i = 0; i < n && !d->stop; i++) {
			s = evs[i].data.ptr;
			if (!s) {
				on_signal(d);
				continue;
			}
			if (!s->fn)
				continue;	/* removed meanwhile */
			if (s->timer &&
			    read(s->fd, &ticks, sizeof(ticks)) != sizeof(ticks))
				continue;	/* re-armed meanwhile */
			ret = s->fn(s->ctx, d);
			if (ret < 0)
				daemon_stop(d, ret);
		}
	}
	sd_notify_send("STOPPING=1");
	ret = run_hooks(d, d->exit, d->n_exit);
	return d->stop_err ? d->stop_err : ret;
}

/* ---- events ---- */

struct daemon_ev {
	struct daemon *d;
	char *text, *json;
	size_t tlen, tcap, jlen, jcap;
};

static void buf_add(char **b, size_t *len, size_t *cap, const char *s, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*b = xrealloc(*b, *cap);
	}
	memcpy(*b + *len, s, n);
	*len += n;
	(*b)[*len] = '\0';
}

static void ev_t(struct daemon_ev *e, const char *s)
{
	buf_add(&e->text, &e->tlen, &e->tcap, s, strlen(s));
}

static void ev_j(struct daemon_ev *e, const char *s)
{
	buf_add(&e->json, &e->jlen, &e->jcap, s, strlen(s));
}

/* @s as a JSON string: control bytes and bytes >= 0x7f as \u00NN, so a
 * process name someone chose never breaks the line or the terminal. */
static void ev_jstr(struct daemon_ev *e, const char *s)
{
	char u[8];

	ev_j(e, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			u[0] = '\\';
			u[1] = (char)c;
			u[2] = '\0';
			ev_j(e, u);
		} else if (c < 0x20 || c >= 0x7f) {
			snprintf(u, sizeof(u), "\\u%04x", c);
			ev_j(e, u);
		} else {
			buf_add(&e->json, &e->jlen, &e->jcap, (const char *)&c, 1);
		}
	}
	ev_j(e, "\"");
}

/* @s for the text line: bare when it is one plain word, else quoted;
 * control bytes, bytes >= 0x7f, '"' and '\' escaped as \xNN. */
static void ev_tstr(struct daemon_ev *e, const char *s)
{
	bool bare = *s != '\0';
	const char *p;
	char x[8];

	for (p = s; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f ||
		    *p == '"' || *p == '\\' || *p == '=')
			bare = false;
	if (!bare)
		ev_t(e, "\"");
	for (p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') {
			snprintf(x, sizeof(x), "\\x%02x", c);
			ev_t(e, x);
		} else {
			buf_add(&e->text, &e->tlen, &e->tcap, (const char *)&c, 1);
		}
	}
	if (!bare)
		ev_t(e, "\"");
}

struct daemon_ev *daemon_ev_begin(struct daemon *d, const char *kind)
{
	struct daemon_ev *e = xcalloc(1, sizeof(*e));
	struct timespec ts;
	struct tm tm;
	char when[64];

	e->d = d;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + strlen(when), sizeof(when) - strlen(when), ".%06ldZ",
		 ts.tv_nsec / 1000);
	ev_t(e, when);
	ev_t(e, " ");
	ev_t(e, kind);
	ev_j(e, "{\"time\": \"");
	ev_j(e, when);
	ev_j(e, "\", \"kind\": ");
	ev_jstr(e, kind);
	return e;
}

static void ev_key(struct daemon_ev *e, const char *key)
{
	ev_t(e, " ");
	ev_t(e, key);
	ev_t(e, "=");
	ev_j(e, ", ");
	ev_jstr(e, key);
	ev_j(e, ": ");
}

void daemon_ev_str(struct daemon_ev *e, const char *key, const char *val)
{
	ev_key(e, key);
	if (!val) {
		ev_t(e, "-");
		ev_j(e, "null");
		return;
	}
	ev_tstr(e, val);
	ev_jstr(e, val);
}

void daemon_ev_int(struct daemon_ev *e, const char *key, long long val)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", val);
	ev_key(e, key);
	ev_t(e, n);
	ev_j(e, n);
}

void daemon_ev_num(struct daemon_ev *e, const char *key, double val)
{
	char n[48];

	snprintf(n, sizeof(n), "%.3f", val);
	ev_key(e, key);
	ev_t(e, n);
	ev_j(e, n);
}

void daemon_ev_bool(struct daemon_ev *e, const char *key, bool val)
{
	ev_key(e, key);
	ev_t(e, val ? "true" : "false");
	ev_j(e, val ? "true" : "false");
}

static void write_line(int fd, const char *s, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, s, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* nobody reads stderr: not fatal */
		s += n;
		len -= (size_t)n;
	}
}

void daemon_ev_end(struct daemon_ev *e)
{
	struct daemon *d = e->d;
	struct stat st;

	ev_t(e, "\n");
	ev_j(e, "}\n");
	/* one write(2) per line, past stdio: lines of a daemon and of the
	 * tools that share its stderr never interleave mid-line */
	if (d->json)
		write_line(STDERR_FILENO, e->json, e->jlen);
	else
		write_line(STDERR_FILENO, e->text, e->tlen);
	if (d->events_fd >= 0) {
		if (fstat(d->events_fd, &st) == 0 && st.st_size > EVENTS_FILE_MAX)
			if (ftruncate(d->events_fd, 0) < 0)
				st.st_size = 0;
		write_line(d->events_fd, e->json, e->jlen);
	}
	free(e->text);
	free(e->json);
	free(e);
}

void daemon_event(struct daemon *d, const char *kind, const char *fmt, ...)
{
	struct daemon_ev *e = daemon_ev_begin(d, kind);
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = xvasprintf(fmt, ap);
	va_end(ap);
	daemon_ev_str(e, "message", msg);
	free(msg);
	daemon_ev_end(e);
}
