/* imap_hooks - what the session runs before each tagged reply, in order
 * (like Dovecot's command_hook_register): NOTIFY's pending events (RFC
 * 5465), then the selected mailbox's sync and report (EXISTS, EXPUNGE or
 * VANISHED, FETCH FLAGS, update contexts). Commands do not report the
 * mailbox themselves; one that changed it sets s->changed and lets the
 * hook sync before its tagged OK. */
#include "gateway/imap/imap_hooks.h"
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_session_private.h"

/* RFC 5465: the events queued while the command ran. */
static void notify_hook(struct imap_session *s, bool ok, int allow_expunge)
{
	imap_notify_flush(s, ok);
}

/* The selected mailbox's changes, except after BAD (RFC 9051 7.5.1:
 * EXPUNGE only when allow_expunge). */
static void mailbox_hook(struct imap_session *s, bool ok, int allow_expunge)
{
	if (s->mbox != NULL && ok)
		imap_mbox_report(s, allow_expunge);
}

static imap_reply_hook_fn *const hooks[] = { notify_hook, mailbox_hook };

void imap_hooks_before_reply(struct imap_session *s, bool ok, int allow_expunge)
{
	for (size_t i = 0; i < sizeof hooks / sizeof hooks[0]; i++)
		hooks[i](s, ok, allow_expunge);
}
