/* dkim_verify - DKIM signature verification (RFC 6376 6.1) with
 * rsa-sha256 and ed25519-sha256 (RFC 8463), simple and relaxed
 * canonicalisation, l= body lengths; the pieces ARC (RFC 8617) reuses.
 * Every hash and signature check is OpenSSL EVP (common/dkim.c holds the
 * relaxed canonicalisation and the header split).
 *
 * Nothing here does DNS: the caller fetches the key record
 * (<s>._domainkey.<d> TXT) and hands it to dkim_key_parse. */
#ifndef EVM_DKIM_VERIFY_H
#define EVM_DKIM_VERIFY_H

#include <openssl/evp.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/dkim.h"
#include "common/dkim_tags.h"

#define DKIM_MIN_RSA_BITS 1024   /* RFC 8301 3.2: smaller keys are refused */

enum dkim_canon { DKIM_CANON_SIMPLE, DKIM_CANON_RELAXED };
enum dkim_alg { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 };

struct dkim_sig {
	struct dkim_tags tags;      /* owns the strings below */
	enum dkim_alg alg;
	enum dkim_canon hcanon, bcanon;
	const char *d, *s, *h, *bh, *b, *i;  /* i: NULL when absent (DKIM) */
	long long l;                /* body octets signed; -1: all */
	int64_t t, x;               /* -1 when absent */
	unsigned instance;          /* ARC i= (1..50); 0 for DKIM */
};

/* Parses a DKIM-Signature value (arc 0; RFC 6376 3.5: v=1, a, b, bh, d,
 * h with From, s required) or an ARC-Message-Signature value (arc 1;
 * RFC 8617 4.1.2: i= instead of v=, From not required). -1: the signature
 * is malformed (permerror). Free with dkim_sig_free. */
int dkim_sig_parse(const char *value, size_t len, int arc, struct dkim_sig *sig,
		   const char **error_r);
void dkim_sig_free(struct dkim_sig *sig);

/* A key record (RFC 6376 3.6.1) for a signature of alg: the public key in
 * *key_r. -1 with the reason: malformed, revoked (empty p=), wrong k=,
 * h= without sha256, s= not email, or an RSA key under DKIM_MIN_RSA_BITS. */
int dkim_key_parse(const char *rec, size_t len, enum dkim_alg alg, EVP_PKEY **key_r,
		   const char **error_r);

/* 1 when the canonical body (limited by l=) hashes to bh=, 0 when not;
 * -1 (with reason) for l= larger than the body. body: from the header's end. */
int dkim_body_check(const char *body, size_t len, const struct dkim_sig *sig, const char **error_r);

/* Appends the header hash input (RFC 6376 3.7): the fields named in h,
 * each name taking the next instance from the bottom (a missing one adds
 * nothing), then the signature field itself with the b= value removed and
 * no final CRLF, all in canonical form c. */
void dkim_header_input(const struct dkim_field *f, size_t n, const char *h, enum dkim_canon c,
		       const struct dkim_field *sig_field, struct buf *out);
/* Appends one field in canonical form c (with its CRLF when crlf); the
 * b= value removed when strip_b. */
void dkim_canon_field(const struct dkim_field *f, enum dkim_canon c, int strip_b, int crlf,
		      struct buf *out);

/* 1 when b64 (whitespace allowed) is a valid alg signature of data under
 * key (ed25519: over the SHA-256 of data, RFC 8463 3), 0 when not. */
int dkim_signature_check(EVP_PKEY *key, enum dkim_alg alg, const char *data, size_t len,
			 const char *b64);

#endif
