// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer harness for the untrusted text of the hostname code: any
 * bytes as a resolv.conf (resolv_conf_parse()) and as a name
 * (hostname_check(), host_target_matches()) must give an answer within
 * the documented bounds, never a crash or a read past the buffer.
 *
 *   make fuzz && build/fuzz_hostnames -max_total_time=10
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hostnames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct host_target t = { 0 };
	struct cidr *v = NULL;
	size_t n = 0, pos = 0, i;
	char *name;
	int e;

	if (resolv_conf_parse((const char *)data, size, &v, &n) != n ||
	    n > DNS_MAX_RESOLVERS)
		abort();
	for (i = 0; i < n; i++)
		if ((v[i].family != 4 || v[i].plen != 32) &&
		    (v[i].family != 6 || v[i].plen != 128))
			abort();
	free(v);

	e = hostname_check((const char *)data, size, &pos);
	if (e != HOSTNAME_OK && size && pos > size)
		abort();
	/* a valid name matches itself, and its wildcard matches a child */
	if (e == HOSTNAME_OK && size > 2 && data[0] != '*') {
		name = strndup((const char *)data, size);
		if (!name)
			return 0;
		for (i = 0; name[i]; i++)
			if (name[i] >= 'A' && name[i] <= 'Z')
				name[i] = (char)(name[i] - 'A' + 'a');
		t.pattern = name;
		if (!host_target_matches(&t, (const char *)name))
			abort();
		t.wildcard = true;
		if (host_target_matches(&t, (const char *)name))
			abort();
		free(name);
	}
	return 0;
}
