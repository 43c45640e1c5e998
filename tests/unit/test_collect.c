// SPDX-License-Identifier: MIT
/*
 * test_collect.c - the collector against real BPF maps created in the
 * kernel (no mocks): aggregation, sorting, totals, drops, ages, --older.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agg_table.h"
#include "collect.h"

#define SEC_NS 1000000000ULL

struct ctx {
	struct collect_maps m;
	int ncpus;
};

/* The aggs table as memtrace.bpf.c has it: an mmapable array. */
static int create_aggs(const char *name, uint32_t slots)
{
	LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = BPF_F_MMAPABLE);

	return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, 4, sizeof(struct agg_val), slots, &mo);
}

static int setup(void **state)
{
	static struct ctx c;

	if (geteuid() != 0) {
		print_message("not root: BPF maps cannot be created\n");
		return -1;
	}
	c.ncpus = libbpf_num_possible_cpus();
	c.m.allocs = bpf_map_create(BPF_MAP_TYPE_HASH, "t_allocs", 8, sizeof(struct alloc_info), 1024, NULL);
	c.m.mmaps = bpf_map_create(BPF_MAP_TYPE_HASH, "t_mmaps", 8, sizeof(struct mmap_info), 64, NULL);
	c.m.stacks = bpf_map_create(BPF_MAP_TYPE_HASH, "t_stacks", 8, sizeof(struct stack_trace), 64, NULL);
	c.m.aggs = create_aggs("t_aggs", 64);
	c.m.counters = bpf_map_create(BPF_MAP_TYPE_PERCPU_ARRAY, "t_cnt", 4, 8, DROP_MAX + CNT_MAX, NULL);
	if (c.m.allocs < 0 || c.m.mmaps < 0 || c.m.stacks < 0 || c.m.aggs < 0 || c.m.counters < 0)
		return -1;
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	close(c->m.counters);
	close(c->m.aggs);
	close(c->m.stacks);
	close(c->m.mmaps);
	close(c->m.allocs);
	return 0;
}

static void put_stack(struct ctx *c, uint64_t id, unsigned int nr, uint64_t base)
{
	struct stack_trace st = { .nr = nr };

	for (unsigned int i = 0; i < nr; i++)
		st.ip[i] = base + i;
	assert_int_equal(bpf_map_update_elem(c->m.stacks, &id, &st, BPF_ANY), 0);
}

static void put_agg(struct ctx *c, uint64_t id, uint32_t kind, int64_t bytes, int64_t allocs,
		    uint64_t calls, uint64_t sum_ts)
{
	struct agg_val v = {
		.outstanding_bytes = bytes, .outstanding_allocs = allocs * WEIGHT_ONE,
		.alloc_calls = calls * WEIGHT_ONE, .alloc_bytes = (uint64_t)bytes + 100,
		.free_calls = (calls - (uint64_t)allocs) * WEIGHT_ONE, .sum_alloc_ts = sum_ts,
	};

	v.life_hist[3] = 2 * WEIGHT_ONE;
	assert_int_equal(agg_table__put(c->m.aggs, id, kind, &v), 0);
}

static void put_alloc(struct ctx *c, uint64_t addr, uint64_t id, uint32_t kind, uint64_t size,
		      uint64_t ts)
{
	struct alloc_info a = { .size = size, .ts = ts, .stack_id = id, .kind = kind,
				.est_bytes = size, .est_count = WEIGHT_ONE };

	assert_int_equal(bpf_map_update_elem(c->m.allocs, &addr, &a, BPF_ANY), 0);
}

static void put_counter(struct ctx *c, uint32_t idx, uint64_t per_cpu)
{
	uint64_t vals[512];

	assert_true(c->ncpus <= 512);
	for (int i = 0; i < c->ncpus; i++)
		vals[i] = per_cpu;
	assert_int_equal(bpf_map_update_elem(c->m.counters, &idx, vals, BPF_ANY), 0);
}

/* Two stacks: a leak (3 x 100 B, old) and a newer one (1 x 1000 B). */
static void fill(struct ctx *c, uint64_t now)
{
	put_stack(c, 11, 3, 0x1000);
	put_stack(c, 22, 2, 0x2000);
	put_agg(c, 11, KIND_MALLOC, 300, 3, 5, 3 * (now - 10 * SEC_NS));
	put_agg(c, 22, KIND_CALLOC, 1000, 1, 1, now - 2 * SEC_NS);
	put_alloc(c, 0xa0, 11, KIND_MALLOC, 100, now - 20 * SEC_NS);
	put_alloc(c, 0xa1, 11, KIND_MALLOC, 100, now - 5 * SEC_NS);
	put_alloc(c, 0xa2, 11, KIND_MALLOC, 100, now - 5 * SEC_NS);
	put_alloc(c, 0xb0, 22, KIND_CALLOC, 1000, now - 2 * SEC_NS);
	put_counter(c, DROP_ALLOCS_FULL, 2);
	put_counter(c, DROP_MAX + CNT_UNMATCHED_FREES, 1);
}

static void test_aggregates(void **state)
{
	struct ctx *c = *state;
	struct collect_opts o = { .ages = true };
	uint64_t now = 100 * SEC_NS;
	struct collector *col;
	struct report *r;

	fill(c, now);
	col = collector__new(&c->m, &o);
	assert_non_null(col);
	assert_int_equal(collector__read(col, now, &r), 0);
	assert_int_equal(r->nr_stacks, 2);
	/* sorted by outstanding bytes */
	assert_int_equal(r->stacks[0].stack_id, 22);
	assert_int_equal(r->stacks[0].kind, KIND_CALLOC);
	assert_int_equal(r->stacks[0].outstanding_bytes, 1000);
	assert_int_equal(r->stacks[1].outstanding_bytes, 300);
	assert_int_equal(r->stacks[1].outstanding_allocs, 3);
	assert_int_equal(r->stacks[1].alloc_calls, 5);
	assert_int_equal(r->stacks[1].free_calls, 2);
	assert_int_equal(r->stacks[1].life_hist[3], 2);
	assert_int_equal(r->stacks[1].nr_ips, 3);
	assert_int_equal(r->stacks[1].ips[2], 0x1002);
	/* ages: oldest from the walk, mean from the aggregate sum */
	assert_true(r->stacks[1].oldest_age_s > 19.99 && r->stacks[1].oldest_age_s < 20.01);
	assert_true(r->stacks[1].mean_age_s > 9.99 && r->stacks[1].mean_age_s < 10.01);
	assert_true(r->stacks[0].oldest_age_s > 1.99 && r->stacks[0].oldest_age_s < 2.01);
	/* totals and drops (per-CPU counters summed) */
	assert_int_equal(r->totals.outstanding_bytes, 1300);
	assert_int_equal(r->totals.outstanding_allocs, 4);
	assert_int_equal(r->totals.drops[DROP_ALLOCS_FULL], 2ULL * c->ncpus);
	assert_int_equal(r->totals.dropped_events, 2ULL * c->ncpus);
	assert_int_equal(r->totals.unmatched_frees, (uint64_t)c->ncpus);
	assert_int_equal(collector__last_walked(col), 4);
	report__free(r);
	collector__free(col);
}

static void test_older(void **state)
{
	struct ctx *c = *state;
	struct collect_opts o = { .ages = true, .older_s = 4 };
	uint64_t now = 100 * SEC_NS;
	struct collector *col;
	struct report *r;

	fill(c, now);
	col = collector__new(&c->m, &o);
	assert_non_null(col);
	assert_int_equal(collector__read(col, now, &r), 0);
	/* only the three 100 B blocks are at least 4 s old */
	assert_int_equal(r->stacks[0].stack_id, 11);
	assert_int_equal(r->stacks[0].outstanding_bytes, 300);
	assert_int_equal(r->stacks[1].outstanding_bytes, 0);
	assert_int_equal(r->totals.outstanding_bytes, 300);
	report__free(r);
	collector__free(col);

	o.older_s = 10;		/* one block is 20 s old */
	col = collector__new(&c->m, &o);
	assert_int_equal(collector__read(col, now, &r), 0);
	assert_int_equal(r->totals.outstanding_bytes, 100);
	assert_int_equal(r->totals.outstanding_allocs, 1);
	report__free(r);
	collector__free(col);
}

static void test_many_stacks(void **state)
{
	struct ctx *c = *state;
	struct collect_opts o = { 0 };
	struct collector *col;
	struct report *r;
	int aggs = create_aggs("t_aggs_big", 20000);
	struct collect_maps m = c->m;

	assert_true(aggs >= 0);
	m.aggs = aggs;
	/* more than one batch (4096) of aggregates */
	for (uint64_t i = 1; i <= 10000; i++) {
		struct agg_val v = { .outstanding_bytes = (int64_t)i, .outstanding_allocs = WEIGHT_ONE };

		assert_int_equal(agg_table__put(aggs, i, KIND_MALLOC, &v), 0);
	}
	col = collector__new(&m, &o);
	assert_int_equal(collector__read(col, 1, &r), 0);
	assert_int_equal(r->nr_stacks, 10000);
	assert_int_equal(r->stacks[0].outstanding_bytes, 10000);
	assert_int_equal(r->stacks[9999].outstanding_bytes, 1);
	assert_int_equal(r->totals.outstanding_bytes, 10000LL * 10001 / 2);
	assert_int_equal(r->stacks[0].nr_ips, 0);	/* no stack stored: empty, not garbage */
	report__free(r);
	collector__free(col);
	close(aggs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_aggregates),
		cmocka_unit_test(test_older),
		cmocka_unit_test(test_many_stacks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
