/* blobgc - see blobgc.h. */
#include "gateway/blobgc/blobgc.h"
#include "gateway/decider.h"
#include "common/ids.h"
#include "common/log.h"
#include "ingest/event.h"
#include "projector/blob_gc.h"
#include "projector/projector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One scan's decisions in flight. Outlives the collector when it is
 * stopped meanwhile (gc NULL): the last report frees it. */
struct round {
	struct blobgc *gc;
	struct blob_gc_cursor next;  /* the cursor once every decision is durable */
	int more;                    /* the window was not read to its end */
	size_t pending;              /* appends not reported yet */
	int failed;                  /* some blob.gc was not logged: read the window again */
	int64_t *last;               /* per blob partition: the highest offset appended, -1 */
	int32_t nparts;
};

/* The wait, after a round of a window not read to its end, for this
 * node's projector to apply the round's own appends:
 * only then the next round (decider_caught_up reads end offsets that are
 * refreshed now and then, so it cannot see our own appends). */
struct applied_wait {
	struct blobgc *gc;           /* NULL once the collector stopped */
	size_t pending;
};

struct blobgc {
	struct node *node;
	struct event *timer;
	struct event *soon;          /* the next round of a window not read to its end */
	struct round *round;         /* NULL when idle */
	struct applied_wait *wait;   /* NULL unless waiting for the last round's apply */
	struct blob_gc_cursor cursor;
	uint64_t scans, decisions, blobs, bytes, tombstones, failures;
	int64_t last_scan_ms;        /* wall clock of the last scan read to its end */
};

/* One blob.gc in flight: its tombstones follow once it is durable. */
struct decision {
	struct round *round;
	json_t *d;                   /* {blob_id, uploads, count, size, whole} */
};

static void round_report(struct round *r);

/* The rest of a window: a round once this one's decisions are applied
 * (blobgc_tick waits for the projector to catch up), checked every
 * BLOBGC_SOON_MS, so foreground events are applied between rounds. */
#define BLOBGC_SOON_MS 100
/* How long a round waits for its own appends to be applied here. */
#define BLOBGC_APPLY_WAIT_MS 120000
static void blobgc_soon(struct blobgc *gc)
{
	struct timeval tv = { 0, BLOBGC_SOON_MS * 1000 };

	event_add(gc->soon, &tv);
}

/* What a decision must have seen to its end: every reference and upload. */
static const char *const gc_topics[] = { "mail", "queue", "blob", NULL };

/* A tombstone's report. */
static void tombstone_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct round *r = ctx;

	if (status == 0 && partition >= 0 && partition < r->nparts && offset > r->last[partition])
		r->last[partition] = offset;
	if (r->gc != NULL) {
		if (status < 0) {
			/* The view has forgotten the upload; only the log keeps its
			 * chunk until a later tombstone of the same key. */
			log_warn("blob gc: a tombstone was not logged: %s", error);
			r->gc->failures++;
		} else {
			r->gc->tombstones++;
		}
	}
	round_report(r);
}

/* Appends a null value for every chunk key of the decision's uploads:
 * "<blob>/<upload>/<index>", or "<blob>/<index>" for upload "". */
static void tombstones_append(struct round *r, json_t *d, int32_t partition)
{
	const char *blob_id = json_string_value(json_object_get(d, "blob_id")), *error = NULL;
	json_int_t count = json_integer_value(json_object_get(d, "count"));
	json_t *u;
	size_t i;

	json_array_foreach(json_object_get(d, "uploads"), i, u) {
		const char *up = json_string_value(u);

		for (json_int_t k = 0; k < count; k++) {
			char key[256];

			if (up[0] == '\0')
				snprintf(key, sizeof key, "%s/%lld", blob_id, (long long)k);
			else
				snprintf(key, sizeof key, "%s/%s/%lld", blob_id, up, (long long)k);
			if (evlog_append(r->gc->node->log, EVM_TOPIC_BLOB, partition, key, strlen(key), NULL, 0,
					 tombstone_logged, r, &error) < 0) {
				log_warn("blob gc: tombstone of %s not appended: %s", key, error);
				r->gc->failures++;
				continue;
			}
			r->pending++;
		}
	}
}

/* The report of a blob.gc append. */
static void decision_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct decision *dc = ctx;
	struct round *r = dc->round;

	if (status == 0 && partition >= 0 && partition < r->nparts && offset > r->last[partition])
		r->last[partition] = offset;
	if (status < 0) {
		r->failed = 1;
		if (r->gc != NULL) {
			log_warn("blob gc: decision on %s not logged: %s",
				 json_string_value(json_object_get(dc->d, "blob_id")), error);
			r->gc->failures++;
		}
	} else if (r->gc != NULL) {
		r->gc->decisions++;
		if (json_is_true(json_object_get(dc->d, "whole"))) {
			r->gc->blobs++;
			r->gc->bytes += (uint64_t)json_integer_value(json_object_get(dc->d, "size"));
		}
		tombstones_append(r, dc->d, partition);
	}
	json_decref(dc->d);
	free(dc);
	round_report(r);
}

/* Appends one blob.gc; 0, or -1 when it could not be queued. */
static int decision_append(struct round *r, json_t *d)
{
	struct node *node = r->gc->node;
	const char *blob_id = json_string_value(json_object_get(d, "blob_id")), *error = NULL;
	int32_t parts = evlog_partitions(node->log, EVM_TOPIC_BLOB);
	struct decision *dc;
	struct evm_event ev;
	char key[256], *payload = NULL;
	size_t plen = 0;
	int ret;

	if (parts <= 0)
		return -1;
	if (evm_event_init(&ev, "blob.gc", "", "", "blobgc",
			   json_pack("{s:s, s:O}", "blob_id", blob_id, "uploads", json_object_get(d, "uploads")),
			   &error) < 0 ||
	    evm_event_encode(&ev, &payload, &plen, &error) < 0) {
		log_warn("blob gc: cannot encode a decision: %s", error);
		evm_event_clear(&ev);
		return -1;
	}
	/* A key of its own: compaction never drops a decision. */
	snprintf(key, sizeof key, "%s/gc/%s", blob_id, ev.id);
	evm_event_clear(&ev);
	dc = xcalloc(1, sizeof *dc);
	dc->round = r;
	dc->d = json_incref(d);
	ret = evlog_append(node->log, EVM_TOPIC_BLOB, evm_partition_for(blob_id, strlen(blob_id), parts),
			   key, strlen(key), payload, plen, decision_logged, dc, &error);
	free(payload);
	if (ret < 0) {
		log_warn("blob gc: decision on %s not appended: %s", blob_id, error);
		json_decref(dc->d);
		free(dc);
		return -1;
	}
	r->pending++;
	return 0;
}

/* One partition's appends applied (or the wait gave up): the last one
 * lets the next round go. */
static void round_applied(void *ctx, int status)
{
	struct applied_wait *w = ctx;

	(void)status;   /* a timeout: go on all the same, the round is durable */
	if (--w->pending > 0)
		return;
	if (w->gc != NULL) {
		w->gc->wait = NULL;
		blobgc_soon(w->gc);
	}
	free(w);
}

/* The rest of the window, once this node's projector applied the round. */
static void round_next_after_apply(struct blobgc *gc, struct round *r)
{
	struct applied_wait *w = xcalloc(1, sizeof *w);

	w->gc = gc;
	w->pending = 1;   /* our own, so no callback ends the wait inside the loop */
	gc->wait = w;
	for (int32_t i = 0; i < r->nparts; i++) {
		if (r->last[i] < 0)
			continue;
		w->pending++;
		projector_wait(gc->node->projector, EVM_TOPIC_BLOB, i, r->last[i], BLOBGC_APPLY_WAIT_MS,
			       round_applied, w, NULL);
	}
	round_applied(w, 0);
}

/* One report less; the last one ends the round. */
static void round_report(struct round *r)
{
	struct blobgc *gc = r->gc;

	if (--r->pending > 0)
		return;
	if (gc != NULL) {
		gc->round = NULL;
		if (!r->failed) {
			gc->cursor = r->next;
			if (!r->more)
				gc->last_scan_ms = evm_now_ms();
			else
				round_next_after_apply(gc, r);  /* the rest of the window */
		}
	}
	free(r->last);
	free(r);
}

/* One round: decide what may go now. continuing: the rest of a window
 * (blobgc_soon), which waits for the projector rather than the interval. */
static void blobgc_round(struct blobgc *gc, int continuing)
{
	struct node *node = gc->node;
	int64_t cutoff = evm_now_ms() - node->cfg->blob_gc_grace_s * 1000;
	json_t *decisions, *d;
	const char *error = NULL;
	struct round *r;
	size_t i;
	int st;

	if (gc->round != NULL || gc->wait != NULL || !decider_is_me(node))
		return;
	if (!decider_caught_up(node, gc_topics)) {
		/* A window in progress goes on once its last round is applied. */
		if (continuing)
			blobgc_soon(gc);
		return;
	}
	decisions = json_array();
	r = xcalloc(1, sizeof *r);
	r->gc = gc;
	r->nparts = evlog_partitions(node->log, EVM_TOPIC_BLOB);
	if (r->nparts < 0)
		r->nparts = 0;
	r->last = xmalloc(((size_t)r->nparts + 1) * sizeof *r->last);
	for (int32_t k = 0; k < r->nparts; k++)
		r->last[k] = -1;
	if ((st = blob_gc_scan(node->view, &gc->cursor, cutoff, decisions, &r->next, &error)) < 0) {
		log_error("blob gc: scan failed: %s", error);
		gc->failures++;
		json_decref(decisions);
		free(r->last);
		free(r);
		return;
	}
	gc->scans++;
	r->more = st == 0;
	/* One report of our own, so the round cannot end inside this loop. */
	r->pending = 1;
	gc->round = r;
	json_array_foreach(decisions, i, d) {
		if (decision_append(r, d) < 0) {
			r->failed = 1;
			gc->failures++;
		}
	}
	if (json_array_size(decisions) > 0)
		log_info("blob gc: %zu decisions (cutoff %lld)", json_array_size(decisions), (long long)cutoff);
	json_decref(decisions);
	round_report(r);
}

/* The interval timer. */
static void blobgc_tick(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	blobgc_round(ctx, 0);
}

/* The rest of a window. */
static void blobgc_soon_cb(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	blobgc_round(ctx, 1);
}

int blobgc_start(struct node *node, struct blobgc **gc_r, const char **error_r)
{
	struct blobgc *gc;
	struct timeval tv = { .tv_sec = node->cfg->blob_gc_interval_s };

	(void)error_r;
	*gc_r = NULL;
	if (node->cfg->blob_gc_interval_s == 0)
		return 0;
	gc = xcalloc(1, sizeof *gc);
	gc->node = node;
	gc->timer = event_new(node->base, -1, EV_PERSIST, blobgc_tick, gc);
	gc->soon = evtimer_new(node->base, blobgc_soon_cb, gc);
	event_add(gc->timer, &tv);
	*gc_r = gc;
	return 0;
}

void blobgc_stop(struct blobgc **gcp)
{
	struct blobgc *gc = *gcp;

	if (gc == NULL)
		return;
	if (gc->round != NULL)
		gc->round->gc = NULL;
	if (gc->wait != NULL)
		gc->wait->gc = NULL;
	event_free(gc->timer);
	event_free(gc->soon);
	free(gc);
	*gcp = NULL;
}

/* One counter line. */
static void counter(struct buf *out, const char *name, const char *help, uint64_t v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		   (unsigned long long)v);
}

void blobgc_metrics(struct blobgc *gc, struct buf *out)
{
	if (gc == NULL)
		return;
	counter(out, "evmail_blob_gc_scans_total", "Body GC scans of this node's view.", gc->scans);
	counter(out, "evmail_blob_gc_decisions_total", "blob.gc events this node logged.", gc->decisions);
	counter(out, "evmail_blob_gc_blobs_deleted_total",
		"Bodies whose every upload a logged decision named (their content goes).", gc->blobs);
	counter(out, "evmail_blob_gc_bytes_deleted_total", "Octets of those bodies.", gc->bytes);
	counter(out, "evmail_blob_gc_tombstones_total", "Chunk tombstones this node logged.", gc->tombstones);
	counter(out, "evmail_blob_gc_failures_total", "Decisions or tombstones not logged, failed scans.",
		gc->failures);
	buf_printf(out, "# HELP evmail_blob_gc_last_scan_seconds When the last complete scan ended (unix time).\n"
		   "# TYPE evmail_blob_gc_last_scan_seconds gauge\nevmail_blob_gc_last_scan_seconds %lld\n",
		   (long long)(gc->last_scan_ms / 1000));
}
