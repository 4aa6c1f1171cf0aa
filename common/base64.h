/* base64 - RFC 4648 base64 and base64url, strict: only the alphabet, the
 * padding where the variant wants it, and canonical text (the bits after
 * the last octet are zero, RFC 4648 3.5), so one octet string has exactly
 * one accepted text. MIME bodies and encoded words are decoded leniently
 * by common/mime (RFC 2045 6.8 asks decoders to skip what is not base64). */
#ifndef EVM_BASE64_H
#define EVM_BASE64_H

#include <stddef.h>

#include "common/buf.h"

/* The 6-bit value of a character of the alphabet (url: RFC 4648 5's "-_",
 * else 4's "+/"), or -1. */
int evm_b64_value(unsigned char c, int url);

/* Base64 (RFC 4648 4, with padding) of len octets: malloc'ed string. */
char *evm_b64_encode(const unsigned char *in, size_t len);
/* Strict base64 with padding. Decodes into out (at least len / 4 * 3 + 1
 * octets), NUL-terminated after the *out_len_r octets. 0 or -1. */
int evm_b64_decode(const char *in, size_t len, unsigned char *out, size_t *out_len_r);

/* Appends base64url (RFC 4648 5) without padding of in[len] to out. */
void evm_b64url_encode(const unsigned char *in, size_t len, struct buf *out);
/* Strict base64url; "=" padding optional (RFC 4648 3.2), but when present
 * it completes the last quantum. Decodes into out (at most max octets):
 * 0 with *n_r, or -1 (a character outside the alphabet, a bad length or
 * padding, non-zero trailing bits, more than max octets). */
int evm_b64url_decode(const char *in, size_t len, unsigned char *out, size_t max, size_t *n_r);

#endif
