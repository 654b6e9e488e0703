// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * udppace: send small UDP datagrams from one bound socket to one address
 * and port at a steady rate, for bench/monitor.sh. Each datagram that the
 * ruleset drops in the output hook fails with EPERM; it was still seen
 * (and logged) by the rule, so failures count as sent.
 *
 *   udppace ADDR PORT RATE SECONDS    prints "SENT SECONDS_TAKEN"
 *
 * RATE 0 sends as fast as one thread can.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct sockaddr_in src = { .sin_family = AF_INET };
	unsigned long long sent = 0, want;
	double rate, secs, start, t;
	char payload[16] = "pw monitor";
	int fd;

	if (argc != 5 || inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1) {
		fprintf(stderr, "usage: udppace ADDR PORT RATE SECONDS\n");
		return 2;
	}
	dst.sin_port = htons((uint16_t)atoi(argv[2]));
	rate = atof(argv[3]);
	secs = atof(argv[4]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		perror("udppace: socket");
		return 1;
	}
	start = now();
	for (;;) {
		t = now() - start;
		if (t >= secs)
			break;
		want = rate > 0 ? (unsigned long long)(t * rate) + 1 : sent + 64;
		if (sent >= want) {
			struct timespec ts = { 0, 50000 };

			nanosleep(&ts, NULL);
			continue;
		}
		while (sent < want) {
			if (sendto(fd, payload, sizeof(payload), 0,
				   (struct sockaddr *)&dst, sizeof(dst)) < 0 &&
			    errno != EPERM) {
				perror("udppace: sendto");
				return 1;
			}
			sent++;
		}
	}
	printf("%llu %.3f\n", sent, now() - start);
	return 0;
}
