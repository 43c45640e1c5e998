// SPDX-License-Identifier: MIT
/*
 * malloc_loop - the traced process of tools/bench/bench-overhead.c.
 *
 * Reads commands on stdin, one per line:
 *	"N SIZE DEPTH"	make N malloc(SIZE)+free pairs, DEPTH calls below main
 *			(a stack of a realistic depth for the unwinders),
 *			then answer "NS CPU_NS" on stdout: nanoseconds the loop
 *			took, and of them the CPU time of this thread (user
 *			and kernel: the traps and BPF programs run in it), which
 *			other load on the machine disturbs much less.
 * Exits 0 on end of input. Commands and answers use read(2)/write(2) on
 * stack buffers, so nothing but the loop itself calls the allocator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NOIPA __attribute__((noipa, noinline))

static long long now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Nanoseconds of the last loop: wall clock, and this thread's CPU time. */
struct loop_time {
	long long wall, cpu;
};

/* The measured loop: the pointer escapes, so the pair is never elided. */
NOIPA static void pairs(long n, size_t size)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(size);

		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

NOIPA static int nest(int depth, long n, size_t size, struct loop_time *t)
{
	long long w0, c0;
	int r;

	if (depth > 0) {
		r = nest(depth - 1, n, size, t);
		__asm__ volatile("" ::: "memory");	/* no tail call: keep the frame */
		return r;
	}
	w0 = now_ns(CLOCK_MONOTONIC);
	c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
	pairs(n, size);
	t->cpu = now_ns(CLOCK_THREAD_CPUTIME_ID) - c0;
	t->wall = now_ns(CLOCK_MONOTONIC) - w0;
	return 0;
}

/* One line of stdin into buf (without the newline). Returns its length, -1 at EOF. */
static int read_line(char *buf, int cap)
{
	int len = 0;

	for (;;) {
		ssize_t r = read(0, buf + len, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return len ? len : -1;
		if (buf[len] == '\n' || len == cap - 1)
			break;
		len++;
	}
	buf[len] = '\0';
	return len;
}

int main(void)
{
	char line[128], out[64];
	struct loop_time t;
	long n, size;
	int depth, len;

	while (read_line(line, sizeof(line)) >= 0) {
		if (sscanf(line, "%ld %ld %d", &n, &size, &depth) != 3 || n < 0 || size < 0 ||
		    depth < 0 || depth > 200) {
			static const char msg[] = "malloc_loop: bad command\n";

			if (write(2, msg, sizeof(msg) - 1) < 0)
				return 2;
			return 2;
		}
		nest(depth, n, (size_t)size, &t);
		len = snprintf(out, sizeof(out), "%lld %lld\n", t.wall, t.cpu);
		if (write(1, out, len) != len)
			return 1;
	}
	return 0;
}
