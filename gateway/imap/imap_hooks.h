/* imap_hooks - the hooks the session runs before each tagged reply
 * (imap_session.c tagged()), so that no command has to send the mailbox
 * updates itself. The table is in imap_hooks.c. */
#ifndef EVM_IMAP_HOOKS_H
#define EVM_IMAP_HOOKS_H

#include <stdbool.h>

struct imap_session;

/* One hook: ok is false when the reply is BAD; allow_expunge is false for
 * a command by sequence number (RFC 9051 7.5.1: no EXPUNGE during it). */
typedef void imap_reply_hook_fn(struct imap_session *s, bool ok, int allow_expunge);

/* Runs every hook of the table, in order. */
void imap_hooks_before_reply(struct imap_session *s, bool ok, int allow_expunge);

#endif
