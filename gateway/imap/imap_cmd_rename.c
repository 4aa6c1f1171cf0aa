/* imap_cmd_rename - RENAME (RFC 9051 6.3.6): one mailbox.rename event; in
 * another account's tree it needs x on the source and k on the new parent
 * (RFC 4314 4) and goes to the owner's partition (imap_acl_mbox.c). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_acl.h"
#include "projector/mail.h"

#include <string.h>

void imap_cmd_rename(struct imap_session *s, const struct imap_command *cmd)
{
	char from[MAIL_MAILBOX_NAME_MAX + 1], to[MAIL_MAILBOX_NAME_MAX + 1];
	const char *newname;
	json_t *box = NULL;

	if (cmd->nargs != 2 || imap_mailbox_arg_s(s, &cmd->args[0], from, sizeof from) < 0 ||
	    imap_mailbox_arg_s(s, &cmd->args[1], to, sizeof to) < 0) {
		imap_bad(s, "RENAME needs two valid mailbox names");
		return;
	}
	if (strcmp(to, "INBOX") == 0) {
		imap_no(s, "[ALREADYEXISTS] INBOX always exists");
		return;
	}
	if (strcmp(from, "INBOX") == 0) {
		imap_no(s, "[CANNOT] Renaming INBOX is not supported");
		return;
	}
	if (!imap_acl_find(s, from, MAIL_R_DELMBOX, "NONEXISTENT", &box))
		return;
	if (imap_acl_rename_target(s, box, to, &newname))
		imap_submit(s, "mailbox.rename",
			    json_pack("{s:O, s:s}", "mailbox_id", json_object_get(box, "id"), "name", newname),
			    imap_done_simple);
	json_decref(box);
}
