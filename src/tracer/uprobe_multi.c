// SPDX-License-Identifier: MIT
/* uprobe_multi.c - uprobe_multi BPF links through the raw bpf(2) syscall. */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>
#include "tracer/uprobe_multi.h"

/* BPF_F_UPROBE_MULTI_RETURN: link_create.uprobe_multi.flags, return probes. */
#define UPROBE_MULTI_F_RETURN	1U

/*
 * The link_create member of union bpf_attr with its uprobe_multi variant,
 * as Linux 6.6 defined it (the 6.1 headers stop at kprobe_multi). Checked
 * against Linux 6.18's BTF (bpftool btf dump file /sys/kernel/btf/vmlinux):
 * link_create is 64 bytes, the variant union starts at byte 16, and in it
 * path, offsets, ref_ctr_offsets, cookies (u64 user pointers), then cnt,
 * flags, pid (u32).
 */
struct uprobe_multi_attr {
	uint32_t prog_fd;
	uint32_t target_fd;		/* unused: 0 */
	uint32_t attach_type;		/* UPROBE_MULTI_ATTACH_TYPE */
	uint32_t link_flags;		/* link_create.flags: must be 0 */
	uint64_t path;			/* const char * */
	uint64_t offsets;		/* const unsigned long *: file offsets */
	uint64_t ref_ctr_offsets;	/* optional, per offset (USDT semaphores) */
	uint64_t cookies;		/* optional, per offset */
	uint32_t cnt;
	uint32_t flags;			/* UPROBE_MULTI_F_RETURN */
	uint32_t pid;			/* 0: every process */
};

_Static_assert(offsetof(struct uprobe_multi_attr, attach_type) == 8, "link_create ABI");
_Static_assert(offsetof(struct uprobe_multi_attr, path) == 16, "link_create ABI");
_Static_assert(offsetof(struct uprobe_multi_attr, cookies) == 40, "link_create ABI");
_Static_assert(offsetof(struct uprobe_multi_attr, cnt) == 48, "link_create ABI");
_Static_assert(offsetof(struct uprobe_multi_attr, pid) == 56, "link_create ABI");
_Static_assert(sizeof(struct uprobe_multi_attr) == 64, "link_create ABI");
/* The kernel reads the offsets as unsigned long: 64-bit only. */
_Static_assert(sizeof(unsigned long) == sizeof(uint64_t), "uprobe_multi needs 64-bit longs");

static int sys_bpf(int cmd, void *attr, unsigned int size)
{
	int fd = (int)syscall(SYS_bpf, cmd, attr, size);

	return fd < 0 ? -errno : fd;
}

static int link_create(int prog_fd, uint32_t type, const char *path, const uint64_t *offsets,
		       const uint64_t *cookies, uint32_t cnt, pid_t pid, bool ret)
{
	struct uprobe_multi_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_fd = (uint32_t)prog_fd;
	attr.attach_type = type;
	attr.path = (uint64_t)(uintptr_t)path;
	attr.offsets = (uint64_t)(uintptr_t)offsets;
	attr.cookies = (uint64_t)(uintptr_t)cookies;
	attr.cnt = cnt;
	attr.flags = ret ? UPROBE_MULTI_F_RETURN : 0;
	attr.pid = (uint32_t)pid;
	return sys_bpf(BPF_LINK_CREATE, &attr, sizeof(attr));
}

/* A program "return ret" loaded for attach type type (0: perf events). */
static int load_const(uint32_t type, int32_t ret)
{
	const struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = ret },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.prog_type = BPF_PROG_TYPE_KPROBE;
	attr.expected_attach_type = type;
	attr.insns = (uint64_t)(uintptr_t)insns;
	attr.insn_cnt = sizeof(insns) / sizeof(insns[0]);
	attr.license = (uint64_t)(uintptr_t)"GPL";
	return sys_bpf(BPF_PROG_LOAD, &attr, sizeof(attr));
}

int uprobe_multi__load_empty(bool multi)
{
	return load_const(multi ? UPROBE_MULTI_ATTACH_TYPE : 0, 0);
}

int uprobe_multi__load_session_skip(void)
{
	return load_const(UPROBE_SESSION_ATTACH_TYPE, 1);
}

/* Does this kernel make uprobe_multi links of attach type type? 1, 0 or -errno. */
static int link_supported(uint32_t type)
{
	static const uint64_t offset;
	int prog = load_const(type, 0), fd;

	if (prog == -EINVAL || prog == -E2BIG)	/* an older kernel rejected the load */
		return 0;
	if (prog < 0)
		return prog;
	fd = link_create(prog, type, "/", &offset, NULL, 1, 0, false);
	close(prog);
	if (fd >= 0) {			/* cannot happen: "/" is no regular file */
		close(fd);
		return 1;
	}
	return fd == -EBADF;
}

int uprobe_multi__supported(void)
{
	return link_supported(UPROBE_MULTI_ATTACH_TYPE);
}

int uprobe_multi__session_supported(void)
{
	return link_supported(UPROBE_SESSION_ATTACH_TYPE);
}

int uprobe_multi__attach(int prog_fd, const char *path, const uint64_t *offsets, size_t cnt,
			 pid_t pid, bool ret)
{
	if (prog_fd < 0 || !path || !offsets || !cnt || cnt > UPROBE_MULTI_MAX_CNT || pid < 0)
		return -EINVAL;
	return link_create(prog_fd, UPROBE_MULTI_ATTACH_TYPE, path, offsets, NULL, (uint32_t)cnt,
			   pid, ret);
}

int uprobe_multi__attach_session(int prog_fd, const char *path, const uint64_t *offsets,
				 const uint64_t *cookies, size_t cnt, pid_t pid)
{
	if (prog_fd < 0 || !path || !offsets || !cnt || cnt > UPROBE_MULTI_MAX_CNT || pid < 0)
		return -EINVAL;
	return link_create(prog_fd, UPROBE_SESSION_ATTACH_TYPE, path, offsets, cookies,
			   (uint32_t)cnt, pid, false);
}
