/* imap_cmd_enable - ENABLE (RFC 9051 6.3.1, RFC 5161; UTF8=ACCEPT RFC 6855 3,
 * CONDSTORE and QRESYNC RFC 7162, UIDONLY RFC 9586). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_snapshot.h"

#include <strings.h>

/* RFC 9051 6.3.1 (RFC 5161): only IMAP4rev2 is known. */
void imap_cmd_enable(struct imap_session *s, const struct imap_command *cmd)
{
	struct buf on = BUF_INIT;

	if (cmd->nargs == 0) {
		imap_bad(s, "ENABLE needs capability names");
		return;
	}
	for (size_t i = 0; i < cmd->nargs; i++) {
		const char *c = imap_arg_str(&cmd->args[i]);

		if (cmd->args[i].type != IMAP_ARG_ATOM || c == NULL) {
			buf_free(&on);
			imap_bad(s, "ENABLE takes capability names");
			return;
		}
		if (strcasecmp(c, "IMAP4rev2") == 0 && !s->rev2) {
			s->rev2 = 1;
			if (s->mbox != NULL) {
				/* RFC 9051 has no \Recent (imap_recent.c) */
				s->mbox->claim = 0;
				s->mbox->nrecent = 0;
			}
			buf_puts(&on, " IMAP4rev2");
		}
		/* RFC 6855 3: UTF-8 quoted strings and mailbox names. */
		if (strcasecmp(c, "UTF8=ACCEPT") == 0 && !s->utf8) {
			s->utf8 = 1;
			buf_puts(&on, " UTF8=ACCEPT");
		}
		/* RFC 7162 3.1, 3.2.3: QRESYNC implies CONDSTORE. */
		if (strcasecmp(c, "CONDSTORE") == 0 && !s->condstore) {
			imap_condstore_enable(s);
			buf_puts(&on, " CONDSTORE");
		}
		/* RFC 9586: UIDs only, from now on */
		if (strcasecmp(c, "UIDONLY") == 0 && !s->uidonly) {
			s->uidonly = 1;
			if (s->mbox != NULL)
				s->mbox->uidonly = 1;
			buf_puts(&on, " UIDONLY");
		}
		if (strcasecmp(c, "QRESYNC") == 0 && !s->qresync) {
			imap_condstore_enable(s);
			s->qresync = 1;
			buf_puts(&on, " QRESYNC");
		}
	}
	imap_line(s, "* ENABLED%s", on.len ? on.data : "");
	buf_free(&on);
	imap_ok(s, "ENABLE completed");
}
