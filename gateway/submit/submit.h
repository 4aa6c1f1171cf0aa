/* submit - the core of message submission, shared by SMTP submission
 * (RFC 6409, gateway/smtp/smtp_submit.c) and JMAP EmailSubmission
 * (RFC 8621 7): who may send as whom (the From: field), the fields an MSA
 * adds, DKIM signatures with every key of the From: domain, then local
 * recipients delivered as inbound mail and remote ones put in the
 * outbound queue, with one result. A protocol only frames the request
 * and says the result in its own words.
 *
 * Nothing is reported sent before the log acknowledged it: the result
 * comes after both halves answered (deliver.h, outbound/enqueue.h). */
#ifndef EVM_SUBMIT_H
#define EVM_SUBMIT_H

#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "gateway/deliver.h"
#include "gateway/node.h"
#include "gateway/outbound/enqueue.h"

/* The directory lookups the checks need: the node's in the server
 * (submit_node_lookups), fakes in tests. */
struct submit_lookups {
	/* 1 when account may send as address (the account itself, or an alias
	 * whose targets include it), 0 when not, -1 on a lookup error. */
	int (*sender_allowed)(void *ctx, const char *account, const char *address);
	/* The DKIM keys of domain with their private keys
	 * (directory_dkim_keys form, new reference), or NULL when none. */
	json_t *(*dkim_keys)(void *ctx, const char *domain);
	void *ctx;
};

/* The node's directory as submit_lookups (ctx = node). */
void submit_node_lookups(struct node *node, struct submit_lookups *l);
int submit_node_sender_allowed(void *node, const char *account, const char *address);
json_t *submit_node_dkim_keys(void *node, const char *domain);

/* ---- the message (submit_msg.c) ---- */

/* Length of the header block through its empty line, or len when the
 * message has no body. */
size_t submit_header_len(const char *data, size_t len);
/* Header fields called name (case-insensitive) in the block. */
unsigned submit_count_fields(const char *hdr, size_t len, const char *name);
/* RFC 6409 8.1-ish: exactly one From: field, every address of it one the
 * account may use. NULL when allowed (*domain_r: the first address's
 * domain in lower case, malloc'ed), else an SMTP reply for the refusal
 * ("553 5.7.1 ..."); *temp_r 1 when it is a temporary failure (451). */
const char *submit_check_from(const struct submit_lookups *l, const char *account, const char *hdr,
			      size_t hlen, char **domain_r, int *temp_r);
/* RFC 6409 8.2, 8.3: the message with Message-ID (@hostname) and Date
 * added on top when it has none, into out. */
void submit_fix_message(const char *data, size_t len, const char *hostname, struct buf *out);
/* RFC 8463 5: a DKIM-Signature for each key of domain, prepended to msg
 * (one per algorithm, verified independently). who names the submitter
 * in logs. */
void submit_dkim_sign(const struct submit_lookups *l, const char *domain, struct buf *msg,
		      const char *who);
/* An RFC 5322 date-time of now (UTC). */
void submit_rfc5322_date(char *out, size_t size);
/* 1 when data has an octet >= 0x80. */
int submit_has_8bit(const char *data, size_t len);

/* ---- sending (submit_send.c) ---- */

/* What the two halves use: the node's deliver_message and
 * outbound_enqueue in the server, fakes in tests. */
struct submit_ops {
	void (*deliver)(void *ctx, const struct deliver_request *req, deliver_done_cb *cb, void *cb_ctx);
	void (*enqueue)(void *ctx, const struct enqueue_request *req, enqueue_done_cb *cb, void *cb_ctx);
	void *ctx;
};

/* One remote recipient and its RFC 3461 parameters. */
struct submit_send_request {
	const char *actor;                       /* "submission", "jmap" */
	const char *tenant, *account;            /* the submitter */
	const char *mail_from;                   /* reverse path */
	const char *received;                    /* trace field(s) for both halves, CRLF-ended */
	const char *data;                        /* the final (fixed, signed) message */
	size_t len;
	const struct deliver_target *targets;    /* local recipients, resolved */
	size_t ntargets;
	const struct outbound_rcpt *remote;      /* remote recipients */
	size_t nremote;
	json_t *dsn;                             /* deliver_request dsn form, or NULL */
	int smtputf8, body8bit, requiretls;
};

struct submit_result {
	int ok;                       /* every half that had recipients succeeded */
	int local_ok;                 /* some local target stored it */
	int queue_ok;
	int storage_full;             /* a half failed for the log's storage */
	int have_local_first;         /* local_first holds a well-formed result */
	struct deliver_result local_first;
	char queue_id[40];            /* the queue item, "" when none */
};

/* cb runs exactly once, later, on the loop, never inside submit_send. */
typedef void submit_done_cb(void *ctx, const struct submit_result *r);
void submit_send(const struct submit_ops *ops, const struct submit_send_request *req,
		 submit_done_cb *cb, void *ctx);
/* The node's deliver_message and outbound_enqueue (ctx = node). */
void submit_node_ops(struct node *node, struct submit_ops *ops);

#endif
