// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The policy front end: every field, every error kind (message text and
 * line:column), merging of files and directories, normalisation, limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "policy.h"
#include "util.h"

/* ---- helpers -------------------------------------------------------- */

static int load(const char *yaml, struct policy **p, struct diag *d)
{
	diag_init(d);
	return policy_load_buffer(p, "t.yaml", yaml, strlen(yaml), d);
}

/* A valid policy: load it, fail the test with the diagnostics if not. */
static struct policy *ok(const char *yaml)
{
	struct policy *p = NULL;
	struct diag d;
	int ret = load(yaml, &p, &d);

	if (ret || d.errors) {
		diag_print(&d, stderr);
		fail_msg("policy did not load: %d", ret);
	}
	diag_release(&d);
	return p;
}

/* Is there an entry of @sev at @line:@col whose message is @msg? */
static bool has(const struct diag *d, enum diag_severity sev,
		unsigned int line, unsigned int col, const char *msg)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (d->v[i].severity == sev && d->v[i].loc.line == line &&
		    d->v[i].loc.col == col && !strcmp(d->v[i].msg, msg))
			return true;
	diag_print(d, stderr);
	fprintf(stderr, "(wanted %u:%u: %s)\n", line, col, msg);
	return false;
}

/* The policy fails with (at least) this error. */
static void bad(const char *yaml, unsigned int line, unsigned int col,
		const char *msg)
{
	struct policy *p = NULL;
	struct diag d;
	int ret = load(yaml, &p, &d);

	assert_int_equal(ret, -EINVAL);
	assert_null(p);
	assert_true(has(&d, DIAG_ERROR, line, col, msg));
	diag_release(&d);
}

/* The policy loads, with this warning. */
static void warns(const char *yaml, unsigned int line, unsigned int col,
		  const char *msg)
{
	struct policy *p = NULL;
	struct diag d;
	int ret = load(yaml, &p, &d);

	assert_int_equal(ret, 0);
	assert_non_null(p);
	assert_true(has(&d, DIAG_WARNING, line, col, msg));
	policy_free(p);
	diag_release(&d);
}

static void fmt_cidr(const struct cidr *c, char *buf)
{
	cidr_format(c, buf, 64);
}

/* ---- values --------------------------------------------------------- */

static void test_cidr_helpers(void **state)
{
	struct cidr a, b;
	bool hb;
	char buf[64];

	(void)state;
	assert_int_equal(cidr_parse("10.0.0.1/8", &a, &hb), 0);
	assert_true(hb);
	fmt_cidr(&a, buf);
	assert_string_equal(buf, "10.0.0.0/8");
	assert_int_equal(cidr_parse("2001:db8::1", &a, &hb), 0);
	assert_false(hb);
	assert_int_equal(a.plen, 128);
	fmt_cidr(&a, buf);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(cidr_parse("1.2.3.4/33", &a, &hb), -EINVAL);
	assert_int_equal(cidr_parse("1.2.3/8", &a, &hb), -EINVAL);
	assert_int_equal(cidr_parse("::/129", &a, &hb), -EINVAL);
	assert_int_equal(cidr_parse("10.0.0.0/", &a, &hb), -EINVAL);
	assert_int_equal(cidr_parse("", &a, &hb), -EINVAL);
	cidr_parse("10.0.0.0/8", &a, NULL);
	cidr_parse("10.255.0.0/16", &b, NULL);
	assert_true(cidr_contains(&a, &b));
	assert_false(cidr_contains(&b, &a));
	cidr_parse("::/0", &b, NULL);
	assert_false(cidr_contains(&b, &a));
}

static void test_port_names(void **state)
{
	struct port_range r;

	(void)state;
	assert_int_equal(port_by_name("ssh", &r), 0);
	assert_int_equal(r.lo, 22);
	assert_int_equal(port_by_name("dns", &r), 0);
	assert_int_equal(r.lo, 53);
	assert_int_equal(port_by_name("ephemeral", &r), 0);
	assert_int_equal(r.lo, 49152);
	assert_int_equal(r.hi, 65535);
	assert_int_equal(port_by_name("registered", &r), 0);
	assert_int_equal(r.lo, 1024);
	assert_int_equal(r.hi, 49151);
	assert_int_equal(port_by_name("nosuch", &r), -ENOENT);
	assert_string_equal(port_name(443), "https");
	assert_string_equal(port_name(6379), "redis");
	assert_null(port_name(4444));
	assert_string_equal(verdict_name(VERDICT_REJECT), "reject");
	assert_string_equal(direction_name(DIR_OUT), "outbound");
}

/* ---- the whole schema ----------------------------------------------- */

static const char spec_example[] =
	"portwarden: 1\n"
	"table: pw-test\n"
	"defaults:\n"
	"  inbound: drop\n"
	"  outbound: reject\n"
	"  log: true\n"
	"established: false\n"
	"loopback: false\n"
	"icmp: all\n"
	"sets:\n"
	"  corp: [10.0.0.0/8, \"2001:db8::/32\"]\n"
	"  web: [80, 443, 8000-8999]\n"
	"inbound:\n"
	"  - name: ssh-from-corp\n"
	"    proto: tcp\n"
	"    port: ssh\n"
	"    from: $corp\n"
	"    not_from: [10.66.0.0/16]\n"
	"  - name: web\n"
	"    port: $web\n"
	"  - port: 53\n"
	"outbound:\n"
	"  - name: root-out\n"
	"    user: [root, 0, \"1234\"]\n"
	"    group: root\n"
	"    cgroup: /system.slice/nginx.service\n"
	"    interface: eth0\n"
	"    dport: 443\n"
	"    sport: ephemeral\n"
	"    to: 192.0.2.10\n"
	"    not_to: 192.0.2.10\n"
	"    action: drop\n"
	"    log: yes\n"
	"    comment: keep it\n"
	"  - name: v6\n"
	"    proto: [udp, icmpv6]\n"
	"    family: ipv6\n"
	"listeners:\n"
	"  - { proto: tcp, port: 22, process: sshd }\n"
	"  - { proto: [tcp, udp], port: $web }\n"
	"  - port: 123\n";

static void test_spec_example(void **state)
{
	struct policy *p = ok(spec_example);
	const struct rule *r;
	char buf[64];

	(void)state;
	assert_string_equal(p->table, "pw-test");
	assert_int_equal(p->def[DIR_IN], VERDICT_DROP);
	assert_int_equal(p->def[DIR_OUT], VERDICT_REJECT);
	assert_true(p->log_default);
	assert_false(p->established);
	assert_false(p->loopback);
	assert_int_equal(p->icmp, ICMP_ALL);
	assert_int_equal(p->n_sets, 2);
	assert_string_equal(p->sets[0].name, "corp");
	assert_false(p->sets[0].is_port);
	assert_int_equal(p->sets[0].addrs.n, 2);
	assert_true(p->sets[1].is_port);
	assert_int_equal(p->sets[1].ports.n, 3);
	assert_int_equal(p->sets[1].loc.line, 12);
	assert_int_equal(p->sets[1].loc.col, 3);

	assert_int_equal(p->n_rules[DIR_IN], 3);
	r = &p->rules[DIR_IN][0];
	assert_string_equal(r->name, "ssh-from-corp");
	assert_string_equal(r->loc.file, "t.yaml");
	assert_int_equal(r->loc.line, 14);
	assert_int_equal(r->loc.col, 5);
	assert_int_equal(r->dir, DIR_IN);
	assert_int_equal(r->index, 0);
	assert_int_equal(r->action, VERDICT_ACCEPT);
	assert_int_equal(r->protos, PROTO_TCP);
	assert_false(r->dport.any);
	assert_int_equal(r->dport.n, 1);
	assert_int_equal(r->dport.v[0].lo, 22);
	assert_true(r->sport.any);
	assert_string_equal(r->from.ref, "corp");
	assert_int_equal(r->from.n, 2);
	assert_int_equal(r->not_from.n, 1);
	fmt_cidr(&r->not_from.v[0], buf);
	assert_string_equal(buf, "10.66.0.0/16");
	assert_true(r->to.any);
	assert_int_equal(r->families, FAM_BOTH);

	r = &p->rules[DIR_IN][1];
	assert_int_equal(r->protos, PROTO_TCP | PROTO_UDP);
	assert_string_equal(r->dport.ref, "web");
	assert_int_equal(r->dport.n, 3);
	assert_int_equal(r->dport.v[2].lo, 8000);
	assert_int_equal(r->dport.v[2].hi, 8999);
	r = &p->rules[DIR_IN][2];
	assert_string_equal(r->name, "inbound[2]");
	assert_null(r->dport.ref);

	r = &p->rules[DIR_OUT][0];
	assert_int_equal(r->uids.n, 2);
	assert_int_equal(r->uids.v[0], 0);
	assert_int_equal(r->uids.v[1], 1234);
	assert_int_equal(r->gids.n, 1);
	assert_int_equal(r->gids.v[0], 0);
	assert_string_equal(r->cgroup, "system.slice/nginx.service");
	assert_int_equal(r->ifaces.n, 1);
	assert_string_equal(r->ifaces.v[0], "eth0");
	assert_int_equal(r->dport.v[0].lo, 443);
	assert_int_equal(r->sport.v[0].lo, 49152);
	assert_int_equal(r->sport.v[0].hi, 65535);
	assert_int_equal(r->action, VERDICT_DROP);
	assert_true(r->log);
	assert_string_equal(r->comment, "keep it");
	assert_int_equal(r->families, FAM_V4);
	assert_int_equal(r->not_to.n, 1);
	r = &p->rules[DIR_OUT][1];
	assert_int_equal(r->protos, PROTO_UDP | PROTO_ICMPV6);
	assert_int_equal(r->families, FAM_V6);
	assert_true(r->dport.any);

	assert_int_equal(p->n_listeners, 3);
	assert_int_equal(p->listeners[0].protos, PROTO_TCP);
	assert_string_equal(p->listeners[0].process, "sshd");
	assert_int_equal(p->listeners[1].protos, PROTO_TCP | PROTO_UDP);
	assert_int_equal(p->listeners[1].ports.n, 3);
	assert_int_equal(p->listeners[2].protos, PROTO_TCP);	/* default */
	assert_null(p->listeners[2].process);
	assert_int_equal(p->n_files, 1);
	assert_string_equal(p->files[0], "t.yaml");
	assert_ptr_equal(p->rules[DIR_IN][0].loc.file, p->files[0]);
	policy_free(p);
}

static void test_defaults(void **state)
{
	struct policy *p = ok("portwarden: 1\ninbound:\n  - {}\n");
	const struct rule *r = &p->rules[DIR_IN][0];

	(void)state;
	assert_string_equal(p->table, "portwarden");
	assert_int_equal(p->def[DIR_IN], VERDICT_ACCEPT);
	assert_int_equal(p->def[DIR_OUT], VERDICT_ACCEPT);
	assert_false(p->log_default);
	assert_true(p->established);
	assert_true(p->loopback);
	assert_int_equal(p->icmp, ICMP_ESSENTIAL);
	assert_string_equal(r->name, "inbound[0]");
	assert_int_equal(r->protos, PROTO_ANY);
	assert_true(r->dport.any && r->sport.any && r->from.any && r->to.any);
	assert_int_equal(r->not_from.n, 0);
	assert_int_equal(r->uids.n, 0);
	assert_null(r->cgroup);
	assert_int_equal(r->ifaces.n, 0);
	assert_null(r->comment);
	assert_false(r->log);
	assert_int_equal(r->families, FAM_BOTH);
	assert_int_equal(p->n_rules[DIR_OUT], 0);
	policy_free(p);

	p = ok("portwarden: 1\nsets:\ninbound:\noutbound: ~\nlisteners:\n");
	assert_int_equal(p->n_rules[DIR_IN], 0);
	policy_free(p);
}

/* ---- normalisation -------------------------------------------------- */

static void test_normalise(void **state)
{
	struct policy *p = ok(
		"portwarden: 1\n"
		"inbound:\n"
		"  - port: [443, 80, 81-90, 85, 91, 100-200, 150-250]\n"
		"    from: [\"2001:db8::/32\", 10.1.0.0/16, \"2001:db8:1::/48\", 10.0.0.0/8,\n"
		"           1.2.3.4, 1.2.3.4, \"::1\"]\n"
		"  - proto: icmp\n"
		"  - proto: [icmp, icmpv6]\n"
		"  - proto: [tcp, any]\n"
		"  - to: any\n"
		"  - not_to: any\n"
		"  - from: [10.0.0.0/8, any]\n");
	const struct rule *r = &p->rules[DIR_IN][0];
	char buf[64];

	(void)state;
	assert_int_equal(r->dport.n, 3);
	assert_int_equal(r->dport.v[0].lo, 80);
	assert_int_equal(r->dport.v[0].hi, 91);
	assert_int_equal(r->dport.v[1].lo, 100);
	assert_int_equal(r->dport.v[1].hi, 250);
	assert_int_equal(r->dport.v[2].lo, 443);
	assert_int_equal(r->from.n, 4);
	fmt_cidr(&r->from.v[0], buf);
	assert_string_equal(buf, "1.2.3.4");
	fmt_cidr(&r->from.v[1], buf);
	assert_string_equal(buf, "10.0.0.0/8");
	fmt_cidr(&r->from.v[2], buf);
	assert_string_equal(buf, "::1");
	fmt_cidr(&r->from.v[3], buf);
	assert_string_equal(buf, "2001:db8::/32");
	assert_null(r->from.ref);
	assert_int_equal(r->families, FAM_BOTH);
	assert_int_equal(p->rules[DIR_IN][1].protos, PROTO_ICMP);
	assert_int_equal(p->rules[DIR_IN][1].families, FAM_V4);
	assert_int_equal(p->rules[DIR_IN][2].families, FAM_BOTH);
	assert_int_equal(p->rules[DIR_IN][3].protos, PROTO_ANY);
	assert_true(p->rules[DIR_IN][4].to.any);
	assert_int_equal(p->rules[DIR_IN][5].not_to.n, 2);
	assert_true(p->rules[DIR_IN][6].from.any);
	policy_free(p);
}

static void test_set_refs(void **state)
{
	struct policy *p = ok(
		"portwarden: 1\n"
		"sets:\n"
		"  a: [10.0.0.0/8]\n"
		"  b: [192.168.0.0/16, 10.1.0.0/16]\n"
		"  p: [22, 80]\n"
		"inbound:\n"
		"  - from: [$a, $b]\n"
		"    port: [$p, 443]\n"
		"  - from: [$a]\n"
		"    port: $p\n");
	const struct rule *r = &p->rules[DIR_IN][0];

	(void)state;
	assert_null(r->from.ref);
	assert_int_equal(r->from.n, 2);		/* 10.1/16 is inside 10/8 */
	assert_null(r->dport.ref);
	assert_int_equal(r->dport.n, 3);
	r = &p->rules[DIR_IN][1];
	assert_string_equal(r->from.ref, "a");
	assert_string_equal(r->dport.ref, "p");
	assert_int_equal(p->rules[DIR_IN][1].families, FAM_V4);
	assert_int_equal(p->sets[1].addrs.n, 2);
	policy_free(p);
}

/* ---- errors --------------------------------------------------------- */

static void test_errors_top(void **state)
{
	(void)state;
	bad("", 1, 1, "empty policy: expected a mapping with 'portwarden: 1'");
	bad("# only a comment\n", 1, 1,
	    "empty policy: expected a mapping with 'portwarden: 1'");
	bad("- a\n- b\n", 1, 1,
	    "the top level must be a mapping with 'portwarden: 1', not a list");
	bad("table: x\n", 1, 1, "missing 'portwarden: 1' (the schema version)");
	bad("portwarden: 2\n", 1, 13,
	    "unsupported schema version 2 (this portwarden reads version 1)");
	bad("portwarden: one\n", 1, 13,
	    "'portwarden' must be the schema version 1, not 'one'");
	bad("portwarden: 1\ntabel: x\n", 2, 1,
	    "unknown key 'tabel' in the policy; did you mean 'table'?");
	bad("portwarden: 1\nzzzzzz: x\n", 2, 1,
	    "unknown key 'zzzzzz' in the policy");
	bad("portwarden: 1\ntable: 9bad\n", 2, 8,
	    "bad table name '9bad' (a letter, then letters, digits, '_' or '-'; at most 32)");
	bad("portwarden: 1\ntable: abcdefghijabcdefghijabcdefghijabc\n", 2, 8,
	    "bad table name 'abcdefghijabcdefghijabcdefghijabc' (a letter, then letters, digits, '_' or '-'; at most 32)");
	bad("portwarden: 1\ndefaults:\n  inbound: acept\n", 3, 12,
	    "unknown action 'acept'; did you mean 'accept'?");
	bad("portwarden: 1\ndefaults:\n  outbound: allow\n", 3, 13,
	    "unknown action 'allow' (expected accept, drop or reject)");
	bad("portwarden: 1\ndefaults:\n  inbond: drop\n", 3, 3,
	    "unknown key 'inbond' in defaults; did you mean 'inbound'?");
	bad("portwarden: 1\ndefaults: drop\n", 2, 11,
	    "'defaults' must be a mapping (inbound, outbound, log), not a scalar");
	bad("portwarden: 1\nloopback: 5\n", 2, 11,
	    "expected true or false, got '5'");
	bad("portwarden: 1\nestablished: \"true\"\n", 2, 14,
	    "expected true or false, got the string 'true' (drop the quotes)");
	bad("portwarden: 1\nicmp: essentail\n", 2, 7,
	    "unknown icmp mode 'essentail'; did you mean 'essential'?");
	bad("portwarden: 1\ninbound: {a: 1}\n", 2, 10,
	    "'inbound' must be a list of rules, not a mapping");
	bad("portwarden: 1\nlisteners: x\n", 2, 12,
	    "'listeners' must be a list of listeners, not a scalar");
	bad("portwarden: 1\nsets: [a]\n", 2, 7,
	    "'sets' must be a mapping of set names to lists, not a list");
}

static void test_errors_yaml(void **state)
{
	(void)state;
	bad("portwarden: 1\ninbound: [\n", 3, 1,
	    "YAML syntax error: did not find expected node content while parsing a flow node");
	bad("portwarden: 1\nportwarden: 1\n", 2, 1,
	    "duplicate key 'portwarden' (first at line 1, column 1)");
	bad("portwarden: 1\n[a]: 1\n", 2, 1,
	    "a mapping key must be a string, not a list");
	bad("portwarden: 1\n---\nportwarden: 1\n", 2, 1,
	    "a second YAML document in one file; a policy file holds one document");
	bad("portwarden: 1\ninbound: *nope\n", 2, 10,
	    "alias '*nope' names no finished anchor");
	bad("portwarden: 1\ntable: \"\xff\xfe\"\n", 2, 9,
	    "invalid input: invalid leading UTF-8 octet (byte 0xff)");
	bad("portwarden: 1\n\x01\x02\x03\n", 2, 1,
	    "invalid input: control characters are not allowed (byte 0x01)");
}

static void test_errors_rule(void **state)
{
	(void)state;
	bad("portwarden: 1\ninbound:\n  - prot: tcp\n", 3, 5,
	    "unknown key 'prot' in a rule; did you mean 'proto'?");
	bad("portwarden: 1\ninbound:\n  - protocol: tcp\n", 3, 5,
	    "unknown key 'protocol' in a rule; did you mean 'proto'?");
	bad("portwarden: 1\noutbound:\n  - dst: 10.0.0.1\n", 3, 5,
	    "unknown key 'dst' in a rule; did you mean 'to'?");
	bad("portwarden: 1\ninbound:\n  - proto: tpc\n", 3, 12,
	    "unknown protocol 'tpc'; did you mean 'tcp'?");
	bad("portwarden: 1\ninbound:\n  - proto: sctp\n", 3, 12,
	    "unknown protocol 'sctp' (expected tcp, udp, icmp, icmpv6 or any)");
	bad("portwarden: 1\ninbound:\n  - action: acept\n", 3, 13,
	    "unknown action 'acept'; did you mean 'accept'?");
	bad("portwarden: 1\ninbound:\n  - port: 0\n", 3, 11,
	    "port 0 is out of range (1-65535)");
	bad("portwarden: 1\ninbound:\n  - port: 65536\n", 3, 11,
	    "port 65536 is out of range (1-65535)");
	bad("portwarden: 1\ninbound:\n  - port: [22, 9000-8000]\n", 3, 16,
	    "reversed port range 9000-8000 (did you mean 8000-9000?)");
	bad("portwarden: 1\ninbound:\n  - port: 1-70000\n", 3, 11,
	    "port range 1-70000 is out of range (1-65535)");
	bad("portwarden: 1\ninbound:\n  - port: htps\n", 3, 11,
	    "unknown port name 'htps'; did you mean 'https'?");
	bad("portwarden: 1\ninbound:\n  - port: gopher\n", 3, 11,
	    "unknown port name 'gopher' (names come from portwarden's built-in table)");
	bad("portwarden: 1\ninbound:\n  - port: -5\n", 3, 11,
	    "bad port '-5' (expected 1-65535, a range such as 8000-8999, a service name or a $set)");
	bad("portwarden: 1\ninbound:\n  - port: {a: 1}\n", 3, 11,
	    "expected a port or a list of them, got a mapping");
	bad("portwarden: 1\ninbound:\n  - port: [[22]]\n", 3, 12,
	    "expected a port, got a list");
	bad("portwarden: 1\ninbound:\n  - port:\n", 3, 10,
	    "expected a port or a list of them, got null");
	bad("portwarden: 1\ninbound:\n  - port: 22\n    dport: 22\n", 4, 12,
	    "'dport' is another name for 'port'; give only one");
	bad("portwarden: 1\ninbound:\n  - proto: icmp\n    port: 22\n", 4, 11,
	    "'port' needs proto tcp or udp; icmp has no ports");
	bad("portwarden: 1\ninbound:\n  - proto: any\n    sport: 22\n", 4, 12,
	    "'sport' needs proto tcp or udp; any has no ports");
	bad("portwarden: 1\ninbound:\n  - from: example.com\n", 3, 11,
	    "hostname 'example.com' in 'from': hostnames stand only for where outbound connections go ('to', 'not_to'); give addresses here");
	bad("portwarden: 1\ninbound:\n  - from: [10.0.0.0/33]\n", 3, 12,
	    "bad address '10.0.0.0/33' (expected an IPv4 or IPv6 address or prefix, 'any' or a $set)");
	bad("portwarden: 1\ninbound:\n  - from: $nope\n", 3, 11,
	    "undefined set '$nope'");
	bad("portwarden: 1\nsets: {corp: [10.0.0.0/8]}\ninbound:\n  - from: $crop\n", 4, 11,
	    "undefined set '$crop'; did you mean '$corp'?");
	bad("portwarden: 1\nsets: {web: [80]}\ninbound:\n  - from: $web\n", 4, 11,
	    "set '$web' holds ports, not addresses ('from' takes addresses)");
	bad("portwarden: 1\nsets: {corp: [10.0.0.0/8]}\ninbound:\n  - port: $corp\n", 4, 11,
	    "set '$corp' holds addresses, not ports ('port' takes ports)");
	bad("portwarden: 1\ninbound:\n  - name: a\n  - name: a\n", 4, 5,
	    "duplicate inbound rule name 'a' (first at t.yaml:3:5)");
	bad("portwarden: 1\ninbound:\n  - name: \"a\\tb\"\n", 3, 11,
	    "rule name must be 1 to 64 printable ASCII characters without '\"'");
	bad("portwarden: 1\ninbound:\n  - name: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	    3, 11, "rule name must be 1 to 64 printable ASCII characters without '\"'");
	bad("portwarden: 1\ninbound:\n  - user: root\n", 3, 11,
	    "'user' applies to outbound rules only (inbound packets have no local socket owner yet)");
	bad("portwarden: 1\ninbound:\n  - group: root\n", 3, 12,
	    "'group' applies to outbound rules only (inbound packets have no local socket owner yet)");
	bad("portwarden: 1\ninbound:\n  - cgroup: a.slice\n", 3, 13,
	    "'cgroup' applies to outbound rules only (inbound packets have no local socket owner yet)");
	bad("portwarden: 1\noutbound:\n  - user: []\n", 3, 11,
	    "expected a user name or number or a list of them, got an empty list");
	bad("portwarden: 1\noutbound:\n  - proto: []\n", 3, 12,
	    "expected a protocol or a list of them, got an empty list");
	bad("portwarden: 1\noutbound:\n  - user: no-such-user-x\n", 3, 11,
	    "unknown user 'no-such-user-x'");
	bad("portwarden: 1\noutbound:\n  - group: [root, no-such-group-x]\n", 3, 19,
	    "unknown group 'no-such-group-x'");
	bad("portwarden: 1\noutbound:\n  - user: 4294967295\n", 3, 11,
	    "user id 4294967295 is out of range");
	bad("portwarden: 1\noutbound:\n  - cgroup: a/../b\n", 3, 13,
	    "bad cgroup path 'a/../b' (a cgroup v2 path such as system.slice/nginx.service)");
	bad("portwarden: 1\noutbound:\n  - interface: eth0/1\n", 3, 16,
	    "bad interface name 'eth0/1' (1 to 15 characters, no spaces, '/', ':' or '\"'; '*' only at the end)");
	bad("portwarden: 1\noutbound:\n  - interface: abcdefghijklmnop\n", 3, 16,
	    "bad interface name 'abcdefghijklmnop' (1 to 15 characters, no spaces, '/', ':' or '\"'; '*' only at the end)");
	bad("portwarden: 1\noutbound:\n  - family: ipv5\n", 3, 13,
	    "unknown family 'ipv5'; did you mean 'ipv4'?");
	bad("portwarden: 1\noutbound:\n  - family: ipv6\n    to: 10.0.0.0/8\n", 4, 9,
	    "family ipv6 contradicts to: only IPv4 addresses");
	bad("portwarden: 1\ninbound:\n  - family: ipv6\n    from: 10.0.0.0/8\n", 4, 11,
	    "family ipv6 contradicts from: only IPv4 addresses");
	bad("portwarden: 1\ninbound:\n  - from: 10.0.0.0/8\n    to: \"::1\"\n", 4, 9,
	    "from: only IPv4 addresses contradicts to: only IPv6 addresses");
	bad("portwarden: 1\ninbound:\n  - proto: icmpv6\n    from: 10.0.0.0/8\n", 3, 12,
	    "from: only IPv4 addresses contradicts proto icmpv6 (IPv6 only)");
	bad("portwarden: 1\ninbound:\n  - log: sometimes\n", 3, 10,
	    "expected true or false, got 'sometimes'");
	bad("portwarden: 1\ninbound:\n  - comment: [a]\n", 3, 14,
	    "expected a comment, got a list");
	bad("portwarden: 1\ninbound:\n  - comment: say \"hi\"\n", 3, 14,
	    "comment must be 1 to 100 printable ASCII characters without '\"'");
	/* policy text in messages: no terminal escapes, bounded length */
	bad("portwarden: 1\ninbound:\n  - port: \"\\e[31mx\"\n", 3, 11,
	    "unknown port name '?[31mx' (names come from portwarden's built-in table)");
	bad("portwarden: 1\ninbound:\n  - from: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/8\n",
	    3, 11, "bad address 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' (expected an IPv4 or IPv6 address or prefix, 'any' or a $set)");
	bad("portwarden: 1\ninbound:\n  - 22\n", 3, 5,
	    "inbound[0]: a rule must be a mapping, not a scalar");
}

static void test_errors_sets_listeners(void **state)
{
	(void)state;
	bad("portwarden: 1\nsets:\n  mix: [80, 10.0.0.0/8]\ninbound:\n  - port: $mix\n",
	    3, 3, "set 'mix' mixes ports ('80', line 3) and addresses ('10.0.0.0/8', line 3)");
	bad("portwarden: 1\nsets:\n  9x: [80]\n", 3, 3,
	    "bad set name '9x' (a letter or '_', then letters, digits, '_' or '-'; at most 32)");
	bad("portwarden: 1\nsets:\n  a: [$b]\n  b: [80]\n", 3, 7,
	    "a set cannot contain another set ('$b'); list its elements");
	bad("portwarden: 1\nsets:\n  a: [any]\n", 3, 7,
	    "'any' cannot be a set element; leave the field out to match every address");
	bad("portwarden: 1\nsets:\n  a: [sshh]\n", 3, 7,
	    "unknown port name 'sshh'; did you mean 'ssh'?");
	bad("portwarden: 1\nlisteners:\n  - { proto: icmp, port: 1 }\n", 3, 14,
	    "unknown listener protocol 'icmp' (expected tcp or udp)");
	bad("portwarden: 1\nlisteners:\n  - { proto: tcp }\n", 3, 5,
	    "a listener needs a 'port'");
	bad("portwarden: 1\nlisteners:\n  - { port: 22, proces: sshd }\n", 3, 17,
	    "unknown key 'proces' in a listener; did you mean 'process'?");
	bad("portwarden: 1\nlisteners:\n  - 22\n", 3, 5,
	    "a listener must be a mapping such as { proto: tcp, port: 22 }, not a scalar");
}

/* Every error of a file is reported in one run, in line order. */
static void test_all_errors_reported(void **state)
{
	struct policy *p = NULL;
	struct diag d;

	(void)state;
	assert_int_equal(load("portwarden: 1\n"
			      "inbound:\n"
			      "  - port: 0\n"
			      "    proto: tpc\n"
			      "  - from: nowhere\n"
			      "outbound:\n"
			      "  - action: permit\n", &p, &d), -EINVAL);
	assert_int_equal(d.errors, 4);
	assert_int_equal(d.v[0].loc.line, 3);
	assert_int_equal(d.v[1].loc.line, 4);
	assert_int_equal(d.v[2].loc.line, 5);
	assert_int_equal(d.v[3].loc.line, 7);
	diag_release(&d);
}

/* ---- warnings ------------------------------------------------------- */

static void test_warnings(void **state)
{
	(void)state;
	warns("portwarden: 1\ninbound:\n  - from: 10.0.0.1/8\n", 3, 11,
	      "10.0.0.1/8 has host bits set; using 10.0.0.0/8");
	warns("portwarden: 1\ninbound:\n  - from: \"2001:db8::1/32\"\n", 3, 11,
	      "2001:db8::1/32 has host bits set; using 2001:db8::/32");
	warns("portwarden: 1\nsets:\n  a: [80]\n", 3, 3, "set 'a' is never used");
	warns("portwarden: 1\nsets:\n  e: []\ninbound:\n  - port: $e\n", 3, 3,
	      "set 'e' is empty");
	warns("portwarden: 1\nsets:\n  e: []\ninbound:\n  - from: $e\n", 5, 5,
	      "rule 'inbound[0]' never matches: its 'from' is empty");
	warns("portwarden: 1\ninbound:\n  - port: []\n", 3, 5,
	      "rule 'inbound[0]' never matches: its 'port' is empty");
	warns("portwarden: 1\ninbound:\n  - name: all\n  - name: ssh\n    port: 22\n",
	      4, 5, "rule 'ssh' never matches: rule 'all' (t.yaml:3) above already decides all of its traffic");
	/* exclusions that leave nothing */
	warns("portwarden: 1\ninbound:\n  - { name: x, port: 22, not_from: [0.0.0.0/0, \"::/0\"] }\n",
	      3, 5, "rule 'x' can never match: its 'not_from' excludes every address");
	warns("portwarden: 1\ninbound:\n  - { name: x, port: 22, not_from: any }\n",
	      3, 5, "rule 'x' can never match: its 'not_from' excludes every address");
	warns("portwarden: 1\ninbound:\n  - { name: x, family: ipv4, not_from: 0.0.0.0/0 }\n",
	      3, 5, "rule 'x' can never match: its 'not_from' excludes every address");
	warns("portwarden: 1\noutbound:\n  - { name: x, proto: icmp, not_to: [0.0.0.0/1, 128.0.0.0/1] }\n",
	      3, 5, "rule 'x' can never match: its 'not_to' excludes every address");
	warns("portwarden: 1\noutbound:\n  - { name: x, to: [10.1.0.0/16, \"2001:db8::/32\"],"
	      " not_to: [10.0.0.0/8, \"2001:db8::/33\", \"2001:db8:8000::/33\"] }\n",
	      3, 5, "rule 'x' can never match: its 'not_to' excludes every address its 'to' allows");
	warns("portwarden: 1\ninbound:\n  - { name: x, from: [10.1.0.0/16, 10.2.0.0/16],"
	      " not_from: [10.1.0.0/17, 10.1.128.0/17, 10.2.0.0/16] }\n",
	      3, 5, "rule 'x' can never match: its 'not_from' excludes every address its 'from' allows");
	warns("portwarden: 1\ninbound:\n  - { name: a, interface: [eth1, eth0, wg0] }\n"
	      "  - { name: b, port: 22, interface: [wg0, eth0] }\n",
	      4, 5, "rule 'b' never matches: rule 'a' (t.yaml:3) above already decides all of its traffic");
	warns("portwarden: 1\ninbound:\n  - { name: a, interface: \"eth*\" }\n"
	      "  - { name: b, port: 22, interface: [eth0, eth1] }\n",
	      4, 5, "rule 'b' never matches: rule 'a' (t.yaml:3) above already decides all of its traffic");
	warns("portwarden: 1\n"
	      "inbound:\n"
	      "  - { name: wide, proto: tcp, port: [22, 80-90], from: [10.0.0.0/8, \"::/0\"] }\n"
	      "  - { name: narrow, proto: tcp, port: 85, from: [10.1.0.0/16, \"2001:db8::/32\"] }\n",
	      4, 5, "rule 'narrow' never matches: rule 'wide' (t.yaml:3) above already decides all of its traffic");
}

static void test_not_shadowed(void **state)
{
	static const char *const cases[] = {
		/* different protocol */
		"portwarden: 1\ninbound:\n  - { proto: tcp, port: 22 }\n  - { proto: udp, port: 22 }\n",
		/* tcp+udp is not inside tcp */
		"portwarden: 1\ninbound:\n  - { proto: tcp, port: 22 }\n  - { port: 22 }\n",
		/* narrower source first */
		"portwarden: 1\ninbound:\n  - { port: 22, from: 10.0.0.0/8 }\n  - { port: 22 }\n",
		/* an exclusion in the earlier rule */
		"portwarden: 1\ninbound:\n  - { port: 22, not_from: 10.1.0.0/16 }\n  - { port: 22, from: 10.0.0.0/8 }\n",
		/* interface */
		"portwarden: 1\ninbound:\n  - { port: 22, interface: eth0 }\n  - { port: 22 }\n",
		/* exclusions that leave something: one family, one prefix, a gap */
		"portwarden: 1\ninbound:\n  - { port: 22, not_from: 0.0.0.0/0 }\n",
		"portwarden: 1\ninbound:\n  - { port: 22, from: [10.1.0.0/16, 11.0.0.0/8], not_from: 10.0.0.0/8 }\n",
		"portwarden: 1\noutbound:\n  - { proto: icmp, not_to: [0.0.0.0/1, 128.0.0.0/2, 224.0.0.0/3] }\n",
		"portwarden: 1\noutbound:\n  - { to: \"::/0\", not_to: [\"::/1\", \"8000::/2\", \"c000::/3\", \"e000::/4\"] }\n",
		/* an interface list that misses one of the later rule's */
		"portwarden: 1\ninbound:\n  - { port: 22, interface: [eth0, eth1] }\n  - { port: 22, interface: [eth1, eth2] }\n",
		/* a pattern that does not cover the later name */
		"portwarden: 1\ninbound:\n  - { port: 22, interface: \"eth*\" }\n  - { port: 22, interface: [wg0, eth1] }\n",
		/* family */
		"portwarden: 1\ninbound:\n  - { port: 22, family: ipv4 }\n  - { port: 22 }\n",
		/* users */
		"portwarden: 1\noutbound:\n  - { port: 22, user: 1 }\n  - { port: 22, user: [1, 2] }\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct policy *p = NULL;
		struct diag d;

		assert_int_equal(load(cases[i], &p, &d), 0);
		if (d.warnings)
			diag_print(&d, stderr);
		assert_int_equal(d.warnings, 0);
		policy_free(p);
		diag_release(&d);
	}
}

/* ---- files and merging ---------------------------------------------- */

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
	free(path);
}

static int setup_dir(void **state)
{
	(void)state;
	strcpy(tmpdir, "/tmp/pw-test-policy.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	return chmod(tmpdir, 0755);
}

static int teardown_dir(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	int ret;

	(void)state;
	ret = system(cmd);
	free(cmd);
	return ret ? -1 : 0;
}

static int load_paths(struct policy **p, struct diag *d, const char *a,
		      const char *b)
{
	char *pa = xasprintf("%s/%s", tmpdir, a);
	char *pb = b ? xasprintf("%s/%s", tmpdir, b) : NULL;
	const char *paths[] = { pa, pb };
	int ret;

	diag_init(d);
	ret = policy_load(p, paths, b ? 2 : 1, d);
	free(pa);
	free(pb);
	return ret;
}

/* Is there an error whose text contains @needle? */
static bool has_text(const struct diag *d, const char *needle)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strstr(d->v[i].msg, needle))
			return true;
	diag_print(d, stderr);
	return false;
}

static void test_merge(void **state)
{
	struct policy *p = NULL;
	struct diag d;
	char *msg;

	(void)state;
	write_file("a.yaml", "portwarden: 1\ndefaults: {inbound: drop}\n"
		   "inbound:\n  - { name: ssh, port: ssh, from: $corp }\n", 0644);
	write_file("b.yaml", "portwarden: 1\ndefaults: {inbound: drop, outbound: drop}\n"
		   "sets: {corp: [10.0.0.0/8]}\n"
		   "inbound:\n  - { name: web, port: 80 }\n", 0644);
	/* same value twice is fine; a set may come from a later file */
	assert_int_equal(load_paths(&p, &d, "a.yaml", "b.yaml"), 0);
	assert_int_equal(p->n_rules[DIR_IN], 2);
	assert_string_equal(p->rules[DIR_IN][1].name, "web");
	assert_int_equal(p->rules[DIR_IN][1].index, 1);
	assert_int_equal(p->def[DIR_OUT], VERDICT_DROP);
	assert_int_equal(p->n_files, 2);
	assert_ptr_equal(p->rules[DIR_IN][1].loc.file, p->files[1]);
	policy_free(p);
	diag_release(&d);

	/* conflicting defaults name both places */
	write_file("c.yaml", "portwarden: 1\ndefaults:\n  inbound: accept\n", 0644);
	assert_int_equal(load_paths(&p, &d, "a.yaml", "c.yaml"), -EINVAL);
	msg = xasprintf("defaults.inbound set to accept here but to drop at %s/a.yaml:2:21",
			tmpdir);
	assert_true(has(&d, DIAG_ERROR, 3, 12, msg));
	free(msg);
	diag_release(&d);

	/* the same set twice; the same rule name twice */
	write_file("d.yaml", "portwarden: 1\nsets: {corp: [10.0.0.0/8]}\n"
		   "inbound:\n  - { name: web, port: 443 }\n", 0644);
	assert_int_equal(load_paths(&p, &d, "b.yaml", "d.yaml"), -EINVAL);
	assert_true(has_text(&d, "set 'corp' is already defined at "));
	assert_true(has_text(&d, "duplicate inbound rule name 'web' (first at "));
	assert_true(has_text(&d, "/b.yaml:5:5)"));
	diag_release(&d);
}

static void test_directory(void **state)
{
	struct policy *p = NULL;
	struct diag d;
	char *sub = xasprintf("%s/conf.d", tmpdir);

	(void)state;
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("conf.d/20-web.yml", "portwarden: 1\ninbound:\n  - name: web\n", 0644);
	write_file("conf.d/10-base.yaml", "portwarden: 1\ninbound:\n  - name: base\n", 0644);
	write_file("conf.d/README", "not yaml at all: [", 0644);
	write_file("conf.d/30-x.yaml.bak", "garbage: [", 0644);
	assert_int_equal(load_paths(&p, &d, "conf.d", NULL), 0);
	assert_int_equal(p->n_rules[DIR_IN], 2);
	assert_string_equal(p->rules[DIR_IN][0].name, "base");
	assert_string_equal(p->rules[DIR_IN][1].name, "web");
	assert_non_null(strstr(p->rules[DIR_IN][1].loc.file, "conf.d/20-web.yml"));
	policy_free(p);
	diag_release(&d);
	free(sub);

	/* a directory without policy files is an error, not an empty policy */
	sub = xasprintf("%s/empty.d", tmpdir);
	assert_int_equal(mkdir(sub, 0755), 0);
	assert_int_equal(load_paths(&p, &d, "empty.d", NULL), -EINVAL);
	assert_true(has_text(&d, "no *.yaml or *.yml policy files in this directory"));
	diag_release(&d);
	free(sub);

	/* a file over the size limit is invalid, and is not read */
	{
		char *path = xasprintf("%s/huge.yaml", tmpdir);

		write_file("huge.yaml", "portwarden: 1\n", 0644);
		assert_int_equal(truncate(path, (64 << 20) + 1), 0);
		assert_int_equal(load_paths(&p, &d, "huge.yaml", NULL), -EINVAL);
		assert_true(has_text(&d, "file is larger than 64 MiB (file size limit)"));
		diag_release(&d);
		unlink(path);
		free(path);
	}
	/* an unusable entry stops the check: no follow-on errors */
	sub = xasprintf("%s/odd.d", tmpdir);
	assert_int_equal(mkdir(sub, 0755), 0);
	free(sub);
	sub = xasprintf("%s/odd.d/10-dir.yaml", tmpdir);
	assert_int_equal(mkdir(sub, 0755), 0);
	write_file("odd.d/20-rules.yaml", "portwarden: 1\ninbound:\n  - from: $corp\n", 0644);
	assert_int_equal(load_paths(&p, &d, "odd.d", NULL), -EINVAL);
	assert_int_equal(d.errors, 1);
	assert_true(has_text(&d, "not a regular file or directory"));
	diag_release(&d);
	free(sub);

	/* a missing file is a runtime error, not an invalid policy */
	assert_int_equal(load_paths(&p, &d, "missing.yaml", NULL), -ENOENT);
	assert_true(has_text(&d, "cannot open: No such file or directory"));
	diag_release(&d);
}

static void test_permissions(void **state)
{
	struct policy *p = NULL;
	struct diag d;
	char *sub = xasprintf("%s/open.d", tmpdir);

	(void)state;
	write_file("gw.yaml", "portwarden: 1\n", 0664);
	assert_int_equal(load_paths(&p, &d, "gw.yaml", NULL), -EINVAL);
	assert_null(p);
	assert_true(has_text(&d, "refusing a group-writable policy file; fix: chmod go-w "));
	diag_release(&d);
	write_file("ww.yaml", "portwarden: 1\n", 0646);
	assert_int_equal(load_paths(&p, &d, "ww.yaml", NULL), -EINVAL);
	assert_true(has_text(&d, "refusing a world-writable policy file"));
	diag_release(&d);
	/* nothing is loaded even when the other file is fine */
	write_file("fine.yaml", "portwarden: 1\n", 0644);
	assert_int_equal(load_paths(&p, &d, "fine.yaml", "ww.yaml"), -EINVAL);
	assert_null(p);
	diag_release(&d);
	/* owned by someone who is neither root nor the caller */
	if (geteuid() == 0) {
		char *path = xasprintf("%s/fine.yaml", tmpdir);

		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(load_paths(&p, &d, "fine.yaml", NULL), -EINVAL);
		assert_true(has_text(&d, "refusing a policy file owned by uid 65534 (neither root nor you); fix: chown root "));
		diag_release(&d);
		free(path);
	}
	assert_int_equal(mkdir(sub, 0777), 0);
	assert_int_equal(chmod(sub, 0777), 0);
	write_file("open.d/a.yaml", "portwarden: 1\n", 0644);
	assert_int_equal(load_paths(&p, &d, "open.d", NULL), -EINVAL);
	assert_true(has_text(&d, "refusing a world-writable policy directory; fix: chmod go-w "));
	diag_release(&d);
	free(sub);
}

/* ---- hostile input -------------------------------------------------- */

static void test_limits(void **state)
{
	struct policy *p = NULL;
	struct diag d;
	char *buf;
	size_t i, len;

	(void)state;
	/* nesting */
	buf = xmalloc(200001);
	memset(buf, '[', 100000);
	memset(buf + 100000, ']', 100000);
	buf[200000] = '\0';
	assert_int_equal(load(buf, &p, &d), -EINVAL);
	assert_true(has(&d, DIAG_ERROR, 1, 65,
			"nesting deeper than 64 levels (nesting depth limit)"));
	diag_release(&d);
	free(buf);

	/* alias bomb: 10 levels of 10 aliases each */
	{
		char *s = xstrdup("portwarden: 1\nsets:\n  a0: &a0 [1,1,1,1,1,1,1,1,1,1]\n");

		for (i = 1; i < 10; i++) {
			char *t = xasprintf("%s  a%zu: &a%zu [*a%zu,*a%zu,*a%zu,*a%zu,*a%zu,*a%zu,*a%zu,*a%zu,*a%zu,*a%zu]\n",
					    s, i, i, i - 1, i - 1, i - 1, i - 1, i - 1,
					    i - 1, i - 1, i - 1, i - 1, i - 1);
			free(s);
			s = t;
		}
		assert_int_equal(load(s, &p, &d), -EINVAL);
		assert_true(has_text(&d, "document exceeds 2000000 nodes with aliases expanded"));
		diag_release(&d);
		free(s);
	}
	/* a small alias is fine and shares the node */
	p = ok("portwarden: 1\nsets:\n  a: &x [80, 443]\ninbound:\n  - port: *x\n");
	assert_int_equal(p->rules[DIR_IN][0].dport.n, 2);
	policy_free(p);

	/* rules per direction */
	len = 100001 * 7 + 64;
	buf = xmalloc(len);
	strcpy(buf, "portwarden: 1\ninbound:\n");
	len = strlen(buf);
	for (i = 0; i < 100001; i++) {
		memcpy(buf + len, "  - {}\n", 7);
		len += 7;
	}
	buf[len] = '\0';
	assert_int_equal(load(buf, &p, &d), -EINVAL);
	assert_true(has(&d, DIAG_ERROR, 100003, 5,
			"more than 100000 inbound rules (rule limit per direction)"));
	diag_release(&d);
	free(buf);

	/* elements per field */
	len = 1000001 * 2 + 64;
	buf = xmalloc(len);
	strcpy(buf, "portwarden: 1\ninbound:\n  - port: [");
	len = strlen(buf);
	for (i = 0; i < 1000001; i++) {
		buf[len++] = '1';
		buf[len++] = ',';
	}
	buf[len - 1] = ']';
	buf[len] = '\0';
	assert_int_equal(load(buf, &p, &d), -EINVAL);
	assert_true(has(&d, DIAG_ERROR, 3, 11,
			"more than 1000000 elements (element limit per set or field)"));
	diag_release(&d);
	free(buf);

	/* shown diagnostics are capped, the count is not */
	len = 1500 * 16 + 64;
	buf = xmalloc(len);
	strcpy(buf, "portwarden: 1\ninbound:\n");
	len = strlen(buf);
	for (i = 0; i < 1500; i++) {
		memcpy(buf + len, "  - port: 0\n", 12);
		len += 12;
	}
	buf[len] = '\0';
	assert_int_equal(load(buf, &p, &d), -EINVAL);
	assert_int_equal(d.errors, 1500);
	assert_int_equal(d.n, 1001);
	assert_int_equal(d.v[1000].severity, DIAG_NOTE);
	assert_string_equal(d.v[1000].msg,
			    "more than 1000 errors; the rest are counted but not shown");
	assert_int_equal(d.v[999].loc.line, 1002);
	diag_release(&d);
	free(buf);

	/* file size */
	len = (64u << 20) + 1;
	buf = xcalloc(1, len);
	diag_init(&d);
	assert_int_equal(policy_load_buffer(&p, "big.yaml", buf, len, &d), -EINVAL);
	assert_true(has_text(&d, "file is larger than 64 MiB (file size limit)"));
	diag_release(&d);
	free(buf);
}

/* ---- YAML merge keys, x- keys, tags ---------------------------------- */

static void test_merge_keys(void **state)
{
	struct policy *p;
	struct diag d;
	const struct rule *r;

	(void)state;
	p = ok("portwarden: 1\n"				/* 1 */
	       "x-ssh: &ssh\n"					/* 2 */
	       "  proto: tcp\n"					/* 3 */
	       "  port: 22\n"					/* 4 */
	       "  from: 10.0.0.0/8\n"				/* 5 */
	       "x-alt: &alt { port: 2222, log: true, comment: alt }\n" /* 6 */
	       "inbound:\n"					/* 7 */
	       "  - <<: *ssh\n"					/* 8 */
	       "    name: own-wins\n"				/* 9 */
	       "    port: 23\n"					/* 10 */
	       "  - { <<: [*alt, *ssh], name: earlier-wins }\n"	/* 11 */
	       "  - { <<: {proto: udp}, name: inline, port: 53 }\n");
	assert_int_equal(p->n_rules[DIR_IN], 3);
	r = &p->rules[DIR_IN][0];
	assert_string_equal(r->name, "own-wins");
	assert_int_equal(r->protos, PROTO_TCP);
	assert_int_equal(r->dport.n, 1);
	assert_int_equal(r->dport.v[0].lo, 23);	/* the rule's own key */
	assert_int_equal(r->from.n, 1);		/* merged */
	assert_int_equal(r->from.v[0].plen, 8);
	r = &p->rules[DIR_IN][1];
	assert_int_equal(r->dport.v[0].lo, 2222);	/* *alt before *ssh */
	assert_true(r->log);
	assert_string_equal(r->comment, "alt");
	assert_int_equal(r->protos, PROTO_TCP);	/* only *ssh has it */
	assert_int_equal(r->loc.line, 11);
	r = &p->rules[DIR_IN][2];
	assert_int_equal(r->protos, PROTO_UDP);
	policy_free(p);

	/* a merged key's problem is reported where it was written, once */
	assert_int_equal(load("portwarden: 1\n"
			      "x-b: &b { proto: tcp, port: 0 }\n"
			      "inbound:\n"
			      "  - { <<: *b, name: a }\n"
			      "  - { <<: *b, name: c }\n", &p, &d), -EINVAL);
	assert_true(has(&d, DIAG_ERROR, 2, 29, "port 0 is out of range (1-65535)"));
	assert_int_equal(d.errors, 1);
	assert_int_equal(d.n, 1);
	diag_release(&d);

	/* merging something that is not a mapping */
	bad("portwarden: 1\nx-l: &l [1, 2]\ninbound:\n  - { <<: *l, port: 1 }\n",
	    4, 7, "'<<' merges mappings, but item 1 of its list is a scalar");
	bad("portwarden: 1\ninbound:\n  - { <<: 5, port: 1 }\n",
	    3, 7, "'<<' merges a mapping or a list of mappings, not a scalar (write '<<: *anchor' with an anchored mapping)");
	bad("portwarden: 1\nx-a: &a {port: 1}\ninbound:\n  - { <<: [*a, [1]], name: x }\n",
	    4, 7, "'<<' merges mappings, but item 2 of its list is a list");
	/* a quoted "<<" is an ordinary key */
	bad("portwarden: 1\nx-a: &a {port: 1}\ninbound:\n  - { \"<<\": *a }\n",
	    4, 7, "unknown key '<<' in a rule (a quoted '<<' is an ordinary key; write << unquoted to merge)");
	/* !!merge << is the same as << */
	p = ok("portwarden: 1\nx-a: &a {port: 80}\ninbound:\n  - { !!merge <<: *a }\n");
	assert_int_equal(p->rules[DIR_IN][0].dport.v[0].lo, 80);
	policy_free(p);
	/* merging at the top level and into sets works too */
	p = ok("portwarden: 1\nx-top: &top { defaults: { inbound: drop } }\n<<: *top\n"
	       "x-s: &s { web: [80, 443] }\nsets: { <<: *s, dns: [53] }\n"
	       "inbound: [{ port: $web }, { port: $dns }]\n");
	assert_int_equal(p->def[DIR_IN], VERDICT_DROP);
	assert_int_equal(p->n_sets, 2);
	policy_free(p);
}

static void test_x_keys(void **state)
{
	struct policy *p;

	(void)state;
	/* any x- key at the top level is ignored, whatever it holds */
	p = ok("portwarden: 1\nx-anything: { not: [a, policy], port: 0 }\n"
	       "x-list: [1, 2, 3]\nx-: 7\n");
	assert_int_equal(p->n_rules[DIR_IN], 0);
	policy_free(p);
	/* elsewhere an x- key is still unknown */
	bad("portwarden: 1\ninbound:\n  - { port: 22, x-note: hi }\n",
	    3, 17, "unknown key 'x-note' in a rule ('x-' keys are ignored at the top level only)");
	bad("portwarden: 1\ndefaults: { x-a: 1 }\n",
	    2, 13, "unknown key 'x-a' in defaults ('x-' keys are ignored at the top level only)");
	/* X- (upper case) is not an x- key */
	bad("portwarden: 1\nX-a: 1\n", 2, 1, "unknown key 'X-a' in the policy");
}

static void test_tags(void **state)
{
	struct policy *p;
	const struct rule *r;

	(void)state;
	/* core tags that fit the node are fine */
	p = ok("portwarden: !!int 1\ntable: !!str pw\n"
	       "established: !!bool \"no\"\nloopback: !!bool true\n"
	       "inbound: !!seq\n"
	       "  - !!map { port: !!str 443, log: !!bool \"on\", name: !!str 44 }\n"
	       "  - { port: !!int \"22\", proto: tcp }\n"
	       "outbound: !!null\n");
	assert_false(p->established);
	r = &p->rules[DIR_IN][0];
	assert_int_equal(r->dport.v[0].lo, 443);	/* a string port is a port */
	assert_true(r->log);
	assert_string_equal(r->name, "44");
	assert_int_equal(p->rules[DIR_IN][1].dport.v[0].lo, 22);
	policy_free(p);
	/* !!str makes a plain word a string: no longer a boolean */
	bad("portwarden: 1\nloopback: !!str true\n", 2, 11,
	    "expected true or false, got the string 'true' (drop the quotes)");
	/* everything else is an error at the tagged node */
	bad("portwarden: 1\ninbound:\n  - { port: !!binary MjI= }\n", 3, 13,
	    "unsupported tag '!!binary' (a policy holds no binary data; write the value as text)");
	bad("portwarden: 1\ninbound:\n  - { port: !!float 22 }\n", 3, 13,
	    "unsupported tag '!!float' (the tags a policy takes are !!str, !!int, !!bool, !!null, !!map and !!seq)");
	bad("portwarden: 1\ninbound:\n  - { port: !port 22 }\n", 3, 13,
	    "unsupported tag '!port' (a policy is plain YAML; the tags it takes are !!str, !!int, !!bool, !!null, !!map and !!seq)");
	bad("portwarden: 1\ninbound: !!set { a, b }\n", 2, 10,
	    "unsupported tag '!!set' (the tags a policy takes are !!str, !!int, !!bool, !!null, !!map and !!seq)");
	bad("%TAG !e! tag:example.com,2000:\n---\nportwarden: !e!v 1\n", 3, 13,
	    "unsupported tag 'tag:example.com,2000:v' (a policy is plain YAML; the tags it takes are !!str, !!int, !!bool, !!null, !!map and !!seq)");
	/* a core tag that does not fit */
	bad("portwarden: 1\ninbound:\n  - { port: !!int 0x16 }\n", 3, 13,
	    "tag '!!int' does not fit the value '0x16' (a decimal integer)");
	bad("portwarden: 1\nloopback: !!bool maybe\n", 2, 11,
	    "tag '!!bool' does not fit the value 'maybe'");
	bad("portwarden: 1\ninbound: !!map [ ]\n", 2, 10, "tag '!!map' does not fit a list");
	bad("portwarden: 1\ntable: !!seq pw\n", 2, 8, "tag '!!seq' does not fit the value 'pw'");
	bad("portwarden: 1\ntable: !!null pw\n", 2, 8, "tag '!!null' does not fit the value 'pw'");
	bad("portwarden: 1\ninbound:\n  - { port: !!merge 1 }\n", 3, 13,
	    "unsupported tag '!!merge' (the tags a policy takes are !!str, !!int, !!bool, !!null, !!map and !!seq)");
}

/*
 * Hostile or broken input: each one is refused (or, for the last two,
 * read) with the error a user needs, at the place it is, and never
 * crashes or leaks (the suite also runs under ASan and valgrind).
 */
static void test_interface_lists(void **state)
{
	struct policy *p;
	const struct rule *r;

	(void)state;
	p = ok("portwarden: 1\ninbound:\n"
	       "  - { name: a, interface: [wg0, eth1, eth0, eth1] }\n"
	       "  - { name: b, interface: eth0 }\n"
	       "  - { name: c, interface: [\"veth*\"] }\n");
	r = &p->rules[DIR_IN][0];
	assert_int_equal(r->ifaces.n, 3);	/* sorted, unique */
	assert_string_equal(r->ifaces.v[0], "eth0");
	assert_string_equal(r->ifaces.v[1], "eth1");
	assert_string_equal(r->ifaces.v[2], "wg0");
	assert_int_equal(p->rules[DIR_IN][1].ifaces.n, 1);
	assert_string_equal(p->rules[DIR_IN][2].ifaces.v[0], "veth*");
	policy_free(p);
	bad("portwarden: 1\ninbound:\n  - { interface: [eth0, \"wg*\"] }\n", 3, 25,
	    "'wg*' cannot be in a list of interfaces (a list matches whole names); give the pattern a rule of its own");
	bad("portwarden: 1\ninbound:\n  - { interface: [eth0, \"a b\"] }\n", 3, 25,
	    "bad interface name 'a b' (1 to 15 characters, no spaces, '/', ':' or '\"'; '*' only at the end)");
	bad("portwarden: 1\ninbound:\n  - { interface: [] }\n", 3, 18,
	    "expected an interface name or a list of them, got an empty list");
	bad("portwarden: 1\ninbound:\n  - { interface: [eth0, [eth1]] }\n", 3, 25,
	    "expected an interface name, got a list");
}

static void test_ephemeral(void **state)
{
	struct policy *p;
	struct diag d;

	(void)state;
	p = ok("portwarden: 1\nsets:\n  e: [ephemeral]\noutbound:\n"
	       "  - { name: a, proto: tcp, sport: ephemeral }\n"		/* 5 */
	       "  - { name: b, proto: tcp, sport: [1024, $e] }\n"	/* 6 */
	       "  - { name: c, proto: tcp, sport: \"49152-65535\" }\n"	/* 7: not named */
	       "  - { name: d, proto: tcp, sport: [ephemeral, 30000-49151] }\n"
	       "inbound:\n  - { name: i, proto: tcp, sport: ephemeral }\n");
	assert_int_equal(p->rules[DIR_OUT][0].sport_ephemeral.line, 5);
	assert_int_equal(p->rules[DIR_OUT][0].sport_ephemeral.col, 35);
	assert_int_equal(p->rules[DIR_OUT][1].sport_ephemeral.line, 6);
	assert_int_equal(p->rules[DIR_OUT][2].sport_ephemeral.line, 0);
	/* Linux's default range: a and b miss 32768-49151; d covers it */
	diag_init(&d);
	assert_int_equal(policy_warn_ephemeral(p, 32768, 60999, &d), 2);
	assert_true(has(&d, DIAG_WARNING, 5, 35, "rule 'a': sport 'ephemeral' is 49152-65535 (IANA), but this host's connections use source ports 32768-60999 (net.ipv4.ip_local_port_range); write sport: \"32768-65535\" to cover both"));
	assert_true(has(&d, DIAG_WARNING, 6, 35, "rule 'b': sport 'ephemeral' is 49152-65535 (IANA), but this host's connections use source ports 32768-60999 (net.ipv4.ip_local_port_range); write sport: \"32768-65535\" to cover both"));
	diag_release(&d);
	/* a range within IANA's, or IANA's itself: nothing to say */
	diag_init(&d);
	assert_int_equal(policy_warn_ephemeral(p, 49152, 65535, &d), 0);
	assert_int_equal(policy_warn_ephemeral(p, 50000, 60000, &d), 0);
	/* a range wholly below 49152 is missed by every one of them */
	assert_int_equal(policy_warn_ephemeral(p, 1024, 5000, &d), 3);
	assert_int_equal(d.warnings, 3);
	/* nonsense from /proc: no warnings */
	assert_int_equal(policy_warn_ephemeral(p, 0, 10, &d), 0);
	assert_int_equal(policy_warn_ephemeral(p, 6000, 5000, &d), 0);
	diag_release(&d);
	policy_free(p);
}

static void test_garbage(void **state)
{
	static const struct {
		const char *in;
		size_t len;		/* 0: strlen */
		unsigned int errors, line, col;
		const char *msg;	/* the first diagnostic */
	} cases[] = {
		{ "\x7f" "ELF\x02\x01\x01", 0, 1, 1, 1,
		  "invalid input: control characters are not allowed (byte 0x7f)" },
		{ "\x00\x01\x02", 3, 1, 1, 1,
		  "invalid input: control characters are not allowed (byte 0x00)" },
		{ "portwarden: 1\ninbound:\n  - port: [\n", 0, 1, 4, 1,
		  "YAML syntax error: did not find expected node content while parsing a flow node" },
		{ "{{{{", 0, 1, 2, 1,
		  "YAML syntax error: did not find expected node content while parsing a flow node" },
		{ "]]]]", 0, 1, 1, 1,
		  "YAML syntax error: did not find expected node content while parsing a block node" },
		{ "&a [*a]", 0, 1, 1, 5, "alias '*a' names no finished anchor" },
		{ "? [a]\n: b\n", 0, 2, 1, 1,
		  "missing 'portwarden: 1' (the schema version)" },
		{ "portwarden: !!binary 1\n", 0, 1, 1, 13,
		  "unsupported tag '!!binary' (a policy holds no binary data; write the value as text)" },
		{ "portwarden: 1\ninbound:\n  - from: [\"\", \"/\", \":\", \"1.2.3.4/\", \"::/\"]\n",
		  0, 5, 3, 12,
		  "bad address '' (expected an IPv4 or IPv6 address or prefix, 'any' or a $set)" },
		{ "portwarden: 1\ninbound:\n  - port: [\"\", \"-\", \"1-\", \"-1\", \"99999999999999999999\"]\n",
		  0, 5, 3, 12,
		  "bad port '' (expected 1-65535, a range such as 8000-8999, a service name or a $set)" },
		{ "portwarden: 1\nx: &x {a: 1}\ninbound: [ *x, <<: *x ]\n", 0, 2, 2, 1,
		  "unknown key 'x' in the policy" },
	};
	struct policy *p;
	struct diag d;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

		p = NULL;
		diag_init(&d);
		assert_int_equal(policy_load_buffer(&p, "g.yaml", cases[i].in,
						    len, &d), -EINVAL);
		assert_null(p);
		assert_int_equal(d.errors, cases[i].errors);
		assert_true(d.n >= 1);
		assert_int_equal(d.v[0].severity, DIAG_ERROR);
		assert_string_equal(d.v[0].loc.file, "g.yaml");
		assert_int_equal(d.v[0].loc.line, cases[i].line);
		assert_int_equal(d.v[0].loc.col, cases[i].col);
		assert_string_equal(d.v[0].msg, cases[i].msg);
		diag_release(&d);
	}
	/* a byte order mark is not garbage */
	p = ok("\xef\xbb\xbfportwarden: 1\ninbound: [{ port: 22 }]\n");
	assert_int_equal(p->n_rules[DIR_IN], 1);
	policy_free(p);
	/* nor is a merge into `sets` */
	p = ok("portwarden: 1\nsets:\n  <<: {a: [1]}\ninbound: [{ port: $a }]\n");
	assert_int_equal(p->n_sets, 1);
	assert_string_equal(p->sets[0].name, "a");
	assert_int_equal(p->rules[DIR_IN][0].dport.v[0].lo, 1);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr_helpers),
		cmocka_unit_test(test_port_names),
		cmocka_unit_test(test_spec_example),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_set_refs),
		cmocka_unit_test(test_errors_top),
		cmocka_unit_test(test_errors_yaml),
		cmocka_unit_test(test_errors_rule),
		cmocka_unit_test(test_errors_sets_listeners),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_not_shadowed),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_x_keys),
		cmocka_unit_test(test_tags),
		cmocka_unit_test(test_interface_lists),
		cmocka_unit_test(test_ephemeral),
		cmocka_unit_test(test_garbage),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
