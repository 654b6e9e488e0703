// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Benchmark helper for bench/audit.sh: opens LISTENERS TCP listeners on
 * 0.0.0.0, ports BASE.., and CONNS loopback connections to them (both
 * ends kept: 2 x CONNS established sockets), writes "ready" to READYFILE
 * and sleeps until killed. Run it in a throwaway network namespace with
 * a high `ulimit -n`.
 *   audit_sockets LISTENERS CONNS BASE READYFILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int die(const char *what, long i)
{
	fprintf(stderr, "audit_sockets: %s (%ld): %s\n", what, i, strerror(errno));
	return 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	long nl, nc, base, i;
	int *ls, fd, one = 1;
	FILE *f;

	if (argc != 5) {
		fprintf(stderr, "usage: audit_sockets LISTENERS CONNS BASE READYFILE\n");
		return 2;
	}
	nl = atol(argv[1]);
	nc = atol(argv[2]);
	base = atol(argv[3]);
	if (nl < 1 || nc < 0 || base < 1 || base + nl > 65536) {
		fprintf(stderr, "audit_sockets: bad numbers\n");
		return 2;
	}
	ls = calloc((size_t)nl, sizeof(*ls));
	if (!ls)
		return die("calloc", nl);
	for (i = 0; i < nl; i++) {
		ls[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (ls[i] < 0)
			return die("socket", i);
		setsockopt(ls[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		sa.sin_port = htons((uint16_t)(base + i));
		if (bind(ls[i], (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return die("bind", base + i);
		if (listen(ls[i], 4) < 0)
			return die("listen", i);
	}
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < nc; i++) {
		long l = i % nl;

		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return die("socket", i);
		sa.sin_port = htons((uint16_t)(base + l));
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			return die("connect", i);
		if (accept(ls[l], NULL, NULL) < 0)
			return die("accept", i);
	}
	f = fopen(argv[4], "w");
	if (!f || fputs("ready\n", f) < 0 || fclose(f))
		return die("ready file", 0);
	pause();
	return 0;
}
