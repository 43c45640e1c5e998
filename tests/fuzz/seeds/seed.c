// SPDX-License-Identifier: MIT
/* seed.c - a small program whose builds seed the ELF fuzzers (mk/fuzz.mk):
 * allocator-named functions, several frame shapes, a PLT call or two. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *malloc_wrapper(size_t n);
__attribute__((noinline)) void *malloc_wrapper(size_t n)
{
	return malloc(n);
}

__attribute__((noinline)) static int deep(int n, char *buf)
{
	char local[64];

	if (n <= 0)
		return (int)strlen(buf);
	snprintf(local, sizeof(local), "%d", n);
	return deep(n - 1, local) + 1;
}

__attribute__((noinline)) long big_frame(int n)
{
	volatile char v[5000];

	v[n % 5000] = 1;
	return v[(n * 7) % 5000];
}

void free_wrapper(void *p);
__attribute__((noinline)) void free_wrapper(void *p)
{
	free(p);
}

int main(int argc, char **argv)
{
	void *p = malloc_wrapper((size_t)argc * 16);

	printf("%d %ld\n", deep(argc + 3, argv[0]), big_frame(argc));
	free_wrapper(p);
	return 0;
}
