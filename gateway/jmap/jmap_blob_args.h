/* jmap_blob_args - client input of the Blob methods (RFC 9404) and
 * Email/import (RFC 8621 4.8), checked completely before anything is read
 * or written: Blob/get property names (4.2), DataSourceObjects (4.1),
 * UTCDates (RFC 8620 1.4) and keywords (RFC 8621 4.1.1). Pure functions
 * over parsed JSON (the request reader already bounded its size and depth);
 * fuzz_jmap_blob_args.c feeds them anything. */
#ifndef EVM_JMAP_BLOB_ARGS_H
#define EVM_JMAP_BLOB_ARGS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

struct buf;

/* The digest algorithms of Blob/get (names from the IANA "HTTP Digest
 * Algorithm Values" registry, RFC 9404 4.2 "digest:<algorithm>"). */
enum jmap_digest {
	JMAP_DIGEST_SHA,       /* "sha": SHA-1 */
	JMAP_DIGEST_SHA256,    /* "sha-256" */
	JMAP_DIGESTS,
};

const char *jmap_digest_name(enum jmap_digest d);
const EVP_MD *jmap_digest_md(enum jmap_digest d);

/* What a Blob/get asks for. */
struct jmap_blob_props {
	int data, as_text, as_base64, size;
	int digest[JMAP_DIGESTS];
};

/* properties (an array of names, or NULL: RFC 9404 4.2's default "data"
 * and "size"): 0, or -1 with *bad_r = the first name that is not a
 * property (borrowed from props; "" when a member is not a string). */
int jmap_blob_props_parse(const json_t *props, struct jmap_blob_props *p, const char **bad_r);

enum jmap_source_kind {
	JMAP_SOURCE_TEXT,      /* "data:asText" */
	JMAP_SOURCE_BASE64,    /* "data:asBase64" */
	JMAP_SOURCE_BLOB,      /* "blobId" with "offset" and "length" */
};

/* One DataSourceObject (RFC 9404 4.1); strings borrowed from the object. */
struct jmap_blob_source {
	enum jmap_source_kind kind;
	const char *data;      /* TEXT, BASE64: the string */
	size_t data_len;
	const char *blob_id;   /* BLOB: an Id, or "#" + a creation id */
	uint64_t offset;       /* BLOB: 0 when null or absent */
	int64_t length;        /* BLOB: -1 when null or absent (to the end) */
};

/* Exactly one of data:asText, data:asBase64 (canonical base64), or blobId
 * with optional offset and length (UnsignedInt|null), and nothing else.
 * 0, or -1 with *error_r. */
int jmap_blob_source_parse(const json_t *src, struct jmap_blob_source *s, const char **error_r);
/* Appends the octets of a TEXT or BASE64 source to out. */
void jmap_blob_source_bytes(const struct jmap_blob_source *s, struct buf *out);

/* UTCDates: jmap_utcdate_parse / jmap_utcdate_format in jmap_mail.h. */

/* A keyword (RFC 8621 4.1.1: 1-255 of %x21-%x7E but ( ) { ] % * " \),
 * lower-cased into out (256): 0, or -1. */
int jmap_keyword_parse(const char *kw, char out[256]);

#endif
