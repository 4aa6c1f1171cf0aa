/* imap_catenate - builds one message from CATENATE parts (RFC 4469 3):
 * TEXT literals and URLs naming a message or a body part of this account,
 * "/mailbox[;UIDVALIDITY=n]/;UID=n[/;SECTION=x]" (RFC 5092 relative
 * form, keywords in any case; an "imap://user@host" prefix only for this
 * session's account). A bad URL is answered NO [BADURL url] (RFC 4469 6). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_render.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 3986 percent-decoding of s[0..len) into a new string; NULL if bad. */
static char *pct_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1), *o = out;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%') {
			unsigned v;

			if (i + 2 >= len || sscanf(s + i + 1, "%2x", &v) != 1 || v == 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)v;
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

/* The first case-insensitive occurrence of needle in s, or NULL (RFC 5092
 * 6: URL keywords such as ";UID=" are case-insensitive). */
static const char *find_ci(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s != '\0'; s++) {
		if (strncasecmp(s, needle, n) == 0)
			return s;
	}
	return NULL;
}

/* An absolute "imap://" URL (RFC 5092 3) names this session's account only
 * when its iuserinfo ("user" or "user;AUTH=x") is that account: another
 * account's URL is a bad URL (no ACL grants exist), indistinguishable from
 * a missing mailbox. *path_r: where the "/mailbox" part starts. */
static int url_authority(struct imap_session *s, const char *url, const char **path_r)
{
	const char *auth = url + 7, *slash = strchr(auth, '/'), *at, *uend;
	char *user;
	int ret;

	if (slash == NULL)
		return -1;
	for (at = slash; at > auth && at[-1] != '@'; at--)
		;
	if (at == auth)
		return -1;
	at--;   /* the last '@' before the path: the host has none */
	uend = memchr(auth, ';', (size_t)(at - auth));
	if (uend == NULL)
		uend = at;
	if ((user = pct_decode(auth, (size_t)(uend - auth))) == NULL)
		return -1;
	ret = strcasecmp(user, s->account) == 0 ? 0 : -1;
	free(user);
	*path_r = slash;
	return ret;
}

/* The octets a URL names, appended to out: 0, or -1 (bad URL). */
static int url_data(struct imap_session *s, const char *url, struct buf *out)
{
	const char *p = url, *semi, *error = NULL;
	char *mbox = NULL, *section = NULL, *body = NULL, *end;
	unsigned long uidvalidity = 0, uid;
	json_t *box = NULL, *rec = NULL, *summary = NULL;
	size_t len = 0;
	int ret = -1;

	if (strncasecmp(p, "imap://", 7) == 0 && url_authority(s, url, &p) < 0)
		return -1;
	if (*p++ != '/' || (semi = find_ci(p, "/;UID=")) == NULL)
		return -1;
	{
		const char *mend = semi, *uv = find_ci(p, ";UIDVALIDITY=");

		if (uv != NULL && uv < semi) {
			mend = uv;
			uidvalidity = strtoul(uv + 13, &end, 10);
			if (end != semi || uidvalidity == 0)
				return -1;
		}
		if ((mbox = pct_decode(p, (size_t)(mend - p))) == NULL)
			return -1;
	}
	uid = strtoul(semi + 6, &end, 10);
	if (uid == 0 || uid > UINT32_MAX)
		goto out;
	if (strncasecmp(end, "/;SECTION=", 10) == 0) {
		if ((section = pct_decode(end + 10, strlen(end + 10))) == NULL)
			goto out;
	} else if (*end != '\0') {
		goto out;   /* ;PARTIAL= and ;URLAUTH= are not supported */
	}
	if (strcasecmp(mbox, "INBOX") == 0)
		strcpy(mbox, "INBOX");
	if (mail_mailbox_by_name(s->node->view, s->account, mbox, &box, &error) <= 0)
		goto out;
	if (uidvalidity != 0 && (json_int_t)uidvalidity != json_integer_value(json_object_get(box, "uidvalidity")))
		goto out;
	if (mail_message_get(s->node->view, s->account, json_string_value(json_object_get(box, "id")),
			     (uint32_t)uid, &rec, &error) <= 0 ||
	    mail_message_body(s->node->view, s->account, json_string_value(json_object_get(box, "id")),
			      (uint32_t)uid, &body, &len, &error) <= 0)
		goto out;
	if (section == NULL) {
		buf_append(out, body, len);
		ret = 0;
	} else {
		struct imap_section sec;
		const char *prefix = json_string_value(json_object_get(rec, "prefix"));

		if (mail_summary_get(s->node->view, s->account,
				     json_string_value(json_object_get(rec, "email_id")), &summary, &error) <= 0 ||
		    imap_section_parse(section, strlen(section), NULL, &sec) < 0)
			goto out;
		ret = imap_section_fetch(body, len, prefix != NULL ? strlen(prefix) : 0, summary, &sec, out) < 0 ?
			-1 : 0;
		imap_section_free(&sec);
	}
out:
	free(mbox);
	free(section);
	free(body);
	json_decref(box);
	json_decref(rec);
	json_decref(summary);
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
			if (url_data(s, v->str, out) < 0) {
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
