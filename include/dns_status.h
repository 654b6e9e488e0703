/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_DNS_STATUS_H
#define PORTWARDEN_DNS_STATUS_H

/*
 * What `status` shows of hostname rules (SPEC §8): each hostname set's
 * size, read from the live table, and the counters of the running
 * daemon's learner (RUN_DIR/net-INODE/dns, see dns_learn.h).
 */
#include <stdio.h>

struct model;

/* Text lines after the chains; nothing when the table has no hostname
 * set and no learner counters exist. */
void dns_status_text(const struct model *m, FILE *f);

/* `, "hostnames": {"sets": {...}, "learner": {...}|null}` inside the
 * status object; nothing when there is nothing to show. */
void dns_status_json(const struct model *m, FILE *f);

#endif
