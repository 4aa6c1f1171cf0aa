/* imap_cmd_check - CHECK (RFC 3501 6.4.1): nothing to checkpoint here (every
 * write is durable in the log before its reply); mailbox updates come with
 * the tagged OK. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"

void imap_cmd_check(struct imap_session *s, const struct imap_command *cmd)
{
	imap_ok(s, "CHECK completed");
}
