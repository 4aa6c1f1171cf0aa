/* imap_cmd_unauthenticate - UNAUTHENTICATE (RFC 8437): from the authenticated or
 * selected state back to the not-authenticated one, so that the
 * connection can log in again (as the same or another user). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_login.h"
#include "gateway/imap/imap_commands.h"

/* RFC 8437 3: no arguments; the selected mailbox is closed without
 * expunging, everything tied to the user (and what ENABLE turned on) is
 * forgotten; an established TLS or COMPRESS layer stays (neither can be
 * removed from the stream). The tagged OK re-announces the capabilities
 * of the not-authenticated state. */
void imap_cmd_unauthenticate(struct imap_session *s, const struct imap_command *cmd)
{
	struct buf caps = BUF_INIT;

	if (cmd->nargs != 0) {
		imap_bad(s, "UNAUTHENTICATE takes no arguments");
		return;
	}
	imap_logged_out(s);
	imap_capability_string(s, &caps);
	imap_ok(s, "[CAPABILITY %s] Not authenticated any more", caps.data);
	buf_free(&caps);
}
