/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_REPAIR_H
#define PORTWARDEN_REPAIR_H

struct daemon;

/*
 * Drift repair (SPEC §12): the daemon watches the kernel's nftables
 * events and puts portwarden's table back when another program changed
 * it, naming that program in a `repaired` event.
 *
 * Whose change is it? A transaction touches portwarden's table when one
 * of its event messages names the table (family inet, the policy's table
 * name); events of other tables are never looked at further. Its closing
 * generation message names the process:
 *  - the daemon's own pid (its repairs, SIGHUP re-applies, the hostname
 *    learner), or a generation passed to daemon_mark_own(): own, ignored;
 *  - a process named "portwarden" (apply, flush, rollback, confirm and its
 *    timer, promote, unstage): own, ignored: those commands change the
 *    table and the rollback record together under the run lock;
 *  - anything else: drift. The daemon takes the run lock (waiting for a
 *    running portwarden command without blocking its loop), reads the
 *    rollback record (state.h), which always says what the last portwarden
 *    command left, and the live table, and sends the incremental plan
 *    (model_delta.h) from the live table to the recorded one. A record of
 *    a flush means there is nothing to restore; no record of the table
 *    (the daemon's start found it equal to its policy, which records
 *    nothing) means the daemon's policy; a plan
 *    with nothing in it (elements added to a timeout set) sends nothing.
 * (A rollback's record holds the table from before its apply: that one is
 * what the rollback left.) A portwarden under another name (valgrind, a
 * copy) is recognised the same way, by what it recorded.
 * A process merely named "portwarden" is not trusted to say what the
 * table should be: the record is, and it is written by portwarden
 * commands under the lock. (The daemon is a guard against accidents and
 * other tools; anyone with CAP_NET_ADMIN can defeat it.)
 *
 * Back-off: more than 5 repairs within the window (60 s; the environment
 * variable PORTWARDEN_REPAIR_WINDOW, e.g. "5s" or "500ms", shortens it for
 * tests) stop the repairs until the window of the first of them ends,
 * with one `conflict` event naming the other program; then the table is
 * checked and repaired again if needed, with a fresh window.
 *
 * Lost events (ENOBUFS) are counted and answered by the same check, as a
 * change by an unknown process. Never fatal.
 */
struct repair;

/* Subscribe to the events and add the socket to @d's loop. 0 or -errno. */
int repair_new(struct repair **out, struct daemon *d);
void repair_free(struct repair *r);

/**
 * repair_reload() - take the table name and `repair:` from the policy the
 * daemon now runs (daemon_policy(), daemon_model()); call after each apply
 * Return: 0 or a negative errno.
 */
int repair_reload(struct repair *r, struct daemon *d);

#endif
