// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Audit: sock_diag record/replay, and the judgement of sockets against a
 * policy — on a recorded dump (tests/data/audit-basic.nlmsg, made by
 * tests/data/make-audit-basic.sh) and on hand-made sockets. No privileges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <cmocka.h>

#include "audit.h"
#include "procmap.h"
#include "sockdiag.h"
#include "util.h"

#ifndef TOP_DIR
#define TOP_DIR "."
#endif
#define BASIC_DUMP "tests/data/audit-basic.nlmsg"

struct fixture {
	struct policy *p;
	struct model *m;
	struct audit *a;
};

static void load(struct fixture *fx, const char *yaml)
{
	struct diag d;

	diag_init(&d);
	if (policy_load_buffer(&fx->p, "test.yaml", yaml, strlen(yaml), &d) < 0) {
		diag_print(&d, stderr);
		fail_msg("policy does not load");
	}
	assert_int_equal(compile_policy(fx->p, &fx->m, &d), 0);
	diag_release(&d);
	fx->a = audit_new(fx->p, fx->m, NULL);
}

static void unload(struct fixture *fx)
{
	audit_free(fx->a);
	model_free(fx->m);
	policy_free(fx->p);
}

/* ---- sock_diag replay -------------------------------------------------- */

struct collected {
	struct sock_info v[256];
	size_t n;
};

static int collect_cb(const struct sock_info *s, void *arg)
{
	struct collected *c = arg;

	if (c->n < 256)
		c->v[c->n++] = *s;
	return 0;
}

static void dump_all(struct sockdiag *sd, struct collected *c)
{
	static const uint8_t protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	static const uint8_t fams[] = { AF_INET, AF_INET6 };
	size_t i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < 2; j++)
			assert_int_equal(sockdiag_dump(sd, protos[i], fams[j],
						       collect_cb, c), 0);
}

static const struct sock_info *find_sock(const struct collected *c,
					 uint8_t proto, uint8_t state,
					 uint16_t sport)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (c->v[i].proto == proto && c->v[i].state == state &&
		    c->v[i].sport == sport)
			return &c->v[i];
	return NULL;
}

static void test_replay_parse(void **state)
{
	struct sockdiag *sd = NULL;
	struct collected c = { .n = 0 };
	const struct sock_info *s;
	char buf[64];
	size_t i, tw = 0;

	(void)state;
	assert_int_equal(sockdiag_open_replay(&sd, BASIC_DUMP), 0);
	dump_all(sd, &c);
	sockdiag_close(sd);
	assert_int_equal(c.n, 12);

	s = find_sock(&c, IPPROTO_TCP, TCP_LISTEN, 8080);
	assert_non_null(s);
	assert_int_equal(s->family, AF_INET6);
	assert_false(s->v6only);
	assert_true(s->inode != 0);
	s = find_sock(&c, IPPROTO_TCP, TCP_LISTEN, 8443);
	assert_non_null(s);
	assert_true(s->v6only);
	s = find_sock(&c, IPPROTO_TCP, TCP_LISTEN, 6379);
	assert_non_null(s);
	sock_addr_format(s->family, s->src, s->sport, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:6379");
	s = find_sock(&c, IPPROTO_UDP, TCP_CLOSE, 123);
	assert_non_null(s);
	sock_addr_format(s->family, s->src, s->sport, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:123");
	s = find_sock(&c, IPPROTO_TCP, TCP_ESTABLISHED, 8080);
	assert_non_null(s);
	sock_addr_format(s->family, s->dst, 1, buf, sizeof(buf));
	assert_string_equal(buf, "[::ffff:192.0.2.2]:1");
	for (i = 0; i < c.n; i++)
		if (c.v[i].state == TCP_TIME_WAIT) {
			tw++;
			assert_int_equal(c.v[i].inode, 0);
			assert_string_equal(audit_why_unattributed(NULL, &c.v[i]),
					    "TIME_WAIT has no owner");
		}
	assert_int_equal(tw, 1);
	for (i = 0; i < c.n; i++)
		if (c.v[i].state == TCP_ESTABLISHED && c.v[i].proto == IPPROTO_UDP)
			assert_int_equal(c.v[i].dport, 53);
}

static void test_replay_rejects_garbage(void **state)
{
	char path[] = "/tmp/pw-test-audit-XXXXXX";
	struct sockdiag *sd = NULL;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a netlink dump at all", 25), 25);
	close(fd);
	assert_int_equal(sockdiag_open_replay(&sd, path), -EINVAL);
	assert_null(sd);
	assert_int_equal(sockdiag_open_replay(&sd, "/nonexistent/x"), -ENOENT);
	unlink(path);
}

/* A live dump recorded and replayed gives the same sockets, in order. */
static void test_record_roundtrip(void **state)
{
	char path[] = "/tmp/pw-test-audit-XXXXXX";
	struct collected *live, *again;
	struct sockdiag *sd = NULL;
	int fd, ret;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	live = calloc(1, sizeof(*live));
	again = calloc(1, sizeof(*again));
	ret = sockdiag_open(&sd, path);
	if (ret < 0) {
		unlink(path);
		fail_msg("sock_diag: %s", strerror(-ret));
	}
	dump_all(sd, live);
	sockdiag_close(sd);
	assert_int_equal(sockdiag_open_replay(&sd, path), 0);
	dump_all(sd, again);
	sockdiag_close(sd);
	assert_int_equal(live->n, again->n);
	assert_memory_equal(live->v, again->v, live->n * sizeof(live->v[0]));
	free(live);
	free(again);
	unlink(path);
}

/* ---- judgement of the recorded dump ------------------------------------ */

static const char basic_policy[] =
	"portwarden: 1\n"
	"defaults: {inbound: drop, outbound: drop}\n"
	"inbound:\n"
	"  - {name: ssh, proto: tcp, port: 22, from: 192.0.2.0/24}\n"
	"  - {name: web, proto: tcp, port: 8080, from: 10.0.0.0/8}\n"
	"outbound:\n"
	"  - {name: dns, port: 53, to: 198.51.100.7}\n"
	"listeners:\n"
	"  - {proto: tcp, port: 22}\n"
	"  - {proto: tcp, port: 8080}\n"
	"  - {proto: tcp, port: 9999}\n";

static const struct audit_sock *listener(const struct audit_report *r,
					 uint8_t proto, uint16_t port)
{
	size_t i;

	for (i = 0; i < r->n_listeners; i++)
		if (r->listeners[i].s.proto == proto &&
		    r->listeners[i].s.sport == port)
			return &r->listeners[i];
	fail_msg("no listener %u/%u", proto, port);
	return NULL;
}

static size_t count_kind(const struct audit_report *r, enum finding_kind k)
{
	size_t i, n = 0;

	for (i = 0; i < r->n_findings; i++)
		n += r->findings[i].kind == k;
	return n;
}

static const struct finding *find_finding(const struct audit_report *r,
					  enum finding_kind k, uint16_t sport)
{
	size_t i;

	for (i = 0; i < r->n_findings; i++)
		if (r->findings[i].kind == k && (!r->findings[i].has_sock ||
		    r->findings[i].sock.s.sport == sport))
			return &r->findings[i];
	return NULL;
}

static void test_audit_basic(void **state)
{
	struct fixture fx = { 0 };
	struct sockdiag *sd = NULL;
	const struct audit_report *r;
	const struct audit_sock *l;
	const struct finding *f;
	size_t i, in = 0, out = 0, bad = 0;

	(void)state;
	load(&fx, basic_policy);
	assert_int_equal(sockdiag_open_replay(&sd, BASIC_DUMP), 0);
	audit_begin_netns(fx.a, BASIC_DUMP);
	assert_int_equal(audit_dump(fx.a, sd), 0);
	audit_end_netns(fx.a, true);
	sockdiag_close(sd);
	r = audit_report(fx.a);

	assert_int_equal(r->sockets, 12);
	assert_int_equal(r->n_listeners, 6);
	assert_int_equal(r->n_conns, 5);
	assert_false(r->drift_checked);

	l = listener(r, IPPROTO_TCP, 22);
	assert_int_equal(l->state, LISTEN_OPEN);
	assert_string_equal(l->rule, "ssh");
	l = listener(r, IPPROTO_TCP, 8080);	/* [::] dual-stack, v4 rule */
	assert_true(l->dual);
	assert_int_equal(l->state, LISTEN_OPEN);
	assert_string_equal(l->rule, "web");
	l = listener(r, IPPROTO_TCP, 8443);
	assert_false(l->dual);
	assert_int_equal(l->state, LISTEN_FILTERED);
	assert_null(l->rule);
	assert_int_equal(listener(r, IPPROTO_TCP, 6379)->state, LISTEN_LOCAL);
	assert_int_equal(listener(r, IPPROTO_UDP, 5353)->state, LISTEN_FILTERED);

	/* 8443, udp 5353, udp 123: nothing expects them; 6379 is local */
	assert_int_equal(count_kind(r, FIND_UNEXPECTED_LISTENER), 3);
	assert_non_null(find_finding(r, FIND_UNEXPECTED_LISTENER, 8443));
	assert_non_null(find_finding(r, FIND_UNEXPECTED_LISTENER, 5353));
	assert_non_null(find_finding(r, FIND_UNEXPECTED_LISTENER, 123));
	assert_null(find_finding(r, FIND_UNEXPECTED_LISTENER, 6379));

	f = find_finding(r, FIND_MISSING_LISTENER, 0);
	assert_non_null(f);
	assert_int_equal(count_kind(r, FIND_MISSING_LISTENER), 1);
	assert_non_null(strstr(f->detail, "9999"));
	assert_non_null(strstr(f->detail, "test.yaml:11:"));
	assert_false(f->has_sock);
	assert_int_equal(f->port, 9999);	/* SPEC §11: local "*:9999" */
	assert_int_equal(count_kind(r, FIND_FILTERED_LISTENER), 0);
	assert_int_equal(count_kind(r, FIND_LOCAL_ONLY_LISTENER), 0);
	for (i = 0; i < r->n_findings; i++)	/* every finding has its port */
		if (r->findings[i].has_sock)
			assert_int_equal(r->findings[i].port,
					 r->findings[i].sock.s.sport);

	for (i = 0; i < r->n_conns; i++) {
		const struct audit_sock *c = &r->conns[i];

		if (c->inbound)
			in++;
		else
			out++;
		bad += c->verdict != MV_ACCEPT;
	}
	/* server ends of 22 and 8080 inbound; their clients and dns out */
	assert_int_equal(in, 2);
	assert_int_equal(out, 3);
	/* client to 22, client to 8080 (no outbound rule), server end of
	 * 8080 (web is for 10.0.0.0/8, the client is 192.0.2.2) */
	assert_int_equal(bad, 3);
	assert_int_equal(count_kind(r, FIND_DISALLOWED_CONNECTION), 3);
	f = find_finding(r, FIND_DISALLOWED_CONNECTION, 8080);
	assert_non_null(f);
	assert_true(f->sock.inbound);
	assert_null(f->rule);		/* the default decided */
	assert_non_null(strstr(f->detail, "inbound tcp connection from [::ffff:192.0.2.2]"));
	unload(&fx);
}

/* SPEC §11: the recorded 127.0.0.1:6379 listener is expected by the
 * policy, but nothing outside the host can reach it. */
static void test_local_only_recorded(void **state)
{
	struct fixture fx = { 0 };
	struct sockdiag *sd = NULL;
	const struct audit_report *r;
	const struct finding *f;
	char buf[64];

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "inbound:\n"
		  "  - {name: ssh, proto: tcp, port: 22}\n"
		  "listeners:\n"
		  "  - {proto: tcp, port: 22}\n"
		  "  - {proto: tcp, port: 6379, process: redis-server}\n");
	assert_int_equal(sockdiag_open_replay(&sd, BASIC_DUMP), 0);
	audit_begin_netns(fx.a, BASIC_DUMP);
	assert_int_equal(audit_dump(fx.a, sd), 0);
	audit_end_netns(fx.a, true);
	sockdiag_close(sd);
	r = audit_report(fx.a);
	assert_int_equal(count_kind(r, FIND_LOCAL_ONLY_LISTENER), 1);
	assert_int_equal(count_kind(r, FIND_MISSING_LISTENER), 0);
	f = find_finding(r, FIND_LOCAL_ONLY_LISTENER, 6379);
	assert_non_null(f);
	assert_true(f->has_sock);
	assert_int_equal(f->proto, IPPROTO_TCP);
	assert_int_equal(f->port, 6379);
	assert_non_null(f->entry);
	assert_int_equal(f->entry->loc.line, 6);
	sock_addr_format(f->sock.s.family, f->sock.s.src, f->sock.s.sport,
			 buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:6379");
	assert_non_null(strstr(f->detail, "test.yaml:6:"));
	assert_non_null(strstr(f->detail, "only on loopback (127.0.0.1:6379)"));
	assert_string_equal(finding_kind_name(FIND_LOCAL_ONLY_LISTENER),
			    "local-only-listener");
	unload(&fx);
}

/* ---- hand-made sockets ------------------------------------------------- */

static struct sock_info mk(uint8_t proto, uint8_t state, const char *src,
			   uint16_t sport, const char *dst, uint16_t dport)
{
	struct sock_info s;

	memset(&s, 0, sizeof(s));
	s.proto = proto;
	s.state = state;
	s.family = strchr(src, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(s.family, src, s.src), 1);
	assert_int_equal(inet_pton(s.family, dst, s.dst), 1);
	s.sport = sport;
	s.dport = dport;
	s.inode = 1000 + sport;
	return s;
}

static void run(struct fixture *fx, const struct sock_info *v, size_t n)
{
	size_t i;

	audit_begin_netns(fx->a, "hand");
	for (i = 0; i < n; i++)
		audit_add_socket(fx->a, &v[i]);
	audit_end_netns(fx->a, true);
}

static void test_v6only_and_dual_stack(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[2];
	const struct audit_report *r;

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "defaults: {inbound: drop}\n"
		  "inbound:\n"
		  "  - {name: web4, proto: tcp, port: [80, 81], from: 10.0.0.0/8}\n");
	v[0] = mk(IPPROTO_TCP, TCP_LISTEN, "::", 80, "::", 0);
	v[0].v6only = true;
	v[1] = mk(IPPROTO_TCP, TCP_LISTEN, "::", 81, "::", 0);
	run(&fx, v, 2);
	r = audit_report(fx.a);
	/* a v6only socket cannot take the IPv4 traffic web4 accepts */
	assert_int_equal(listener(r, IPPROTO_TCP, 80)->state, LISTEN_FILTERED);
	assert_int_equal(listener(r, IPPROTO_TCP, 81)->state, LISTEN_OPEN);
	assert_true(listener(r, IPPROTO_TCP, 81)->dual);
	assert_int_equal(r->n_findings, 0);	/* web4 names both ports */
	unload(&fx);
}

/* The open/filtered answer is exact over source addresses: only a narrow
 * range between two drop rules is accepted. */
static void test_open_from_one_corner(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[3];
	const struct audit_report *r;

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "inbound:\n"
		  "  - {name: low, from: 0.0.0.0/1, action: drop}\n"
		  "  - {name: high, from: 192.0.0.0/2, action: drop}\n"
		  "  - {name: mid, proto: tcp, port: 80, from: 128.0.0.0/2, not_from: 160.0.0.0/3}\n"
		  "  - {name: rest, from: 128.0.0.0/1, action: drop}\n"
		  "listeners:\n"
		  "  - {proto: tcp, port: 81}\n");
	v[0] = mk(IPPROTO_TCP, TCP_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	v[1] = mk(IPPROTO_TCP, TCP_LISTEN, "0.0.0.0", 81, "0.0.0.0", 0);
	v[2] = mk(IPPROTO_TCP, TCP_LISTEN, "::", 82, "::", 0);
	v[2].v6only = true;
	run(&fx, v, 3);
	r = audit_report(fx.a);
	assert_int_equal(listener(r, IPPROTO_TCP, 80)->state, LISTEN_OPEN);
	assert_string_equal(listener(r, IPPROTO_TCP, 80)->rule, "mid");
	assert_int_equal(listener(r, IPPROTO_TCP, 81)->state, LISTEN_FILTERED);
	assert_string_equal(listener(r, IPPROTO_TCP, 81)->rule, "low");
	/* IPv6 meets none of the IPv4 rules: the default (accept) decides */
	assert_int_equal(listener(r, IPPROTO_TCP, 82)->state, LISTEN_OPEN);
	assert_null(listener(r, IPPROTO_TCP, 82)->rule);
	assert_int_equal(count_kind(r, FIND_FILTERED_LISTENER), 1);
	assert_non_null(find_finding(r, FIND_FILTERED_LISTENER, 81));
	assert_int_equal(count_kind(r, FIND_UNEXPECTED_LISTENER), 1);
	assert_non_null(find_finding(r, FIND_UNEXPECTED_LISTENER, 82));
	unload(&fx);
}

/* A large set of /24s is compiled into one hash set looked up as
 * `ip saddr & 255.255.255.0 @...`: the audit must still try the address
 * just past each /24 (here the only way in), not only addresses inside. */
static void test_open_past_masked_set(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[1];
	const struct audit_report *r;
	char *yaml, *p;
	size_t i, len = 64 * 1024;

	(void)state;
	yaml = p = xcalloc(1, len);
	p += sprintf(p, "portwarden: 1\ndefaults: {inbound: drop}\n"
		     "sets:\n  big: [");
	for (i = 0; i < 1024; i++)
		p += sprintf(p, "%s10.%zu.%zu.0/24", i ? ", " : "", i / 128,
			     (i % 128) * 2);
	sprintf(p, "]\ninbound:\n"
		"  - {name: web, proto: tcp, port: 80, from: 10.0.0.0/8, not_from: $big}\n");
	load(&fx, yaml);
	free(yaml);
	for (i = 0; i < fx.m->n_chains; i++) {
		size_t j, k, masked = 0;

		for (j = 0; j < fx.m->chains[i].n_rules; j++)
			for (k = 0; k < fx.m->chains[i].rules[j].n_matches; k++)
				masked += fx.m->chains[i].rules[j].matches[k].mask == 24;
		if (!i)
			assert_int_equal(masked, 1);
	}
	v[0] = mk(IPPROTO_TCP, TCP_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	run(&fx, v, 1);
	r = audit_report(fx.a);
	assert_int_equal(listener(r, IPPROTO_TCP, 80)->state, LISTEN_OPEN);
	assert_string_equal(listener(r, IPPROTO_TCP, 80)->rule, "web");
	unload(&fx);
}

static void test_user_rule_outbound(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[3];
	const struct audit_report *r;
	const struct finding *f;

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "defaults: {outbound: drop}\n"
		  "outbound:\n"
		  "  - {name: backup-agent, user: 1000, proto: tcp, port: 873, to: 192.0.2.10}\n");
	v[0] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40001, "192.0.2.10", 873);
	v[0].uid = 1000;
	v[1] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40002, "192.0.2.10", 873);
	v[1].uid = 1001;
	/* loopback traffic is accepted by the built-in lo rule */
	v[2] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "127.0.0.1", 40003, "127.0.0.1", 5432);
	v[2].uid = 1001;
	run(&fx, v, 3);
	r = audit_report(fx.a);
	assert_int_equal(r->n_conns, 3);
	assert_int_equal(r->conns[0].verdict, MV_ACCEPT);
	assert_string_equal(r->conns[0].rule, "backup-agent");
	assert_int_not_equal(r->conns[1].verdict, MV_ACCEPT);
	assert_int_equal(r->conns[2].verdict, MV_ACCEPT);
	assert_int_equal(r->n_findings, 1);
	f = &r->findings[0];
	assert_int_equal(f->kind, FIND_DISALLOWED_CONNECTION);
	assert_int_equal(f->sock.s.uid, 1001);
	assert_false(f->sock.inbound);
	assert_non_null(strstr(f->detail, "outbound tcp connection to 192.0.2.10:873"));
	unload(&fx);
}

/* The verdict cache (connections that differ only in a port no rule
 * reads) must not hide a rule that does read it: a source-port rule, and
 * destination ports of one fold. */
static void test_conn_cache_ports(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[6];
	const struct audit_report *r;

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "defaults: {outbound: drop}\n"
		  "outbound:\n"
		  "  - {name: low-sport, proto: tcp, sport: 40000-40009, to: 192.0.2.10}\n"
		  "  - {name: web, proto: tcp, port: 443, to: 192.0.2.20}\n"
		  "  - {name: all-to-30, to: 192.0.2.30}\n");
	v[0] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40001, "192.0.2.10", 5000);
	v[1] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40011, "192.0.2.10", 5000);
	v[2] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40002, "192.0.2.20", 443);
	v[3] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40003, "192.0.2.20", 444);
	v[4] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40004, "192.0.2.30", 1);
	v[5] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40005, "192.0.2.30", 2);
	run(&fx, v, 6);
	r = audit_report(fx.a);
	assert_int_equal(r->n_conns, 6);
	assert_int_equal(r->conns[0].verdict, MV_ACCEPT);
	assert_int_not_equal(r->conns[1].verdict, MV_ACCEPT);
	assert_int_equal(r->conns[2].verdict, MV_ACCEPT);
	assert_int_not_equal(r->conns[3].verdict, MV_ACCEPT);
	assert_int_equal(r->conns[4].verdict, MV_ACCEPT);
	assert_int_equal(r->conns[5].verdict, MV_ACCEPT);
	assert_string_equal(r->conns[5].rule, "all-to-30");
	unload(&fx);
}

/* `group` rules see the fsgid of the socket's owner (from /proc). */
static void test_group_rule_outbound(void **state)
{
	struct fixture fx = { 0 };
	struct procmap *pm = NULL;
	struct sock_info v[2];
	const struct audit_report *r;
	struct stat st[2];
	char yaml[512];
	int fd[2];

	(void)state;
	snprintf(yaml, sizeof(yaml),
		 "portwarden: 1\n"
		 "defaults: {outbound: drop}\n"
		 "outbound:\n"
		 "  - {name: mine, group: %u, proto: tcp, port: 9}\n",
		 (unsigned int)getegid());
	load(&fx, yaml);
	fd[0] = socket(AF_INET, SOCK_STREAM, 0);
	fd[1] = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd[0] >= 0 && fd[1] >= 0);
	assert_int_equal(fstat(fd[0], &st[0]), 0);
	assert_int_equal(fstat(fd[1], &st[1]), 0);
	assert_int_equal(procmap_build_scan(&pm, "/proc"), 0);
	audit_set_procmap(fx.a, pm);
	v[0] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40001, "192.0.2.9", 9);
	v[0].inode = st[0].st_ino;
	v[1] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "192.0.2.1", 40002, "192.0.2.9", 10);
	v[1].inode = st[1].st_ino;
	run(&fx, v, 2);
	r = audit_report(fx.a);
	assert_int_equal(r->conns[0].verdict, MV_ACCEPT);
	assert_string_equal(r->conns[0].rule, "mine");
	assert_int_not_equal(r->conns[1].verdict, MV_ACCEPT);
	assert_int_equal(r->n_findings, 1);
	unload(&fx);
	procmap_free(pm);
	close(fd[0]);
	close(fd[1]);
}

/* Direction: a connection is inbound when its local port has a listener
 * of the same protocol (a UDP listener does not make TCP inbound). */
static void test_direction(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[4];
	const struct audit_report *r;

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "defaults: {inbound: drop, outbound: accept}\n"
		  "inbound:\n"
		  "  - {name: dns-in, proto: udp, port: 53}\n"
		  "listeners:\n"
		  "  - {proto: udp, port: 53}\n");
	v[0] = mk(IPPROTO_UDP, TCP_CLOSE, "0.0.0.0", 53, "0.0.0.0", 0);
	v[1] = mk(IPPROTO_TCP, TCP_ESTABLISHED, "10.0.0.1", 53, "10.9.9.9", 4000);
	v[2] = mk(IPPROTO_UDP, TCP_ESTABLISHED, "10.0.0.1", 53, "10.9.9.9", 4001);
	v[3] = mk(IPPROTO_TCP, TCP_TIME_WAIT, "10.0.0.1", 53, "10.9.9.9", 4002);
	v[3].inode = 0;
	run(&fx, v, 4);
	r = audit_report(fx.a);
	assert_int_equal(r->sockets, 4);
	assert_int_equal(r->n_conns, 2);
	assert_false(r->conns[0].inbound);	/* tcp: no tcp listener on 53 */
	assert_int_equal(r->conns[0].verdict, MV_ACCEPT);
	assert_true(r->conns[1].inbound);
	assert_int_equal(r->conns[1].verdict, MV_ACCEPT);
	assert_string_equal(r->conns[1].rule, "dns-in");
	assert_int_equal(r->n_findings, 0);
	unload(&fx);
}

/* local-only-listener only when every live socket of the entry is on
 * loopback (127.0.0.0/8, ::1, or bound to lo); one reachable socket, even
 * a filtered one, makes it a question for filtered-listener instead. */
static void test_local_only_hand(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[6];
	const struct audit_report *r;
	const struct finding *f;

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "defaults: {inbound: drop}\n"
		  "inbound:\n"
		  "  - {name: web, proto: tcp, port: 80}\n"
		  "listeners:\n"
		  "  - {proto: [tcp, udp], port: 5000}\n"
		  "  - {proto: tcp, port: 80}\n"
		  "  - {proto: tcp, port: 6000}\n"
		  "  - {proto: tcp, port: 7000}\n");
	v[0] = mk(IPPROTO_TCP, TCP_LISTEN, "127.0.0.1", 5000, "0.0.0.0", 0);
	v[1] = mk(IPPROTO_TCP, TCP_LISTEN, "::1", 5000, "::", 0);
	v[2] = mk(IPPROTO_UDP, TCP_CLOSE, "127.0.0.53", 5000, "0.0.0.0", 0);
	v[3] = mk(IPPROTO_TCP, TCP_LISTEN, "127.0.0.1", 80, "0.0.0.0", 0);
	v[4] = mk(IPPROTO_TCP, TCP_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	/* 6000: bound to lo by SO_BINDTODEVICE, address any */
	v[5] = mk(IPPROTO_TCP, TCP_LISTEN, "0.0.0.0", 6000, "0.0.0.0", 0);
	v[5].ifindex = 1;
	run(&fx, v, 6);
	r = audit_report(fx.a);
	/* tcp and udp of the 5000 entry, and 6000 */
	assert_int_equal(count_kind(r, FIND_LOCAL_ONLY_LISTENER), 3);
	f = find_finding(r, FIND_LOCAL_ONLY_LISTENER, 6000);
	assert_non_null(f);
	assert_int_equal(f->port, 6000);
	assert_null(f->rule);
	assert_null(find_finding(r, FIND_LOCAL_ONLY_LISTENER, 80));
	assert_int_equal(count_kind(r, FIND_FILTERED_LISTENER), 0);
	/* 7000 has no socket at all */
	f = find_finding(r, FIND_MISSING_LISTENER, 0);
	assert_non_null(f);
	assert_int_equal(f->port, 7000);
	assert_int_equal(count_kind(r, FIND_MISSING_LISTENER), 1);
	/* loopback sockets are never unexpected */
	assert_int_equal(count_kind(r, FIND_UNEXPECTED_LISTENER), 0);
	assert_int_equal(r->n_findings, 4);
	unload(&fx);
}

/* `family:` of a listeners entry: which sockets count. A dual-stack [::]
 * socket takes both families, a v4-mapped or 0.0.0.0 one IPv4 only. */
static void test_listener_family(void **state)
{
	struct fixture fx = { 0 };
	struct sock_info v[3];
	const struct audit_report *r;
	const struct finding *f;
	size_t i;

	(void)state;
	load(&fx, "portwarden: 1\n"
		  "inbound:\n"
		  "  - {name: any, proto: tcp, port: [80, 443, 8443]}\n"
		  "listeners:\n"
		  "  - {proto: tcp, port: 80, family: ipv6}\n"
		  "  - {proto: tcp, port: 443, family: ipv4}\n"
		  "  - {proto: tcp, port: 443, family: ipv6}\n"
		  "  - {proto: tcp, port: 8443, family: ipv4}\n");
	v[0] = mk(IPPROTO_TCP, TCP_LISTEN, "0.0.0.0", 80, "0.0.0.0", 0);
	v[1] = mk(IPPROTO_TCP, TCP_LISTEN, "::", 443, "::", 0);	/* dual */
	v[2] = mk(IPPROTO_TCP, TCP_LISTEN, "::", 8443, "::", 0);
	v[2].v6only = true;
	run(&fx, v, 3);
	r = audit_report(fx.a);
	assert_int_equal(count_kind(r, FIND_MISSING_LISTENER), 2);
	for (i = 0; i < r->n_findings; i++) {
		f = &r->findings[i];
		assert_int_equal(f->kind, FIND_MISSING_LISTENER);
		assert_true(f->port == 80 || f->port == 8443);
		assert_int_equal(f->entry->families, f->port == 80 ? FAM_V6 : FAM_V4);
		assert_non_null(strstr(f->detail, f->port == 80 ? "port 80 ipv6 has" :
						  "port 8443 ipv4 has"));
	}
	/* the rule names the ports: no unexpected listener */
	assert_int_equal(r->n_findings, 2);
	unload(&fx);
}

static void test_drift(void **state)
{
	struct fixture fx = { 0 };
	const struct audit_report *r;

	(void)state;
	load(&fx, "portwarden: 1\ntable: pwt\n");
	audit_begin_netns(fx.a, "x");
	audit_end_netns(fx.a, true);
	r = audit_report(fx.a);
	assert_false(r->drift_checked);
	audit_drift_none(fx.a);		/* the generation cache vouched */
	assert_true(r->drift_checked);
	assert_int_equal(r->n_findings, 0);
	assert_true(audit_drift(fx.a, fx.m, 0));	/* equal: nothing */
	assert_true(r->drift_checked);
	assert_int_equal(r->n_findings, 0);
	assert_false(audit_drift(fx.a, NULL, -ENOENT));
	assert_int_equal(r->n_findings, 1);
	assert_int_equal(r->findings[0].kind, FIND_RULESET_DRIFT);
	assert_string_equal(r->findings[0].detail, "the live table inet pwt is missing");
	assert_int_equal(r->findings[0].port, 0);	/* JSON: null */
	assert_string_equal(finding_kind_name(FIND_RULESET_DRIFT), "ruleset-drift");
	unload(&fx);
}

static void test_procmap_self(void **state)
{
	struct procmap *pm = NULL;
	const struct proc_info *pi;
	struct stat st;
	size_t it = 0;
	int fd;
	bool me = false;

	(void)state;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(procmap_build(&pm, "/proc"), 0);
	while ((pi = procmap_next(pm, st.st_ino, &it)))
		if (pi->pid == getpid())
			me = true;
	assert_true(me);
	it = 0;
	assert_null(procmap_next(pm, 1, &it));	/* no socket has inode 1 */
	procmap_free(pm);
	close(fd);
}

/* The BPF iterator (when this process may use it) and the /proc scan
 * name the same owner for each of our sockets. */
static void test_procmap_methods_agree(void **state)
{
	struct procmap *pm[2] = { NULL, NULL };
	const struct proc_info *pi;
	struct stat st;
	char self_comm[64];
	int fds[32];
	size_t i, k, it;

	(void)state;
	/* our own command name, as the kernel has it (not "test_audit"
	 * under valgrind, whose tool process holds the sockets) */
	{
		FILE *f = fopen("/proc/self/comm", "r");

		assert_non_null(f);
		assert_non_null(fgets(self_comm, sizeof(self_comm), f));
		fclose(f);
		self_comm[strcspn(self_comm, "\n")] = '\0';
	}
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		fds[i] = socket(i % 2 ? AF_INET6 : AF_INET,
				i % 3 ? SOCK_DGRAM : SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
	}
	assert_int_equal(procmap_build(&pm[0], "/proc"), 0);
	assert_int_equal(procmap_build_scan(&pm[1], "/proc"), 0);
	assert_string_equal(procmap_method(pm[1]), "proc");
	for (i = 0; i < ARRAY_SIZE(fds); i++) {
		assert_int_equal(fstat(fds[i], &st), 0);
		for (k = 0; k < 2; k++) {
			bool me = false;

			it = 0;
			while ((pi = procmap_next(pm[k], st.st_ino, &it)))
				if (pi->pid == getpid()) {
					me = true;
					assert_string_equal(pi->comm, self_comm);
				}
			if (!me)
				fail_msg("socket %zu not attributed by %s", i,
					 procmap_method(pm[k]));
		}
		close(fds[i]);
	}
	procmap_free(pm[0]);
	procmap_free(pm[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_parse),
		cmocka_unit_test(test_replay_rejects_garbage),
		cmocka_unit_test(test_record_roundtrip),
		cmocka_unit_test(test_audit_basic),
		cmocka_unit_test(test_local_only_recorded),
		cmocka_unit_test(test_local_only_hand),
		cmocka_unit_test(test_listener_family),
		cmocka_unit_test(test_v6only_and_dual_stack),
		cmocka_unit_test(test_open_from_one_corner),
		cmocka_unit_test(test_open_past_masked_set),
		cmocka_unit_test(test_user_rule_outbound),
		cmocka_unit_test(test_conn_cache_ports),
		cmocka_unit_test(test_group_rule_outbound),
		cmocka_unit_test(test_direction),
		cmocka_unit_test(test_drift),
		cmocka_unit_test(test_procmap_self),
		cmocka_unit_test(test_procmap_methods_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
