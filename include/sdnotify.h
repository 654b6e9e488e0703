/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_SDNOTIFY_H
#define PORTWARDEN_SDNOTIFY_H

/**
 * sd_notify_send() - tell the service manager about our state
 * @state: newline-separated assignments: "READY=1", "RELOADING=1",
 *         "STOPPING=1", "STATUS=text"
 *
 * Writes one datagram to the AF_UNIX socket named by $NOTIFY_SOCKET (a
 * path, or an abstract name written with a leading '@'), as sd_notify(3)
 * does, without libsystemd. Nothing happens when the variable is unset.
 * Return: 1 when sent, 0 when there is no $NOTIFY_SOCKET, or a negative
 * errno.
 */
int sd_notify_send(const char *state);

#endif
