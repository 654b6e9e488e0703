/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_METRICS_H
#define PORTWARDEN_METRICS_H

#include <stdio.h>

#include "model.h"

/**
 * metrics_rules_prometheus() - per-rule counters in the Prometheus text
 * exposition format
 * @m:   a table read back from the kernel (counter values filled in)
 * @out: where to write
 *
 * One sample per policy rule and direction for packets and for bytes,
 * summed over the nft rules the policy rule compiled to (per protocol,
 * per family, the hosts/prefix halves of a split set), labelled with the
 * table, the direction (inbound/outbound) and the rule name (the nft
 * comment). A folded run of rules has one counter, named by its comment.
 * Rules without a counter (established, loopback, icmp, log-only rules)
 * have no sample.
 */
void metrics_rules_prometheus(const struct model *m, FILE *out);

#endif
