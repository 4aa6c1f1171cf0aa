/* imap_cmd_cancelupdate - CANCELUPDATE (RFC 5267 4.3.1): ends the update
 * contexts of the tags given (imap_context.c). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_context.h"

/* CANCELUPDATE "tag" *(SP "tag") (RFC 5267 4.3.5). */
void imap_cmd_cancelupdate(struct imap_session *s, const struct imap_command *cmd)
{
	if (cmd->nargs == 0) {
		imap_bad(s, "CANCELUPDATE needs a tag");
		return;
	}
	/* command-select =/ "CANCELUPDATE" 1*(SP quoted) (RFC 5267 5) */
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (cmd->args[i].type != IMAP_ARG_STRING || cmd->args[i].literal) {
			imap_bad(s, "CANCELUPDATE takes quoted tags");
			return;
		}
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		if (!imap_context_tag_used(s->mbox, cmd->args[i].str)) {
			imap_no(s, "No update context for that tag");
			return;
		}
	}
	for (size_t i = 0; i < cmd->nargs; i++)
		imap_context_cancel(s->mbox, imap_arg_str(&cmd->args[i]));
	imap_ok(s, "CANCELUPDATE completed");
}
