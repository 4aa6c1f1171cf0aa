/* imap_cmd_select - SELECT and EXAMINE (RFC 9051 6.3.2, 6.3.3) with
 * CONDSTORE/QRESYNC parameters (RFC 7162) and the IMAP4rev1 \Recent claim
 * (imap_recent.c). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_recent.h"
#include "gateway/imap/imap_keywords.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_acl.h"
#include "common/log.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

/* The SELECT/EXAMINE responses for the opened s->mbox. */
static void select_respond(struct imap_session *s, const char *what, int readonly, struct imap_select_opts *opts)
{
	struct imap_mbox *mb = s->mbox;

	s->state = IMAP_S_SELECTED;
	s->changed = 0;
	imap_line(s, "* %zu EXISTS", mb->n);
	if (!s->rev2) {
		size_t first_unseen = 0;

		/* RFC 3501 2.3.2: what this session's claim took (EXAMINE:
		 * what nobody claimed). */
		imap_line(s, "* %zu RECENT", imap_recent_count(mb));
		mb->recent_dirty = 0;
		for (size_t i = 0; i < mb->n && first_unseen == 0; i++) {
			if (!(mb->msgs[i].flags & MAIL_F_SEEN))
				first_unseen = i + 1;
		}
		if (first_unseen > 0)
			imap_line(s, "* OK [UNSEEN %zu] First unseen", first_unseen);
	}
	imap_keywords_select(s);   /* FLAGS, PERMANENTFLAGS with the keywords in use */
	imap_line(s, "* OK [UIDVALIDITY %u] UIDs valid", mb->uidvalidity);
	imap_line(s, "* OK [UIDNEXT %u] Predicted next UID", mb->uidnext);
	imap_line(s, "* OK [MAILBOXID (%s)] Ok", mb->id);   /* RFC 8474 4.2 */
	imap_line(s, "* OK [HIGHESTMODSEQ %lld] Highest", (long long)mb->highestmodseq);
	if (s->rev2) {
		struct buf q = BUF_INIT;

		imap_quote(&q, mb->name);
		imap_line(s, "* LIST () \"/\" %s", q.data);
		buf_free(&q);
	}
	imap_qresync_select(s, opts);
	imap_ok(s, "[%s] %s completed", readonly ? "READ-ONLY" : "READ-WRITE", what);
}

/* A rev1 SELECT waiting for its mailbox.claim_recent (s->op). */
struct select_claim {
	struct imap_select_opts opts;
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	char id[33];
};

static void select_claim_free(void *p)
{
	struct select_claim *c = p;

	imap_select_opts_free(&c->opts);
	free(c);
}

/* The claim is applied: the snapshot taken now holds every message it
 * took; those are \Recent in this session. */
static void select_claimed(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct select_claim *c = s->op;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;
	const char *err = NULL;
	struct imap_mbox *mb = NULL;
	int r;

	s->op = NULL;
	s->op_free = NULL;
	if ((r = imap_mbox_open(s, c->name, 0, &mb, &err)) <= 0) {
		if (r < 0)
			imap_no(s, "[SERVERBUG] Cannot open the mailbox: %s", err);
		else
			imap_no(s, "[NONEXISTENT] No such mailbox");
		select_claim_free(c);
		return;
	}
	mb->claim = 1;
	if (strcmp(mb->id, c->id) == 0 && st != NULL && strcmp(st, "accepted") == 0) {
		imap_recent_claimed(mb, outcome);
	} else if (status < 0 && strcmp(mb->id, c->id) == 0 && mb->n > 0) {
		/* The log did not take the claim in time: the SELECT still
		 * answers, with the unclaimed messages \Recent here (RFC 3501
		 * 2.3.2, imap_recent_assume). */
		log_warn("imap[%s]: claim_recent failed: %s", s->id, error ? error : "?");
		imap_recent_assume(mb, mb->view_recent, mb->msgs[mb->n - 1].uid);
	} else {
		/* Not retried: what is here now stays not \Recent here. */
		log_warn("imap[%s]: claim_recent failed: %s", s->id, error ? error : "rejected");
		if (mb->n > 0)
			mb->claimed = mb->msgs[mb->n - 1].uid;
	}
	s->mbox = mb;
	select_respond(s, "SELECT", 0, &c->opts);
	select_claim_free(c);
}

static void select_mailbox(struct imap_session *s, const struct imap_command *cmd, int readonly)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	struct imap_mbox *mb = NULL;
	const char *error = NULL;
	struct imap_select_opts opts;
	int r;

	memset(&opts, 0, sizeof opts);
	if (cmd->nargs < 1 || cmd->nargs > 2 || imap_arg_str(&cmd->args[0]) == NULL) {
		imap_bad(s, "%s needs a mailbox name", cmd->name);
		return;
	}
	/* An astring that is no name we could hold (bad modified UTF-7, too
	 * long) names no mailbox: NO, not BAD (RFC 9051 6.3.2). */
	if (imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_no(s, "[NONEXISTENT] No such mailbox");
		return;
	}
	/* RFC 7162 3.1.8, 3.2.5: (CONDSTORE) and (QRESYNC (...)). */
	if (cmd->nargs == 2 && imap_select_opts_parse(s, &cmd->args[1], &opts, &error) < 0) {
		imap_bad(s, "%s", error);
		return;
	}
	/* RFC 9051 6.3.2: a SELECT first deselects, even when it fails. */
	if (s->mbox != NULL) {
		imap_deselect(s);
		imap_line(s, "* OK [CLOSED] Previous mailbox closed");
	}
	if (opts.condstore || opts.qresync)
		imap_condstore_enable(s);
	if ((r = imap_mbox_open(s, name, readonly, &mb, &error)) <= 0) {
		imap_select_opts_free(&opts);
		if (r < 0)
			imap_no(s, "[SERVERBUG] Cannot open the mailbox: %s", error);
		else
			imap_no(s, "[NONEXISTENT] No such mailbox");
		return;
	}
	/* RFC 4314 4: SELECT / EXAMINE need r; without any right to change
	 * the mailbox it is READ-ONLY. */
	if (!(mb->rights & MAIL_R_READ)) {
		imap_mbox_free(&mb);
		imap_select_opts_free(&opts);
		imap_no(s, "[NOPERM] You may not read that mailbox");
		return;
	}
	if (!(mb->rights & (MAIL_R_SEEN | MAIL_R_WRITE | MAIL_R_DELMSG | MAIL_R_INSERT | MAIL_R_EXPUNGE)))
		readonly = mb->readonly = 1;
	if (!readonly && !s->rev2 && (mb->n == 0 || mb->msgs[mb->n - 1].uid <= mb->view_recent)) {
		/* IMAP4rev1 SELECT with nothing to claim (no event logged):
		 * later arrivals are claimed in the background. */
		mb->claim = 1;
		mb->claimed = mb->view_recent;
	} else if (!readonly && !s->rev2 && !imap_recent_can_claim(s)) {
		/* The log is unreachable: a read never waits on a write. What
		 * nobody claimed is \Recent here (RFC 3501 2.3.2); arrivals
		 * once the log is back are claimed in the background. */
		mb->claim = 1;
		imap_recent_assume(mb, mb->view_recent, mb->msgs[mb->n - 1].uid);
	} else if (!readonly && !s->rev2) {
		/* IMAP4rev1 SELECT: claim \Recent first (imap_recent.c), then
		 * answer from a snapshot taken after the claim. */
		struct select_claim *c = xcalloc(1, sizeof *c);

		c->opts = opts;
		snprintf(c->name, sizeof c->name, "%s", name);
		snprintf(c->id, sizeof c->id, "%s", mb->id);
		imap_mbox_free(&mb);
		s->op = c;
		s->op_free = select_claim_free;
		imap_submit(s, "mailbox.claim_recent", json_pack("{s:s}", "mailbox_id", c->id), select_claimed);
		return;
	}
	s->mbox = mb;
	if (readonly)
		imap_recent_claim(s);   /* rev1 EXAMINE: \Recent without a claim (imap_recent.c) */
	select_respond(s, cmd->name, readonly, &opts);
	imap_select_opts_free(&opts);
}

void imap_cmd_select(struct imap_session *s, const struct imap_command *cmd)
{
	select_mailbox(s, cmd, 0);
}

void imap_cmd_examine(struct imap_session *s, const struct imap_command *cmd)
{
	select_mailbox(s, cmd, 1);
}
