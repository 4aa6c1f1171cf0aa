/* test_apply - for the appliers' unit tests: one event through its
 * applier in its own committed batch, as the projector would, with the
 * checks every applier owes (a rejection writes nothing; optionally, an
 * accepted mail event that wrote names its account). Header-only: each
 * test includes it once. */
#ifndef EVM_TEST_APPLY_H
#define EVM_TEST_APPLY_H

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest/event.h"
#include "projector/applier.h"
#include "projector/view.h"

struct apply_env {
	int64_t *offset;        /* the next event's offset (also its id and time); incremented */
	uint64_t id_base;       /* event ids are id_base + offset, 32 hex digits */
	const char *tenant;     /* the envelope's tenant */
	int check_changed;      /* an accepted mail event that wrote must name one account */
	json_t *result;         /* the last accepted event's outcome (owned; NULL after a rejection) */
	char reason[256];       /* the last rejection's reason */
};

/* For the tests that set them: the next events' time (0: 1700000000000 +
 * the offset) and the pruning horizon (apply_ctx.tombstone_ms; 0: none). */
__attribute__((unused)) static int64_t apply_ts, apply_tombstone_ms;
/* apply_ctx.blob_log for the next events (blob.store = log). */
__attribute__((unused)) static int apply_blob_log;

/* Applies one event (data stolen) to v. Returns "accepted" or the
 * rejection code; aborts when the applier fails or breaks a rule. */
__attribute__((unused)) static const char *apply_event(struct apply_env *e, struct view *v, const char *type,
							  const char *account, json_t *data)
{
	static char code[32];
	const struct applier *a = applier_find(type);
	struct evm_event ev;
	struct apply_ctx ctx;
	struct view_batch *b;
	const char *error = NULL;
	enum apply_status st;
	size_t before;

	if (a == NULL || evm_event_init(&ev, type, e->tenant, account, "test", data, &error) < 0) {
		fprintf(stderr, "cannot make event %s: %s\n", type, error ? error : "no applier");
		abort();
	}
	snprintf(ev.id, sizeof ev.id, "%032" PRIx64, (uint64_t)*e->offset + e->id_base);
	ev.ts = apply_ts != 0 ? apply_ts : 1700000000000 + *e->offset;
	memset(&ctx, 0, sizeof ctx);
	ctx.tombstone_ms = apply_tombstone_ms;
	ctx.blob_log = apply_blob_log;
	b = view_batch_begin(v);
	ctx.batch = b;
	ctx.ev = &ev;
	ctx.topic = a->topic;
	ctx.offset = (*e->offset)++;
	ctx.result = json_object();
	ctx.changed = json_array();
	before = view_batch_count(b);
	st = a->apply(&ctx, &error);
	if (st == APPLY_FAILED) {
		fprintf(stderr, "%s failed: %s\n", type, error);
		abort();
	}
	json_decref(e->result);
	e->result = NULL;
	if (st == APPLY_REJECTED) {
		if (view_batch_count(b) != before) {
			fprintf(stderr, "%s was rejected but wrote to the batch\n", type);
			abort();
		}
		snprintf(code, sizeof code, "%s", ctx.reject_code ? ctx.reject_code : "(none)");
		snprintf(e->reason, sizeof e->reason, "%s", ctx.reject_reason);
		json_decref(ctx.result);
	} else {
		snprintf(code, sizeof code, "accepted");
		e->result = ctx.result;
		if (e->check_changed && view_batch_count(b) > before && a->topic == EVM_TOPIC_MAIL &&
		    json_array_size(ctx.changed) != 1) {
			fprintf(stderr, "%s changed the view but told no subscriber\n", type);
			abort();
		}
	}
	json_decref(ctx.changed);
	if (view_batch_commit(&b, &error) < 0) {
		fprintf(stderr, "commit: %s\n", error);
		abort();
	}
	evm_event_clear(&ev);
	return code;
}

#endif
