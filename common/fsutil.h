/* fsutil - small file-system helpers. */
#ifndef EVM_FSUTIL_H
#define EVM_FSUTIL_H

/* mkdir -p with mode 0750. Returns 0 or -1 with *error_r (thread-local). */
int evm_mkdir_p(const char *path, const char **error_r);

#endif
