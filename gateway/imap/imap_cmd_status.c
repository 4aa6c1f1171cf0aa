/* imap_cmd_status - STATUS (RFC 9051 6.3.11); the data items are
 * imap_status.c (shared with LIST-STATUS). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_status.h"
#include "gateway/imap/imap_acl.h"
#include "projector/mail.h"

/* RFC 9051 6.3.11; the items are rendered by imap_status.c. */
void imap_cmd_status(struct imap_session *s, const struct imap_command *cmd)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	json_t *box = NULL;

	if (cmd->nargs != 2 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0 ||
	    cmd->args[1].type != IMAP_ARG_LIST || cmd->args[1].count == 0) {
		imap_bad(s, "STATUS needs a mailbox name and a list of items");
		return;
	}
	if (imap_status_check(cmd->args[1].list, cmd->args[1].count) < 0) {
		imap_bad(s, "Unknown STATUS item");
		return;
	}
	/* Own or shared: RFC 4314 4 STATUS needs r. */
	if (!imap_acl_find(s, name, MAIL_R_READ, "NONEXISTENT", &box))
		return;
	imap_status_line(s, box, cmd->args[1].list, cmd->args[1].count);
	json_decref(box);
	imap_ok(s, "STATUS completed");
}
