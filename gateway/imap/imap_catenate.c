/* imap_catenate - builds one message from CATENATE parts (RFC 4469 3):
 * TEXT literals and URLs naming a message or a body part of this account,
 * "/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=x][/;PARTIAL=o.l]" (RFC 5092
 * relative form, keywords in any case; an "imap://user@host" prefix only
 * for this session's account), parsed by imap_url.h. A bad URL is answered
 * NO [BADURL url] (RFC 4469 6). */
#include "gateway/imap/imap_catenate.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_url.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The octets a URL names, appended to out: 0, or -1 (bad URL). An
 * absolute URL names this session's account only (RFC 5092 3 iuserinfo):
 * another account's URL is a bad URL, indistinguishable from a missing
 * mailbox. URLAUTH URLs are for URLFETCH (imap_cmd_urlauth.c). */
static int url_data(struct imap_session *s, const char *url, size_t len, struct buf *out)
{
	struct imap_url u;
	const char *error = NULL;
	int ret = -1;

	if (imap_url_parse(url, len, &u, &error) < 0)
		return -1;
	if ((u.user == NULL || strcasecmp(u.user, s->account) == 0) && u.access == NULL && !u.expire)
		ret = imap_url_read(s->node->view, s->account, &u, out, NULL);
	imap_url_free(&u);
	return ret;
}

int imap_catenate(struct imap_session *s, const struct imap_arg *parts, struct buf *out)
{
	if (parts->type != IMAP_ARG_LIST || parts->count == 0 || parts->count % 2 != 0) {
		imap_bad(s, "CATENATE needs (TEXT literal | URL url ...)");
		return -1;
	}
	for (size_t i = 0; i < parts->count; i += 2) {
		const struct imap_arg *k = &parts->list[i], *v = &parts->list[i + 1];

		if (k->type != IMAP_ARG_ATOM || v->type != IMAP_ARG_STRING) {
			imap_bad(s, "CATENATE needs (TEXT literal | URL url ...)");
			return -1;
		}
		if (strcasecmp(k->str, "TEXT") == 0) {
			buf_append(out, v->str, v->len);
		} else if (strcasecmp(k->str, "URL") == 0) {
			if (url_data(s, v->str, v->len, out) < 0) {
				/* RFC 4469 6: url-resp-text has no ']' nor CR LF */
				char *u = xstrndup(v->str, strcspn(v->str, "]\r\n"));

				imap_no(s, "[BADURL %s] CATENATE cannot read the URL", u);
				free(u);
				return -1;
			}
		} else {
			imap_bad(s, "Unknown CATENATE part");
			return -1;
		}
		if (out->len > s->set.max_literal) {
			imap_no(s, "[TOOBIG] Message larger than APPENDLIMIT");
			return -1;
		}
	}
	return 0;
}
