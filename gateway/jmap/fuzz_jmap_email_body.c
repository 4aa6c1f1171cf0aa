/* fuzz_jmap_email_body - libFuzzer target for the JMAP Email body
 * (jmap_email_body.h, jmap_email_header.h): the input's first line is a
 * property name a client might send, the rest a message. The message is
 * parsed by the MIME parser, then every body list, the bodyStructure with
 * every property (and the client's one when valid), the body value of
 * every part and the content behind every part id are built; aborts if a
 * result cannot be encoded as JSON. */
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/jmap/jmap_email_header.h"
#include "common/buf.h"
#include "common/mime.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static void must_encode(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);

	if (s == NULL)
		abort();
	free(s);
	json_decref(j);
}

/* Every leaf under part: its value and its content by id. */
static void walk(const struct jmap_body_msg *m, json_t *root, json_t *part, const char *id, int depth)
{
	json_t *kids = json_object_get(part, "parts"), *k;
	size_t i;

	if (depth > 40)
		return;
	if (json_array_size(kids) == 0) {
		struct buf b = BUF_INIT;
		json_t *found = jmap_body_find(root, id[0] ? id : "1");

		must_encode(jmap_body_value(m, part, 64));
		if (found != NULL)
			jmap_body_content(m, found, &b);
		buf_free(&b);
		return;
	}
	json_array_foreach(kids, i, k) {
		char cid[256];

		snprintf(cid, sizeof cid, id[0] ? "%s.%zu" : "%s%zu", id, i + 1);
		walk(m, root, k, cid, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *s = (const char *)data, *nl = memchr(s, '\n', size);
	size_t plen = nl != NULL ? (size_t)(nl - s) : size;
	char prop[256], prefix[64], part[64];
	struct jmap_body_msg m;
	struct jmap_header_prop hp;
	json_t *summary, *root, *props, *t, *h, *a;

	snprintf(prop, sizeof prop, "%.*s", (int)(plen < sizeof prop ? plen : sizeof prop - 1), s);
	if (jmap_header_prop_parse(prop, &hp))
		must_encode(jmap_header_prop_value(&hp, s, size));
	(void)jmap_body_blob_part(prop, prefix, sizeof prefix, part, sizeof part);
	m.raw = nl != NULL ? nl + 1 : "";
	m.raw_len = nl != NULL ? size - plen - 1 : 0;
	m.base = 0;
	m.blob_prefix = "mF";
	summary = mime_parse(m.raw, m.raw_len, NULL);
	root = json_object_get(summary, "part");
	props = json_pack("[s,s,s,s,s,s,s,s,s,s,s,s]", "partId", "blobId", "size", "headers", "name",
			  "type", "charset", "disposition", "cid", "language", "location", "subParts");
	if (jmap_body_prop_valid(prop))
		json_array_append_new(props, json_string(prop));
	must_encode(jmap_body_part(&m, root, "", props));
	jmap_body_lists(&m, root, props, &t, &h, &a);
	must_encode(t);
	must_encode(h);
	must_encode(a);
	walk(&m, root, root, "", 0);
	json_decref(props);
	json_decref(summary);
	return 0;
}
