// SPDX-License-Identifier: MIT
/*
 * malloc_loop - the traced process of tools/bench/bench-overhead.c.
 *
 * Reads commands on stdin, one per line:
 *	"N SIZE DEPTH"	make N malloc(SIZE)+free pairs, DEPTH calls below main
 *			(a stack of a realistic depth for the unwinders),
 *			then answer "NS" on stdout: nanoseconds the loop took.
 * Exits 0 on end of input. Commands and answers use read(2)/write(2) on
 * stack buffers, so nothing but the loop itself calls the allocator.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NOIPA __attribute__((noipa, noinline))

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The measured loop: the pointer escapes, so the pair is never elided. */
NOIPA static void pairs(long n, size_t size)
{
	for (long i = 0; i < n; i++) {
		void *p = malloc(size);

		__asm__ volatile("" : : "r"(p) : "memory");
		free(p);
	}
}

NOIPA static long long nest(int depth, long n, size_t size)
{
	long long t0, t;

	if (depth > 0) {
		t = nest(depth - 1, n, size);
		__asm__ volatile("" ::: "memory");	/* no tail call: keep the frame */
		return t;
	}
	t0 = now_ns();
	pairs(n, size);
	return now_ns() - t0;
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
		len = snprintf(out, sizeof(out), "%lld\n", nest(depth, n, (size_t)size));
		if (write(1, out, len) != len)
			return 1;
	}
	return 0;
}
