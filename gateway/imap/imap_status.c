/* imap_status - the STATUS data items of one mailbox record, shared by
 * STATUS (RFC 9051 6.3.11) and LIST's RETURN (STATUS (...)) (RFC 5819):
 * MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE (RFC 8438) RECENT
 * (always 0, RFC 3501 compatibility), HIGHESTMODSEQ (RFC 7162 3.1.6),
 * MAILBOXID (RFC 8474 4.2) and DELETED-STORAGE (RFC 9208 4.2.1, KiB). */
#include "gateway/imap/imap_status.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_acl.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <string.h>
#include <strings.h>

static const char *const items_known[] = { "MESSAGES", "UIDNEXT", "UIDVALIDITY", "UNSEEN", "RECENT",
					   "SIZE", "DELETED", "HIGHESTMODSEQ", "MAILBOXID",
					   "DELETED-STORAGE", NULL };

/* The canonical (upper-case) name of a STATUS item, NULL when unknown. */
static const char *item_name(const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_ATOM)
		return NULL;
	for (size_t i = 0; items_known[i] != NULL; i++) {
		if (strcasecmp(a->str, items_known[i]) == 0)
			return items_known[i];
	}
	return NULL;
}

int imap_status_check(const struct imap_arg *items, size_t n)
{
	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (item_name(&items[i]) == NULL)
			return -1;
	}
	return 0;
}

/* Messages with \Deleted (STATUS DELETED, RFC 9051 6.3.11); with
 * storage, their size in KiB instead (DELETED-STORAGE, RFC 9208 4.2.1). */
static json_int_t count_deleted(struct imap_session *s, const char *owner, const char *id, int storage)
{
	json_t *list = NULL, *m, *f;
	const char *error = NULL;
	size_t i, j;
	json_int_t n = 0, bytes = 0;

	if (mail_messages(s->node->view, owner, id, 0, &list, &error) < 0)
		return 0;
	json_array_foreach(list, i, m) {
		json_array_foreach(json_object_get(m, "flags"), j, f) {
			if (strcmp(json_string_value(f), "\\Deleted") == 0) {
				n++;
				bytes += json_integer_value(json_object_get(m, "size"));
			}
		}
	}
	json_decref(list);
	return storage ? (bytes + 1023) / 1024 : n;
}

/* STATUS RECENT: the messages no session has claimed yet (RFC 3501
 * 2.3.2; mailbox.claim_recent in projector/mail.h): uid > recent_uid. */
static json_int_t count_recent(struct imap_session *s, json_t *box)
{
	json_int_t from = json_integer_value(json_object_get(box, "recent_uid")), n;
	json_t *list = NULL;
	const char *error = NULL;

	if (from < 0 || from >= (json_int_t)UINT32_MAX)
		return 0;
	if (mail_messages(s->node->view, imap_acl_box_owner(s, box), json_string_value(json_object_get(box, "id")),
			  (uint32_t)from + 1, &list, &error) < 0)
		return 0;
	n = (json_int_t)json_array_size(list);
	json_decref(list);
	return n;
}

void imap_status_line(struct imap_session *s, json_t *box, const struct imap_arg *items, size_t n)
{
	struct buf out = BUF_INIT;

	buf_puts(&out, "* STATUS ");
	imap_quote_mailbox(s, &out, json_string_value(json_object_get(box, "name")));
	buf_puts(&out, " (");
	for (size_t i = 0; i < n; i++) {
		const char *it = item_name(&items[i]);
		json_int_t v = 0;

		if (it == NULL)
			continue;
		if (i > 0)
			buf_puts(&out, " ");
		if (strcmp(it, "MAILBOXID") == 0) {
			buf_printf(&out, "MAILBOXID (%s)", json_string_value(json_object_get(box, "id")));
			continue;
		}
		if (strcmp(it, "DELETED") == 0 || strcmp(it, "DELETED-STORAGE") == 0)
			v = count_deleted(s, imap_acl_box_owner(s, box), json_string_value(json_object_get(box, "id")), it[7] == '-');
		else if (strcmp(it, "RECENT") == 0)
			v = count_recent(s, box);
		else if (strcmp(it, "MESSAGES") == 0)
			v = json_integer_value(json_object_get(box, "messages"));
		else if (strcmp(it, "UIDNEXT") == 0)
			v = json_integer_value(json_object_get(box, "uidnext"));
		else if (strcmp(it, "UIDVALIDITY") == 0)
			v = json_integer_value(json_object_get(box, "uidvalidity"));
		else if (strcmp(it, "UNSEEN") == 0)
			v = json_integer_value(json_object_get(box, "unseen"));
		else if (strcmp(it, "SIZE") == 0)
			v = json_integer_value(json_object_get(box, "size"));
		else if (strcmp(it, "HIGHESTMODSEQ") == 0) {
			/* RFC 7162 3.1: a CONDSTORE enabling command. */
			imap_condstore_enable(s);
			v = json_integer_value(json_object_get(box, "highestmodseq"));
		}
		if (v < 0)
			v = 0;
		buf_printf(&out, "%s %" JSON_INTEGER_FORMAT, it, v);
	}
	buf_puts(&out, ")");
	imap_line(s, "%s", out.data);
	buf_free(&out);
}
