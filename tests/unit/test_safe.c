// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The saved-state side of safe operations, no kernel needed: the model
 * text form round-trips exactly and refuses damaged input; the state and
 * pending files round-trip, are 0600 and are replaced whole; confirm
 * behaves as documented with and without a waiting timer; the lock-out
 * guard, over a recorded socket table, names exactly the inbound
 * connections a policy would cut, with the deciding rule.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "confirm_timer.h"
#include "guard.h"
#include "model_io.h"
#include "policy.h"
#include "state.h"
#include "util.h"

/* The sock_diag recording the audit tests replay (tests/data/
 * make-audit-basic.sh): listeners on tcp 22, 8080 (dual-stack), 8443,
 * 127.0.0.1:6379, udp 5353 and 123; inbound 192.0.2.2 -> 192.0.2.1:22
 * and 192.0.2.2 -> [::ffff:192.0.2.1]:8080; outbound udp to :53 and the
 * client ends of the two TCP connections. */
#define BASIC_DUMP "tests/data/audit-basic.nlmsg"

static struct model *sample_model(const char *table)
{
	struct model *m = model_new(table);
	struct mchain *c;
	struct mrule *r;
	struct match *mt;
	struct mset *s;
	struct melem *e;

	s = model_add_set(m, "in_tcp4");
	s->keys[0] = KEY_SADDR;
	s->keys[1] = KEY_L4PROTO;
	s->keys[2] = KEY_DPORT;
	s->n_keys = 3;
	s->family = 4;
	s->interval = true;
	e = mset_add_elem(s);
	e->v[0].prefix = (struct cidr){ .family = 4, .plen = 8, .addr = { 10 } };
	e->v[1].num = 6;
	e->v[2].range = (struct port_range){ 22, 22 };
	e = mset_add_elem(s);
	e->v[0].prefix = (struct cidr){ .family = 4, .plen = 32,
					.addr = { 192, 0, 2, 10 } };
	e->v[1].num = 17;
	e->v[2].range = (struct port_range){ 8000, 8999 };

	s = model_add_set(m, "v6");
	s->keys[0] = KEY_DADDR;
	s->n_keys = 1;
	s->family = 6;
	e = mset_add_elem(s);
	e->v[0].prefix = (struct cidr){ .family = 6, .plen = 32,
					.addr = { 0x20, 0x01, 0x0d, 0xb8 } };

	s = model_add_set(m, "empty");
	s->keys[0] = KEY_SKUID;
	s->n_keys = 1;

	c = model_add_chain(m, "input", HOOK_INPUT, 0, MV_DROP);
	r = mchain_add_rule(c);
	mt = mrule_add_match(r, KEY_CT_STATE);
	mt->value.num = CT_STATE_ESTABLISHED | CT_STATE_RELATED;
	r->verdict = MV_ACCEPT;
	r->origin_name = "established";
	r->comment = xstrdup("established");
	r = mchain_add_rule(c);
	mt = mrule_add_match(r, KEY_IIFNAME);
	mt->value.str = xstrdup("lo");
	r->verdict = MV_ACCEPT;
	r->origin_name = "loopback";
	r = mchain_add_rule(c);
	mt = mrule_add_match(r, KEY_CONCAT);
	mt->set = 0;
	mt->family = 4;
	r->counter = true;
	r->verdict = MV_ACCEPT;
	r->comment = xstrdup("ssh \"from\" corp\\ \n\ttab \xc3\xa9");
	r = mchain_add_rule(c);
	mt = mrule_add_match(r, KEY_L4PROTO);
	mt->value.num = 6;
	mt = mrule_add_match(r, KEY_SPORT);
	mt->negate = true;
	mt->value.range = (struct port_range){ 1, 1023 };
	r->counter = true;
	r->log_prefix = xstrdup("portwarden default: ");
	r->verdict = MV_NONE;
	r = mchain_add_rule(c);
	r->verdict = MV_REJECT_TCP;

	c = model_add_chain(m, "output", HOOK_OUTPUT, -150, MV_ACCEPT);
	r = mchain_add_rule(c);
	mt = mrule_add_match(r, KEY_DADDR);
	mt->set = 1;
	mt->family = 6;
	mt->negate = true;
	mt->mask = 64;		/* ip6 daddr & ffff:ffff:ffff:ffff:: != @s */
	r->verdict = MV_REJECT_ICMPX;
	r = mchain_add_rule(c);
	mt = mrule_add_match(r, KEY_CGROUPV2);
	mt->value.str = xstrdup("system.slice/nginx.service");
	mt->value.num = 2;
	mt = mrule_add_match(r, KEY_SKUID);
	mt->set = 2;
	r->verdict = MV_ACCEPT;
	return m;
}

static char *to_text(const struct model *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(model_write(m, f), 0);
	fclose(f);
	return buf;
}

static struct model *from_text(const char *text, int *ret)
{
	struct model *m = NULL;
	FILE *f = fmemopen((void *)text, strlen(text), "r");

	assert_non_null(f);
	*ret = model_read(f, &m);
	fclose(f);
	return m;
}

static void assert_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_value_eq(const struct mvalue *a, const struct mvalue *b)
{
	assert_int_equal(a->num, b->num);
	assert_int_equal(a->range.lo, b->range.lo);
	assert_int_equal(a->range.hi, b->range.hi);
	assert_int_equal(a->prefix.family, b->prefix.family);
	assert_int_equal(a->prefix.plen, b->prefix.plen);
	assert_memory_equal(a->prefix.addr, b->prefix.addr, 16);
	assert_str_eq(a->str, b->str);
}

/* Field by field, stricter than model_equal(): order and labels too. */
static void assert_model_eq(const struct model *a, const struct model *b)
{
	size_t i, j, k;

	assert_string_equal(a->table, b->table);
	assert_int_equal(a->n_sets, b->n_sets);
	for (i = 0; i < a->n_sets; i++) {
		const struct mset *x = &a->sets[i], *y = &b->sets[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->n_keys, y->n_keys);
		assert_memory_equal(x->keys, y->keys, x->n_keys * sizeof(x->keys[0]));
		assert_int_equal(x->family, y->family);
		assert_int_equal(x->interval, y->interval);
		assert_int_equal(x->n_elems, y->n_elems);
		for (j = 0; j < x->n_elems; j++)
			for (k = 0; k < MSET_MAX_KEYS; k++)
				assert_value_eq(&x->elems[j].v[k], &y->elems[j].v[k]);
	}
	assert_int_equal(a->n_chains, b->n_chains);
	for (i = 0; i < a->n_chains; i++) {
		const struct mchain *x = &a->chains[i], *y = &b->chains[i];

		assert_string_equal(x->name, y->name);
		assert_int_equal(x->hook, y->hook);
		assert_int_equal(x->priority, y->priority);
		assert_int_equal(x->policy, y->policy);
		assert_int_equal(x->n_rules, y->n_rules);
		for (j = 0; j < x->n_rules; j++) {
			const struct mrule *r = &x->rules[j], *s = &y->rules[j];

			assert_int_equal(r->verdict, s->verdict);
			assert_int_equal(r->counter, s->counter);
			assert_str_eq(r->log_prefix, s->log_prefix);
			assert_str_eq(r->comment, s->comment);
			assert_str_eq(r->origin_name, s->origin_name);
			assert_int_equal(r->n_matches, s->n_matches);
			for (k = 0; k < r->n_matches; k++) {
				assert_int_equal(r->matches[k].key, s->matches[k].key);
				assert_int_equal(r->matches[k].negate, s->matches[k].negate);
				assert_int_equal(r->matches[k].set, s->matches[k].set);
				assert_int_equal(r->matches[k].family, s->matches[k].family);
				assert_int_equal(r->matches[k].mask, s->matches[k].mask);
				assert_value_eq(&r->matches[k].value, &s->matches[k].value);
			}
		}
	}
}

static void test_model_round_trip(void **state)
{
	struct model *m = sample_model("portwarden"), *back;
	char *text = to_text(m), *again;
	int ret;

	back = from_text(text, &ret);
	assert_int_equal(ret, 0);
	assert_non_null(back);
	assert_model_eq(m, back);
	again = to_text(back);
	assert_string_equal(text, again);
	/* The text stays one line per object: no raw newline in a string. */
	assert_null(strstr(text, "corp\\ \n"));
	free(text);
	free(again);
	model_free(back);
	model_free(m);
}

/* An enum value this file has no name for (model.h grew) is written as
 * its number and read back as the same value. */
static void test_model_unknown_enum_round_trip(void **state)
{
	struct model *m = model_new("t"), *back;
	struct mchain *c = model_add_chain(m, "input", HOOK_INPUT, 0, MV_DROP);
	struct mrule *r = mchain_add_rule(c);
	char *text;
	int ret;

	mrule_add_match(r, (enum match_key)(KEY_CONCAT + 7));
	r->verdict = (enum mverdict)(MV_REJECT_ICMPX + 3);
	text = to_text(m);
	assert_non_null(strstr(text, "match 21 "));
	back = from_text(text, &ret);
	assert_int_equal(ret, 0);
	assert_model_eq(m, back);
	free(text);
	model_free(back);
	model_free(m);
}

static void test_model_empty_round_trip(void **state)
{
	struct model *m = model_new("t"), *back;
	char *text = to_text(m);
	int ret;

	back = from_text(text, &ret);
	assert_int_equal(ret, 0);
	assert_model_eq(m, back);
	free(text);
	model_free(back);
	model_free(m);
}

/* Cut or corrupt a good text in many ways: each must be refused, none may
 * crash or leak (run under valgrind / ASan in check-asan). */
static void test_model_read_refuses_damage(void **state)
{
	static const char *const bad[] = {
		"",
		"model 2\ntable \"t\"\nend\n",
		"model 1\ntable t\nend\n",
		"model 1\ntable \"t\"\n",
		"model 1\ntable \"t\"\nchain \"input\" hook sideways priority 0 policy drop\nend\n",
		"model 1\ntable \"t\"\nrule verdict accept counter 0 log - comment - label -\nend\n",
		"model 1\ntable \"t\"\nelem 0 0-0 - -\nend\n",
		"model 1\ntable \"t\"\nchain \"input\" hook input priority 0 policy drop\n"
		"rule verdict accept counter 0 log - comment - label -\n"
		"match dport negate 0 set 3 family 0 value 0 0-0 - -\nend\n",
		"model 1\ntable \"t\"\nchain \"input\" hook input priority 0 policy drop\n"
		"rule verdict accept counter 0 log - comment \"a\\q\" label -\nend\n",
		"model 1\ntable \"t\"\nchain \"input\" hook input priority 0 policy drop\n"
		"rule verdict accept counter 0 log - comment \"unterminated label -\nend\n",
		"model 1\ntable \"t\"\nset \"s\" family 4 interval 1 keys saddr\n"
		"elem 0 0-0 4/33/0a000000 -\nend\n",
		"model 1\ntable \"t\"\nset \"s\" family 4 interval 1 keys saddr\n"
		"elem 0 0-0 4/8/0a0000 -\nend\n",
		"model 1\ntable \"t\"\nset \"s\" family 4 interval 1 keys dport\n"
		"elem 0 1-70000 - -\nend\n",
		"model 1\ntable \"t\"\nset \"s\" family 4 interval 1 keys dport\n"
		"elem 0 1-2 - - extra\nend\n",
		"model 1\ntable \"t\"\nend extra\n",
		"model 1\ntable \"t\"\nset \"s\" family 4 interval 1 keys saddr\n"
		"set \"s\" family 4 interval 1 keys dport\nend\n",
		"model 1\ntable \"t\"\nbogus\nend\n",
		"model 1\ntable \"t\"\nchain \"input\" hook input priority 0 policy drop\n"
		"rule verdict accept counter 0 log - comment - label -\n"
		"match saddr negate 0 set -1 family 4 value 0 0-0 - - mask 0\nend\n",
		"model 1\ntable \"t\"\nchain \"input\" hook input priority 0 policy drop\n"
		"rule verdict accept counter 0 log - comment - label -\n"
		"match saddr negate 0 set -1 family 4 value 0 0-0 - - mask 129\nend\n",
		"model 1\ntable \"t\"\nchain \"input\" hook input priority 0 policy drop\n"
		"rule verdict accept counter 0 log - comment - label -\n"
		"match saddr negate 0 set -1 family 4 value 0 0-0 - - bits 24\nend\n",
	};
	struct model *m = sample_model("portwarden");
	char *text = to_text(m), *cut;
	size_t i, len = strlen(text);
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		struct model *x = from_text(bad[i], &ret);

		if (ret != -EINVAL)
			fail_msg("case %zu accepted (%d): %s", i, ret, bad[i]);
		assert_null(x);
	}
	/* Every truncation that drops the final "end" line fails. */
	for (i = 0; i + 4 < len; i += 7) {
		struct model *x;

		cut = xstrndup(text, i);
		x = from_text(cut, &ret);
		assert_int_equal(ret, -EINVAL);
		assert_null(x);
		free(cut);
	}
	free(text);
	model_free(m);
}

static char *make_dir(void)
{
	char *dir = xstrdup("/tmp/pw-test-safe.XXXXXX");

	assert_non_null(mkdtemp(dir));
	return dir;
}

static void remove_dir(char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char *p;

	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		unlink(p);
		free(p);
	}
	if (d)
		closedir(d);
	rmdir(dir);
	free(dir);
}

static size_t count_entries(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void test_state_round_trip(void **state)
{
	struct safe_state st = {
		.generation = 41,
		.status = SAFE_APPLIED,
		.time = 1700000000,
		.table = "portwarden",
	}, *back = NULL;
	char *dir = make_dir(), *path;
	struct stat sb;

	st.previous = sample_model("portwarden");
	st.applied = model_new("portwarden");
	model_add_chain(st.applied, "input", HOOK_INPUT, 0, MV_ACCEPT);
	assert_int_equal(safe_state_save(dir, &st), 0);
	path = xasprintf("%s/state", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(count_entries(dir), 1);	/* no temp file left */
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->generation, 41);
	assert_int_equal(back->status, SAFE_APPLIED);
	assert_false(back->by_timer);
	assert_int_equal(back->time, 1700000000);
	assert_string_equal(back->table, "portwarden");
	assert_non_null(back->previous);
	assert_model_eq(st.previous, back->previous);
	assert_model_eq(st.applied, back->applied);
	safe_state_free(back);

	/* An absent table before the apply, and the rolled-back status. */
	model_free(st.previous);
	st.previous = NULL;
	st.status = SAFE_ROLLED_BACK;
	st.by_timer = true;
	st.generation = 42;
	assert_int_equal(safe_state_save(dir, &st), 0);
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_null(back->previous);
	assert_int_equal(back->generation, 42);
	assert_int_equal(back->status, SAFE_ROLLED_BACK);
	assert_true(back->by_timer);
	safe_state_free(back);

	/* A table name that would break the line format is refused and the
	 * file on disk stays the old one. */
	st.table = "bad\nname";
	assert_int_equal(safe_state_save(dir, &st), -EINVAL);
	assert_int_equal(safe_state_load(dir, &back), 0);
	assert_int_equal(back->generation, 42);
	safe_state_free(back);

	model_free(st.applied);
	free(path);
	remove_dir(dir);
}

static void test_state_damaged(void **state)
{
	char *dir = make_dir(), *path = xasprintf("%s/state", dir);
	struct safe_state *st = (void *)1;
	FILE *f;

	assert_int_equal(safe_state_load(dir, &st), -ENOENT);
	assert_null(st);
	f = fopen(path, "w");
	fputs("portwarden-state 1\ngeneration 3\nstatus applied\nby-timer 0\n"
	      "time 5\ntable t\nprevious absent\napplied\nmodel 1\n"
	      "table \"other\"\nend\n", f);
	fclose(f);
	/* applied model of another table than the record's */
	assert_int_equal(safe_state_load(dir, &st), -EINVAL);
	f = fopen(path, "w");
	fputs("portwarden-state 1\ngeneration 3\nstatus applied\n", f);
	fclose(f);
	assert_int_equal(safe_state_load(dir, &st), -EINVAL);
	assert_null(st);
	free(path);
	remove_dir(dir);
}

static void test_pending_and_confirm(void **state)
{
	struct safe_pending p = { .generation = 7, .deadline = 123, .pid = 99 };
	struct safe_state st = {
		.generation = 7,
		.status = SAFE_APPLIED,
		.table = "portwarden",
	};
	char *dir = make_dir(), *path = xasprintf("%s/pending", dir);
	struct safe_pending q;
	struct stat sb;
	uint64_t gen;

	/* Nothing waits: confirm says so (exit 0 in confirm_main). */
	assert_int_equal(safe_confirm(dir, &gen), -ENOENT);

	assert_int_equal(safe_pending_save(dir, &p), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(safe_pending_load(dir, &q), 0);
	assert_int_equal(q.generation, 7);
	assert_int_equal(q.deadline, 123);
	assert_int_equal(q.pid, 99);

	assert_int_equal(safe_confirm(dir, &gen), 0);
	assert_int_equal(gen, 7);
	assert_int_equal(safe_pending_load(dir, &q), -ENOENT);
	assert_int_equal(safe_confirm(dir, &gen), -ENOENT);
	assert_int_equal(safe_pending_clear(dir), -ENOENT);

	/* The timer got there first: confirm is too late and says which. */
	st.applied = model_new("portwarden");
	assert_int_equal(safe_state_save(dir, &st), 0);
	assert_int_equal(safe_confirm(dir, &gen), -ENOENT);
	st.status = SAFE_ROLLED_BACK;
	st.by_timer = true;
	assert_int_equal(safe_state_save(dir, &st), 0);
	assert_int_equal(safe_confirm(dir, &gen), -ETIME);
	assert_int_equal(gen, 7);
	/* A manual rollback is not "too late" for confirm. */
	st.by_timer = false;
	assert_int_equal(safe_state_save(dir, &st), 0);
	assert_int_equal(safe_confirm(dir, &gen), -ENOENT);

	model_free(st.applied);
	free(path);
	remove_dir(dir);
}


/* ---- the lock-out guard over a recorded socket table ------------------- */

struct guard_fx {
	struct policy *p;
	struct model *m;
	struct safe_conns cs;
};

static void guard_run(struct guard_fx *fx, const char *yaml)
{
	struct diag d;

	memset(fx, 0, sizeof(*fx));
	diag_init(&d);
	if (policy_load_buffer(&fx->p, "guard.yaml", yaml, strlen(yaml), &d) < 0) {
		diag_print(&d, stderr);
		fail_msg("policy does not load");
	}
	assert_int_equal(compile_policy(fx->p, &fx->m, &d), 0);
	diag_release(&d);
	assert_int_equal(safe_guard(fx->m, BASIC_DUMP, &fx->cs), 0);
}

static void guard_release(struct guard_fx *fx)
{
	safe_conns_release(&fx->cs);
	model_free(fx->m);
	policy_free(fx->p);
}

static void test_guard_names_cut_connections(void **state)
{
	struct guard_fx fx;

	/* Only 22 stays open: the connection to 8080 (a v4 peer on a
	 * dual-stack socket, judged as IPv4) would be cut by the default. */
	guard_run(&fx, "portwarden: 1\ndefaults: { inbound: drop }\n"
		  "inbound:\n  - { name: ssh, proto: tcp, port: 22 }\n");
	assert_int_equal(fx.cs.checked, 2);
	assert_int_equal(fx.cs.n, 1);
	assert_true(strncmp(fx.cs.v[0].text, "tcp 192.0.2.2:", 14) == 0);
	assert_non_null(strstr(fx.cs.v[0].text, " -> 192.0.2.1:8080"));
	assert_string_equal(fx.cs.v[0].rule, "default");
	assert_null(fx.cs.v[0].origin);
	assert_string_equal(fx.cs.v[0].verdict, "drop");
	guard_release(&fx);
}

static void test_guard_names_the_deciding_rule(void **state)
{
	struct guard_fx fx;

	guard_run(&fx, "portwarden: 1\n"
		  "inbound:\n"
		  "  - { name: lan-ssh, proto: tcp, port: 22, from: 10.0.0.0/8 }\n"
		  "  - { name: no-ssh, proto: tcp, port: 22, action: reject }\n");
	assert_int_equal(fx.cs.n, 1);
	assert_non_null(strstr(fx.cs.v[0].text, " -> 192.0.2.1:22"));
	assert_string_equal(fx.cs.v[0].rule, "no-ssh");
	assert_non_null(fx.cs.v[0].origin);
	assert_string_equal(fx.cs.v[0].origin->loc.file, "guard.yaml");
	assert_int_equal(fx.cs.v[0].origin->loc.line, 4);
	assert_string_equal(fx.cs.v[0].verdict, "reject");
	guard_release(&fx);
}

static void test_guard_passes_what_stays_open(void **state)
{
	struct guard_fx fx;

	/* Both inbound connections admitted; outbound ones (udp to :53,
	 * the client ends) are not the guard's business even under a
	 * drop-everything outbound policy. */
	guard_run(&fx, "portwarden: 1\n"
		  "defaults: { inbound: drop, outbound: drop }\n"
		  "inbound:\n"
		  "  - { name: admin, proto: tcp, port: [22, 8080], from: 192.0.2.0/24 }\n");
	assert_int_equal(fx.cs.checked, 2);
	assert_int_equal(fx.cs.n, 0);
	guard_release(&fx);

	guard_run(&fx, "portwarden: 1\n");
	assert_int_equal(fx.cs.n, 0);
	guard_release(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model_round_trip),
		cmocka_unit_test(test_model_empty_round_trip),
		cmocka_unit_test(test_model_unknown_enum_round_trip),
		cmocka_unit_test(test_model_read_refuses_damage),
		cmocka_unit_test(test_state_round_trip),
		cmocka_unit_test(test_state_damaged),
		cmocka_unit_test(test_pending_and_confirm),
		cmocka_unit_test(test_guard_names_cut_connections),
		cmocka_unit_test(test_guard_names_the_deciding_rule),
		cmocka_unit_test(test_guard_passes_what_stays_open),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
