/* password - salted slow hashes through libcrypt (libxcrypt).
 *
 * yescrypt ("$y$"), libxcrypt's default and Debian's choice for
 * /etc/shadow: memory-hard, salted, and not written by us. Plain passwords
 * are wiped from memory by the callers after use (explicit_bzero). */
#ifndef EVM_PASSWORD_H
#define EVM_PASSWORD_H

#define EVM_PASSWORD_MAX 511   /* libxcrypt refuses passphrases of 512 octets or more */

/* *hash_r is malloc'ed. Returns 0 or -1 with *error_r. */
int evm_password_hash(const char *password, char **hash_r, const char **error_r);
/* 1 match, 0 mismatch, -1 error (malformed hash). Constant-time compare. */
int evm_password_verify(const char *password, const char *hash, const char **error_r);
/* True if s looks like a crypt string we accept ("$y$", "$2b$", "$6$"...). */
int evm_password_hash_valid(const char *hash);

#endif
