/* forward - inbound mail relayed to remote addresses: aliases whose
 * targets are outside our domains, and bounces to our SRS addresses.
 *
 * Resolution (forward_resolve, at RCPT time, inbound SMTP only):
 *   - rcpt "SRS0=...@<our domain>" (common/srs.h) is a bounce to a message
 *     we forwarded: a valid one (hash and age) goes to the original sender,
 *     either a remote target or, for one of our domains, the local address
 *     to resolve instead; a forged or expired one is refused 550 5.1.1.
 *   - an alias (exact, or "user@domain" for "user+tag@domain", as
 *     deliver_resolve) contributes its targets outside our domains; its
 *     local targets stay deliver_resolve's. Targets in our domains are
 *     never forwarded, and an alias is expanded one level only, so a
 *     forward never re-enters our aliases (loop protection; the other half
 *     is the Received: count, smtp_message.c, RFC 5321 6.3).
 *
 * Sending (forward_send, after DATA): per forwarding domain (the alias's,
 * or the SRS address's) one message: our Received field on top, DKIM
 * signatures with the domain's keys (dkim.sign), one ARC set (common/
 * arc_seal.h) with the domain's first RSA key, then one queue.enqueue
 * (gateway/outbound/enqueue.h) with the envelope sender rewritten to SRS0
 * at the domain (the null sender stays null; a sender too long for SRS
 * is kept, logged). cb gets status 0 only after every enqueue was
 * acknowledged by the log, so the SMTP 250 comes after it.
 *
 * ARC: the seal's ARC-Authentication-Results are the inbound check's
 * results (gateway/msgauth; "arc=none" when it did not run), and its cv=
 * the check's verdict on the incoming chain (RFC 8617 5.1.1: none for
 * i=1). A message with a chain that nobody verified (inbound.auth off) is
 * forwarded unsealed rather than sealed with a verdict nobody computed.
 *
 * The SRS secret: forward.srs_secret_file (config), read once at start.
 * Chosen over a directory record because a secret in the log would be in
 * every replica and backup of it forever; a file is what postsrsd and
 * Postfix do, and the operator copies the same file to every node. */
#ifndef EVM_FORWARD_H
#define EVM_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "common/address.h"
#include "gateway/node.h"
#include "gateway/outbound/enqueue.h"

#define FORWARD_MAX_TARGETS 100

struct forward_target {
	char addr[EVM_ADDRESS_MAX + 1];      /* the remote address */
	char domain[EVM_DOMAIN_MAX + 1];     /* ours: SRS domain, DKIM and ARC signer */
	char tenant[64];                     /* the domain's tenant (queue item) */
};


/* Reads forward.srs_secret_file when set. 0, or -1 with *error_r (an
 * unreadable file, a secret shorter than SRS_SECRET_MIN). */
int forward_node_init(const struct evm_config *cfg, const char **error_r);
/* 1 when a secret was loaded (forwarding on). */
int forward_enabled(void);
/* Forgets the secret (wiped). */
void forward_node_free(void);

/* srs_forward/srs_reverse (common/srs.h) with the loaded secret. */
int forward_srs_forward(const char *sender, const char *domain, int64_t now_s, char *out,
			const char **error_r);
int forward_srs_reverse(const char *address, int64_t now_s, char *out, const char **error_r);

/* See above. rcpt as given. 0: *targets_r (malloc'ed, may be NULL with
 * *n_r 0) and local_r (EVM_ADDRESS_MAX + 1: "" or the address to resolve
 * in place of rcpt); -1: refused, *reply_r a whole SMTP reply. now_s the
 * time for SRS ages. */
int forward_resolve(struct view *view, int64_t now_s, const char *rcpt,
		    struct forward_target **targets_r, size_t *n_r, char *local_r,
		    const char **reply_r);

struct forward_send_request {
	const char *mail_from;          /* "" = null sender */
	const char *received;           /* our trace field(s), CRLF-ended */
	const char *data;               /* the message as received */
	size_t len;
	const struct forward_target *targets;
	size_t ntargets;
	int smtputf8, body8bit;
	/* The inbound check's verdict (gateway/msgauth), NULL when none ran:
	 * auth_results becomes the ARC-Authentication-Results (RFC 8617
	 * 4.1.1), arc_cv the incoming chain's "pass" / "fail" / "none" for
	 * the seal's cv= (RFC 8617 5.1.1). */
	const char *auth_results;
	const char *arc_cv;
};

/* req->ntargets > 0. Copies what it needs; cb runs exactly once, later, on the loop (status
 * 0: every copy queued; id the first queue item). */
void forward_send(struct node *node, const struct forward_send_request *req, enqueue_done_cb *cb,
		  void *ctx);

#endif
