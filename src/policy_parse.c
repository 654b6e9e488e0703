// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <stdlib.h>

#include "policy.h"

int policy_load(struct policy **out, const char *const *paths, size_t n,
		struct diag *d)
{
	(void)paths; (void)n;
	*out = NULL;
	diag_error(d, NULL, "policy loading is not built yet");
	return -EINVAL;
}

int policy_load_buffer(struct policy **out, const char *name,
		       const char *buf, size_t len, struct diag *d)
{
	(void)name; (void)buf; (void)len;
	*out = NULL;
	diag_error(d, NULL, "policy loading is not built yet");
	return -EINVAL;
}

void policy_free(struct policy *p)
{
	free(p);
}
