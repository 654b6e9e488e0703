/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_SAFE_H
#define PORTWARDEN_SAFE_H

#include <stdbool.h>

#include "diag.h"
#include "model.h"
#include "nl.h"

/*
 * Safe operations around apply: the run lock, the saved previous state
 * (for rollback and --confirm), the lock-out guard and the confirm timer.
 * All state lives under RUN_DIR (/run/portwarden).
 */

/**
 * run_lock() - take the exclusive run lock (RUN_DIR/lock), waiting for it
 * Return: a file descriptor to pass to run_unlock(), or a negative errno.
 */
int run_lock(void);
void run_unlock(int fd);

#endif
