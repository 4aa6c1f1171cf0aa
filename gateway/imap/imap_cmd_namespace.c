/* imap_cmd_namespace - NAMESPACE (RFC 2342, RFC 9051 6.3.10). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_acl.h"

/* RFC 2342 / RFC 9051 6.3.10: one personal namespace, '/' separated. */
void imap_cmd_namespace(struct imap_session *s, const struct imap_command *cmd)
{
	/* RFC 2342 5: mailboxes shared with us are under "Other Users/". */
	imap_line(s, "* NAMESPACE ((\"\" \"/\")) ((\"" IMAP_OTHER_USERS "/\" \"/\")) NIL");
	imap_ok(s, "NAMESPACE completed");
}
