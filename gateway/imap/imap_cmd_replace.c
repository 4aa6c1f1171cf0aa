/* imap_cmd_replace - REPLACE and UID REPLACE (RFC 8508): APPEND a new
 * message to a mailbox and EXPUNGE one message of the selected mailbox.
 *
 * The mail appliers have no event that appends and expunges at once
 * (projector/mail.h), so REPLACE is two events with a defined outcome at
 * each step:
 *   1. message.append (through imap_append_one, like APPEND). When it
 *      fails nothing changed: NO (TRYCREATE, OVERQUOTA, TOOBIG, ...), the
 *      old message stays.
 *   2. "* OK [APPENDUID v uid] ..." (RFC 8508 3.3, like MOVE's COPYUID),
 *      then message.expunge of the old message. When it succeeds, the
 *      EXPUNGE (or VANISHED) of the old message and, if the new one went
 *      to this mailbox, its EXISTS, then the tagged OK. When it fails, the
 *      new message stays appended (the client knows its UID from the
 *      untagged APPENDUID), the old one stays too, and the tagged NO says
 *      so (RFC 8508 3.1: "NO - ... can't remove old message"); the client
 *      may expunge it itself. A client never sees the old message gone
 *      without the new one stored.
 * The message may be built by CATENATE (RFC 8508 4.2: a server with both
 * extensions MUST take CATENATE's append-data here), through
 * imap_append_one; its URLs are resolved before the old message goes. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_cmd_append.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* The old message was expunged (or not): report and answer. */
static void replace_expunged(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *st = json_string_value(json_object_get(outcome, "status"));

	s->replace_uid = 0;
	s->changed = 1;   /* the EXPUNGE comes from the reply hook (imap_hooks.c) */
	if (status < 0 || st == NULL || strcmp(st, "accepted") != 0) {
		log_warn("imap[%s]: REPLACE: expunge failed: %s", s->id, error ? error : st ? st : "?");
		imap_no(s, "[UNAVAILABLE] REPLACE appended the new message but could not expunge the old one%s",
			imap_unavailable_why(s, error));
		return;
	}
	imap_ok(s, "REPLACE completed");
}

/* The new message is appended: announce its UID, expunge the old one. */
static void replace_appended(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	json_t *uids;

	if (!imap_outcome_ok(s, status, outcome, error, "APPEND")) {
		s->replace_uid = 0;
		return;
	}
	imap_line(s, "* OK [APPENDUID %" JSON_INTEGER_FORMAT " %" JSON_INTEGER_FORMAT "] Replacement Message ID",
		  json_integer_value(json_object_get(outcome, "uidvalidity")),
		  json_integer_value(json_object_get(outcome, "uid")));
	uids = json_pack("[[I,I]]", (json_int_t)s->replace_uid, (json_int_t)s->replace_uid);
	imap_submit(s, "message.expunge", json_pack("{s:s, s:o}", "mailbox_id", s->mbox->id, "uids", uids),
		    replace_expunged);
}

/* RFC 8508 3: REPLACE seq-number mailbox [flags] [date-time] message; UID
 * REPLACE with a UID. A sequence number beyond the mailbox is BAD (RFC 9051
 * 7.1.4 / 6.4), a UID that names no message is NO, like a message expunged
 * meanwhile. The selected mailbox must be read-write (it loses a message). */
void imap_cmd_replace(struct imap_session *s, const struct imap_command *cmd)
{
	const char *num = cmd->nargs > 0 ? imap_arg_str(&cmd->args[0]) : NULL;
	size_t *idx = NULL, n = 0;

	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_ATOM || num == NULL ||
	    (strcmp(num, "*") != 0 && strspn(num, "0123456789") != strlen(num)) || num[0] == '0') {
		imap_bad(s, "REPLACE needs a message number, a mailbox name and a message");
		return;
	}
	if (imap_mbox_select(s->mbox, num, cmd->uid, &idx, &n) < 0) {
		imap_bad(s, "Invalid message number");
		return;
	}
	if (n != 1 || s->mbox->msgs[idx[0]].expunged) {
		free(idx);
		imap_no(s, cmd->uid ? "No message with that UID" :
			"[EXPUNGEISSUED] The message was expunged meanwhile");
		return;
	}
	if (s->mbox->readonly) {
		free(idx);
		imap_no(s, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	s->replace_uid = s->mbox->msgs[idx[0]].uid;
	free(idx);
	if (imap_append_one(s, cmd->args + 1, cmd->nargs - 1, replace_appended) < 0)
		s->replace_uid = 0;
}
