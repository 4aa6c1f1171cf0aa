/* deliver - inbound delivery: resolve recipients against the directory
 * view, store the body once as a blob and append one message.append per
 * recipient account, and report per recipient (SMTP answers with one code,
 * LMTP with one per recipient, RFC 2033 4.2).
 *
 * Durability (ARCHITECTURE.md, Bodies): the result is reported only after
 * every blob chunk AND every recipient's append event is acknowledged by the
 * log, and after the local projector applied the appends (the quota check
 * is the projector's outcome). A failure anywhere before the log
 * acknowledged the appends is a temporary failure (4xx): nothing is
 * half-delivered from the client's point of view; an orphan blob without a
 * referencing message is harmless.
 *
 * One reply for several targets (SMTP): once one target has stored the
 * message the client will be told 250, so a target refused only for its
 * quota is appended again with over_quota_ok (projector/mail.h) rather
 * than silently losing the message (there is no bounce yet). Refused at
 * RCPT time when the mailbox is already full (smtp_txn.c), this only
 * happens for races and undeclared sizes; it is logged.
 *
 * What is stored: blob = "Return-Path: <from>\r\n" + the Received line(s)
 * + the message as received (dot-unstuffed, CRLF line ends); per recipient
 * prefix = "Delivered-To: <rcpt>\r\n". A message to N recipients of this
 * installation is one blob referenced N times. */
#ifndef EVM_DELIVER_H
#define EVM_DELIVER_H

#include <jansson.h>
#include <stddef.h>

#include "common/address.h"
#include "gateway/node.h"

enum deliver_rcpt_status {
	RCPT_OK,           /* resolved to at least one local account */
	RCPT_UNKNOWN,      /* our domain, no such user: 550 5.1.1 */
	RCPT_NOT_LOCAL,    /* not our domain: 550 5.7.1 relaying denied */
	RCPT_DISABLED,     /* account disabled: 550 5.2.1 */
	RCPT_INVALID,      /* syntax: 501 5.1.3 */
	RCPT_TEMPFAIL,     /* view error: 451 4.3.0 */
};

#define DELIVER_MAX_EXPANSION 100

struct deliver_target {
	char account[EVM_ADDRESS_MAX + 1];   /* the account that receives it */
	char tenant[64];
	char rcpt[EVM_ADDRESS_MAX + 1];      /* the address as given (normalised), for Delivered-To */
};

/* Resolves one RCPT address: an account; an alias (its local targets,
 * one level; targets outside our domains are ignored until outbound
 * delivery exists); plus-addressing "user+tag@domain" -> user@domain (when
 * "user+tag" itself is not an account or alias); the domain's catch-all
 * alias "@domain". Fills up to DELIVER_MAX_EXPANSION targets (malloc'ed
 * array in *targets_r). */
enum deliver_rcpt_status deliver_resolve(struct view *view, const char *rcpt,
					 struct deliver_target **targets_r, size_t *n_r);

struct deliver_request {
	const char *actor;             /* "smtp" or "lmtp" */
	const char *mail_from;         /* reverse path without <>, "" for the null sender */
	const char *received;          /* the Received: header field(s), CRLF-terminated */
	const char *data;              /* the message, dot-unstuffed, CRLF line ends */
	size_t len;
	const struct deliver_target *targets;  /* one per accepted RCPT expansion */
	size_t ntargets;
	json_t *dsn;                   /* optional: {"ret","envid","rcpts":{rcpt:{"notify","orcpt"}}} */
	int single_reply;              /* SMTP: one reply for every target (LMTP: 0) */
	int junk;                      /* DMARC quarantine: into the account's \Junk mailbox, $Junk */
};

struct deliver_result {
	int ok;                        /* 1 stored */
	char code[4];                  /* "250", "452", "552", "451" */
	char enhanced[12];             /* "2.0.0", "4.3.0", "5.2.2" */
	char text[200];
};

/* results has req->ntargets entries, in order; valid during the call. */
typedef void deliver_done_cb(void *ctx, const struct deliver_result *results, size_t n);

/* Copies what it needs from req (the caller may free it after the call).
 * cb runs exactly once on the loop, never inside this call. */
void deliver_message(struct node *node, const struct deliver_request *req,
		     deliver_done_cb *cb, void *ctx);

#endif
