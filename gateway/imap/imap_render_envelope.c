/* imap_render_envelope - the ENVELOPE fetch item (RFC 9051 7.5.2) from the
 * "envelope" object of a MIME summary (common/mime.h).
 *
 * The summary already holds what IMAP wants: raw (unfolded, not RFC 2047
 * decoded) strings, sender and reply-to defaulted to from, and groups as
 * the start marker {mailbox: name, host: null} ... end marker {mailbox:
 * null, host: null}. This file only writes the syntax. */
#include "gateway/imap/imap_render_internal.h"

/* address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")" */
static void render_address(struct buf *out, json_t *addr)
{
	buf_append(out, "(", 1);
	imap_render_json_nstring(out, json_object_get(addr, "name"));
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(addr, "adl"));
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(addr, "mailbox"));
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(addr, "host"));
	buf_append(out, ")", 1);
}

/* env-from etc. = "(" 1*address ")" / nil: an empty or missing list is NIL. */
static void render_address_list(struct buf *out, json_t *list)
{
	size_t i, n = 0;
	json_t *addr;

	json_array_foreach(list, i, addr) {
		if (!json_is_object(addr))
			continue;
		buf_puts(out, n++ == 0 ? "(" : "");
		render_address(out, addr);
	}
	buf_puts(out, n == 0 ? "NIL" : ")");
}

/* envelope = "(" env-date SP env-subject SP env-from SP env-sender SP
 * env-reply-to SP env-to SP env-cc SP env-bcc SP env-in-reply-to SP
 * env-message-id ")". A NULL envelope renders every field as NIL. */
void imap_render_envelope(struct buf *out, json_t *envelope)
{
	static const char *const lists[] = { "from", "sender", "reply_to", "to", "cc", "bcc" };

	buf_append(out, "(", 1);
	imap_render_json_nstring(out, json_object_get(envelope, "date"));
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(envelope, "subject"));
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
		buf_append(out, " ", 1);
		render_address_list(out, json_object_get(envelope, lists[i]));
	}
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(envelope, "in_reply_to"));
	buf_append(out, " ", 1);
	imap_render_json_nstring(out, json_object_get(envelope, "message_id"));
	buf_append(out, ")", 1);
}
