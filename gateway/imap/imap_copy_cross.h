/* imap_copy_cross - COPY/MOVE between two accounts' mailboxes, one
 * message.append per message in the target's partition (imap_copy_cross.c). */
#ifndef EVM_IMAP_COPY_CROSS_H
#define EVM_IMAP_COPY_CROSS_H

#include <jansson.h>
#include <stddef.h>

#include "gateway/imap/imap_session_private.h"

/* Copies (move: then expunges) messages idx[0..n) of the selected mailbox
 * into target_box (a mailbox record with "id", of another account) and
 * answers the command. */
void imap_copy_cross(struct imap_session *s, const size_t *idx, size_t n, json_t *target_box, int move);

#endif
