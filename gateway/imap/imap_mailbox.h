/* imap_mailbox - the selected mailbox: its snapshot of messages, its sync
 * with the view, the updates sent to the client (imap_mailbox.c) */
#ifndef EVM_IMAP_MAILBOX_H
#define EVM_IMAP_MAILBOX_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/imap/imap_snapshot.h"

struct imap_session;
/* Loads name's state and messages. 1 found, 0 no such mailbox, -1 error. */
int imap_mbox_open(struct imap_session *s, const char *name, int readonly, struct imap_mbox **mb_r,
		   const char **error_r);
void imap_mbox_free(struct imap_mbox **mb);
/* Applies the view's changes since mb->synced (the modseq index,
 * projector/mail.h mail_changes): new messages are appended, gone ones
 * marked expunged, changed flags marked dirty. Nothing is read past the
 * mailbox record when its highestmodseq is what was seen. 0 or -1. */
int imap_mbox_sync(struct imap_session *s, struct imap_mbox *mb, const char **error_r);
/* Sends what the client should learn (EXPUNGE only when allow_expunge). */
void imap_mbox_report(struct imap_session *s, int allow_expunge);
/* Indexes (0-based) of the messages in a sequence set (uid: a UID set),
 * malloc'ed, ascending. -1 on a syntax error or a sequence number beyond
 * the mailbox (the caller answers BAD). */
int imap_mbox_select(struct imap_mbox *mb, const char *set, bool uid, size_t **idx_r, size_t *n_r);
/* EXPUNGE, CLOSE: the \Deleted messages (within the UID set set when not
 * NULL), after a sync, as pieces [[[lo,hi]...]...] of at most
 * IMAP_EXPUNGE_PIECE messages each: one message.expunge per piece, so no
 * one event's apply outlasts the command timeout however large the
 * mailbox. NULL when none (*bad_r: set invalid). */
#define IMAP_EXPUNGE_PIECE 1000
json_t *imap_mbox_deleted_pieces(struct imap_session *s, const char *set, int *bad_r);
/* [[lo,hi]...] of the UIDs of the indexes (ascending). */
json_t *imap_mbox_uid_ranges(struct imap_mbox *mb, const size_t *idx, size_t n);
void imap_deselect(struct imap_session *s);

#endif
