/* imap_url_read - the octets an IMAP URL names, read from the view
 * (imap_url.h): the message, its section (RFC 5092 5, the FETCH section
 * grammar), then ;PARTIAL= (RFC 5092 5: octets from the offset, at most
 * the length). */
#include "gateway/imap/imap_url.h"
#include "gateway/imap/imap_render.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

int imap_url_read(struct view *view, const char *account, const struct imap_url *u, struct buf *out,
		  char *mailbox_id_r)
{
	const char *error = NULL, *id, *prefix;
	json_t *box = NULL, *rec = NULL, *summary = NULL;
	struct buf part = BUF_INIT;
	char *body = NULL;
	size_t len = 0;
	int ret = -1;

	if (mail_mailbox_by_name(view, account, u->mailbox, &box, &error) <= 0)
		goto out;
	id = json_string_value(json_object_get(box, "id"));
	if (id == NULL ||
	    (u->uidvalidity != 0 && (json_int_t)u->uidvalidity != json_integer_value(json_object_get(box, "uidvalidity"))))
		goto out;
	if (mailbox_id_r != NULL)
		snprintf(mailbox_id_r, 33, "%s", id);
	if (mail_message_get(view, account, id, u->uid, &rec, &error) <= 0 ||
	    mail_message_body(view, account, id, u->uid, &body, &len, &error) <= 0)
		goto out;
	if (u->section == NULL) {
		buf_append(&part, body, len);
	} else {
		struct imap_section sec;

		prefix = json_string_value(json_object_get(rec, "prefix"));
		if (mail_summary_get(view, account, json_string_value(json_object_get(rec, "email_id")), &summary,
				     &error) <= 0 ||
		    imap_section_parse(u->section, strlen(u->section), NULL, &sec) < 0)
			goto out;
		ret = imap_section_fetch(body, len, prefix != NULL ? strlen(prefix) : 0, summary, &sec, &part);
		imap_section_free(&sec);
		if (ret < 0)
			goto out;
		ret = -1;
	}
	if (u->partial) {
		size_t off = u->partial_off < part.len ? u->partial_off : part.len;
		size_t n = part.len - off;

		if (u->partial_len != 0 && u->partial_len < n)
			n = u->partial_len;
		buf_append(out, part.data != NULL ? part.data + off : "", n);
	} else {
		buf_append(out, part.data != NULL ? part.data : "", part.len);
	}
	ret = 0;
out:
	buf_free(&part);
	free(body);
	json_decref(box);
	json_decref(rec);
	json_decref(summary);
	return ret;
}
