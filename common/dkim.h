/* dkim - DKIM signatures (RFC 6376) with rsa-sha256 and ed25519-sha256
 * (RFC 8463), relaxed/relaxed canonicalisation, through OpenSSL EVP only.
 *
 * The signer signs the present ones of DKIM_SIGNED_HEADERS (every
 * instance, bottom up, RFC 6376 5.4.2) and lists From once more than it
 * occurs (oversigning: no From can be added later, RFC 6376 8.15). The
 * field it returns is folded under 78 columns and goes on top of the
 * message; several signatures (one per key) are independent of each other
 * because none signs DKIM-Signature fields.
 *
 * The message is CRLF-delimited (as submission holds it): the header ends
 * at the first empty line; a message without one is all header. */
#ifndef EVM_DKIM_H
#define EVM_DKIM_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define DKIM_SIGNED_HEADERS \
	"from", "to", "cc", "subject", "date", "message-id", "reply-to", "in-reply-to", \
	"references", "mime-version", "content-type", "content-transfer-encoding"
#define DKIM_MAX_FIELDS 1000     /* header fields looked at; the rest are not signed */
#define DKIM_FOLD_WIDTH 78       /* RFC 5322 2.1.1 */

struct dkim_field {
	const char *p;       /* start of "Name:" */
	size_t len;          /* up to, not including, the CRLF that ends it */
	size_t name_len;     /* the name, trailing WSP excluded */
};

/* Splits msg's header into fields (at most max; lines without a colon are
 * skipped); *body_r is where the body starts (len when there is none). */
size_t dkim_header_split(const char *msg, size_t len, struct dkim_field *f, size_t max,
			 size_t *body_r);

/* RFC 6376 3.4.2: one header field ("Name: value", folded lines, with or
 * without its final CRLF) in relaxed form, "name:value\r\n", appended to
 * out (crlf 0: without the final CRLF, as for the signature field). */
void dkim_canon_header(const char *field, size_t len, int crlf, struct buf *out);
/* RFC 6376 3.4.4: the body in relaxed form, appended to out. */
void dkim_canon_body(const char *body, size_t len, struct buf *out);
/* bh=: base64 of SHA-256 of the relaxed body of msg (out: 45 octets). */
int dkim_body_hash(const char *msg, size_t len, char out[45], const char **error_r);

/* Loads a PEM private key (RSA of 1024..8192 bits, or Ed25519). */
int dkim_key_load(const char *pem, EVP_PKEY **key_r, const char **error_r);
/* "rsa-sha256" or "ed25519-sha256" for the key's type, NULL for others. */
const char *dkim_key_algorithm(EVP_PKEY *key);

/* The signature over msg's header fields named in h (the h= tag value,
 * names separated by ':' with optional whitespace, each taking the next
 * instance from the bottom; a missing instance adds nothing), followed by
 * sig_field, the whole DKIM-Signature field with an empty b= and no final
 * CRLF (RFC 6376 3.7). rsa-sha256: RSASSA-PKCS1-v1_5 SHA-256; ed25519:
 * PureEdDSA over the SHA-256 of that data (RFC 8463 3). *b64_r malloc'ed. */
int dkim_sign_fields(const char *msg, size_t len, const char *h, const char *sig_field,
		     EVP_PKEY *key, char **b64_r, const char **error_r);

/* Signs msg for domain/selector with key at time t (t=, seconds): the
 * complete field "DKIM-Signature: ...\r\n" in *field_r (malloc'ed), to be
 * put before the message. */
int dkim_sign(const char *msg, size_t len, const char *domain, const char *selector,
	      EVP_PKEY *key, int64_t t, char **field_r, const char **error_r);

#endif
