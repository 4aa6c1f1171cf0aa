/* fuzz_jmap_blob_args - libFuzzer target for the client input of the Blob
 * methods and Email/import (jmap_blob_args.h): the input is read as JSON
 * (any value); an array goes through the Blob/get property parser, an
 * object (and each member of an array) through the DataSourceObject
 * parser and, when accepted, its octets are built; every string through
 * the UTCDate and keyword parsers. Aborts when a parser breaks its
 * contract (an accepted base64 source that does not decode, a keyword
 * that is not lower case, a date that does not format back). */
#include "gateway/jmap/jmap_blob_args.h"
#include "gateway/jmap/jmap_mail.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void one_string(const char *s)
{
	char kw[256], back[32];
	int64_t ms;

	if (jmap_keyword_parse(s, kw) == 0) {
		for (const char *p = kw; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				abort();
	}
	if (jmap_utcdate_parse(s, &ms) == 0) {
		int64_t again;

		jmap_utcdate_format(ms, back, sizeof back);
		if (jmap_utcdate_parse(back, &again) < 0 || again != ms - ms % 1000)
			abort();
	}
}

static void one_value(const json_t *v)
{
	struct jmap_blob_source src;
	const char *error = NULL;

	if (json_is_string(v))
		one_string(json_string_value(v));
	if (jmap_blob_source_parse(v, &src, &error) == 0) {
		struct buf b = BUF_INIT;

		jmap_blob_source_bytes(&src, &b);
		if (src.kind == JMAP_SOURCE_BASE64 && b.len != src.data_len / 4 * 3 -
		    (src.data_len >= 1 && src.data[src.data_len - 1] == '=') -
		    (src.data_len >= 2 && src.data[src.data_len - 2] == '='))
			abort();
		if (src.kind == JMAP_SOURCE_BLOB && src.blob_id == NULL)
			abort();
		buf_free(&b);
	} else if (error == NULL) {
		abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
	struct jmap_blob_props p;
	const char *bad;
	json_t *v;
	size_t i;

	if (j == NULL)
		return 0;
	if (jmap_blob_props_parse(j, &p, &bad) < 0 && bad == NULL)
		abort();
	one_value(j);
	json_array_foreach(j, i, v)
		one_value(v);
	json_decref(j);
	return 0;
}
