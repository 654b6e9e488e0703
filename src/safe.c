// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Safe operations around apply (see safe.h): the run lock, the state saved
 * before each apply, rollback, the confirm timer and the lock-out guard.
 *
 * Every state change happens under the run lock, and every file is
 * replaced whole (temp file, fsync, rename), so a reader sees the old
 * state or the new one. The kernel side is atomic anyway (one batch per
 * transaction); the state written before it says SAFE_APPLYING, and
 * rollback decides what really happened by comparing the live table with
 * the two saved ones, so a crash at any point leaves something rollback
 * can reason about.
 */
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "cli.h"
#include "eval.h"
#include "model_io.h"
#include "safe.h"
#include "sockdiag.h"
#include "util.h"

#define STATE_FILE	"state"
#define PENDING_FILE	"pending"
#define PREV_FILE	".state.prev"	/* the record before a running apply */

int run_lock(void)
{
	int fd;

	if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(RUN_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

void run_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

int safe_state_dir(char *buf, size_t len)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st) < 0)
		return -errno;
	if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	if ((size_t)snprintf(buf, len, RUN_DIR "/net-%llu",
			     (unsigned long long)st.st_ino) >= len)
		return -ENAMETOOLONG;
	if (mkdir(buf, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* ---- files ------------------------------------------------------------ */

typedef int (*write_fn)(FILE *f, const void *arg);

/* Replace @dir/@name whole: a temp file in the same directory, synced,
 * renamed over the old one. */
static int write_atomic(const char *dir, const char *name, write_fn fn,
			const void *arg)
{
	char *tmp = xasprintf("%s/.%s.%ld", dir, name, (long)getpid());
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = NULL;
	int fd, ret;

	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		ret = -errno;
		goto out;
	}
	f = fdopen(fd, "w");
	if (!f) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	ret = fn(f, arg);
	if (ret < 0)
		goto fail;
	if (fflush(f) == EOF || fsync(fileno(f)) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = fclose(f);
	f = NULL;
	if (ret) {
		ret = -EIO;
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		ret = -errno;
		goto fail;
	}
	ret = 0;
	goto out;
fail:
	if (f)
		fclose(f);
	unlink(tmp);
out:
	free(tmp);
	free(path);
	return ret;
}

static FILE *open_in(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "re");

	free(path);
	return f;
}

static const char *const status_names[] = {
	[SAFE_APPLYING] = "applying",
	[SAFE_APPLIED] = "applied",
	[SAFE_ROLLED_BACK] = "rolled-back",
};

void safe_state_free(struct safe_state *st)
{
	if (!st)
		return;
	free(st->table);
	model_free(st->previous);
	model_free(st->applied);
	free(st);
}

static int state_write(FILE *f, const void *arg)
{
	const struct safe_state *st = arg;
	int ret;

	fprintf(f, "portwarden-state 1\ngeneration %" PRIu64 "\nstatus %s\n"
		"by-timer %d\ntime %" PRId64 "\ntable %s\n",
		st->generation, status_names[st->status], st->by_timer ? 1 : 0,
		st->time, st->table);
	if (st->kernel_gen)
		fprintf(f, "kernel-generation %" PRIu32 " %" PRIu64 "\n",
			st->kernel_gen, st->netns_cookie);
	if (!st->previous) {
		fputs("previous absent\n", f);
	} else {
		fputs("previous\n", f);
		ret = model_write(st->previous, f);
		if (ret < 0)
			return ret;
	}
	fputs("applied\n", f);
	ret = model_write(st->applied, f);
	if (ret < 0)
		return ret;
	return ferror(f) ? -EIO : 0;
}

int safe_state_save(const char *dir, const struct safe_state *st)
{
	if (!st->table || !st->applied || strpbrk(st->table, "\n\r") ||
	    (unsigned int)st->status >= ARRAY_SIZE(status_names))
		return -EINVAL;
	return write_atomic(dir, STATE_FILE, state_write, st);
}

/* Does the line in @buf read "KEY" or "KEY VALUE"? @val: the VALUE. */
static int kv_key(const char *buf, const char *key, const char **val)
{
	size_t klen = strlen(key);

	if (strncmp(buf, key, klen))
		return -EINVAL;
	if (buf[klen] == '\0') {
		*val = buf + klen;
		return 0;
	}
	if (buf[klen] != ' ')
		return -EINVAL;
	*val = buf + klen + 1;
	return 0;
}

/* Read one "KEY VALUE" line into @buf and @val (owned by @buf); on a
 * line with another key, -EINVAL with the line left in @buf. */
static int read_kv(FILE *f, char **buf, size_t *cap, const char *key,
		   const char **val)
{
	ssize_t n;

	n = getline(buf, cap, f);
	if (n < 0)
		return ferror(f) ? -EIO : -EINVAL;
	if (n > 0 && (*buf)[n - 1] == '\n')
		(*buf)[--n] = '\0';
	return kv_key(*buf, key, val);
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno || !*s || *end ? -EINVAL : 0;
}

int safe_state_load(const char *dir, struct safe_state **out)
{
	struct safe_state *st = NULL;
	char *buf = NULL;
	const char *v;
	size_t cap = 0, i;
	uint64_t u;
	FILE *f;
	int ret;

	*out = NULL;
	f = open_in(dir, STATE_FILE);
	if (!f)
		return -errno;
	st = xcalloc(1, sizeof(*st));
	ret = read_kv(f, &buf, &cap, "portwarden-state", &v);
	if (ret < 0 || strcmp(v, "1"))
		goto bad;
	if (read_kv(f, &buf, &cap, "generation", &v) < 0 ||
	    parse_u64(v, &st->generation) < 0)
		goto bad;
	if (read_kv(f, &buf, &cap, "status", &v) < 0)
		goto bad;
	for (i = 0; i < ARRAY_SIZE(status_names); i++)
		if (!strcmp(v, status_names[i]))
			break;
	if (i == ARRAY_SIZE(status_names))
		goto bad;
	st->status = (enum safe_status)i;
	if (read_kv(f, &buf, &cap, "by-timer", &v) < 0 ||
	    parse_u64(v, &u) < 0 || u > 1)
		goto bad;
	st->by_timer = u == 1;
	if (read_kv(f, &buf, &cap, "time", &v) < 0 ||
	    parse_i64(v, &st->time) < 0)
		goto bad;
	if (read_kv(f, &buf, &cap, "table", &v) < 0 || !*v)
		goto bad;
	st->table = xstrdup(v);
	/* optional (newer files): "kernel-generation GEN COOKIE" */
	if (read_kv(f, &buf, &cap, "kernel-generation", &v) == 0) {
		char *sp = strchr(v, ' ');

		if (!sp)
			goto bad;
		*sp = '\0';
		if (parse_u64(v, &u) < 0 || !u || u > UINT32_MAX ||
		    parse_u64(sp + 1, &st->netns_cookie) < 0)
			goto bad;
		st->kernel_gen = (uint32_t)u;
		if (read_kv(f, &buf, &cap, "previous", &v) < 0)
			goto bad;
	} else if (kv_key(buf, "previous", &v) < 0) {
		goto bad;
	}
	if (!strcmp(v, "")) {
		ret = model_read(f, &st->previous);
		if (ret < 0)
			goto bad;
	} else if (strcmp(v, "absent")) {
		goto bad;
	}
	if (read_kv(f, &buf, &cap, "applied", &v) < 0 || *v)
		goto bad;
	ret = model_read(f, &st->applied);
	if (ret < 0)
		goto bad;
	if (strcmp(st->applied->table, st->table) ||
	    (st->previous && strcmp(st->previous->table, st->table)))
		goto bad;
	*out = st;
	st = NULL;
	ret = 0;
	goto out;
bad:
	ret = ferror(f) ? -EIO : -EINVAL;
out:
	safe_state_free(st);
	free(buf);
	fclose(f);
	return ret;
}

static int pending_write(FILE *f, const void *arg)
{
	const struct safe_pending *p = arg;

	fprintf(f, "portwarden-pending 1\ngeneration %" PRIu64 "\n"
		"deadline %" PRId64 "\npid %ld\n",
		p->generation, p->deadline, (long)p->pid);
	return ferror(f) ? -EIO : 0;
}

int safe_pending_save(const char *dir, const struct safe_pending *p)
{
	return write_atomic(dir, PENDING_FILE, pending_write, p);
}

int safe_pending_load(const char *dir, struct safe_pending *p)
{
	char *buf = NULL;
	const char *v;
	size_t cap = 0;
	uint64_t u;
	FILE *f;
	int ret = -EINVAL;

	memset(p, 0, sizeof(*p));
	f = open_in(dir, PENDING_FILE);
	if (!f)
		return -errno;
	if (read_kv(f, &buf, &cap, "portwarden-pending", &v) < 0 ||
	    strcmp(v, "1"))
		goto out;
	if (read_kv(f, &buf, &cap, "generation", &v) < 0 ||
	    parse_u64(v, &p->generation) < 0)
		goto out;
	if (read_kv(f, &buf, &cap, "deadline", &v) < 0 ||
	    parse_i64(v, &p->deadline) < 0)
		goto out;
	if (read_kv(f, &buf, &cap, "pid", &v) < 0 || parse_u64(v, &u) < 0 ||
	    u > INT32_MAX)
		goto out;
	p->pid = (pid_t)u;
	ret = 0;
out:
	free(buf);
	fclose(f);
	return ret;
}

int safe_pending_clear(const char *dir)
{
	char *path = xasprintf("%s/%s", dir, PENDING_FILE);
	int ret = unlink(path) < 0 ? -errno : 0;

	free(path);
	return ret;
}

/* ---- apply, rollback, confirm ------------------------------------------- */

static int64_t now_realtime(void)
{
	return (int64_t)time(NULL);
}

/* The ruleset generation and namespace cookie of the current namespace:
 * 0 or a negative errno (then nothing is known). */
static int kernel_gen_now(uint32_t *gen, uint64_t *cookie)
{
	struct nl_sock *s = NULL;
	int ret = nl_sock_open(&s);

	if (!ret)
		ret = nl_get_generation(s, gen);
	if (!ret)
		ret = nl_netns_cookie(s, cookie);
	nl_sock_close(s);
	return ret;
}

bool safe_state_is_live(const struct safe_state *st, struct nl_sock *s)
{
	uint64_t cookie;
	uint32_t gen;

	if (!st || st->status != SAFE_APPLIED || !st->kernel_gen ||
	    !st->applied)
		return false;
	return nl_get_generation(s, &gen) == 0 && gen == st->kernel_gen &&
	       nl_netns_cookie(s, &cookie) == 0 && cookie == st->netns_cookie;
}

static void block_signals(sigset_t *old)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigprocmask(SIG_BLOCK, &set, old);
}

/* The generation of @dir's record, read from its first lines only. */
static int state_generation(const char *dir, uint64_t *gen)
{
	char *buf = NULL;
	const char *v;
	size_t cap = 0;
	FILE *f;
	int ret = -EINVAL;

	f = open_in(dir, STATE_FILE);
	if (!f)
		return -errno;
	if (read_kv(f, &buf, &cap, "portwarden-state", &v) == 0 &&
	    !strcmp(v, "1") &&
	    read_kv(f, &buf, &cap, "generation", &v) == 0 &&
	    parse_u64(v, gen) == 0)
		ret = 0;
	else if (ferror(f))
		ret = -EIO;
	free(buf);
	fclose(f);
	return ret;
}

int safe_apply_begin(struct safe_txn *t, const char *dir,
		     const struct model *live, const struct model *next)
{
	struct safe_pending p;
	struct safe_state *cur;
	char *state = NULL, *prev = NULL;
	uint64_t old_gen = 0;
	int ret;

	if ((size_t)snprintf(t->dir, sizeof(t->dir), "%s", dir) >= sizeof(t->dir))
		return -ENAMETOOLONG;
	/* Only the old record's generation is needed; the record itself is
	 * kept as it is, under a second name, to be put back when the
	 * transaction fails (loading it whole cost 15 MB and 40 ms for a
	 * 110,000-element table). A damaged record must not stop the next
	 * apply: it is replaced. */
	ret = state_generation(dir, &old_gen);
	if (ret < 0 && ret != -ENOENT && ret != -EINVAL)
		return ret;
	state = xasprintf("%s/%s", dir, STATE_FILE);
	prev = xasprintf("%s/%s", dir, PREV_FILE);
	unlink(prev);
	if (ret != -ENOENT) {
		if (link(state, prev) < 0) {
			ret = -errno;
			goto out_paths;
		}
		t->kept_old = true;
	}
	cur = xcalloc(1, sizeof(*cur));
	t->cur = cur;
	cur->generation = ret == 0 ? old_gen : 0;
	/* Never reuse the number a waiting timer keys on, even when the
	 * state file was lost or damaged. */
	if (safe_pending_load(dir, &p) == 0 && p.generation > cur->generation)
		cur->generation = p.generation;
	cur->generation++;
	cur->status = SAFE_APPLYING;
	cur->time = now_realtime();
	cur->table = xstrdup(next->table);
	/* Borrowed, not copied: the caller keeps both alive until
	 * safe_txn_release() (a copy of 110,000 elements doubled the peak
	 * memory of an apply). */
	cur->previous = (struct model *)live;
	cur->applied = (struct model *)next;
	if (kernel_gen_now(&t->gen_before, &t->cookie) < 0)
		t->gen_before = 0;
	block_signals(&t->oldmask);
	t->blocked = true;
	ret = safe_state_save(dir, cur);
	if (ret < 0)
		goto fail;
	goto out_paths;
fail:
	safe_txn_release(t);
out_paths:
	free(state);
	free(prev);
	return ret;
}

int safe_apply_end(struct safe_txn *t, int apply_ret)
{
	uint64_t cookie;
	uint32_t gen;
	char *path;
	int ret;

	if (!t->cur)
		return -EINVAL;
	if (apply_ret < 0) {
		/* Nothing changed in the kernel: put the old record back. */
		path = xasprintf("%s/%s", t->dir, STATE_FILE);
		if (t->kept_old) {
			char *prev = xasprintf("%s/%s", t->dir, PREV_FILE);

			ret = rename(prev, path) < 0 ? -errno : 0;
			if (!ret)
				t->kept_old = false;
			free(prev);
		} else {
			ret = unlink(path) < 0 && errno != ENOENT ? -errno : 0;
		}
		free(path);
		return ret;
	}
	t->cur->status = SAFE_APPLIED;
	t->cur->time = now_realtime();
	/* One commit since safe_apply_begin(), and ours committed: the
	 * kernel's table at that generation is t->cur->applied. */
	if (t->gen_before && kernel_gen_now(&gen, &cookie) == 0 &&
	    gen == t->gen_before + 1 && cookie == t->cookie) {
		t->cur->kernel_gen = gen;
		t->cur->netns_cookie = cookie;
	}
	ret = safe_state_save(t->dir, t->cur);
	/* An older timer guards a table that is gone now: it would find a
	 * newer generation and do nothing; remove its file so that `confirm`
	 * does not claim to confirm this apply. */
	safe_pending_clear(t->dir);
	return ret;
}

void safe_txn_release(struct safe_txn *t)
{
	if (!t)
		return;
	if (t->kept_old) {	/* the old record is not needed any more */
		char *prev = xasprintf("%s/%s", t->dir, PREV_FILE);

		unlink(prev);
		free(prev);
		t->kept_old = false;
	}
	if (t->blocked)
		sigprocmask(SIG_SETMASK, &t->oldmask, NULL);
	t->blocked = false;
	safe_state_free(t->old);
	if (t->cur) {	/* its tables are the caller's (safe_apply_begin) */
		t->cur->previous = NULL;
		t->cur->applied = NULL;
	}
	safe_state_free(t->cur);
	t->old = NULL;
	t->cur = NULL;
}

/* Rules read back from the kernel that portwarden did not make. */
static bool model_restorable(const struct model *m)
{
	size_t i, j;

	for (i = 0; i < m->n_chains; i++)
		for (j = 0; j < m->chains[i].n_rules; j++) {
			const char *c = m->chains[i].rules[j].comment;

			if (c && !strncmp(c, "unknown: ", 9))
				return false;
		}
	return true;
}

static bool same_table(const struct model *a, const struct model *b)
{
	if (!a || !b)
		return !a && !b;
	return model_equal(a, b);
}

int safe_rollback(const char *dir, struct nl_sock *s, uint64_t expect,
		  bool force, bool by_timer, struct safe_state **st_out)
{
	struct safe_state *st = NULL;
	struct model *live = NULL;
	struct safe_pending p;
	struct diag d;
	sigset_t old;
	int ret;

	diag_init(&d);
	if (st_out)
		*st_out = NULL;
	ret = safe_state_load(dir, &st);
	if (ret < 0)
		goto out;
	if (expect && st->generation != expect) {
		ret = -ESTALE;
		goto out;
	}
	if (st->status == SAFE_ROLLED_BACK) {
		ret = -EALREADY;
		goto out;
	}
	/* Nothing committed since the apply: the live table is the one it
	 * made, no need to dump it back. */
	if (safe_state_is_live(st, s))
		goto restore;
	ret = nl_read_table(s, st->table, &live);
	if (ret < 0 && ret != -ENOENT)
		goto out;
	if (!same_table(live, st->applied)) {
		if (same_table(live, st->previous)) {
			/* The apply never took effect (failed or cut short
			 * before the kernel committed it). */
			ret = -EALREADY;
			goto out;
		}
		if (!force) {
			ret = -EBUSY;
			goto out;
		}
	}
restore:
	if (st->previous && !model_restorable(st->previous)) {
		ret = -EUCLEAN;
		goto out;
	}
	block_signals(&old);
	if (st->previous)
		ret = nl_apply_known(s, st->previous, st->applied,
				     safe_state_is_live(st, s) ?
				     st->kernel_gen : 0, &d);
	else
		ret = nl_delete_table(s, st->table);
	if (ret == -ENOENT && !st->previous)
		ret = 0;
	if (!ret) {
		st->status = SAFE_ROLLED_BACK;
		st->kernel_gen = 0;	/* the live table is st->previous now */
		st->by_timer = by_timer;
		st->time = now_realtime();
		ret = safe_state_save(dir, st);
		if (safe_pending_load(dir, &p) == 0 &&
		    p.generation == st->generation)
			safe_pending_clear(dir);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
out:
	model_free(live);
	diag_release(&d);
	if (st_out)
		*st_out = st;
	else
		safe_state_free(st);
	return ret;
}

int safe_confirm(const char *dir, uint64_t *gen_out)
{
	struct safe_state *st = NULL;
	struct safe_pending p;
	int ret;

	*gen_out = 0;
	ret = safe_pending_load(dir, &p);
	if (ret == 0 || ret == -EINVAL) {
		*gen_out = p.generation;
		return safe_pending_clear(dir);
	}
	if (ret != -ENOENT)
		return ret;
	if (safe_state_load(dir, &st) == 0) {
		*gen_out = st->generation;
		if (st->status == SAFE_ROLLED_BACK && st->by_timer)
			ret = -ETIME;
	}
	safe_state_free(st);
	return ret;
}

/* ---- the confirm timer -------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool still_pending(const char *dir, uint64_t gen)
{
	struct safe_pending p;

	return safe_pending_load(dir, &p) == 0 && p.generation == gen;
}

/* The detached child: wait, then roll back unless confirmed. Runs with no
 * stdio; the outcome goes to syslog. */
static int timer_run(const char *dir, uint64_t gen, long seconds)
{
	int64_t deadline = now_ms() + (int64_t)seconds * 1000, left;
	struct nl_sock *s = NULL;
	struct timespec ts;
	int lock, ret;

	for (;;) {
		if (!still_pending(dir, gen))
			return 0;	/* confirmed, or superseded */
		left = deadline - now_ms();
		if (left <= 0)
			break;
		if (left > 200)
			left = 200;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left * 1000000;
		nanosleep(&ts, NULL);
	}
	lock = run_lock();
	if (lock < 0)
		return 1;
	ret = 0;
	if (!still_pending(dir, gen))
		goto out;
	ret = nl_sock_open(&s);
	if (!ret)
		ret = safe_rollback(dir, s, gen, false, true, NULL);
	openlog("portwarden", LOG_PID, LOG_DAEMON);
	if (ret < 0)
		syslog(LOG_ERR, "confirm timer: generation %" PRIu64
		       " not confirmed, rollback failed: %s", gen, strerror(-ret));
	else
		syslog(LOG_WARNING, "confirm timer: generation %" PRIu64
		       " not confirmed in %lds: rolled back", gen, seconds);
	closelog();
	/* Whatever happened, this timer is done with its generation. */
	if (still_pending(dir, gen))
		safe_pending_clear(dir);
	nl_sock_close(s);
out:
	run_unlock(lock);
	return ret < 0 ? 1 : 0;
}

/* Make this process a daemon that holds nothing of its caller. */
static void detach_fds(void)
{
	sigset_t none;
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* Not the run lock, not the caller's netlink sockets or pipes: an
	 * SSH session waits for every holder of its pipes to close them. */
	if (close_range(0, ~0U, 0) < 0)
		for (fd = (int)sysconf(_SC_OPEN_MAX) - 1; fd >= 0; fd--)
			close(fd);
	fd = open("/dev/null", O_RDWR);
	if (fd == 0) {
		dup2(0, 1);
		dup2(0, 2);
	}
	if (chdir("/") < 0) {
		/* stays where it is; it opens absolute paths only */
	}
	umask(077);
}

int safe_arm_timer(const char *dir, uint64_t gen, long seconds,
		   pid_t *pid_out)
{
	struct safe_pending p = {
		.generation = gen,
		.deadline = now_realtime() + seconds,
	};
	int pfd[2] = { -1, -1 }, status, ret;
	pid_t first, timer = 0;
	ssize_t n;

	*pid_out = 0;
	if (seconds < 1)
		return -EINVAL;
	ret = safe_pending_save(dir, &p);
	if (ret < 0)
		return ret;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ret = -errno;
		goto fail;
	}
	fflush(NULL);	/* no stdio buffer may be written twice */
	first = fork();
	if (first < 0) {
		ret = -errno;
		goto fail;
	}
	if (first == 0) {
		/* First child: leave the caller's session, fork the timer,
		 * tell the caller its pid and go, so the timer is reparented
		 * and can never regain a controlling terminal. */
		close(pfd[0]);
		if (setsid() < 0)
			_exit(1);
		signal(SIGHUP, SIG_IGN);
		timer = fork();
		if (timer < 0)
			_exit(1);
		if (timer == 0) {
			detach_fds();
			_exit(timer_run(dir, gen, seconds));
		}
		n = write(pfd[1], &timer, sizeof(timer));
		_exit(n == (ssize_t)sizeof(timer) ? 0 : 1);
	}
	close(pfd[1]);
	pfd[1] = -1;
	while ((n = read(pfd[0], &timer, sizeof(timer))) < 0 && errno == EINTR)
		;
	while (waitpid(first, &status, 0) < 0 && errno == EINTR)
		;
	/* The pid is the proof that the timer runs; the first child's exit
	 * status is not (a tool such as valgrind may change it). */
	(void)status;
	if (n != (ssize_t)sizeof(timer) || timer <= 0) {
		ret = -ECHILD;
		goto fail;
	}
	close(pfd[0]);
	p.pid = timer;
	/* Only for display: the timer keys on the generation. */
	safe_pending_save(dir, &p);
	*pid_out = timer;
	return 0;
fail:
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	safe_pending_clear(dir);
	return ret;
}

/* ---- the lock-out guard ------------------------------------------------- */

struct guard_ctx {
	uint8_t tcp_listen[65536 / 8];
	uint8_t udp_listen[65536 / 8];
	struct sock_info *conns;
	size_t n_conns, cap_conns;
};

static void bit_set(uint8_t *map, uint16_t port)
{
	map[port / 8] |= (uint8_t)(1u << (port % 8));
}

static bool bit_test(const uint8_t *map, uint16_t port)
{
	return map[port / 8] & (1u << (port % 8));
}

static int guard_collect(const struct sock_info *si, void *arg)
{
	struct guard_ctx *g = arg;

	if (si->proto == IPPROTO_TCP && si->state == TCP_LISTEN)
		bit_set(g->tcp_listen, si->sport);
	else if (si->proto == IPPROTO_UDP && si->state == TCP_CLOSE && si->sport)
		bit_set(g->udp_listen, si->sport);
	else if (si->state == TCP_ESTABLISHED && si->sport && si->dport)
		*ARRAY_PUSH(g->conns, g->n_conns, g->cap_conns) = *si;
	return 0;
}

/* An IPv6 socket's peer may be IPv4 (::ffff:a.b.c.d); the hook sees IPv4. */
static void to_cidr(uint8_t family, const uint8_t *addr, struct cidr *c)
{
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };

	memset(c, 0, sizeof(*c));
	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		c->family = 4;
		c->plen = 32;
		memcpy(c->addr, addr + 12, 4);
	} else if (family == AF_INET6) {
		c->family = 6;
		c->plen = 128;
		memcpy(c->addr, addr, 16);
	} else {
		c->family = 4;
		c->plen = 32;
		memcpy(c->addr, addr, 4);
	}
}

static bool is_loopback(const struct cidr *c)
{
	static const uint8_t one[16] = { [15] = 1 };

	if (c->family == 4)
		return c->addr[0] == 127;
	return !memcmp(c->addr, one, 16);
}

static bool same_addr(const struct cidr *a, const struct cidr *b)
{
	return a->family == b->family &&
	       !memcmp(a->addr, b->addr, a->family == 4 ? 4 : 16);
}

/* The interface holding @local, or NULL. */
static const char *local_iface(const struct ifaddrs *ifa,
			       const struct cidr *local)
{
	struct cidr c;

	for (; ifa; ifa = ifa->ifa_next) {
		if (!ifa->ifa_addr || !ifa->ifa_name)
			continue;
		if (ifa->ifa_addr->sa_family == AF_INET && local->family == 4)
			to_cidr(AF_INET, (const uint8_t *)
				&((const struct sockaddr_in *)ifa->ifa_addr)->sin_addr,
				&c);
		else if (ifa->ifa_addr->sa_family == AF_INET6 && local->family == 6)
			to_cidr(AF_INET6, (const uint8_t *)
				&((const struct sockaddr_in6 *)ifa->ifa_addr)->sin6_addr,
				&c);
		else
			continue;
		if (same_addr(&c, local))
			return ifa->ifa_name;
	}
	return NULL;
}

static void format_endpoint(const struct cidr *c, uint16_t port, char *buf,
			    size_t len)
{
	char a[INET6_ADDRSTRLEN];

	inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr, a, sizeof(a));
	if (c->family == 4)
		snprintf(buf, len, "%s:%u", a, port);
	else
		snprintf(buf, len, "[%s]:%u", a, port);
}

void safe_conns_release(struct safe_conns *cs)
{
	size_t i;

	if (!cs)
		return;
	for (i = 0; i < cs->n; i++)
		free(cs->v[i].text);
	free(cs->v);
	memset(cs, 0, sizeof(*cs));
}

static int guard_check(const struct model *next, const struct guard_ctx *g,
		       const struct ifaddrs *ifa, struct safe_conns *out)
{
	char from[80], to[80];
	struct eval_result res;
	struct packet pkt;
	struct safe_conn *sc;
	size_t i;
	int ret;

	for (i = 0; i < g->n_conns; i++) {
		const struct sock_info *si = &g->conns[i];
		const uint8_t *listen = si->proto == IPPROTO_TCP ?
					g->tcp_listen : g->udp_listen;

		if (!bit_test(listen, si->sport))
			continue;	/* outbound: not ours to protect */
		memset(&pkt, 0, sizeof(pkt));
		pkt.dir = DIR_IN;
		pkt.l4proto = si->proto;
		to_cidr(si->family, si->dst, &pkt.src);
		to_cidr(si->family, si->src, &pkt.dst);
		pkt.has_src = true;
		pkt.sport = si->dport;
		pkt.dport = si->sport;
		pkt.has_sport = pkt.has_dport = true;
		if (is_loopback(&pkt.src) || is_loopback(&pkt.dst) ||
		    same_addr(&pkt.src, &pkt.dst))
			pkt.iif = "lo";
		else
			pkt.iif = local_iface(ifa, &pkt.dst);
		out->checked++;
		ret = eval_packet(next, &pkt, &res);
		if (ret == -ENOENT)
			continue;	/* no input chain: nothing filters */
		if (ret < 0)
			return ret;
		if (res.verdict == MV_ACCEPT || res.verdict == MV_NONE)
			continue;
		format_endpoint(&pkt.src, pkt.sport, from, sizeof(from));
		format_endpoint(&pkt.dst, pkt.dport, to, sizeof(to));
		sc = ARRAY_PUSH(out->v, out->n, out->cap);
		sc->text = xasprintf("%s %s -> %s",
				     si->proto == IPPROTO_TCP ? "tcp" : "udp",
				     from, to);
		sc->origin = res.origin;
		sc->rule = res.origin ? res.origin->name :
			   res.label ? res.label : "default";
		sc->verdict = res.verdict == MV_DROP ? "drop" : "reject";
	}
	return 0;
}

int safe_guard(const struct model *next, const char *replay,
	       struct safe_conns *out)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const uint8_t families[] = { AF_INET, AF_INET6 };
	struct ifaddrs *ifa = NULL;
	struct sockdiag *sd = NULL;
	struct guard_ctx *g;
	size_t i, j;
	int ret;

	g = xcalloc(1, sizeof(*g));
	ret = replay ? sockdiag_open_replay(&sd, replay) :
		       sockdiag_open(&sd, NULL);
	if (ret < 0)
		goto out;
	for (i = 0; i < ARRAY_SIZE(protos); i++)
		for (j = 0; j < ARRAY_SIZE(families); j++) {
			ret = sockdiag_dump(sd, protos[i], families[j],
					    guard_collect, g);
			/* No IPv6 in this kernel: nothing to protect there. */
			if (ret == -EAFNOSUPPORT || ret == -ENOENT)
				ret = 0;
			if (ret < 0)
				goto out;
		}
	if (!replay && getifaddrs(&ifa) < 0)
		ifa = NULL;
	ret = guard_check(next, g, ifa, out);
out:
	if (ifa)
		freeifaddrs(ifa);
	sockdiag_close(sd);
	free(g->conns);
	free(g);
	return ret;
}
