/* fsutil - see fsutil.h */
#include "common/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int evm_mkdir_p(const char *path, const char **error_r)
{
	static __thread char err[512];
	char tmp[4096];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof tmp) {
		*error_r = "directory path empty or too long";
		return -1;
	}
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
			goto fail;
		*p = '/';
	}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		goto fail;
	return 0;
fail:
	snprintf(err, sizeof err, "cannot create directory %s: %s", tmp, strerror(errno));
	*error_r = err;
	return -1;
}

/* nftw callback: removes one entry, children before their directory. */
static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

int evm_rm_rf(const char *path, const char **error_r)
{
	static __thread char err[512];
	struct stat st;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		goto fail;
	}
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0)
		return 0;
fail:
	snprintf(err, sizeof err, "cannot remove %s: %s", path, strerror(errno));
	*error_r = err;
	return -1;
}

int evm_fsync_parent(const char *path, const char **error_r)
{
	static __thread char err[512];
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, r;

	if (slash == NULL)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		goto fail;
	r = fsync(fd);
	close(fd);
	if (r == 0)
		return 0;
fail:
	snprintf(err, sizeof err, "cannot fsync directory %s: %s", dir, strerror(errno));
	*error_r = err;
	return -1;
}
