/* embedded_fs - see embedded_fs.h */
#include "ingest/embedded_fs.h"
#include "common/buf.h"
#include "ingest/evlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static _Thread_local char error_text[1024];

const char *emb_io_errorf(int err, const char *what, const char *path)
{
	if (err == ENOSPC || err == EDQUOT || err == EFBIG)
		return emb_errorf("%s: %s %s: %s", EVLOG_ERR_STORAGE_FULL, what, path, strerror(err));
	return emb_errorf("%s %s: %s", what, path, strerror(err));
}

/* Formats an error message into this thread's buffer and returns it. */
const char *emb_errorf(const char *fmt, ...)
{
	char tmp[sizeof error_text];
	va_list ap;

	/* Format into a copy first: an argument may be the previous message. */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	memcpy(error_text, tmp, sizeof tmp);
	return error_text;
}

/* Joins two path parts with '/'. */
char *emb_path(const char *dir, const char *name)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s/%s", dir, name);
	return buf_steal(&b);
}

/* mkdir -p. */
int emb_mkdir_p(const char *path, const char **error_r)
{
	char *copy = xstrdup(path);
	int ret = 0;

	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			*error_r = emb_errorf("mkdir %s: %s", copy, strerror(errno));
			ret = -1;
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return ret;
}

/* fsync a directory so a create, rename or truncate in it is durable. */
int emb_fsync_dir(const char *path, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		*error_r = emb_errorf("open directory %s: %s", path, strerror(errno));
		return -1;
	}
	if (fsync(fd) < 0) {
		*error_r = emb_errorf("fsync directory %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* pwrite all of data at pos (retrying short writes and EINTR). */
int emb_pwrite_all(int fd, const void *data, size_t len, int64_t pos, const char *path,
		   const char **error_r)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = pwrite(fd, p, len, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*error_r = n < 0 ? emb_io_errorf(errno, "write", path)
					 : emb_errorf("write %s: no progress", path);
			return -1;
		}
		p += n;
		len -= (size_t)n;
		pos += n;
	}
	return 0;
}

/* pread up to len bytes at pos. */
int emb_pread_full(int fd, void *data, size_t len, int64_t pos, size_t *got_r,
		   const char *path, const char **error_r)
{
	char *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)pos + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*error_r = emb_errorf("read %s: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*got_r = got;
	return 0;
}

/* Writes data to dir/name atomically: tmp, fsync, rename, fsync dir. */
int emb_write_atomic(const char *dir, const char *name, const void *data, size_t len,
		     const char **error_r)
{
	char *path = emb_path(dir, name);
	struct buf tmp = BUF_INIT;
	int fd, ret = -1;

	buf_printf(&tmp, "%s.tmp", path);
	fd = open(tmp.data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		*error_r = emb_errorf("create %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	if (emb_pwrite_all(fd, data, len, 0, tmp.data, error_r) < 0) {
		close(fd);
		goto out;
	}
	if (fsync(fd) < 0) {
		*error_r = emb_errorf("fsync %s: %s", tmp.data, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	if (rename(tmp.data, path) < 0) {
		*error_r = emb_errorf("rename %s: %s", tmp.data, strerror(errno));
		goto out;
	}
	ret = emb_fsync_dir(dir, error_r);
out:
	buf_free(&tmp);
	free(path);
	return ret;
}
