// SPDX-License-Identifier: GPL-2.0-or-later
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "safe.h"

int run_lock(void)
{
	int fd;

	if (mkdir(RUN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(RUN_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int err = -errno;

			close(fd);
			return err;
		}
	}
	return fd;
}

void run_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}
