/* imap_cmd_login - LOGIN (RFC 9051 6.2.3): the password check is imap_auth.c. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_auth.h"
#include "gateway/imap/imap_commands.h"

void imap_cmd_login(struct imap_session *s, const struct imap_command *cmd)
{
	const char *user, *pass;

	if (cmd->nargs != 2 || (user = imap_arg_str(&cmd->args[0])) == NULL ||
	    (pass = imap_arg_str(&cmd->args[1])) == NULL) {
		imap_bad(s, "LOGIN needs a user name and a password");
		return;
	}
	if (imap_plaintext_refused(s))
		return;
	imap_auth_verify(s, user, pass);
}
