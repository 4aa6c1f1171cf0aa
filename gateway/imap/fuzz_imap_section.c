/* fuzz_imap_section - libFuzzer target for section specs and the FETCH
 * renderers (built with -DEVMAIL_FUZZ=ON, or by hand from the repo root:
 *
 *   clang -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -I. \
 *       gateway/imap/fuzz_imap_section.c gateway/imap/imap_render_*.c \
 *       gateway/imap/imap_section*.c common/mime_*.c common/buf.c \
 *       common/log.c -ljansson -o /tmp/fuzz_imap_section
 *
 * Input: one flags byte (bit 0: BINARY instead of BODY), one byte giving
 * the prefix length, a section spec up to the first LF (a '<' in it starts
 * the <partial> text), then the stored message: prefix + blob. The blob is
 * parsed with mime_parse; ENVELOPE and BODYSTRUCTURE / BODY are rendered
 * and checked to be well-formed IMAP; the spec is parsed and fetched.
 * Aborts on a result that breaks the contract in imap_render.h. */
#include "common/mime.h"
#include "gateway/imap/imap_render.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Checks the parentheses of rendered IMAP data balance outside quoted
 * strings and literals, and that literals and quoted strings are whole. */
static void check_syntax(const struct buf *b)
{
	long depth = 0;
	size_t i = 0;

	while (i < b->len) {
		char c = b->data[i];

		if (c == '"') {
			for (i++; i < b->len && b->data[i] != '"'; i++) {
				if (b->data[i] == '\\')
					i++;
				if (i < b->len && (b->data[i] == '\r' || b->data[i] == '\n' ||
						   (unsigned char)b->data[i] >= 0x80 || b->data[i] == '\0'))
					abort();
			}
			if (i >= b->len)
				abort();
			i++;
		} else if (c == '{') {
			char *end;
			unsigned long n = strtoul(b->data + i + 1, &end, 10);

			if (*end != '}' || end[1] != '\r' || end[2] != '\n' ||
			    n > b->len - (size_t)(end + 3 - b->data))
				abort();
			i = (size_t)(end + 3 - b->data) + n;
		} else {
			if (c == '(')
				depth++;
			else if (c == ')' && --depth < 0)
				abort();
			else if (c == '\r' || c == '\n' || c == '\0')
				abort();
			i++;
		}
	}
	if (depth != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *d = (const char *)data, *nl, *lt, *msg;
	struct imap_section sec;
	struct buf out = BUF_INIT;
	size_t speclen, msg_len, prefix_len;
	char *partial = NULL;
	json_t *sum;
	int rc;

	if (size < 3 || (nl = memchr(d + 2, '\n', size - 2)) == NULL)
		return 0;
	speclen = (size_t)(nl - (d + 2));
	msg = nl + 1;
	msg_len = size - (size_t)(msg - d);
	prefix_len = data[1] <= msg_len ? data[1] : msg_len;
	sum = mime_parse(msg + prefix_len, msg_len - prefix_len, NULL);

	imap_render_envelope(&out, json_object_get(sum, "envelope"));
	check_syntax(&out);
	buf_truncate(&out, 0);
	imap_render_bodystructure(&out, sum, prefix_len, true);
	check_syntax(&out);
	buf_truncate(&out, 0);
	imap_render_bodystructure(&out, sum, prefix_len, false);
	check_syntax(&out);
	buf_truncate(&out, 0);

	if ((lt = memchr(d + 2, '<', speclen)) != NULL) {
		partial = strndup(lt, speclen - (size_t)(lt - (d + 2)));
		speclen = (size_t)(lt - (d + 2));
	}
	if (imap_section_parse(d + 2, speclen, partial, &sec) == 0) {
		if (sec.depth > IMAP_SECTION_DEPTH_MAX || sec.nfields > IMAP_SECTION_FIELDS_MAX)
			abort();
		if (data[0] & 1) {
			rc = imap_binary_fetch(msg, msg_len, prefix_len, sum, &sec, &out);
			/* the summary is mime.c's own, so it always fits (no -1) */
			if ((rc == -1 && sec.kind == IMAP_SECTION_ALL) || rc < -2 || rc > 1 ||
			    (rc != 0 && out.len != 0) || out.len > msg_len)
				abort();
		} else {
			rc = imap_section_fetch(msg, msg_len, prefix_len, sum, &sec, &out);
			if (rc < 0 || rc > 1 || (rc != 0 && out.len != 0) || out.len > msg_len)
				abort();
		}
		imap_section_free(&sec);
	}
	free(partial);
	buf_free(&out);
	json_decref(sum);
	return 0;
}
