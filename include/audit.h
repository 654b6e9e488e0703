/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_AUDIT_H
#define PORTWARDEN_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval.h"
#include "model.h"
#include "policy.h"
#include "procmap.h"
#include "sockdiag.h"

/*
 * The audit: live sockets judged against a checked policy and its compiled
 * model, with the evaluator explain uses (eval_packet), so that the audit
 * and the kernel agree. SPEC §3.
 *
 * Use: audit_new(); for each network namespace audit_begin_netns(), feed
 * sockets (audit_dump() from sock_diag, or audit_add_socket() by hand),
 * audit_end_netns(); optionally audit_drift(); then read audit_report().
 */

enum finding_kind {
	FIND_UNEXPECTED_LISTENER,
	FIND_MISSING_LISTENER,
	FIND_FILTERED_LISTENER,
	FIND_LOCAL_ONLY_LISTENER,
	FIND_DISALLOWED_CONNECTION,
	FIND_RULESET_DRIFT,
};
#define FIND_MAX 6

/* "unexpected-listener", ... as SPEC §3 spells them. */
const char *finding_kind_name(enum finding_kind k);

/* How a listening socket stands with the inbound policy (SPEC §3). */
enum listen_state {
	LISTEN_OPEN,		/* some source may connect */
	LISTEN_FILTERED,	/* the inbound policy drops it from everywhere */
	LISTEN_LOCAL,		/* loopback only */
};
#define LISTEN_MAX 3

const char *listen_state_name(enum listen_state s);

/**
 * struct audit_sock - a listener or a connection the audit judged
 * @s:        the socket
 * @netns:    index into audit_report.netns
 * @rule:     the deciding rule's name, a built-in label ("established",
 *            "loopback", "icmp"), or NULL for the chain's default
 * @state:    listeners: how the inbound policy treats it
 * @dual:     listeners: an IPv6 wildcard without IPV6_V6ONLY (takes IPv4 too)
 * @inbound:  connections: direction as SPEC §3 decides it
 * @verdict:  connections: what the policy does with it as new traffic
 * @host:     connections a hostname rule allows: the name the remote
 *            address was learned for (the comment `portwarden daemon`
 *            gave its set element), or NULL
 * @finding:  1 + index of the finding about this socket, or 0
 */
struct audit_sock {
	struct sock_info s;
	unsigned int netns;
	const char *rule;
	enum listen_state state;
	bool dual;
	bool inbound;
	enum mverdict verdict;
	const char *host;
	size_t finding;
};

/**
 * struct finding - one finding of SPEC §3 and §11
 * @has_sock: @sock holds the socket concerned (not for missing-listener
 *            and drift)
 * @entry:   the `listeners` entry concerned (missing/filtered/local-only),
 *           else NULL
 * @proto:   IPPROTO_TCP/UDP, or 0 when none applies (drift)
 * @port:    the local port: the socket's, or for a missing-listener the
 *           entry's (its first port when it names several); 0 for drift
 * @rule:    deciding rule name, or NULL (see struct audit_sock)
 * @detail:  one line for a human (owned)
 */
struct finding {
	enum finding_kind kind;
	bool has_sock;
	struct audit_sock sock;
	const struct listener *entry;
	uint8_t proto;
	uint16_t port;
	unsigned int netns;
	const char *rule;
	char *detail;
};

/**
 * struct audit_report - everything found; sockets stay owned by the report
 * @sockets:     sockets seen in every state (TIME_WAIT included)
 * @listeners:   TCP LISTEN and unconnected bound UDP sockets
 * @conns:       established TCP and connected UDP sockets
 * @findings:    in the order found
 * @netns:       labels of the namespaces audited, in order (owned)
 * @drift_checked: audit_drift() ran
 */
struct audit_report {
	size_t sockets;
	struct audit_sock *listeners;
	size_t n_listeners, cap_listeners;
	struct audit_sock *conns;
	size_t n_conns, cap_conns;
	struct finding *findings;
	size_t n_findings, cap_findings;
	char **netns;
	size_t n_netns, cap_netns;
	bool drift_checked;
};

struct audit;

/**
 * audit_new() - an audit of @p with its compiled model @m
 * @pm: process attribution, or NULL (a replayed dump); not owned
 * Return: the audit (never NULL: allocation failure aborts).
 */
struct audit *audit_new(const struct policy *p, const struct model *m,
			struct procmap *pm);
void audit_free(struct audit *a);

/**
 * audit_take_host() - judge the current namespace on @h: its live tables
 * with the policy's compiled table standing in for portwarden's own
 * (interp.h). NULL: the policy's table alone (the default). The audit
 * owns @h from now on (findings name its rules).
 */
struct ix_host;
void audit_take_host(struct audit *a, struct ix_host *h);

/* Attach the process map late (it may be built while sockets are dumped);
 * needed before audit_end_netns() for `process` of listeners entries. */
void audit_set_procmap(struct audit *a, struct procmap *pm);

/* Start a namespace; @label is copied ("/proc/1/ns/net", "/run/netns/x"). */
void audit_begin_netns(struct audit *a, const char *label);

/* Feed one socket of the current namespace (any state). */
void audit_add_socket(struct audit *a, const struct sock_info *s);

/**
 * audit_dump() - feed every TCP and UDP socket of both families
 * Return: 0 or the negative errno of the failing dump.
 */
int audit_dump(struct audit *a, struct sockdiag *sd);

/**
 * audit_end_netns() - judge the namespace's sockets
 * @primary: also check the policy's `listeners` entries against it
 *           (missing-listener); the namespace the policy is applied in
 */
void audit_end_netns(struct audit *a, bool primary);

/**
 * audit_drift() - record ruleset drift of the current namespace
 * @live: the live table as nl_read_table() read it, or NULL
 * @err:  nl_read_table()'s result: 0, -ENOENT (table missing)
 * Return: true when @live is the policy's model (no drift).
 */
bool audit_drift(struct audit *a, const struct model *live, int err);

/**
 * audit_drift_who() - add who last changed the table to the drift finding
 * @who: e.g. "nft (pid 42) at 2026-11-30T03:44:25Z: table deleted", from
 *       the daemon's note (drift_note.h); untrusted, escaped on output
 * No-op when audit_drift() found no drift.
 */
void audit_drift_who(struct audit *a, const char *who);

/* Record that the current namespace's live table is the policy's model,
 * known without reading it (the generation cache vouches for it). */
void audit_drift_none(struct audit *a);

const struct audit_report *audit_report(const struct audit *a);

/* The compiled policy the audit judges against. */
const struct model *audit_model(const struct audit *a);

/**
 * audit_why_unattributed() - why no process is named for a socket
 * Return: NULL when @pm names at least one process for it, else a short
 * reason: "TIME_WAIT has no owner", "no permission", "no process holds it",
 * "not attributed (replayed dump)".
 */
const char *audit_why_unattributed(const struct procmap *pm,
				   const struct sock_info *s);

/* The socket's cgroup v2 path, or NULL when unknown. */
const char *audit_cgroup_path(struct audit *a, const struct sock_info *s);

#endif
