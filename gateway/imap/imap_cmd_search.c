/* imap_cmd_search - SEARCH and UID SEARCH (RFC 9051 6.4.4): criteria from
 * imap_search.c; IMAP4rev2 sessions (and any SEARCH with RETURN) get
 * "* ESEARCH (TAG ..) [UID] MIN/MAX/COUNT/ALL" (RFC 9051 7.3.4, RFC 4731),
 * IMAP4rev1 sessions "* SEARCH n ...". Messages expunged meanwhile (not
 * announced yet) never match. */
#include "gateway/imap/imap_session_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { R_MIN = 1, R_MAX = 2, R_COUNT = 4, R_ALL = 8 };

static void esearch(struct imap_session *s, const unsigned *v, size_t n, unsigned ret)
{
	struct buf out = BUF_INIT;

	buf_puts(&out, "* ESEARCH (TAG ");
	imap_quote(&out, s->tag);
	buf_puts(&out, ")");
	if (s->cur_uid)
		buf_puts(&out, " UID");
	if ((ret & R_MIN) && n > 0)
		buf_printf(&out, " MIN %u", v[0]);
	if ((ret & R_MAX) && n > 0)
		buf_printf(&out, " MAX %u", v[n - 1]);
	if (ret & R_COUNT)
		buf_printf(&out, " COUNT %zu", n);
	if ((ret & R_ALL) && n > 0) {
		buf_puts(&out, " ALL ");
		for (size_t i = 0; i < n;) {
			size_t j = i;
			while (j + 1 < n && v[j + 1] == v[j] + 1)
				j++;
			buf_printf(&out, "%s%u", i ? "," : "", v[i]);
			if (j > i)
				buf_printf(&out, ":%u", v[j]);
			i = j + 1;
		}
	}
	imap_line(s, "%s", out.data);
	buf_free(&out);
}

void imap_cmd_search(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_arg *args = cmd->args;
	size_t nargs = cmd->nargs, n = 0;
	struct imap_search *sr = NULL;
	const char *error = NULL;
	unsigned ret = 0, *v;
	int esearch_form = s->rev2;

	if (nargs >= 2 && args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "RETURN") == 0 &&
	    args[1].type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < args[1].count; i++) {
			const char *o = imap_arg_str(&args[1].list[i]);

			if (o != NULL && strcasecmp(o, "MIN") == 0)
				ret |= R_MIN;
			else if (o != NULL && strcasecmp(o, "MAX") == 0)
				ret |= R_MAX;
			else if (o != NULL && strcasecmp(o, "COUNT") == 0)
				ret |= R_COUNT;
			else if (o != NULL && strcasecmp(o, "ALL") == 0)
				ret |= R_ALL;
			else {
				imap_bad(s, "Unknown RETURN option");
				return;
			}
		}
		esearch_form = 1;
		args += 2;
		nargs -= 2;
	}
	if (ret == 0)
		ret = R_ALL;
	if (nargs >= 2 && args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "CHARSET") == 0) {
		const char *cs = imap_arg_str(&args[1]);

		if (cs == NULL || (strcasecmp(cs, "UTF-8") != 0 && strcasecmp(cs, "US-ASCII") != 0)) {
			imap_no(s, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
			return;
		}
		args += 2;
		nargs -= 2;
	}
	if (imap_search_parse(args, nargs, s->mbox, &sr, &error) < 0) {
		imap_bad(s, "%s", error);
		return;
	}
	v = xcalloc(s->mbox->n + 1, sizeof *v);
	for (size_t i = 0; i < s->mbox->n; i++) {
		if (s->mbox->msgs[i].expunged || imap_search_match(s, sr, i) <= 0)
			continue;
		v[n++] = cmd->uid ? s->mbox->msgs[i].uid : (unsigned)(i + 1);
	}
	imap_search_free(&sr);
	if (esearch_form) {
		esearch(s, v, n, ret);
	} else {
		struct buf out = BUF_INIT;

		buf_puts(&out, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			buf_printf(&out, " %u", v[i]);
		imap_line(s, "%s", out.data);
		buf_free(&out);
	}
	free(v);
	imap_ok(s, "SEARCH completed");
}
