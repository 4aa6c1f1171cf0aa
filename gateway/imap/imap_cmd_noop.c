/* imap_cmd_noop - NOOP (RFC 9051 6.1.2): mailbox updates come with the tagged OK. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"

void imap_cmd_noop(struct imap_session *s, const struct imap_command *cmd)
{
	imap_ok(s, "NOOP completed");
}
