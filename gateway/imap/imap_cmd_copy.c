/* imap_cmd_copy - COPY, MOVE and their UID forms (RFC 9051 6.4.7, 6.4.8;
 * RFC 6851 MOVE; RFC 4315 COPYUID). One message.copy / message.move event;
 * COPYUID comes from the projector's outcome {uidvalidity, src, dst}. A
 * MOVE answers "* OK [COPYUID ...]" first, then the EXPUNGE responses of
 * the moved messages, then the tagged OK. Between two accounts' mailboxes
 * (shared ones, RFC 4314): imap_copy_cross.c. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_acl.h"
#include "gateway/imap/imap_copy_cross.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

static void copyuid(json_t *outcome, struct buf *out)
{
	json_t *src = json_object_get(outcome, "src"), *dst = json_object_get(outcome, "dst");

	if (json_array_size(src) == 0 || json_array_size(dst) == 0)
		return;
	buf_printf(out, "[COPYUID %" JSON_INTEGER_FORMAT " ",
		   json_integer_value(json_object_get(outcome, "uidvalidity")));
	imap_ranges_string(src, out);
	buf_puts(out, " ");
	imap_ranges_string(dst, out);
	buf_puts(out, "] ");
}

static void copy_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct buf code = BUF_INIT;
	int move = s->cur != NULL && strcmp(s->cur->name, "MOVE") == 0;

	if (!imap_outcome_ok(s, status, outcome, error, move ? "MOVE" : "COPY"))
		return;
	copyuid(outcome, &code);
	if (move) {
		if (code.len > 0)
			imap_line(s, "* OK %sMoved", code.data);
		s->changed = 1;   /* the EXPUNGEs come from the reply hook (imap_hooks.c) */
		imap_ok(s, "MOVE completed");
	} else {
		imap_ok(s, "%sCOPY completed", code.data ? code.data : "");
	}
	buf_free(&code);
}

static void copy_or_move(struct imap_session *s, const struct imap_command *cmd, int move)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	const char *set;
	size_t *idx = NULL, n = 0, k = 0;
	json_t *box = NULL;

	if (cmd->nargs != 2 || cmd->args[0].type != IMAP_ARG_ATOM || (set = cmd->args[0].str) == NULL ||
	    imap_mailbox_arg_s(s, &cmd->args[1], name, sizeof name) < 0) {
		imap_bad(s, "%s needs a sequence set and a mailbox name", cmd->name);
		return;
	}
	if (imap_mbox_select(s->mbox, set, cmd->uid, &idx, &n) < 0) {
		imap_bad(s, "Invalid sequence set");
		return;
	}
	if (move && s->mbox->readonly) {
		free(idx);
		imap_no(s, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	/* RFC 4314 4: MOVE needs t and e on the source, both i on the target. */
	if (move && !imap_acl_may(s, MAIL_R_DELMSG | MAIL_R_EXPUNGE)) {
		free(idx);
		imap_no(s, "[NOPERM] You may not move messages out of this mailbox");
		return;
	}
	if (!imap_acl_find(s, name, MAIL_R_INSERT, "TRYCREATE", &box)) {
		free(idx);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (!s->mbox->msgs[idx[i]].expunged)
			idx[k++] = idx[i];
	}
	/* Two accounts' mailboxes are two partitions: no one event can do it. */
	if (k > 0 && strcmp(imap_acl_box_owner(s, box), s->mbox->owner) != 0) {
		imap_copy_cross(s, idx, k, box, move);
		free(idx);
		json_decref(box);
		return;
	}
	if (k == 0) {
		free(idx);
		json_decref(box);
		if (n > 0)
			imap_no(s, "[EXPUNGEISSUED] The messages were expunged meanwhile");
		else
			imap_ok(s, "%s completed", cmd->name);
		return;
	}
	imap_submit(s, move ? "message.move" : "message.copy",
		    json_pack("{s:s, s:o, s:O}", "mailbox_id", s->mbox->id, "uids",
			      imap_mbox_uid_ranges(s->mbox, idx, k), "to_mailbox_id", json_object_get(box, "id")),
		    copy_done);
	free(idx);
	json_decref(box);
}

void imap_cmd_copy(struct imap_session *s, const struct imap_command *cmd)
{
	copy_or_move(s, cmd, 0);
}

void imap_cmd_move(struct imap_session *s, const struct imap_command *cmd)
{
	copy_or_move(s, cmd, 1);
}
