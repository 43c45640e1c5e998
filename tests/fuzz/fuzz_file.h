/* SPDX-License-Identifier: MIT */
/*
 * fuzz_file.h - hand a libFuzzer input to a parser that reads a file.
 *
 * memtrace's ELF readers open the target's files by path or descriptor
 * and map them (ELF_C_READ_MMAP), exactly as they do in production; the
 * harnesses give them a memfd holding the input, so the code under test
 * is the production code path, mmap included, with no copy of its logic.
 */
#ifndef MEMTRACE_FUZZ_FILE_H
#define MEMTRACE_FUZZ_FILE_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_file {
	int fd;
	char path[4096];	/* /proc/self/fd/N: opens the same memfd */
};

/*
 * Make f a regular file at path instead of a memfd (for readers that look
 * for companion files next to it). Call before the first fuzz_file__set().
 */
static inline void fuzz_file__at(struct fuzz_file *f, const char *path)
{
	f->fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (f->fd < 0 || snprintf(f->path, sizeof(f->path), "%s", path) >= (int)sizeof(f->path)) {
		perror(path);
		abort();
	}
}

/*
 * Replace the file's contents with data[0, size). The first call creates
 * the memfd; it lives until the process exits. Aborts on failure: the
 * harness cannot run without it.
 */
static inline const char *fuzz_file__set(struct fuzz_file *f, const uint8_t *data, size_t size)
{
	if (!f->path[0]) {
		f->fd = memfd_create("fuzz_input", MFD_CLOEXEC);
		if (f->fd < 0) {
			perror("memfd_create");
			abort();
		}
		snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
	}
	if (ftruncate(f->fd, 0) || (size && pwrite(f->fd, data, size, 0) != (ssize_t)size)) {
		perror("fuzz input");
		abort();
	}
	return f->path;
}

#endif
