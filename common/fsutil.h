/* fsutil - small file-system helpers. */
#ifndef EVM_FSUTIL_H
#define EVM_FSUTIL_H

/* mkdir -p with mode 0750. Returns 0 or -1 with *error_r (thread-local). */
int evm_mkdir_p(const char *path, const char **error_r);
/* rm -r of path (symbolic links are removed, never followed); a missing
 * path is fine. 0 or -1 with *error_r (thread-local). */
int evm_rm_rf(const char *path, const char **error_r);
/* fsync of the directory that holds path (after a rename in it). 0 or -1. */
int evm_fsync_parent(const char *path, const char **error_r);

#endif
