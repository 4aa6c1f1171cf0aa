/* imap_cmd_subscribe - SUBSCRIBE and UNSUBSCRIBE (RFC 9051 6.3.7, 6.3.8): one
 * mailbox.subscribe event each. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "projector/mail.h"

static void subscribe(struct imap_session *s, const struct imap_command *cmd, int on)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];

	if (cmd->nargs != 1 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "%s needs a valid mailbox name", cmd->name);
		return;
	}
	imap_submit(s, "mailbox.subscribe", json_pack("{s:s, s:b}", "name", name, "subscribed", on),
		    imap_done_simple);
}

void imap_cmd_subscribe(struct imap_session *s, const struct imap_command *cmd)
{
	subscribe(s, cmd, 1);
}

void imap_cmd_unsubscribe(struct imap_session *s, const struct imap_command *cmd)
{
	subscribe(s, cmd, 0);
}
