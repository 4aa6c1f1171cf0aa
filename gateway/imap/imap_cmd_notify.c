/* imap_cmd_notify - the NOTIFY command (RFC 5465 3): "NOTIFY NONE" turns
 * notifications off, "NOTIFY SET [STATUS] event-groups" replaces them
 * (imap_notify.c parses, imap_notify_session.c keeps and sends). A
 * syntax or rule error is BAD, an unsupported event NO [BADEVENT], too
 * many groups or mailboxes NO [LIMIT]; a failed NOTIFY leaves the earlier
 * setting as it was. */
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"

void imap_cmd_notify(struct imap_session *s, const struct imap_command *cmd)
{
	struct imap_notify_spec *spec = NULL;
	const char *error = NULL;
	int r = imap_notify_parse(s, cmd->args, cmd->nargs, &spec, &error);

	if (r == IMAP_NOTIFY_BAD) {
		imap_bad(s, "%s", error);
		return;
	}
	if (r != IMAP_NOTIFY_OK) {
		imap_no(s, "%s", error);
		return;
	}
	imap_notify_set(s, spec);
	imap_ok(s, "NOTIFY completed");
}
