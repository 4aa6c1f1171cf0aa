/* imap_cmd_capability - CAPABILITY (RFC 9051 6.1.1). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"

void imap_cmd_capability(struct imap_session *s, const struct imap_command *cmd)
{
	struct buf caps = BUF_INIT;

	imap_capability_string(s, &caps);
	imap_line(s, "* CAPABILITY %s", caps.data);
	buf_free(&caps);
	imap_ok(s, "CAPABILITY completed");
}
