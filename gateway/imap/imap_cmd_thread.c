/* imap_cmd_thread - THREAD and UID THREAD (RFC 5256 3, 4): the criteria
 * select the messages, imap_thread.c threads them by ORDEREDSUBJECT or
 * REFERENCES; the answer is "* THREAD (..)(..)". Base subjects compare
 * casemapped (i;unicode-casemap, RFC 5051). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_esearch.h"
#include "gateway/imap/imap_thread.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The per-message data of idx[n] (summaries kept alive in sums[]). */
static void collect(struct imap_session *s, const size_t *idx, size_t n, struct imap_thread_msg *m,
		    json_t **sums, const char ***refs)
{
	struct imap_recs recs = { NULL, 0, 0, 0 };

	for (size_t i = 0; i < n; i++) {
		struct imap_msg *msg = &s->mbox->msgs[idx[i]];
		const char *error = NULL;
		json_t *h, *list, *v, *rec = imap_recs_get(s, &recs, idx[i], imap_idx_run(idx, n, i));
		size_t k, lim;

		if (rec == NULL ||
		    mail_summary_get(s->node->view, s->mbox->owner,
				     json_string_value(json_object_get(rec, "email_id")), &sums[i], &error) <= 0)
			sums[i] = json_object();
		h = json_object_get(sums[i], "headers");
		m[i].num = s->cur_uid ? msg->uid : (unsigned)(idx[i] + 1);
		m[i].date = imap_sent_date(rec, sums[i]);
		m[i].subject = imap_base_subject_key(sums[i]);
		m[i].refwd = imap_subject_is_refwd(json_string_value(json_object_get(h, "subject")));
		m[i].msgid = json_string_value(json_array_get(json_object_get(h, "message_id"), 0));
		/* RFC 5256 3.2 step 1: no References: the first In-Reply-To id */
		list = json_object_get(h, "references");
		lim = json_array_size(list);
		if (lim == 0) {
			list = json_object_get(h, "in_reply_to");
			lim = json_array_size(list) > 0 ? 1 : 0;
		}
		refs[i] = xcalloc(lim + 1, sizeof *refs[i]);
		json_array_foreach(list, k, v) {
			if (k < lim)
				refs[i][k] = json_string_value(v);
		}
		m[i].refs = refs[i];
		m[i].nrefs = lim;
	}
	imap_recs_free(&recs);
}

/* THREAD algorithm charset search-key... (RFC 5256 3). */
void imap_cmd_thread(struct imap_session *s, const struct imap_command *cmd)
{
	const struct imap_arg *args = cmd->args;
	const char *alg, *error = NULL;
	size_t n = 0, *idx = NULL;
	struct imap_thread_msg *m;
	const char ***refs;
	json_t **sums;
	struct buf out = BUF_INIT;
	int refs_alg;

	if (cmd->nargs < 3 || (alg = imap_arg_str(&args[0])) == NULL || args[0].type != IMAP_ARG_ATOM) {
		imap_bad(s, "THREAD needs an algorithm, a charset and search criteria");
		return;
	}
	if (strcasecmp(alg, "REFERENCES") == 0)
		refs_alg = 1;
	else if (strcasecmp(alg, "ORDEREDSUBJECT") == 0)
		refs_alg = 0;
	else {
		imap_bad(s, "Unknown threading algorithm");
		return;
	}
	if (!imap_charset_ok(imap_arg_str(&args[1]))) {
		imap_no(s, "[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset");
		return;
	}
	if (imap_search_run(s, args + 2, cmd->nargs - 2, &idx, &n, &error) < 0) {
		imap_bad(s, "%s", error);
		return;
	}
	m = xcalloc(n + 1, sizeof *m);
	sums = xcalloc(n + 1, sizeof *sums);
	refs = xcalloc(n + 1, sizeof *refs);
	collect(s, idx, n, m, sums, refs);
	buf_puts(&out, "* THREAD ");
	if (refs_alg)
		imap_thread_references(m, n, &out);
	else
		imap_thread_orderedsubject(m, n, &out);
	imap_line(s, "%s", n ? out.data : "* THREAD");
	for (size_t i = 0; i < n; i++) {
		free((char *)m[i].subject);
		free(refs[i]);
		json_decref(sums[i]);
	}
	buf_free(&out);
	free(refs);
	free(sums);
	free(m);
	free(idx);
	imap_ok(s, "THREAD completed");
}
