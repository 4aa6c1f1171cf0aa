/* jmap_write_seq - the mail events of one /set object, one after another
 * (Mailbox/set, Email/set): each is appended through jmap_mail_submit and
 * the next starts only once the local projector applied the one before,
 * so a later event is planned against, and sees, the earlier ones'
 * effects, and IMAP sees each of them like its own commands'. An optional
 * body is first stored as a blob (gateway/deliver_blob.h) before any
 * event that references it.
 *
 * The first rejection or failure stops the sequence: what was accepted
 * before it stays (events are the unit of atomicity, as in IMAP).
 *
 * Asynchrony: jmap_wseq_run() always calls back exactly once, later, on
 * the loop (also for an empty sequence), never inside the call. */
#ifndef EVM_JMAP_WRITE_SEQ_H
#define EVM_JMAP_WRITE_SEQ_H

#include <jansson.h>
#include <stddef.h>

#include "gateway/jmap/jmap_mail.h"

enum jmap_wseq_status {
	JMAP_WSEQ_ACCEPTED,   /* every event was accepted */
	JMAP_WSEQ_REJECTED,   /* event `index` was rejected with code, reason */
	JMAP_WSEQ_FAILED,     /* the blob or event `index` was not logged, or its fate is unknown */
};

struct jmap_wseq_end {
	enum jmap_wseq_status status;
	size_t index;          /* the event that stopped it */
	const char *code;      /* the projector's rejection code ("exists", "quota", ...) */
	const char *reason;    /* its reason (internal ids: not for clients) */
	const char *error;     /* the failure */
	json_t *results;       /* outcomes of the accepted events, in order (borrowed) */
};

typedef void jmap_wseq_cb(struct jmap_call *call, void *ctx, const struct jmap_wseq_end *end);

/* Runs events ([[type, data]...], stolen) of the call's account in order,
 * after storing blob[blob_len] (copied; NULL: none) as blob blob_id. */
void jmap_wseq_run(struct jmap_call *call, json_t *events, const char *blob_id, const void *blob,
		   size_t blob_len, jmap_wseq_cb *cb, void *ctx);

/* The SetError type of a rejection code (RFC 8620 5.3, RFC 8621 2.5):
 * not-found -> notFound, quota -> overQuota, exists -> alreadyExists,
 * forbidden -> forbidden, not-empty -> mailboxHasChild, anything else
 * invalidProperties. */
const char *jmap_wseq_set_error_type(const char *code);

#endif
