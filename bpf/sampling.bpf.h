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

/*
 * Decide whether an allocation of `size` is recorded, and what it stands for.
 * Returns false when sampled out. Allocations >= sample_bytes are exact.
 */
static __always_inline bool sample(struct task_state *ts, __u64 size,
				   __u64 *est_bytes, __u64 *est_count)
{
	__u64 k = 0;

	*est_bytes = size;
	*est_count = WEIGHT_ONE;
	if (!sample_bytes || size >= sample_bytes)
		return true;
	if (!ts)
		return true;
	if (ts->countdown == 0)
		ts->countdown = draw(ts);
	ts->countdown -= size;
	for (int i = 0; i < 16 && ts->countdown <= 0; i++) {
		k++;
		ts->countdown += draw(ts);
	}
	if (!k) {
		counter(CNT_SAMPLED_OUT);
		return false;
	}
	/* Each sample point stands for sample_bytes bytes (unbiased). */
	*est_bytes = k * sample_bytes;
	*est_count = size ? (k * sample_bytes * WEIGHT_ONE) / size : WEIGHT_ONE;
	return true;
}

#endif /* MEMTRACE_SAMPLING_BPF_H */
