/* scram - SCRAM-SHA-256 (RFC 5802, RFC 7677) key material and strict
 * base64, with OpenSSL (PKCS5_PBKDF2_HMAC, HMAC, SHA-256).
 *
 * evmailctl derives an account's StoredKey/ServerKey when it hashes a
 * password (the directory stores them in the account record's optional
 * "scram_sha256" object, see projector/directory.h); the IMAP gateway
 * verifies a client's proof with them. The password is used as given
 * (UTF-8 octets; SASLprep is the identity for ASCII). */
#ifndef EVM_SCRAM_H
#define EVM_SCRAM_H

#include <jansson.h>
#include <stddef.h>

#define EVM_SCRAM_KEY_LEN 32            /* SHA-256 output */
#define EVM_SCRAM_SALT_LEN 16           /* what evmailctl makes */
#define EVM_SCRAM_SALT_MIN 8            /* what the directory accepts */
#define EVM_SCRAM_SALT_MAX 64
#define EVM_SCRAM_ITERATIONS 10000      /* what evmailctl uses */
#define EVM_SCRAM_ITER_MIN 4096         /* RFC 7677 4 */
#define EVM_SCRAM_ITER_MAX 1000000

/* SaltedPassword = Hi(password, salt, i); ClientKey = HMAC(SaltedPassword,
 * "Client Key"); StoredKey = H(ClientKey); ServerKey = HMAC(SaltedPassword,
 * "Server Key") (RFC 5802 3). 0 or -1. */
int evm_scram_derive(const char *password, const unsigned char *salt, size_t salt_len,
		     unsigned iterations, unsigned char stored_key[EVM_SCRAM_KEY_LEN],
		     unsigned char server_key[EVM_SCRAM_KEY_LEN]);
/* A fresh {salt, iterations, stored_key, server_key} object (random
 * 16-byte salt, 10000 iterations). NULL on failure (no randomness). */
json_t *evm_scram_record_new(const char *password);
/* Checks a stored/submitted record strictly: exactly the four members,
 * canonical base64, salt 8..64 octets, keys 32 octets, iterations in
 * range. Decoded values into the out-parameters (any may be NULL).
 * 0, or -1 with *error_r. */
int evm_scram_record_parse(json_t *rec, unsigned char *salt, size_t *salt_len_r,
			   unsigned *iterations_r, unsigned char stored_key[EVM_SCRAM_KEY_LEN],
			   unsigned char server_key[EVM_SCRAM_KEY_LEN], const char **error_r);

#endif
