/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_MONITOR_EVENTS_H
#define PORTWARDEN_MONITOR_EVENTS_H

/*
 * The daemon's events for `monitor` (SPEC §9 `learned`, and `repaired`):
 * `portwarden daemon` appends them as JSON lines to RUN_DIR/net-INODE/
 * events and truncates the file past 1 MiB. monitor follows the file of
 * each namespace it watches, from its end when monitor starts, by polling
 * (a timer of the loop): new complete lines are handed over, a file that
 * shrank was truncated and is read again from its start, a file that is
 * absent is looked for again on the next poll.
 */

#include <stddef.h>
#include <stdint.h>

struct devents;

/* Follow RUN_DIR/net-INODE/events of the network namespace this thread
 * is in now (the file need not exist yet). */
struct devents *devents_new(void);
void devents_free(struct devents *de);

/*
 * Called for each new line (without its newline) whose "kind" is
 * @kinds' (a NULL-terminated list); lines that are not one JSON object of
 * printable bytes are skipped and counted.
 */
typedef void (*devents_cb)(const char *line, const char *kind, void *arg);

/* Read what was appended since the last poll. */
void devents_poll(struct devents *de, const char *const *kinds,
		  devents_cb cb, void *arg);

/* Lines skipped as malformed so far. */
uint64_t devents_bad(const struct devents *de);

#endif
