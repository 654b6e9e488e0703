/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef PORTWARDEN_PACKET_ARGS_H
#define PORTWARDEN_PACKET_ARGS_H

/*
 * explain's packet arguments, "DIR PROTO ADDR[:PORT] [options]", turned
 * into a struct packet. One parser for the command line of `explain` and
 * for the `packet:` of a policy's tests (SPEC §10): never prints.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval.h"

/**
 * struct packet_args - the words of a packet, as given (not owned)
 * @dir, @proto, @dst: the three positional words
 * @from, @sport, @user, @group, @cgroup, @iface: the options' values, or
 *        NULL when not given
 */
struct packet_args {
	const char *dir, *proto, *dst;
	const char *from, *sport, *user, *group, *cgroup, *iface;
};

/**
 * struct packet_desc - what the parser knows beside the packet
 * @proto_name: "tcp", "udp", ... (static, or the word given)
 * @icmp_type_given: the destination's ":PORT" named an ICMP type
 * @src_addr: --from named an address
 * @endpoint: the error was in the destination or --from (explain prints
 *        those as two lines; see cmd_explain.c)
 * @by_name: an outbound destination that is a hostname (@name, lower
 *        case): its address comes from the policy's hostname sets
 *        (explain_by_name()), @pkt's dst is not set yet
 * @name_matches: for the caller: hostname patterns of the policy it matches
 */
struct packet_desc {
	const char *proto_name;
	bool icmp_type_given;
	bool src_addr;
	bool endpoint;
	bool by_name;
	char name[256];
	size_t name_matches;
};

/**
 * packet_args_parse() - fill @pkt from @a
 * @why: on error, an allocated message ("unknown user 'x'"), lower case,
 *       the word quoted as given (the caller escapes it on output)
 *
 * @pkt's cgroup and interface point into @a's strings.
 * Return: 0, or -EINVAL with *@why set (free it).
 */
int packet_args_parse(const struct packet_args *a, struct packet *pkt,
		      struct packet_desc *x, char **why);

/**
 * packet_args_split() - a test's `packet:` string into words and options
 * @s:    "out tcp 93.184.216.34:443 --user backup"
 * @buf:  receives an allocated copy of @s the words point into (free it,
 *        also on error)
 * @a:    the words; --policy-only is accepted (a test is always the policy
 *        alone)
 * @why:  on error, an allocated message naming the word (free it)
 *
 * Words are separated by blanks; '...' or "..." quote a word with blanks.
 * Options are "--opt VALUE" or "--opt=VALUE"; an option given twice, an
 * unknown one, or one that needs the live host (--netns) is an error.
 * Return: 0 or -EINVAL.
 */
int packet_args_split(const char *s, char **buf, struct packet_args *a,
		      char **why);

/* "A.B.C.D:PORT", "[V6]:PORT", "*:PORT" (no address), "A.B.C.D" (no port) */
void packet_endpoint_format(char *buf, size_t len, const struct cidr *a,
			    bool has_addr, bool has_port, uint16_t port);

#endif
