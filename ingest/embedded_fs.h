/* embedded_fs - file system helpers of the embedded log.
 *
 * Every function returns 0 or -1 with *error_r set to thread-local text that
 * names the path and the errno reason; it stays valid until the next
 * emb_errorf() on the same thread. */
#ifndef EVM_EMBEDDED_FS_H
#define EVM_EMBEDDED_FS_H

#include <stddef.h>
#include <stdint.h>

/* Formats an error message into this thread's buffer and returns it. */
const char *emb_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The error text of a failed write, sync or create of path: starts with
 * EVLOG_ERR_STORAGE_FULL (ingest/evlog.h) when err says the storage is full
 * (ENOSPC, EDQUOT, EFBIG: file system full, quota, file size limit). */
const char *emb_io_errorf(int err, const char *what, const char *path);
/* mkdir -p. */
int emb_mkdir_p(const char *path, const char **error_r);
/* fsync a directory so a create, rename or truncate in it is durable. */
int emb_fsync_dir(const char *path, const char **error_r);
/* Writes data to dir/name atomically: tmp file, fsync, rename, fsync dir. */
int emb_write_atomic(const char *dir, const char *name, const void *data, size_t len,
		     const char **error_r);
/* pwrite all of data at pos (retrying short writes and EINTR). */
int emb_pwrite_all(int fd, const void *data, size_t len, int64_t pos, const char *path,
		   const char **error_r);
/* pread up to len bytes at pos; *got_r receives how many (short at EOF). */
int emb_pread_full(int fd, void *data, size_t len, int64_t pos, size_t *got_r,
		   const char *path, const char **error_r);
/* Joins two path parts with '/'; the caller frees the result. */
char *emb_path(const char *dir, const char *name);

#endif
