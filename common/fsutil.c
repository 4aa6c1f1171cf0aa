/* fsutil - see fsutil.h */
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

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
