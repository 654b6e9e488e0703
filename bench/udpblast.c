// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * udpblast: send small UDP datagrams to one address and port as fast as
 * one thread can for a fixed time, and print how many sendto() calls
 * succeeded per second. Every datagram passes the output hook, so the
 * rate measures what the ruleset costs per packet (dataplane.sh points it
 * at a sink device, which discards what it is given).
 *
 *   udpblast ADDR PORT SECONDS [SPORT]   prints "PPS CPU_PPS SENT FAILED"
 *
 * SPORT: send from this source port (stage_dataplane.sh makes the flow's
 * conntrack entry established first, from the other side).
 *
 * PPS is per second of wall clock; CPU_PPS per second of CPU time this
 * process used (user + system, which includes the output hook and the
 * device's transmit), so that other load on a shared machine, which
 * steals wall-clock time, does not move it much.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	unsigned long long sent = 0, failed = 0, i;
	char payload[32] = "portwarden dataplane bench";
	double start, end, t, cpu0, cpu;
	int fd, ret = 1;

	if ((argc != 4 && argc != 5) ||
	    inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udpblast ADDR PORT SECONDS [SPORT]\n");
		return 2;
	}
	dst.sin_port = htons((unsigned short)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("udpblast: socket");
		return 1;
	}
	if (argc == 5) {
		struct sockaddr_in src = { .sin_family = AF_INET,
					   .sin_port = htons((unsigned short)atoi(argv[4])) };
		int one = 1;

		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
			perror("udpblast: bind");
			return 1;
		}
	}
	cpu0 = cpu_seconds();
	start = now();
	end = start + atof(argv[3]);
	t = start;
	for (i = 0; t < end; i++) {
		if (sendto(fd, payload, sizeof(payload), 0,
			   (struct sockaddr *)&dst, sizeof(dst)) < 0)
			failed++;
		else
			sent++;
		if ((i & 1023) == 0)
			t = now();
	}
	t = now();
	cpu = cpu_seconds() - cpu0;
	printf("%.0f %.0f %llu %llu\n", (double)sent / (t - start),
	       cpu > 0 ? (double)sent / cpu : 0.0, sent, failed);
	if (failed && !sent)
		fprintf(stderr, "udpblast: every send failed: %s\n", strerror(errno));
	else
		ret = 0;
	close(fd);
	return ret;
}
