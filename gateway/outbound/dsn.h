/* dsn - delivery status notifications (RFC 3464, RFC 3461, RFC 6533 for
 * UTF-8 addresses): compose the multipart/report and send it.
 *
 * The report: From: Mail Delivery System <MAILER-DAEMON@<hostname>>,
 * To: the original sender, Subject by kind ("Undelivered Mail Returned to
 * Sender", "Delayed Mail (still being retried)", "Successful Mail Delivery
 * Report", "Relayed Mail Delivery Report"), Auto-Submitted:
 * auto-replied (RFC 3834), a human-readable part, a message/delivery-status
 * part (Reporting-MTA: dns; <hostname>, Original-Envelope-Id, Arrival-Date;
 * per recipient Original-Recipient, Final-Recipient: rfc822;<addr>,
 * Action: failed|delayed|delivered|relayed, Status: x.y.z, Remote-MTA,
 * Diagnostic-Code: smtp; <reply>, Last-Attempt-Date, Will-Retry-Until for
 * delays), and the original as message/rfc822 (RET=FULL, or the default
 * for failures) or text/rfc822-headers (RET=HDRS, and always for delay and
 * success reports).
 *
 * Sending: to a local sender (deliver_resolve says RCPT_OK) through
 * deliver_message() into INBOX, as inbound mail; to a remote sender through
 * outbound_enqueue() with the null sender and dsn = 1. Never to the null
 * sender, never for an item that is itself a DSN. */
#ifndef EVM_DSN_H
#define EVM_DSN_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/node.h"

enum dsn_kind { DSN_FAILURE, DSN_DELAY, DSN_SUCCESS, DSN_RELAYED };

struct dsn_rcpt {
	const char *addr;
	const char *orcpt;           /* "" if none */
	const char *status;          /* "5.1.1" ... */
	const char *reply;           /* the remote reply or our reason */
	const char *remote;          /* "mx.example [ip]" or "" */
};

struct dsn_request {
	enum dsn_kind kind;
	const char *hostname;        /* reporting MTA */
	const char *sender;          /* the original sender (the report's To:) */
	const char *envid;           /* "" if none */
	const char *ret;             /* "FULL", "HDRS" or "" */
	int64_t arrival_ms;
	int64_t last_attempt_ms;     /* 0 if none */
	int64_t retry_until_ms;      /* delays */
	const struct dsn_rcpt *rcpts;
	size_t nrcpts;
	const char *original;        /* the original message */
	size_t original_len;
	int64_t now_ms;              /* Date: and boundary seed (tests pass a fixed one) */
};

/* *msg_r is malloc'ed, CRLF line ends. 0 or -1. */
int dsn_compose(const struct dsn_request *req, char **msg_r, size_t *len_r, const char **error_r);

/* status 0: the report is stored (local) or queued (remote). */
typedef void dsn_sent_cb(void *ctx, int status, const char *error);
/* Composes and sends; cb exactly once, later, on the loop. */
void dsn_send(struct node *node, const struct dsn_request *req, dsn_sent_cb *cb, void *ctx);

#endif
