/* seal - authenticated encryption of personal content (AES-256-GCM through
 * OpenSSL EVP; nothing hand-rolled), for crypto-shredding (issue #13 item 3,
 * docs/ARCHITECTURE.md "Erasure").
 *
 * A sealed blob is nonce (12 random octets) || ciphertext || tag (16): the
 * same plaintext sealed twice differs, and any change to the nonce, the
 * ciphertext, the tag or the associated data makes seal_open fail.
 *
 * Keys: a data key (DEK, 32 random octets) per account and key version;
 * DEKs are stored only wrapped (sealed) under the cluster's master key (KEK,
 * crypto.master_key_file), which is never logged. A KEK is named by its id:
 * the first 16 hex digits of SHA-256 of the key, so a wrapped key says which
 * KEK opens it (KEK rotation: keep the old file in crypto.old_master_key_files). */
#ifndef EVM_SEAL_H
#define EVM_SEAL_H

#include <stddef.h>

#include "common/buf.h"

#define SEAL_KEY_LEN 32
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (SEAL_NONCE_LEN + SEAL_TAG_LEN)
#define SEAL_KEK_ID_LEN 16     /* hex digits */

/* Fills key with SEAL_KEY_LEN random octets (RAND_bytes). 0 or -1. */
int seal_random_key(unsigned char key[SEAL_KEY_LEN], const char **error_r);
/* Appends nonce || AES-256-GCM(pt) || tag to out, aad authenticated too.
 * 0 or -1. */
int seal_close(const unsigned char key[SEAL_KEY_LEN], const void *aad, size_t aad_len,
	       const void *pt, size_t pt_len, struct buf *out, const char **error_r);
/* Appends the plaintext of sealed[0..len) to out: 0, or -1 ("sealed data
 * does not authenticate" for a wrong key, aad or any altered octet; "sealed
 * data too short"). Nothing is appended on failure. */
int seal_open(const unsigned char key[SEAL_KEY_LEN], const void *aad, size_t aad_len,
	      const void *sealed, size_t len, struct buf *out, const char **error_r);
/* Reads a KEK file: 64 hex digits or 44 base64 characters (trailing
 * whitespace allowed), refuses a file others may read (mode & 077) and any
 * other content. Fills kek and its id (NUL-terminated). 0 or -1. */
int seal_kek_load(const char *path, unsigned char kek[SEAL_KEY_LEN],
		  char kek_id[SEAL_KEK_ID_LEN + 1], const char **error_r);
/* The id of a KEK (hex of the first 8 octets of its SHA-256). */
void seal_kek_id(const unsigned char kek[SEAL_KEY_LEN], char kek_id[SEAL_KEK_ID_LEN + 1]);

#endif
