// SPDX-License-Identifier: MIT
/*
 * alloc_nolibc - a static program without libc and without malloc: memtrace
 * must refuse it ("no allocator found"). Built -static -nostdlib (see
 * mk/e2e_targets.mk). Prints "ready PID", then sleeps in 100 ms steps for up
 * to 60 s (or until SIGTERM/SIGKILL) and exits 0.
 */
#define SYS_write 1
#define SYS_nanosleep 35
#define SYS_getpid 39
#define SYS_exit 60

static long sys3(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

static int fmt_uint(char *buf, unsigned long v)
{
	char tmp[24];
	int n = 0, i = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		buf[i++] = tmp[--n];
	return i;
}

void __attribute__((noreturn, used)) start_c(void)
{
	char line[40] = "ready ";
	struct { long s, ns; } step = { 0, 100 * 1000 * 1000 };
	int n = 6;

	n += fmt_uint(line + n, (unsigned long)sys3(SYS_getpid, 0, 0, 0));
	line[n++] = '\n';
	sys3(SYS_write, 1, (long)line, n);
	for (int i = 0; i < 600; i++)
		sys3(SYS_nanosleep, (long)&step, 0, 0);
	for (;;)
		sys3(SYS_exit, 0, 0, 0);
}

/* Align the stack as a call would, then run start_c. */
__asm__(".text\n"
	".global _start\n"
	"_start:\n"
	"	xor %rbp, %rbp\n"
	"	and $-16, %rsp\n"
	"	call start_c\n"
	"	hlt\n");
