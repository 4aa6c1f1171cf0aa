/* imap_mbox_name - mailbox names as the client sees them: UTF-8 for
 * IMAP4rev2 (RFC 9051 5.1) and after ENABLE UTF8=ACCEPT (RFC 6855 3),
 * modified UTF-7 (RFC 3501 5.1.3, imap_mutf7.c) for other IMAP4rev1
 * clients. The view always holds UTF-8. */
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_list.h"
#include "gateway/imap/imap_mutf7.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <string.h>

/* 1 when names cross the wire in modified UTF-7. */
int imap_names_mutf7(const struct imap_session *s)
{
	return !s->rev2 && !s->utf8;
}

/* A client's name or pattern as UTF-8: v itself, or decoded into tmp.
 * NULL when a modified UTF-7 client sent 8-bit octets (RFC 6855 3: only
 * after UTF8=ACCEPT) or invalid modified UTF-7. */
const char *imap_name_in(struct imap_session *s, const char *v, struct buf *tmp)
{
	if (v == NULL || !imap_names_mutf7(s))
		return v;
	buf_truncate(tmp, 0);
	if (imap_has_8bit(v) || imap_mutf7_decode(v, tmp) < 0)
		return NULL;
	return tmp->data;
}

/* imap_mailbox_arg through the session's name encoding. */
int imap_mailbox_arg_s(struct imap_session *s, const struct imap_arg *a, char *out, size_t size)
{
	struct buf tmp = BUF_INIT;
	struct imap_arg t;
	const char *v = imap_arg_str(a);
	int r;

	if (v == NULL || !imap_names_mutf7(s))
		return imap_mailbox_arg(a, out, size);
	if (a->len != strlen(v) || (v = imap_name_in(s, v, &tmp)) == NULL) {
		buf_free(&tmp);
		return -1;
	}
	t = *a;
	t.str = v;
	t.len = strlen(v);
	r = imap_mailbox_arg(&t, out, size);
	buf_free(&tmp);
	return r;
}

/* imap_quote of a mailbox name in the session's name encoding. */
void imap_quote_mailbox(struct imap_session *s, struct buf *out, const char *name)
{
	struct buf e = BUF_INIT;

	if (imap_names_mutf7(s) && imap_mutf7_encode(name, &e) == 0)
		imap_quote(out, e.data);
	else
		imap_quote(out, name);
	buf_free(&e);
}

/* imap_list_pattern of a LIST/LSUB reference and pattern sent in the
 * session's name encoding; raw when they are not valid modified UTF-7
 * (then they match as they are). */
char *imap_list_pattern_s(struct imap_session *s, const char *ref, const char *pat)
{
	struct buf both = BUF_INIT, tmp = BUF_INIT;
	const char *dec;
	char *fp;

	buf_printf(&both, "%s%s", ref, pat);
	dec = imap_name_in(s, both.data, &tmp);
	fp = imap_list_pattern("", dec != NULL ? dec : both.data);
	buf_free(&both);
	buf_free(&tmp);
	return fp;
}

/* The mailbox record of name: 1, or 0 after answering NO [nocode] (or
 * [SERVERBUG] on a view error). */
int imap_mailbox_find(struct imap_session *s, const char *name, json_t **box_r, const char *nocode)
{
	const char *error = NULL;
	int r = mail_mailbox_by_name(s->node->view, s->account, name, box_r, &error);

	if (r < 0)
		imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
	else if (r == 0)
		imap_no(s, "[%s] No such mailbox", nocode);
	return r > 0;
}
