// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inode -> process pairs from a BPF `task_file` iterator: the kernel walks
 * every process's file table once and writes (tgid, inode) for each socket,
 * instead of one readlink per descriptor through /proc. Needs CAP_BPF and
 * CAP_PERFMON (or CAP_SYS_ADMIN) and kernel BTF; any failure makes the
 * caller fall back to the /proc scan.
 *
 * The program is a dozen instructions written out here; the offsets it
 * reads (task_struct.tgid, file.f_inode, inode.i_mode, inode.i_ino and the
 * iterator context) come from /sys/kernel/btf/vmlinux, so it follows the
 * running kernel's layout.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/bpf.h>
#include <linux/btf.h>

#include "procmap.h"
#include "util.h"

struct btf_info {
	int32_t iter_func;		/* BTF id of bpf_iter_task_file */
	int32_t ctx_meta, ctx_task, ctx_file;	/* byte offsets */
	int32_t meta_seq, task_tgid, file_inode, inode_mode, inode_ino;
};

static const char *btf_str(const char *strs, uint32_t len, uint32_t off)
{
	return off < len ? strs + off : "";
}

/* Size of the kind-specific data after a struct btf_type, or -1. */
static long btf_extra(const struct btf_type *t)
{
	uint16_t vlen = BTF_INFO_VLEN(t->info);

	switch (BTF_INFO_KIND(t->info)) {
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_PTR:
	case BTF_KIND_FWD:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC:
	case BTF_KIND_FLOAT:
	case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return (long)vlen * (long)sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return (long)vlen * (long)sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return (long)vlen * (long)sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return (long)vlen * (long)sizeof(struct btf_var_secinfo);
	case 19:	/* BTF_KIND_ENUM64, newer than some uapi headers */
		return (long)vlen * 12;
	default:
		return -1;
	}
}

/* Byte offset of a direct member of struct @t, or -1. */
static int32_t member_off(const struct btf_type *t, const char *strs,
			  uint32_t slen, const char *name)
{
	const struct btf_member *m = (const struct btf_member *)(t + 1);
	uint16_t i, vlen = BTF_INFO_VLEN(t->info);
	uint32_t bits;

	for (i = 0; i < vlen; i++) {
		if (strcmp(btf_str(strs, slen, m[i].name_off), name))
			continue;
		bits = BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset)
					       : m[i].offset;
		return bits % 8 ? -1 : (int32_t)(bits / 8);
	}
	return -1;
}

static int btf_parse(const char *data, size_t len, struct btf_info *bi)
{
	const struct btf_header *h = (const struct btf_header *)data;
	const char *types, *strs, *p, *end;
	uint32_t id = 1;

	memset(bi, 0xff, sizeof(*bi));	/* -1 everywhere: not found */
	if (len < sizeof(*h) || h->magic != BTF_MAGIC ||
	    (uint64_t)h->hdr_len + h->type_off + h->type_len > len ||
	    (uint64_t)h->hdr_len + h->str_off + h->str_len > len)
		return -EINVAL;
	types = data + h->hdr_len + h->type_off;
	strs = data + h->hdr_len + h->str_off;
	end = types + h->type_len;
	for (p = types; p + sizeof(struct btf_type) <= end; id++) {
		const struct btf_type *t = (const struct btf_type *)p;
		const char *name = btf_str(strs, h->str_len, t->name_off);
		long extra = btf_extra(t);
		unsigned int kind = BTF_INFO_KIND(t->info);

		if (extra < 0 || p + sizeof(*t) + extra > end)
			return -EINVAL;
		if (kind == BTF_KIND_FUNC && !strcmp(name, "bpf_iter_task_file"))
			bi->iter_func = (int32_t)id;
		else if (kind == BTF_KIND_STRUCT && BTF_INFO_VLEN(t->info)) {
			if (!strcmp(name, "bpf_iter__task_file")) {
				bi->ctx_meta = member_off(t, strs, h->str_len, "meta");
				bi->ctx_task = member_off(t, strs, h->str_len, "task");
				bi->ctx_file = member_off(t, strs, h->str_len, "file");
			} else if (!strcmp(name, "bpf_iter_meta")) {
				bi->meta_seq = member_off(t, strs, h->str_len, "seq");
			} else if (!strcmp(name, "task_struct")) {
				bi->task_tgid = member_off(t, strs, h->str_len, "tgid");
			} else if (!strcmp(name, "file")) {
				bi->file_inode = member_off(t, strs, h->str_len, "f_inode");
			} else if (!strcmp(name, "inode")) {
				bi->inode_mode = member_off(t, strs, h->str_len, "i_mode");
				bi->inode_ino = member_off(t, strs, h->str_len, "i_ino");
			}
		}
		p += sizeof(*t) + extra;
	}
	/* The context members are __bpf_md_ptr() unions, nameless in BTF;
	 * their layout is fixed (8-byte slots) by the BPF program ABI. */
	if (bi->ctx_meta < 0 && bi->ctx_task < 0 && bi->ctx_file < 0) {
		bi->ctx_meta = 0;
		bi->ctx_task = 8;
		bi->ctx_file = 24;
	}
	if (bi->meta_seq < 0)
		bi->meta_seq = 0;
	if (bi->iter_func < 0 || bi->ctx_meta < 0 || bi->ctx_task < 0 ||
	    bi->ctx_file < 0 || bi->meta_seq < 0 || bi->task_tgid < 0 ||
	    bi->file_inode < 0 || bi->inode_mode < 0 || bi->inode_ino < 0)
		return -ENOENT;
	return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 1 << 22, n = 0;
	char *buf;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = xmalloc(cap);
	for (;;) {
		if (n == cap)
			buf = xrealloc(buf, cap *= 2);
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			close(fd);
			free(buf);
			return (int)r;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	*out = buf;
	*len = n;
	return 0;
}

#define INSN(c, d, s, o, i) \
	((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), \
			    .off = (int16_t)(o), .imm = (int32_t)(i) })

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Pairs are written as two u64: tgid (global), socket inode number. */
static int load_program(const struct btf_info *b)
{
	/* r6 = ctx; r2 = task; r3 = file; r4 = inode; emit {tgid, ino} */
	const struct bpf_insn prog[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, 2, 6, b->ctx_task, 0),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 17, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, 3, 6, b->ctx_file, 0),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 3, 0, 15, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, 4, 3, b->file_inode, 0),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 4, 0, 13, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_H, 5, 4, b->inode_mode, 0),
		INSN(BPF_ALU64 | BPF_AND | BPF_K, 5, 0, 0, S_IFMT),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 5, 0, 10, S_IFSOCK),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, 5, 4, b->inode_ino, 0),
		INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 5, -8, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 5, 2, b->task_tgid, 0),
		INSN(BPF_STX | BPF_MEM | BPF_DW, 10, 5, -16, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, 1, 6, b->ctx_meta, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_DW, 1, 1, b->meta_seq, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -16),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, 16),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_seq_write),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	union bpf_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_TRACING;
	attr.expected_attach_type = BPF_TRACE_ITER;
	attr.insns = (uint64_t)(uintptr_t)prog;
	attr.insn_cnt = ARRAY_SIZE(prog);
	attr.license = (uint64_t)(uintptr_t)"GPL";
	attr.attach_btf_id = (uint32_t)b->iter_func;
	memcpy(attr.prog_name, "pw_sockowners", 14);
	fd = (int)sys_bpf(BPF_PROG_LOAD, &attr);
	return fd < 0 ? -errno : fd;
}

/* The iterator reports pids of the initial pid namespace: only usable
 * when /proc is that namespace's too. */
static bool in_initial_pidns(void)
{
	char line[256];
	bool ok = false;
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "NSpid:", 6)) {
			/* one pid listed: no nested pid namespace */
			ok = !strchr(line + 7, '\t') && !strchr(line + 7, ' ');
			break;
		}
	fclose(f);
	return ok;
}

int procmap_bpf_scan(void (*emit)(void *arg, uint32_t tgid, uint64_t inode),
		     void *arg)
{
	struct btf_info bi;
	union bpf_attr attr;
	char *btf = NULL, *buf = NULL;
	size_t btf_len = 0, i;
	int prog = -1, link = -1, iter = -1, ret;
	ssize_t n;

	if (!in_initial_pidns())
		return -EOPNOTSUPP;
	ret = read_file("/sys/kernel/btf/vmlinux", &btf, &btf_len);
	if (ret < 0)
		return ret;
	ret = btf_parse(btf, btf_len, &bi);
	free(btf);
	if (ret < 0)
		return ret;
	prog = load_program(&bi);
	if (prog < 0)
		return prog;
	memset(&attr, 0, sizeof(attr));
	attr.link_create.prog_fd = (uint32_t)prog;
	attr.link_create.attach_type = BPF_TRACE_ITER;
	link = (int)sys_bpf(BPF_LINK_CREATE, &attr);
	if (link < 0) {
		ret = -errno;
		goto out;
	}
	memset(&attr, 0, sizeof(attr));
	attr.iter_create.link_fd = (uint32_t)link;
	iter = (int)sys_bpf(BPF_ITER_CREATE, &attr);
	if (iter < 0) {
		ret = -errno;
		goto out;
	}
	buf = xmalloc(1 << 16);
	for (;;) {
		n = read(iter, buf, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		for (i = 0; i + 16 <= (size_t)n; i += 16) {
			uint64_t rec[2];

			memcpy(rec, buf + i, sizeof(rec));
			emit(arg, (uint32_t)rec[0], rec[1]);
		}
	}
	ret = 0;
out:
	free(buf);
	if (iter >= 0)
		close(iter);
	if (link >= 0)
		close(link);
	close(prog);
	return ret;
}
