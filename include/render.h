/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_RENDER_H
#define PORTWARDEN_RENDER_H

#include <stdio.h>

#include "model.h"

/*
 * nft text of a model. render_model() prints a whole ruleset that
 * `nft -f` accepts and that makes exactly the table nl_apply() makes:
 * "table inet T { ... }" preceded by the lines that replace an existing
 * table of that name atomically ("table inet T" + "delete table inet T").
 */
int render_model(const struct model *m, FILE *f);

/* One rule's statements as nft prints them, e.g.
 * "tcp dport 22 counter accept comment \"ssh\"" (malloc'd). */
char *render_rule(const struct model *m, const struct mrule *r);

/* One set element, e.g. "10.0.0.0/8 . tcp . 443" (malloc'd). */
char *render_elem(const struct mset *s, const struct melem *e);

#endif
