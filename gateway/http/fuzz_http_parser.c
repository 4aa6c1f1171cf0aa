/* fuzz_http_parser - libFuzzer target for the HTTP/1.1 request parser.
 *
 * Besides not crashing: MORE consumes all it was given, HEAD and BODY make
 * progress, DONE stays DONE (consuming nothing) until next, a body piece lies inside the input, the
 * head respects the limits, an error carries one of the documented status
 * codes, and feeding the input whole, one byte at a time or in chunks
 * chosen by the input gives the same transcript. Small limits so that the
 * fuzzer reaches them. */
#include "gateway/http/http_parser.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct http_parser_settings settings = {
	.max_request_line = 64, .max_field_line = 64, .max_fields = 8,
	.max_header_bytes = 256, .max_body = 512, .max_chunk_line = 32,
};

static void check(int cond)
{
	if (!cond)
		abort();
}

/* Checks a head against the settings and writes it to out. */
static void head(const struct http_head *h, struct buf *out)
{
	check(h != NULL && h->nfields <= settings.max_fields && strlen(h->target) <= settings.max_request_line);
	check(h->minor == 0 || h->minor == 1);
	check(!(h->chunked && h->content_length != 0) && h->content_length <= settings.max_body);
	check(http_is_token(h->method, strlen(h->method)));
	buf_printf(out, "H%s %s %s %s %d%d%d%d %llu\n", h->method, h->target, h->path, h->query ? h->query : "-",
		   h->minor, h->keep_alive, h->expect_continue, h->chunked, (unsigned long long)h->content_length);
	for (size_t i = 0; i < h->nfields; i++)
		buf_printf(out, "F%s:%s\n", h->fields[i].name, h->fields[i].value);
}

static void transcript(const uint8_t *data, size_t size, size_t step, struct buf *out)
{
	struct http_parser *p = http_parser_new(&settings);
	size_t off = 0, body = 0;
	int failed = 0;

	while (off < size && !failed) {
		size_t end = step == 0 || size - off < step ? size : off + step;

		for (;;) {
			const unsigned char *b = NULL;
			size_t used = 0, blen = 0;
			enum http_parse_status st = http_parser_feed(p, data + off, end - off, &used, &b, &blen);
			const char *reason = NULL;
			int status;

			check(used <= end - off);
			if (st == HTTP_PARSE_MORE) {
				check(used == end - off);
				off += used;
				break;
			}
			if (st == HTTP_PARSE_HEAD) {
				check(used > 0);
				head(http_parser_head(p), out);
			} else if (st == HTTP_PARSE_BODY) {
				check(blen > 0 && blen <= used && b + blen == data + off + used);
				body += blen;
				check(body <= settings.max_body);
				buf_append(out, b, blen);
			} else if (st == HTTP_PARSE_DONE) {
				size_t again = 1, alen;

				check(http_parser_feed(p, data + off + used, end - off - used, &again, &b, &alen) ==
				      HTTP_PARSE_DONE && again == 0);
				buf_printf(out, "\nD%zu\n", body);
				body = 0;
				http_parser_next(p);
			} else {
				status = http_parser_error(p, &reason);
				check(reason != NULL && (status == 400 || status == 413 || status == 414 ||
							 status == 417 || status == 431 || status == 501 || status == 505));
				buf_printf(out, "E%d %s\n", status, reason);
				failed = 1;
				break;
			}
			off += used;
		}
	}
	http_parser_free(&p);
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
