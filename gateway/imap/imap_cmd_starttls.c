/* imap_cmd_starttls - STARTTLS (RFC 9051 6.2.1). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_commands.h"

void imap_cmd_starttls(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs != 0) {
		imap_bad(s, "STARTTLS takes no arguments");
		return;
	}
	if (s->set.tls == NULL || s->tls) {
		imap_bad(s, "STARTTLS not available");
		return;
	}
	imap_ok(s, "Begin TLS negotiation now");
	imap_starttls(s);
}
