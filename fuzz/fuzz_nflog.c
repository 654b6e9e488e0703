// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the NFLOG record parser (nflog_parse()) and the
 * prefix reader behind it (logprefix_parse()): any bytes must give a
 * record, -ENOMSG or -EINVAL, never a crash or a read out of bounds; a
 * record that parses keeps its invariants.
 *
 *   make BUILD=build-fuzz fuzz
 *   build-fuzz/fuzz_nflog -max_total_time=10 fuzz/corpus-nflog
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "logprefix.h"
#include "nflog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nflog_pkt p;
	struct log_id id;
	uint8_t *copy;
	int ret;

	/* an exact-size heap copy, so ASan sees every byte read past it */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	ret = nflog_parse(copy, size, &p);
	if (ret != 0 && ret != -ENOMSG && ret != -EINVAL)
		abort();
	if (ret == 0) {
		if (p.prefix_len > NFLOG_PREFIX_MAX ||
		    strlen(p.prefix) != p.prefix_len)
			abort();
		if (p.l3 != 0 && p.l3 != 4 && p.l3 != 6)
			abort();
		if ((p.has_ports && p.has_icmp) || (!p.l3 && (p.has_ports || p.has_icmp)))
			abort();
		if (logprefix_parse(p.prefix, p.prefix_len, &id) == 0 &&
		    (strlen(id.name) > LOGPREFIX_NAME_MAX ||
		     strlen(id.at) > LOGPREFIX_AT_MAX))
			abort();
	}
	free(copy);
	return 0;
}
