/* fuzz_smtp_data - libFuzzer target for the DATA/BDAT content machine.
 *
 * Properties: all-at-once and chunked feeding agree; DATA ends only right
 * after "\r\n.\r\n" (or at a leading ".\r\n"); the kept content never
 * exceeds the limit; and for a clean message (no bare CR/LF, within the
 * limit) the content equals a naive line-by-line reference of RFC 5321
 * 4.5.2 (split at CRLF, "." ends, a leading dot is removed). */
#include "gateway/smtp/smtp_data.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

struct result {
	int ended, bare, too_big, long_line;
	size_t consumed;
	uint64_t size;
	struct buf out;
};

static void run(enum smtp_data_mode mode, const uint8_t *data, size_t size, size_t step, size_t max,
		struct result *r)
{
	struct smtp_data d;
	size_t off = 0;

	memset(r, 0, sizeof *r);
	smtp_data_init(&d, mode, &r->out, max, 80);
	while (off < size && !r->ended) {
		size_t n = step == 0 || size - off < step ? size - off : step, used = 0;
		r->ended = smtp_data_feed(&d, data + off, n, &used);
		check(used <= n && (r->ended || used == n) && (!r->ended || used > 0));
		off += used;
	}
	if (mode == SMTP_DATA_RAW)
		smtp_data_finish(&d);
	r->consumed = off;
	r->bare = d.bare_crlf;
	r->too_big = d.too_big;
	r->long_line = d.line_too_long;
	r->size = d.size;
	check(r->out.len <= max);
}

static int same(const struct result *a, const struct result *b)
{
	return a->ended == b->ended && a->bare == b->bare && a->too_big == b->too_big &&
	       a->long_line == b->long_line && a->consumed == b->consumed && a->size == b->size &&
	       a->out.len == b->out.len && (a->out.len == 0 || memcmp(a->out.data, b->out.data, a->out.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct result a, b, c;
	size_t max = size > 0 ? (size_t)data[0] * 8 + 1 : 1;
	size_t step = size > 1 ? (size_t)(data[1] % 7) + 1 : 1;

	for (int mode = 0; mode < 2; mode++) {
		run(mode, data, size, 0, max, &a);
		run(mode, data, size, 1, max, &b);
		run(mode, data, size, step, max, &c);
		check(same(&a, &b) && same(&a, &c));
		if (mode == SMTP_DATA_RAW) {
			check(!a.ended && a.consumed == size && a.size == size);
		} else if (a.ended) {
			check(a.consumed >= 3 && memcmp(data + a.consumed - 3, ".\r\n", 3) == 0);
			check(a.consumed == 3 || (a.consumed >= 5 && memcmp(data + a.consumed - 5, "\r\n", 2) == 0));
			if (!a.bare && !a.too_big) {
				/* Reference: split at CRLF, "." alone ends, a leading dot goes. */
				struct buf ref = BUF_INIT;
				size_t i = 0;
				for (;;) {
					const uint8_t *e = memmem(data + i, a.consumed - i, "\r\n", 2);
					size_t n;
					check(e != NULL);
					n = (size_t)(e - (data + i));
					if (n == 1 && data[i] == '.')
						break;
					if (n > 0 && data[i] == '.')
						buf_append(&ref, data + i + 1, n - 1);
					else
						buf_append(&ref, data + i, n);
					buf_append(&ref, "\r\n", 2);
					i += n + 2;
				}
				check(i + 3 == a.consumed);
				check(ref.len == a.out.len && (ref.len == 0 || memcmp(ref.data, a.out.data, ref.len) == 0));
				buf_free(&ref);
			}
		}
		buf_free(&a.out);
		buf_free(&b.out);
		buf_free(&c.out);
	}
	return 0;
}
