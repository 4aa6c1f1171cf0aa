/* imap_render_num - decimal numbers (RFC 9051 9: number, number64,
 * nz-number) appended without printf: a FETCH of every message's FLAGS
 * and UID formats two numbers per line, and vfprintf was most of its time. */
#include "gateway/imap/imap_render.h"

/* Appends v in decimal. */
void imap_render_uint(struct buf *out, uint64_t v)
{
	char tmp[20];
	size_t n = sizeof tmp;

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	buf_append(out, tmp + n, sizeof tmp - n);
}
