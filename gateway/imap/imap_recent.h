/* imap_recent - IMAP4rev1 \Recent (RFC 3501 2.3.2) of the selected mailbox
 * (imap_recent.c) */
#ifndef EVM_IMAP_RECENT_H
#define EVM_IMAP_RECENT_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/imap/imap_snapshot.h"

struct imap_session;
/* 1 when uid is \Recent in this session. */
int imap_msg_recent(const struct imap_mbox *mb, uint32_t uid);
/* The RECENT count: messages of the snapshot not expunged and \Recent. */
size_t imap_recent_count(const struct imap_mbox *mb);
/* Records a mailbox.claim_recent outcome {claimed_from, recent_uid}: 1
 * when it made messages \Recent here, else 0. */
int imap_recent_claimed(struct imap_mbox *mb, json_t *outcome);
/* Decides \Recent for the snapshot's messages above mb->claimed: a rev1
 * SELECT submits a claim (mb->claiming; the arrivals are announced and a
 * held tagged reply released on its outcome), or, with the log
 * unreachable, takes what nobody claimed without one; EXAMINE takes what
 * nobody claimed without claiming; IMAP4rev2 sessions nothing. */
void imap_recent_claim(struct imap_session *s);
/* RFC 3501 2.3.2: "If it is not possible to determine whether or not this
 * session is the first session to be notified about a message, then that
 * message SHOULD be considered recent." When the log cannot take a claim,
 * UIDs from < uid <= to are \Recent here without one (another session may
 * show them as \Recent too). Returns 1 when the set grew. */
int imap_recent_assume(struct imap_mbox *mb, uint32_t from, uint32_t to);
/* 0 while the log is unreachable (evlog_health): a SELECT then does not
 * wait for a claim, a read never waits on a write. */
int imap_recent_can_claim(struct imap_session *s);

#endif
