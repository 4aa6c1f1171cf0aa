/* imap_cmd_logout - LOGOUT (RFC 9051 6.1.3). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_commands.h"

/* RFC 9051 7.1.5: nothing about the mailbox follows the BYE, so the
 * mailbox is closed first (the tagged OK then reports no updates). */
void imap_cmd_logout(struct imap_session *s, const struct imap_command *cmd)
{
	imap_deselect(s);
	imap_line(s, "* BYE Logging out");
	s->state = IMAP_S_LOGOUT;
	imap_ok(s, "LOGOUT completed");
	imap_close_after_flush(s, "logout");
}
