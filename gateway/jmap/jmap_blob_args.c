/* jmap_blob_args - see jmap_blob_args.h. */
#include "gateway/jmap/jmap_blob_args.h"
#include "common/base64.h"
#include "gateway/jmap/jmap_keywords.h"
#include "gateway/jmap/jmap_request.h"
#include "common/buf.h"
#include "common/scram.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const digest_names[JMAP_DIGESTS] = {
	[JMAP_DIGEST_SHA] = "sha",
	[JMAP_DIGEST_SHA256] = "sha-256",
};

const char *jmap_digest_name(enum jmap_digest d)
{
	return digest_names[d];
}

const EVP_MD *jmap_digest_md(enum jmap_digest d)
{
	return d == JMAP_DIGEST_SHA ? EVP_sha1() : EVP_sha256();
}

/* One property name into p: 0, or -1 when unknown. */
static int prop_one(const char *name, struct jmap_blob_props *p)
{
	if (strcmp(name, "data") == 0)
		p->data = 1;
	else if (strcmp(name, "data:asText") == 0)
		p->as_text = 1;
	else if (strcmp(name, "data:asBase64") == 0)
		p->as_base64 = 1;
	else if (strcmp(name, "size") == 0)
		p->size = 1;
	else if (strncmp(name, "digest:", 7) == 0) {
		for (int d = 0; d < JMAP_DIGESTS; d++) {
			/* RFC 9530 2: algorithm names are case-insensitive. */
			if (strcasecmp(name + 7, digest_names[d]) == 0) {
				p->digest[d] = 1;
				return 0;
			}
		}
		return -1;
	} else
		return -1;
	return 0;
}

int jmap_blob_props_parse(const json_t *props, struct jmap_blob_props *p, const char **bad_r)
{
	const json_t *v;
	size_t i;

	memset(p, 0, sizeof *p);
	*bad_r = NULL;
	if (props == NULL || json_is_null(props)) {
		p->data = p->size = 1;
		return 0;
	}
	if (!json_is_array(props)) {
		*bad_r = "";
		return -1;
	}
	json_array_foreach(props, i, v) {
		if (!json_is_string(v)) {
			*bad_r = "";
			return -1;
		}
		if (prop_one(json_string_value(v), p) < 0) {
			*bad_r = json_string_value(v);
			return -1;
		}
	}
	return 0;
}

/* UnsignedInt|null member (RFC 8620 1.3): 0 with the value (dflt when
 * absent or null), or -1. */
static int opt_uint(const json_t *o, const char *name, int64_t dflt, int64_t *v_r)
{
	const json_t *v = json_object_get(o, name);

	*v_r = dflt;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)9007199254740991LL)
		return -1;
	*v_r = json_integer_value(v);
	return 0;
}

int jmap_blob_source_parse(const json_t *src, struct jmap_blob_source *s, const char **error_r)
{
	const json_t *text, *b64, *blob;
	const char *key;
	const json_t *v;
	int64_t off;
	int n = 0;

	memset(s, 0, sizeof *s);
	if (!json_is_object(src)) {
		*error_r = "a data source is not an object";
		return -1;
	}
	text = json_object_get(src, "data:asText");
	b64 = json_object_get(src, "data:asBase64");
	blob = json_object_get(src, "blobId");
	n = (text != NULL) + (b64 != NULL) + (blob != NULL);
	if (n != 1) {
		*error_r = "a data source has exactly one of data:asText, data:asBase64 and blobId";
		return -1;
	}
	json_object_foreach((json_t *)src, key, v) {
		int known = strcmp(key, "data:asText") == 0 || strcmp(key, "data:asBase64") == 0 ||
			    (blob != NULL && (strcmp(key, "blobId") == 0 || strcmp(key, "offset") == 0 ||
					      strcmp(key, "length") == 0));

		if (!known) {
			*error_r = "a data source has an unknown or misplaced property";
			return -1;
		}
	}
	if (text != NULL || b64 != NULL) {
		const json_t *d = text != NULL ? text : b64;

		if (!json_is_string(d)) {
			*error_r = "data:asText and data:asBase64 are strings";
			return -1;
		}
		s->kind = text != NULL ? JMAP_SOURCE_TEXT : JMAP_SOURCE_BASE64;
		s->data = json_string_value(d);
		s->data_len = json_string_length(d);
		if (s->kind == JMAP_SOURCE_BASE64) {
			unsigned char *out = xmalloc(s->data_len / 4 * 3 + 1);
			size_t olen = 0;
			int bad = s->data_len % 4 != 0 ||
				  evm_b64_decode(s->data, s->data_len, out, &olen) < 0;

			free(out);
			if (bad) {
				*error_r = "data:asBase64 is not canonical base64";
				return -1;
			}
		}
		return 0;
	}
	if (!json_is_string(blob) || !(jmap_is_id(json_string_value(blob)) ||
				      (json_string_value(blob)[0] == '#' && jmap_is_id(json_string_value(blob) + 1)))) {
		*error_r = "blobId is not an Id";
		return -1;
	}
	s->kind = JMAP_SOURCE_BLOB;
	s->blob_id = json_string_value(blob);
	if (opt_uint(src, "offset", 0, &off) < 0 || opt_uint(src, "length", -1, &s->length) < 0) {
		*error_r = "offset and length are UnsignedInt or null";
		return -1;
	}
	s->offset = (uint64_t)off;
	return 0;
}

void jmap_blob_source_bytes(const struct jmap_blob_source *s, struct buf *out)
{
	unsigned char *dec;
	size_t n = 0;

	if (s->kind == JMAP_SOURCE_TEXT) {
		buf_append(out, s->data, s->data_len);
		return;
	}
	if (s->kind != JMAP_SOURCE_BASE64)
		return;
	dec = xmalloc(s->data_len / 4 * 3 + 1);
	if (evm_b64_decode(s->data, s->data_len, dec, &n) == 0)
		buf_append(out, dec, n);
	free(dec);
}

int jmap_keyword_parse(const char *kw, char out[256])
{
	size_t i;

	if (!jmap_keyword_valid(kw))
		return -1;
	for (i = 0; kw[i]; i++)
		out[i] = (char)(kw[i] >= 'A' && kw[i] <= 'Z' ? kw[i] + 32 : kw[i]);
	out[i] = '\0';
	return 0;
}
