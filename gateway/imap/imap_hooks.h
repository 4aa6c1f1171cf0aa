/* imap_hooks - what the session core (imap_reply.c) runs in the engines
 * above it: before each tagged reply, when a held reply is released, when
 * the session ends. imap_session_start puts the table in s->hooks. */
#ifndef EVM_IMAP_HOOKS_H
#define EVM_IMAP_HOOKS_H

struct imap_session_hooks;

/* The hooks of every session (imap_session_private.h struct imap_session_hooks). */
const struct imap_session_hooks *imap_hooks_table(void);

#endif
