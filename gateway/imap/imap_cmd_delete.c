/* imap_cmd_delete - DELETE (RFC 9051 6.3.5): one mailbox.delete event; a
 * shared mailbox's needs x (RFC 4314 4) and goes to its owner's partition
 * (imap_submit routes it, imap_acl.h). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "projector/mail.h"
#include "gateway/imap/imap_acl.h"

#include <string.h>

void imap_cmd_delete(struct imap_session *s, const struct imap_command *cmd)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	json_t *box = NULL;

	if (cmd->nargs != 1 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "DELETE needs a valid mailbox name");
		return;
	}
	if (strcmp(name, "INBOX") == 0) {
		imap_no(s, "[CANNOT] INBOX cannot be deleted");
		return;
	}
	if (!imap_acl_find(s, name, MAIL_R_DELMBOX, "NONEXISTENT", &box))
		return;
	imap_submit(s, "mailbox.delete",
		    json_pack("{s:O}", "mailbox_id", json_object_get(box, "id")), imap_done_simple);
	json_decref(box);
}
