/* enqueue - the write path into the outbound queue, used by submission (for
 * remote recipients) and by the queue worker (DSNs to remote senders).
 *
 * The body is stored once as a blob (deliver_blob.h, the same
 * content-addressed chunks inbound mail uses), then one queue.enqueue event
 * (projector/queue.h) is appended to the queue topic under a fresh item id.
 * cb gets status 0 only after every chunk and the event are acknowledged
 * by the log AND the local projector has applied the event (so `evmailctl
 * queue list` on this node shows it at once); a failure before that is a
 * temporary failure (the caller answers 451 4.3.0): nothing acknowledged is
 * ever lost, and an orphan blob is harmless. */
#ifndef EVM_ENQUEUE_H
#define EVM_ENQUEUE_H

#include <stddef.h>

#include "gateway/node.h"
#include "gateway/outbound/outbound.h"

struct enqueue_request {
	const char *actor;           /* "submission", "dsn", ... */
	const char *tenant;          /* the sender's, "" for none */
	const char *account;         /* the sender's account, "" for none */
	const char *from;            /* reverse path, "" = null sender */
	const char *data;            /* the final message (signed), CRLF line ends */
	size_t len;
	const struct outbound_rcpt *rcpts;  /* remote recipients */
	size_t nrcpts;
	const char *ret;             /* "FULL", "HDRS" or "" */
	const char *envid;
	int smtputf8, body8bit, requiretls;
	int dsn;                     /* this message is a DSN */
};

/* status 0: queued under id (32 hex); -1: not queued, error says why. */
typedef void enqueue_done_cb(void *ctx, int status, const char *id, const char *error);

/* Copies what it needs; cb runs exactly once, later, on the loop. Times
 * (arrival, expire, delay_warn) come from the clock and delivery.* keys. */
void outbound_enqueue(struct node *node, const struct enqueue_request *req, enqueue_done_cb *cb,
		      void *ctx);

#endif
