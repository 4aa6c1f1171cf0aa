/* srs - the Sender Rewriting Scheme (SRS0, after Shevek's "Sender
 * Rewriting Scheme" paper and libsrs2's address form) for forwarded mail:
 * the envelope sender local@domain becomes
 *
 *     SRS0=HHHHHHHH=TT=domain=local@forwarding-domain
 *
 * so SPF at the destination checks the forwarding domain, and a bounce to
 * that address can be turned back into the original sender.
 *
 *   HHHHHHHH  the first 40 bits of HMAC-SHA256(secret, lower-case "TT=domain=
 *             local") in base32 (RFC 4648 6). Base32 has one case, so a hash
 *             folded to lower case by a relay (or by our own address
 *             normalisation) still compares equal, without the entropy loss
 *             the case-insensitive compare of base64 hashes has in libsrs2.
 *   TT        the day number (Unix time / 86400) mod 1024 in two base32
 *             characters; a reverse accepts at most SRS_MAX_AGE_DAYS old.
 *
 * libsrs2 hashes with HMAC-SHA1 and 4 base64 characters; this module is
 * not wire-compatible with it, and need not be: only the forwarder ever
 * reverses its own addresses. An address already in SRS form is wrapped
 * again as SRS0 (no SRS1 shortcut): longer, but still reversible.
 *
 * All hashing is OpenSSL (HMAC through EVP_MAC); the compare is
 * constant-time. Pure functions: the time and the secret are arguments. */
#ifndef EVM_SRS_H
#define EVM_SRS_H

#include <stddef.h>
#include <stdint.h>

#include "common/address.h"

#define SRS_HASH_LEN 8           /* base32 characters: 40 bits */
#define SRS_MAX_AGE_DAYS 21      /* libsrs2's default */
#define SRS_SECRET_MIN 16        /* octets */
#define SRS_SECRET_MAX 1024

/* The SRS0 address for sender (a normalised address, not the null sender)
 * under srs_domain, at time now_s (seconds). out holds EVM_ADDRESS_MAX + 1.
 * -1 with *error_r when sender is not an address or the result's local part
 * would pass EVM_LOCAL_MAX (RFC 5321 4.5.3.1.1): the caller then keeps the
 * original sender. */
int srs_forward(const unsigned char *secret, size_t secret_len, const char *sender,
		const char *srs_domain, int64_t now_s, char out[EVM_ADDRESS_MAX + 1],
		const char **error_r);

/* address's local part parsed as SRS0 (its prefix compared without case):
 * 1 valid, the original sender "local@domain" in out (lower case);
 * 0 not an SRS0 address at all (out untouched); -1 an SRS0 address that is
 * malformed, forged (wrong hash) or older than SRS_MAX_AGE_DAYS, *error_r
 * says which. */
int srs_reverse(const unsigned char *secret, size_t secret_len, const char *address,
		int64_t now_s, char out[EVM_ADDRESS_MAX + 1], const char **error_r);

#endif
