/* fuzz_jmap_mime_write - libFuzzer target: the input is an Email
 * creation object (JSON, RFC 8621 4.6) written as MIME by jmap_email_build
 * with a fake blob store ("G..." ids are blobs made from their id, "Gfail"
 * fails to read, any other is not found). Besides not crashing: a build
 * either fails with a SetError and writes nothing, or writes a message
 * whose every line ends in CRLF and is at most 998 octets (RFC 5322 2.1.1,
 * headers and bodies alike), that the MIME parser reads, and that is the
 * same when built again (boundaries come from the content). */
#include "gateway/jmap/jmap_email_build.h"
#include "common/mime.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Bytes derived from the id: its text, a NUL, bare CR and LF, 8-bit. */
static int fetch(void *ctx, const char *id, char **data_r, size_t *len_r, const char **error_r)
{
	size_t n = strlen(id), len = 0;
	char *d;

	(void)ctx;
	if (strcmp(id, "Gfail") == 0) {
		*error_r = "fail";
		return -1;
	}
	if (id[0] != 'G')
		return 0;
	d = malloc(n * 3 + 8);
	for (size_t r = 0; r < 3; r++) {
		memcpy(d + len, id, n);
		len += n;
	}
	memcpy(d + len, "\0\r\n\r\xff\n", 6);
	len += 6;
	*data_r = d;
	*len_r = len;
	return 1;
}

/* Every line ends in CRLF and has at most 998 octets before it. */
static void check_lines(const char *m, size_t len)
{
	size_t line = 0;

	for (size_t i = 0; i < len; i++) {
		if (m[i] == '\r') {
			check(i + 1 < len && m[i + 1] == '\n');
			check(line <= 998);
			line = 0;
			i++;
			continue;
		}
		check(m[i] != '\n');
		line++;
	}
	check(line == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jmap_email_build_params p = {
		.fetch = fetch, .now_ms = 1700000000000, .message_id = "fuzz@example.test", .max_size = 1 << 20,
	};
	struct buf a = BUF_INIT, b = BUF_INIT;
	json_t *email, *err = NULL, *summary;
	char *s;

	if (size > 65536)
		return 0;
	email = json_loadb((const char *)data, size, 0, NULL);
	if (email == NULL)
		return 0;
	if (jmap_email_build(email, &p, &a, &err) < 0) {
		check(err != NULL && json_is_string(json_object_get(err, "type")) && a.len == 0);
		json_decref(err);
	} else {
		check(err == NULL && a.len > 0);
		check_lines(a.data, a.len);
		summary = mime_parse(a.data, a.len, NULL);
		check(json_is_object(json_object_get(summary, "part")));
		s = json_dumps(summary, JSON_COMPACT);
		check(s != NULL);
		free(s);
		json_decref(summary);
		check(jmap_email_build(email, &p, &b, &err) == 0);
		check(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
	}
	buf_free(&a);
	buf_free(&b);
	json_decref(email);
	return 0;
}
