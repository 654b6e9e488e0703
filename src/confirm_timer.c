// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The confirm timer (see confirm_timer.h): `confirm`, and the detached
 * process that rolls an unconfirmed apply back.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "confirm_timer.h"
#include "rollback.h"
#include "util.h"

static int64_t now_realtime(void)
{
	return (int64_t)time(NULL);
}

int safe_confirm(const char *dir, uint64_t *gen_out)
{
	struct safe_state *st = NULL;
	struct safe_pending p;
	int ret;

	*gen_out = 0;
	/* A record a killed apply left names the generation to confirm; a
	 * kernel that cannot be asked does not stop a confirm. */
	safe_recover(dir, NULL);
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

