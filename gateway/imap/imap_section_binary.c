/* imap_section_binary - BINARY[section] (RFC 3516 4.2): a part's body with
 * its Content-Transfer-Encoding removed. base64 and quoted-printable are
 * decoded leniently as RFC 2045 6.7/6.8 ask of receivers (common/mime);
 * 7bit, 8bit and binary pass through; any other encoding is unknown (-2,
 * the server answers NO [UNKNOWN-CTE]). BINARY[] is the whole message as stored. */
#include "gateway/imap/imap_render_internal.h"
#include "common/mime.h"

#include <string.h>
#include <strings.h>

/* BINARY[section]: 0, 1 (no such part), -2 (unknown encoding), -1 (a
 * section other than part numbers, or a summary that does not fit). */
int imap_binary_fetch(const char *msg, size_t msg_len, size_t prefix_len, json_t *summary,
		      const struct imap_section *sec, struct buf *out)
{
	struct imap_part_ref ref;
	json_t *enc;
	const char *e;
	size_t a, b;

	if (sec->kind != IMAP_SECTION_ALL)
		return -1;
	if (sec->depth == 0) {
		buf_append(out, msg, msg_len);
		return 0;
	}
	if (imap_section_find(summary, sec->part, sec->depth, &ref) != 0)
		return 1;
	if (imap_part_range(ref.part, ref.top, "body", msg_len, prefix_len, &a, &b) < 0)
		return -1;
	enc = json_object_get(ref.part, "encoding");
	e = json_is_string(enc) ? json_string_value(enc) : "7bit";
	if (strcasecmp(e, "7bit") == 0 || strcasecmp(e, "8bit") == 0 || strcasecmp(e, "binary") == 0)
		buf_append(out, msg + a, b - a);
	else if (strcasecmp(e, "base64") == 0 || strcasecmp(e, "quoted-printable") == 0)
		mime_transfer_decode(e, msg + a, b - a, out);
	else
		return -2;
	return 0;
}
