/* imap_cmd_unselect - UNSELECT (RFC 3691, RFC 9051 6.4.2): leaves the selected
 * state without expunging. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_commands.h"

void imap_cmd_unselect(struct imap_session *s, const struct imap_command *cmd)
{
	imap_deselect(s);
	imap_ok(s, "UNSELECT completed");
}
