/* imap_cmd_search - SEARCH and UID SEARCH (RFC 9051 6.4.4): criteria from
 * imap_search.c; IMAP4rev2 sessions (and any SEARCH with RETURN) get
 * "* ESEARCH (TAG ..) [UID] MIN/MAX/COUNT/ALL" (RFC 9051 7.3.4, RFC 4731),
 * IMAP4rev1 sessions "* SEARCH n ...". RETURN options, SAVE (RFC 5182)
 * and PARTIAL (RFC 5267 4.4) are in imap_esearch.c. Messages expunged
 * meanwhile (not announced yet) never match. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_searchres.h"
#include "gateway/imap/imap_esearch.h"
#include "gateway/imap/imap_context.h"
#include "gateway/imap/imap_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* " n" appended to out: the answer may list every message of the
 * mailbox, a printf each cost more than finding them. */
static void put_num(struct buf *out, unsigned v)
{
	char d[12];
	size_t i = sizeof d;

	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	d[--i] = ' ';
	buf_append(out, d + i, sizeof d - i);
}

void imap_cmd_search(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_arg *args = cmd->args;
	size_t nargs = cmd->nargs, n = 0, *idx = NULL;
	const char *error = NULL;
	struct imap_ret ret;
	int r = imap_return_parse(args, nargs, &ret, &error);

	if (r < 0) {
		if (ret.opts & IMAP_RET_SAVE)   /* RFC 5182 2.1: a failed SAVE empties "$" */
			imap_searchres_save(s->mbox, NULL, 0);
		imap_bad(s, "%s", error);
		return;
	}
	if (r > 0) {
		args += 2;
		nargs -= 2;
	}
	if (nargs >= 2 && args[0].type == IMAP_ARG_ATOM && strcasecmp(args[0].str, "CHARSET") == 0) {
		if (!imap_charset_ok(imap_arg_str(&args[1]))) {
			if (ret.opts & IMAP_RET_SAVE)   /* RFC 5182 2.1: a failed SAVE empties "$" */
				imap_searchres_save(s->mbox, NULL, 0);
			imap_no(s, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
			return;
		}
		args += 2;
		nargs -= 2;
	}
	if ((ret.opts & IMAP_RET_UPDATE) && imap_context_tag_used(s->mbox, s->tag)) {
		imap_bad(s, "Tag reuse");   /* RFC 5267 4.3 */
		return;
	}
	if (imap_search_run(s, args, nargs, &idx, &n, &error) < 0) {
		if (ret.opts & IMAP_RET_SAVE)
			imap_searchres_save(s->mbox, NULL, 0);
		imap_bad(s, "%s", error);
		return;
	}
	if (ret.opts & IMAP_RET_UPDATE)
		imap_context_add(s, NULL, args, nargs, idx, n);
	ret.modseq = imap_search_args_modseq(s, args, nargs);
	if (r > 0 || s->rev2) {
		imap_esearch_result(s, idx, n, &ret, false);
	} else {
		struct buf out = BUF_INIT;

		buf_puts(&out, "* SEARCH");
		for (size_t i = 0; i < n; i++)
			put_num(&out, cmd->uid ? s->mbox->msgs[idx[i]].uid : (unsigned)(idx[i] + 1));
		if (ret.modseq && n > 0)   /* RFC 7162 3.1.6 */
			buf_printf(&out, " (MODSEQ %lld)",
				   (long long)imap_result_modseq(s, idx, n, IMAP_RET_ALL, 0, 0));
		imap_line(s, "%s", out.data);
		buf_free(&out);
	}
	free(idx);
	imap_ok(s, "SEARCH completed");
}
