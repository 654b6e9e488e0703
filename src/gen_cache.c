// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The generation cache (include/gen_cache.h): whether the live table is
 * still the model apply last left, without dumping it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "gen_cache.h"
#include "util.h"

static char *cache_path(const char *dir, uint64_t cookie, const char *table)
{
	return xasprintf("%s/gen-%016" PRIx64 "-%s", dir, cookie, table);
}

bool gen_cache_hit(const char *dir, uint64_t cookie, const char *table,
		   uint32_t gen, uint64_t hash)
{
	char *path = cache_path(dir, cookie, table);
	unsigned long long g = 0, h = 0;
	bool hit = false;
	FILE *f;

	f = fopen(path, "re");
	if (f) {
		hit = fscanf(f, "%llu %llx", &g, &h) == 2 && g == gen &&
		      h == hash;
		fclose(f);
	}
	free(path);
	return hit;
}

int gen_cache_store(const char *dir, uint64_t cookie, const char *table,
		    uint32_t gen, uint64_t hash)
{
	char *path, *tmp;
	int ret = 0;
	FILE *f;

	if (!gen)
		return 0;
	path = cache_path(dir, cookie, table);
	tmp = xasprintf("%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		ret = -errno;
		goto out;
	}
	fprintf(f, "%" PRIu32 " %" PRIx64 "\n", gen, hash);
	if (fclose(f) || rename(tmp, path)) {
		ret = -errno;
		unlink(tmp);
	}
out:
	free(tmp);
	free(path);
	return ret;
}
