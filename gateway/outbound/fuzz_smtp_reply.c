/* fuzz_smtp_reply - libFuzzer target for the SMTP reply parser.
 *
 * Besides not crashing: every call consumes no more than it was given, a
 * reply ends at a line end and respects the limits, its one-line form has
 * no control characters, and feeding the input whole, one byte at a time
 * or in chunks chosen by the input gives the same transcript. */
#include "gateway/outbound/smtp_reply.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

static void transcript(const uint8_t *data, size_t size, size_t step, struct buf *out)
{
	struct smtp_reply_parser *p = smtp_reply_parser_new();
	size_t off = 0;

	while (off < size) {
		size_t n = step == 0 || size - off < step ? size - off : step, used = 0;
		const struct smtp_reply *r = NULL;
		const char *error = NULL;
		struct smtp_ext ext;
		char line[600];
		enum smtp_reply_status st = smtp_reply_feed(p, data + off, n, &used, &r, &error);

		check(used <= n);
		off += used;
		if (st == SMTP_REPLY_ERROR) {
			check(error != NULL && error[0] != '\0');
			buf_printf(out, "E%s\n", error);
			break;
		}
		if (st == SMTP_REPLY_MORE) {
			check(used == n);
			continue;
		}
		check(used > 0 && data[off - 1] == '\n');
		check(r->code >= 200 && r->code <= 559 && r->nlines >= 1 && r->nlines <= SMTP_REPLY_LINES_MAX);
		check(strlen(r->enhanced) < sizeof r->enhanced && strpbrk(r->text, "\r\n") == NULL);
		smtp_reply_ehlo(r, &ext);
		smtp_reply_format(r, line, sizeof line);
		for (size_t i = 0; line[i] != '\0'; i++)
			check((unsigned char)line[i] >= 0x20 && line[i] != 0x7f);
		buf_printf(out, "R%d %s %zu %s|%u%u%llu\n", r->code, r->enhanced, r->nlines, r->text,
			   (unsigned)ext.pipelining, (unsigned)ext.auth_plain, (unsigned long long)ext.size_max);
	}
	smtp_reply_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
	size_t step = size > 0 ? (size_t)(data[0] % 13) + 1 : 1;

	transcript(data, size, 0, &a);
	transcript(data, size, 1, &b);
	transcript(data, size, step, &c);
	check(a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0));
	check(a.len == c.len && (a.len == 0 || memcmp(a.data, c.data, a.len) == 0));
	buf_free(&a);
	buf_free(&b);
	buf_free(&c);
	return 0;
}
