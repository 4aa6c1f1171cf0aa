/* applier - how an event type changes the view.
 *
 * An applier is a pure function of (the view as of the previous event, the
 * event): no wall clock, no randomness, no node identity, no hash-table
 * iteration order. It reads and writes only through ctx->batch. It decides
 * the command's outcome:
 *   APPLY_ACCEPTED  the change is written; ctx->result may carry data for
 *                   the writer (e.g. assigned UIDs);
 *   APPLY_REJECTED  a precondition failed: nothing is written, the reason
 *                   goes to the outcome (apply_reject);
 *   APPLY_FAILED    the view itself failed (I/O): the projector stops the
 *                   batch without committing and retries; never used for
 *                   bad input.
 * Malformed data (a field missing or of the wrong type) is a rejection with
 * code "invalid", identical on every node. */
#ifndef EVM_APPLIER_H
#define EVM_APPLIER_H

#include <jansson.h>

#include "ingest/event.h"
#include "ingest/evlog.h"
#include "projector/view.h"

enum apply_status { APPLY_FAILED = -1, APPLY_ACCEPTED = 0, APPLY_REJECTED = 1 };

struct apply_ctx {
	struct view_batch *batch;
	const struct evm_event *ev;
	enum evm_topic_id topic;
	int32_t partition;
	int64_t offset;
	json_t *result;            /* object, owned by the projector */
	const char *reject_code;   /* set by apply_reject */
	char reject_reason[256];
	json_t *changed;           /* array of account ids changed (for push) */
	/* mail.tombstone_days in ms: the mail appliers prune expunge tombstones
	 * and destroyed JMAP entries older than ev->ts minus this (mail_prune.c);
	 * 0 = never. An input of every applier, the same on every node. */
	int64_t tombstone_ms;
	/* blob.store = log: blob.chunk records where each chunk is in the log
	 * and drops the bytes once the blob is complete (blob_chunk.c). An
	 * input of the appliers, stamped in the view (projector_format.c). */
	int blob_log;
};

typedef enum apply_status applier_fn(struct apply_ctx *ctx, const char **error_r);

struct applier {
	const char *type;
	enum evm_topic_id topic;
	applier_fn *apply;
};

/* Records a rejection; returns APPLY_REJECTED so an applier can
 * `return apply_reject(ctx, "exists", "tenant %s exists", name);`.
 * Codes: invalid, exists, not-found, not-empty, forbidden, conflict, quota. */
enum apply_status apply_reject(struct apply_ctx *ctx, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Notes that an account's data changed (subscribers are told after commit). */
void apply_changed(struct apply_ctx *ctx, const char *account);

/* The registry: every applier of every aggregate, looked up by type.
 * NULL when the type is unknown. */
const struct applier *applier_find(const char *type);

/* Per-aggregate tables, terminated by { NULL }. */
extern const struct applier directory_appliers[];
extern const struct applier mail_appliers[];
extern const struct applier blob_appliers[];
extern const struct applier queue_appliers[];

#endif
