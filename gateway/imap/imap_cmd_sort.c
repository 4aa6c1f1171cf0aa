/* imap_cmd_sort - SORT and UID SORT (RFC 5256 3) and ESORT (RFC 5267 3):
 * "SORT RETURN (...)" answers "* ESEARCH" with ALL in sort order (and MIN
 * MAX COUNT SAVE PARTIAL, imap_esearch.c). The order is imap_sort.c. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_searchres.h"
#include "gateway/imap/imap_esearch.h"
#include "gateway/imap/imap_context.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_sort.h"

#include <stdlib.h>

/* SORT [RETURN (...)] (criteria) charset search-key... (RFC 5256 3, RFC 5267 3). */
void imap_cmd_sort(struct imap_session *s, const struct imap_command *cmd)
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
	if (nargs < 3 || imap_sort_criteria_valid(&args[0]) < 0) {
		imap_bad(s, "Invalid sort criteria");
		return;
	}
	if (!imap_charset_ok(imap_arg_str(&args[1]))) {
		if (ret.opts & IMAP_RET_SAVE)
			imap_searchres_save(s->mbox, NULL, 0);
		imap_no(s, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	if ((ret.opts & IMAP_RET_UPDATE) && imap_context_tag_used(s->mbox, s->tag)) {
		imap_bad(s, "Tag reuse");   /* RFC 5267 4.3 */
		return;
	}
	if (imap_search_run(s, args + 2, nargs - 2, &idx, &n, &error) < 0) {
		if (ret.opts & IMAP_RET_SAVE)
			imap_searchres_save(s->mbox, NULL, 0);
		imap_bad(s, "%s", error);
		return;
	}
	(void)imap_sort_idx(s, &args[0], idx, n);
	if (ret.opts & IMAP_RET_UPDATE)
		imap_context_add(s, &args[0], args + 2, nargs - 2, idx, n);
	ret.modseq = imap_search_args_modseq(s, args + 2, nargs - 2);   /* RFC 7162 3.1.5 */
	if (r > 0) {
		imap_esearch_result(s, idx, n, &ret, true);
	} else {
		struct buf out = BUF_INIT;

		buf_puts(&out, "* SORT");
		for (size_t i = 0; i < n; i++)
			buf_printf(&out, " %u", cmd->uid ? s->mbox->msgs[idx[i]].uid : (unsigned)(idx[i] + 1));
		if (ret.modseq && n > 0)   /* RFC 7162 3.1.6 */
			buf_printf(&out, " (MODSEQ %lld)",
				   (long long)imap_result_modseq(s, idx, n, IMAP_RET_ALL, 0, 0));
		imap_line(s, "%s", out.data);
		buf_free(&out);
	}
	free(idx);
	imap_ok(s, "SORT completed");
}
