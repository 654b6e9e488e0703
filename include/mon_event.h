/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_MON_EVENT_H
#define PORTWARDEN_MON_EVENT_H

/*
 * One line of `portwarden monitor --format json` (SPEC §9), read back by
 * `learn --events FILE`. The file is untrusted input: a line is one flat
 * JSON object, parsed with explicit bounds; a line that is not, or whose
 * fields do not fit, is refused (and counted by the caller), never guessed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define MON_EVENT_MAX_LINE	65536
#define MON_EVENT_MAX_ADDRS	16	/* of a `learned` event kept */

/**
 * struct mon_event - the fields learn uses (others are skipped)
 * @kind:   "denied", "logged", "staged", ... ("" when absent)
 * @dir:    "in", "out" or ""
 * @proto:  "tcp", "udp", ... or ""
 * @src, @dst: "A.B.C.D:PORT" or "[V6]:PORT", or ""
 * @uid:    with @has_uid
 * @comm:   the process's command name, or ""
 * @cgroup: the cgroup path without its leading '/', or ""
 * @time:   seconds since the epoch, with @has_time
 * @name:   a `learned` event's hostname, or ""
 * @addrs:  its first MON_EVENT_MAX_ADDRS `addresses` (the rest are
 *          skipped: @n_addrs counts the kept ones)
 */
struct mon_event {
	char kind[16];
	char dir[8];
	char proto[16];
	char src[64], dst[64];
	bool has_uid;
	uint32_t uid;
	char comm[32];
	char cgroup[512];
	bool has_time;
	time_t time;
	char name[256];
	char addrs[MON_EVENT_MAX_ADDRS][48];
	size_t n_addrs;
};

/**
 * mon_event_parse() - one JSON line into @ev
 * @buf, @len: the line, without its newline; need not be NUL-terminated
 * Return: 0, or -EINVAL when it is not one JSON object, a known field has
 * the wrong type or does not fit, or bytes follow the object.
 */
int mon_event_parse(const char *buf, size_t len, struct mon_event *ev);

#endif
