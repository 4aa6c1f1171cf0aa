/* imap_hooks - what the session core runs in the engines above it (like
 * Dovecot's command_hook_register). Before each tagged reply, in order:
 * NOTIFY's pending events (RFC 5465), then the selected mailbox's sync and
 * report (EXISTS, EXPUNGE or VANISHED, FETCH FLAGS, update contexts).
 * Commands do not report the mailbox themselves; one that changed it sets
 * s->changed and lets the hook sync before its tagged OK. The core calls
 * the engines only through this table, so none of them is below it. */
#include "gateway/imap/imap_hooks.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_session_private.h"

/* RFC 5465: the events queued while the command ran; then the selected
 * mailbox's changes, except after BAD (RFC 9051 7.5.1: EXPUNGE only when
 * allow_expunge). */
static void before_reply(struct imap_session *s, bool ok, int allow_expunge)
{
	imap_notify_flush(s, ok);
	if (s->mbox != NULL && ok)
		imap_mbox_report(s, allow_expunge);
}

/* RFC 3501 2.3.2: the reply waits while the \Recent claim is in flight. */
static int hold_reply(struct imap_session *s)
{
	return s->mbox != NULL && s->mbox->claiming;
}

/* The selected mailbox's updates, if one is selected. */
static void report(struct imap_session *s, int allow_expunge)
{
	if (s->mbox != NULL)
		imap_mbox_report(s, allow_expunge);
}

/* The session ends: its mailbox and NOTIFY state. */
static void session_free(struct imap_session *s)
{
	imap_mbox_free(&s->mbox);
	imap_notify_free(s);
}

static const struct imap_session_hooks hooks = {
	.before_reply = before_reply,
	.hold_reply = hold_reply,
	.report = report,
	.free = session_free,
};

const struct imap_session_hooks *imap_hooks_table(void)
{
	return &hooks;
}
