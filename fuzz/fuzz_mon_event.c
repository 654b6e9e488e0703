// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for learn --events: any line given to mon_event_parse()
 * is an event or a refusal, never a crash, a read past the line or a
 * string without its terminator.
 *
 *   make fuzz && build/fuzz_mon_event -max_total_time=10 fuzz/corpus-mon-event
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mon_event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mon_event ev;
	/* a copy of exactly @size bytes: ASan sees any read beyond them */
	char *line = malloc(size ? size : 1);

	if (!line)
		return 0;
	memcpy(line, data, size);
	if (mon_event_parse(line, size, &ev) == 0) {
		if (strnlen(ev.kind, sizeof(ev.kind)) == sizeof(ev.kind) ||
		    strnlen(ev.src, sizeof(ev.src)) == sizeof(ev.src) ||
		    strnlen(ev.dst, sizeof(ev.dst)) == sizeof(ev.dst) ||
		    strnlen(ev.cgroup, sizeof(ev.cgroup)) == sizeof(ev.cgroup) ||
		    strnlen(ev.comm, sizeof(ev.comm)) == sizeof(ev.comm) ||
		    ev.cgroup[0] == '/')
			__builtin_trap();
	}
	free(line);
	return 0;
}
