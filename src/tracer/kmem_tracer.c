// SPDX-License-Identifier: MIT
/* kmem_tracer.c - the kernel allocation tracer's BPF side (kmem_tracer.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "bpf/kmem.h"
#include "kmem.skel.h"
#include "tracer/kmem_tracer.h"
#include "tracer/tables.h"
#include "tracer/link_set.h"
#include "tracer/tracer.h"

struct kmem_tracer {
	struct kmem_bpf *skel;
	struct link_set links;
	struct alloc_tables *tables;	/* the live allocations' tables */
};

/* The tracepoints, by the name of their BTF typedef btf_trace_NAME. */
static const char *const required_tps[] = {
	"kmalloc", "kfree", "kmem_cache_alloc", "kmem_cache_free",
	"mm_page_alloc", "mm_page_free", "percpu_alloc_percpu", "percpu_free_percpu",
};

#define NR_REQUIRED	(sizeof(required_tps) / sizeof(required_tps[0]))

/* The function prototype of tracepoint name, or NULL when BTF has none. */
static const struct btf_type *tp_proto(const struct btf *btf, const char *name)
{
	char tn[128];
	const struct btf_type *t;
	int id;

	snprintf(tn, sizeof(tn), "btf_trace_%s", name);
	id = btf__find_by_name_kind(btf, tn, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, btf__type_by_id(btf, id)->type);	/* pointer */
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);
	return t && btf_is_func_proto(t) ? t : NULL;
}

/* Is parameter i of proto a pointer (through typedefs and qualifiers)? */
static bool param_is_ptr(const struct btf *btf, const struct btf_type *proto, unsigned int i)
{
	const struct btf_type *t;

	if (i >= btf_vlen(proto))
		return false;
	t = btf__type_by_id(btf, btf_params(proto)[i].type);
	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_ptr(t);
}

/* The name after a "group:" or "group/" prefix. */
static const char *tp_base(const char *name)
{
	const char *p = strpbrk(name, ":/");

	return p ? p + 1 : name;
}

static int check_btf(const struct btf *btf, const struct kmem_config *cfg, bool *node,
		     bool *cache_arg, char *why, size_t size)
{
	const struct btf_type *proto;

	for (size_t i = 0; i <= NR_REQUIRED; i++) {
		const char *name = i < NR_REQUIRED ? required_tps[i] : cfg->require;

		if (!name)
			continue;
		if (!tp_proto(btf, tp_base(name))) {
			snprintf(why, size, "this kernel has no tracepoint %s (no btf_trace_%s in "
				 "/sys/kernel/btf/vmlinux): --kernel needs it", name, tp_base(name));
			return -ENOENT;
		}
	}
	*node = tp_proto(btf, "kmalloc_node") && tp_proto(btf, "kmem_cache_alloc_node");
	/* (call_site, ptr, struct kmem_cache *s, ...) since 6.1; before,
	 * (call_site, ptr, bytes_req, bytes_alloc, ...): arg 3 after ctx */
	proto = tp_proto(btf, "kmem_cache_alloc");
	*cache_arg = param_is_ptr(btf, proto, 3);
	return 0;
}

int kmem_tracer__check(const struct kmem_config *cfg, bool *node_variants, char *why,
		       size_t size)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool node, cache_arg;
	int err;

	if (!btf) {
		err = -errno;
		snprintf(why, size, "cannot read the kernel's BTF: %s", strerror(-err));
		return err;
	}
	err = check_btf(btf, cfg, &node, &cache_arg, why, size);
	btf__free(btf);
	if (!err && node_variants)
		*node_variants = node;
	return err;
}

/* Only the programs this kernel has tracepoints (and argument lists) for. */
static void choose_programs(struct kmem_bpf *skel, bool node, bool cache_arg)
{
	bpf_program__set_autoload(skel->progs.kmalloc_node, node);
	bpf_program__set_autoload(skel->progs.kmem_cache_alloc_node, node);
	bpf_program__set_autoload(skel->progs.kmem_cache_alloc, cache_arg);
	bpf_program__set_autoload(skel->progs.kmem_cache_alloc_sized, !cache_arg);
}

static int configure(struct kmem_bpf *skel, const struct kmem_config *cfg, int tgid)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool node, cache_arg;
	char why[256];
	int err;

	if (!btf) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot read the kernel's BTF: %s\n", strerror(-err));
		return err;
	}
	err = check_btf(btf, cfg, &node, &cache_arg, why, sizeof(why));
	btf__free(btf);
	if (err) {
		fprintf(stderr, "memtrace: %s\n", why);
		return err;
	}
	if (cfg->verbose)
		fprintf(stderr, "memtrace: kernel tracepoints%s, kmem_cache_alloc %s\n",
			node ? " with kmalloc_node and kmem_cache_alloc_node" : "",
			cache_arg ? "with its cache" : "without a cache argument (no cache names)");
	choose_programs(skel, node, cache_arg);
	skel->rodata->target_tgid = (__u32)tgid;
	skel->rodata->self_tgid = (__u32)getpid();
	skel->rodata->user_stacks = tgid && cfg->user_stacks;
	skel->rodata->page_sample = cfg->page_sample > 1 ? cfg->page_sample : 1;
	skel->rodata->temp_ns = cfg->temp_ns;
	skel->rodata->page_size = (__u32)sysconf(_SC_PAGESIZE);
	tables__size_stacks(skel->obj, cfg->max_stacks);	/* allocs: after load */
	bpf_map__set_max_entries(skel->maps.kcaches, (__u32)cfg->max_stacks);
	/* (stack, kind) pairs: a stack has one kind, mostly */
	bpf_map__set_max_entries(skel->maps.aggs, (__u32)(cfg->max_stacks + cfg->max_stacks / 4));
	return 0;
}

static int attach(struct kmem_tracer *kt)
{
	struct bpf_program *prog;
	int err;

	bpf_object__for_each_program(prog, kt->skel->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		err = link_set__add_link(&kt->links, bpf_program__attach(prog), 1);
		if (err) {
			fprintf(stderr, "memtrace: cannot attach to tracepoint %s: %s\n",
				bpf_program__section_name(prog), strerror(-err));
			return err;
		}
	}
	return 0;
}

struct kmem_tracer *kmem_tracer__new(const struct kmem_config *cfg, int tgid)
{
	struct kmem_tracer *kt = calloc(1, sizeof(*kt));
	int err;

	if (!kt)
		return NULL;
	tracer__libbpf_print(cfg->verbose);
	kt->skel = kmem_bpf__open();
	if (!kt->skel) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot open the kernel BPF object: %s\n", strerror(-err));
		goto free_kt;
	}
	err = configure(kt->skel, cfg, tgid);
	if (err)
		goto destroy_skel;
	err = kmem_bpf__load(kt->skel);
	if (err) {
		fprintf(stderr, "memtrace: cannot load the kernel BPF programs: %s%s\n",
			strerror(-err), err == -EPERM ? " (run as root, or with CAP_BPF and "
			"CAP_PERFMON)" : " (rerun with -v for the verifier log)");
		goto destroy_skel;
	}
	kt->tables = alloc_tables__new(bpf_map__fd(kt->skel->maps.allocs),
				       bpf_map__fd(kt->skel->maps.alloc_records), cfg->max_allocs);
	if (!kt->tables) {
		err = -errno;
		fprintf(stderr, "memtrace: cannot create the live allocations table: %s\n",
			strerror(-err));
		goto destroy_skel;
	}
	err = attach(kt);
	if (!err)
		err = alloc_tables__watch(kt->tables);
	if (err)
		goto release_links;
	return kt;

release_links:
	link_set__release(&kt->links);
	alloc_tables__free(kt->tables);
destroy_skel:
	kmem_bpf__destroy(kt->skel);
free_kt:
	free(kt);
	errno = -err;
	return NULL;
}

struct alloc_tables *kmem_tracer__alloc_tables(const struct kmem_tracer *kt) { return kt->tables; }
void kmem_tracer__stack_fds(const struct kmem_tracer *kt, int fds[STACK_CLASSES])
{
	tables__stack_fds(kt->skel->obj, fds);
}

void kmem_tracer__map_usage(const struct kmem_tracer *kt, struct map_usage *u)
{
	tables__usage(kt->skel->obj, kt->tables, u);
}
int kmem_tracer__aggs_fd(const struct kmem_tracer *kt) { return bpf_map__fd(kt->skel->maps.aggs); }
int kmem_tracer__counters_fd(const struct kmem_tracer *kt) { return bpf_map__fd(kt->skel->maps.counters); }
int kmem_tracer__kcaches_fd(const struct kmem_tracer *kt) { return bpf_map__fd(kt->skel->maps.kcaches); }

struct kmem_prog_stats kmem_tracer__stats(const struct kmem_tracer *kt)
{
	struct kmem_prog_stats s = { 0 };
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, kt->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		memset(&info, 0, sizeof(info));
		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		s.runs += info.run_cnt;
		s.run_ns += info.run_time_ns;
		s.missed += info.recursion_misses;
	}
	return s;
}

unsigned int kmem_tracer__nr_links(const struct kmem_tracer *kt)
{
	return link_set__probes(&kt->links);
}

uint64_t kmem_tracer__map_max(const struct kmem_tracer *kt, const char *name)
{
	/* "stacks": each class's map holds max_stacks */
	struct bpf_map *m = bpf_object__find_map_by_name(kt->skel->obj,
							 strcmp(name, "stacks") ? name : "stacks_8");

	if (!m)
		return 0;
	if (m == kt->skel->maps.allocs) {	/* the current table's slots */
		struct alloc_tables_usage u;

		alloc_tables__usage(kt->tables, &u);
		return u.capacity;
	}
	return bpf_map__max_entries(m);
}

void kmem_tracer__free(struct kmem_tracer *kt)
{
	if (!kt)
		return;
	link_set__release(&kt->links);
	alloc_tables__free(kt->tables);
	kmem_bpf__destroy(kt->skel);
	free(kt);
}
