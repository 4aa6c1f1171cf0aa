/* vacation - automatic replies to inbound mail while an account's
 * vacation response is on (RFC 3834; set through JMAP's VacationResponse,
 * RFC 8621 8). After a message is stored for an account, the delivery
 * asks vacation_consider; the reply goes out only when the log's
 * vacation.reply event is accepted (projector/mail_vacation.c decides one
 * reply per sender per period from the log, whichever node delivered),
 * from the null reverse path (RFC 3834 3.3), through the submission core
 * (gateway/submit: DKIM signed, local or queued). */
#ifndef EVM_VACATION_H
#define EVM_VACATION_H

#include <jansson.h>
#include <stddef.h>

#include "gateway/node.h"

/* RFC 3834 2, RFC 5230 4.5: whether a message may get an automatic reply
 * at all: not from the null sender or a list/daemon address, not
 * Auto-Submitted (other than "no"), not list mail (List-Id, List-*) nor
 * Precedence bulk, list or junk. hdr[len] is the header block. 1 or 0. */
int vacation_eligible(const char *mail_from, const char *hdr, size_t len);

/* After message `summary` (common/mime.h) from mail_from was stored for
 * account (through rcpt): replies when the account's response is on and
 * the account or rcpt is among the To/Cc addresses. Fire and forget:
 * failures are logged. */
void vacation_consider(struct node *node, const char *account, const char *tenant, const char *rcpt,
		       const char *mail_from, json_t *summary);

#endif
