// SPDX-License-Identifier: MIT
/* outfile.c - output files: O_EXCL in the same directory, renamed over the name (outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/outfile.h"

/* Where the temporary file of path goes: "DIR/.memtrace.XXXXXX" (malloc'd). */
static char *tmp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dir = slash ? (int)(slash - path + 1) : 0;
	char *t = NULL;

	if (asprintf(&t, "%.*s.memtrace.XXXXXX", dir, path) < 0)
		return NULL;
	return t;
}

/* What is at path now: 0 nothing or a regular file (write a new one and
 * rename), 1 a FIFO or character device (write in place), or -errno. */
static int classify(const char *path)
{
	struct stat st;
	size_t n = strlen(path);

	if (!n)
		return -ENOENT;
	if (path[n - 1] == '/')
		return -EISDIR;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISREG(st.st_mode))
		return 0;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))
		return 1;
	return -EINVAL;
}

/* A new empty file next to path: its fd, its name in *tmp. -errno on failure. */
static int create_tmp(const char *path, mode_t mode, char **tmp)
{
	int fd, err;

	*tmp = tmp_name(path);
	if (!*tmp)
		return -ENOMEM;
	fd = mkostemp(*tmp, O_CLOEXEC);	/* O_CREAT | O_EXCL, 0600 */
	if (fd < 0) {
		err = -errno;
		goto free_tmp;
	}
	if (fchmod(fd, mode & 0777) < 0) {
		err = -errno;
		close(fd);
		unlink(*tmp);
		goto free_tmp;
	}
	return fd;

free_tmp:
	free(*tmp);
	*tmp = NULL;
	return err;
}

int outfile__check(const char *path)
{
	char *tmp;
	int kind = classify(path), fd;

	if (kind)
		return kind < 0 ? kind : 0;
	fd = create_tmp(path, 0600, &tmp);
	if (fd < 0)
		return fd;
	close(fd);
	unlink(tmp);
	free(tmp);
	return 0;
}

int outfile__open(struct outfile *f, const char *path, mode_t mode)
{
	int kind = classify(path), fd, err;

	memset(f, 0, sizeof(*f));
	if (kind < 0)
		return kind;
	f->path = strdup(path);
	if (!f->path)
		return -ENOMEM;
	if (kind == 1) {
		struct stat st;

		fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			goto free_path;
		}
		/* swapped for a regular file since lstat: not this path */
		if (fstat(fd, &st) < 0 || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
			err = -EINVAL;
			close(fd);
			goto free_path;
		}
	} else {
		fd = create_tmp(path, mode, &f->tmp);
		if (fd < 0) {
			err = fd;
			goto free_path;
		}
	}
	f->fp = fdopen(fd, "w");
	if (!f->fp) {
		err = -errno;
		close(fd);
		goto unlink_tmp;
	}
	return 0;

unlink_tmp:
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	f->tmp = NULL;
free_path:
	free(f->path);
	f->path = NULL;
	return err;
}

int outfile__commit(struct outfile *f)
{
	if (!f->fp)
		return -EBADF;
	if (fflush(f->fp) || ferror(f->fp))
		return errno ? -errno : -EIO;
	if (!f->tmp)
		return 0;
	if (fsync(fileno(f->fp)) < 0 || rename(f->tmp, f->path) < 0)
		return -errno;
	free(f->tmp);
	f->tmp = NULL;
	return 0;
}

int outfile__close(struct outfile *f)
{
	int err = 0;

	if (f->fp) {
		if (ferror(f->fp))
			err = -EIO;
		if (fclose(f->fp) && !err)
			err = errno ? -errno : -EIO;
	}
	if (f->tmp)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	memset(f, 0, sizeof(*f));
	return err;
}

int outfile__write(const char *path, mode_t mode, const void *buf, size_t len)
{
	struct outfile f;
	int err = outfile__open(&f, path, mode), e;

	if (err)
		return err;
	if (len && fwrite(buf, 1, len, f.fp) != len)
		err = errno ? -errno : -EIO;
	if (!err)
		err = outfile__commit(&f);
	e = outfile__close(&f);
	return err ? err : e;
}

const char *outfile__strerror(int err)
{
	switch (err) {
	case -ELOOP:
		return "it is a symbolic link (memtrace does not write through one; name the file "
		       "itself)";
	case -EINVAL:
		return "not a regular file, FIFO or character device";
	default:
		return strerror(-err);
	}
}
