/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * sampling.bpf.h - Poisson byte sampling (-s): which allocations are
 * recorded, and the unbiased weight each stands for.
 * Included once, by memtrace.bpf.c (after the headers listed there).
 */
#ifndef MEMTRACE_SAMPLING_BPF_H
#define MEMTRACE_SAMPLING_BPF_H

/* ---- sampling -------------------------------------------------------- */

static __always_inline __u32 next_rand(struct task_state *ts)
{
	__u64 x = ts->rng;

	if (!x) {
		/* Same seed, same samples: mix in the thread's ordinal (tid -
		 * tgid: 0 for the main thread), never the pid itself. */
		__u64 id = bpf_get_current_pid_tgid();
		__u64 ord = (__u32)id - (id >> 32);

		x = (sample_seed ^ ((ord + 1) * 0x9e3779b97f4a7c15ULL)) | 1;
	}
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ts->rng = x;
	return (__u32)(x >> 32);
}

static __always_inline __s64 draw(struct task_state *ts)
{
	__u32 i = next_rand(ts) & (SAMPLE_DRAWS - 1);

	return (__s64)(((__u64)exp_draws[i] * sample_bytes) >> 16) + 1;
}

/* sample_points(): recorded exactly (full tracing, or size >= sample_bytes). */
#define SAMPLE_EXACT	0xffffffffU

/*
 * Draw the sample points an allocation of `size` holds: 0 when it is
 * sampled out (counted), SAMPLE_EXACT when it is recorded exactly, else
 * how many sample points fell on it (1..16). Advances the thread's
 * countdown: call it once per allocation.
 */
static __always_inline __u32 sample_points(struct task_state *ts, __u64 size)
{
	__u32 k = 0;

	if (!sample_bytes || size >= sample_bytes || !ts)
		return SAMPLE_EXACT;
	if (ts->countdown == 0)
		ts->countdown = draw(ts);
	ts->countdown -= size;
	for (int i = 0; i < 16 && ts->countdown <= 0; i++) {
		k++;
		ts->countdown += draw(ts);
	}
	if (!k)
		counter(CNT_SAMPLED_OUT);
	return k;
}

/* The bytes an allocation of `size` holding k sample points (k != 0)
 * stands for; its count is derived from them (alloc_est_count()). */
static __always_inline __u64 sample_bytes_of(__u32 k, __u64 size)
{
	/* Each sample point stands for sample_bytes bytes (unbiased). */
	return k == SAMPLE_EXACT ? size : k * sample_bytes;
}

#endif /* MEMTRACE_SAMPLING_BPF_H */
