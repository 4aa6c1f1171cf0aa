/* projector_apply - one log record into the current batch: decode,
 * recognise duplicates, run the applier, record the outcome. */
#include "projector/projector_internal.h"
#include "projector/projector_view.h"
#include "projector/keys.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string member, or a fixed text when s is not valid UTF-8 (a reason
 * cut inside a multi-byte character by its buffer). */
static void set_text(json_t *o, const char *field, const char *s)
{
	json_t *v = json_string(s);

	json_object_set_new(o, field, v != NULL ? v : json_string("(not valid UTF-8)"));
}

/* Writes the outcome of one event under ev/<id>: an accepted one through
 * proj_outcome_accepted, the same bytes as this jansson path. */
static void put_outcome(struct proj_batch *b, const struct apply_ctx *ctx, enum apply_status st)
{
	char key[sizeof KEY_EVENT + EVM_ID_HEX_LEN];
	struct buf out = BUF_INIT;
	json_t *o;
	char *s;

	snprintf(key, sizeof key, "%s%s", KEY_EVENT, ctx->ev->id);
	proj_seen_add(b->p, ctx->ev->id);
	if (st == APPLY_ACCEPTED && proj_outcome_accepted(ctx, &out) == 0) {
		view_batch_put(b->vb, key, strlen(key), out.data, out.len);
		buf_free(&out);
		return;
	}
	o = json_object();
	if (st == APPLY_ACCEPTED)
		json_object_update(o, ctx->result);
	json_object_set_new(o, "status", json_string(st == APPLY_ACCEPTED ? "accepted" : "rejected"));
	if (st == APPLY_REJECTED) {
		set_text(o, "code", ctx->reject_code != NULL ? ctx->reject_code : "rejected");
		set_text(o, "reason", ctx->reject_reason);
	}
	json_object_set_new(o, "topic", json_string(evm_topics[ctx->topic].suffix));
	json_object_set_new(o, "partition", json_integer(ctx->partition));
	json_object_set_new(o, "offset", json_integer(ctx->offset));
	/* Sorted keys: the stored bytes must be identical on every node. */
	s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	if (s == NULL)
		log_panic("projector: cannot encode an outcome");
	view_batch_put(b->vb, key, strlen(key), s, strlen(s));
	free(s);
	json_decref(o);
}

/* Adds the accounts an accepted event changed to the batch's set (a JSON
 * object used as a set: linear in the batch size). */
static void merge_changed(struct proj_batch *b, json_t *changed)
{
	size_t i;
	json_t *v;

	json_array_foreach(changed, i, v)
		json_object_set_new(b->changed, json_string_value(v), json_true());
}

/* Runs the event's applier inside a save point, so a rejection leaves no
 * partial writes in the shared batch. */
static enum apply_status run_applier(struct proj_batch *b, struct apply_ctx *ctx,
				     const struct evlog_record *rec, const char **error_r)
{
	const struct applier *a = applier_find(ctx->ev->type);
	enum apply_status st;

	if (a == NULL) {
		log_warn("projector: %s/%d@%lld: unknown event type %s (event %s), rejected",
			 evm_topics[rec->topic].suffix, (int)rec->partition, (long long)rec->offset,
			 ctx->ev->type, ctx->ev->id);
		return apply_reject(ctx, "unknown-type", "unknown event type %s", ctx->ev->type);
	}
	if (a->topic != rec->topic)
		return apply_reject(ctx, "invalid", "event type %s does not belong on topic %s",
				    ctx->ev->type, evm_topics[rec->topic].suffix);
	view_batch_savepoint(b->vb);
	*error_r = NULL;
	st = a->apply(ctx, error_r);
	if (st == APPLY_FAILED) {
		if (*error_r == NULL)
			*error_r = "applier failed";
		return APPLY_FAILED;
	}
	if (st == APPLY_REJECTED && view_batch_rollback(b->vb, error_r) < 0)
		return APPLY_FAILED;
	return st;
}

/* A decoded event of a projected topic (every one but cluster); a sealed
 * one is opened first (projector_sealed.c). */
static int apply_event(struct proj_batch *b, const struct evlog_record *rec,
		       struct evm_event *ev, const char **error_r)
{
	char key[sizeof KEY_EVENT + EVM_ID_HEX_LEN];
	struct apply_ctx ctx = {
		.batch = b->vb, .ev = ev, .topic = rec->topic,
		.partition = rec->partition, .offset = rec->offset,
		.tombstone_ms = b->p->cfg->mail_tombstone_ms,
		.blob_log = config_blob_store_log(b->p->cfg),
	};
	enum apply_status st;
	char *val = NULL;
	int ret;

	snprintf(key, sizeof key, "%s%s", KEY_EVENT, ev->id);
	/* In a bulk apply, an id never written is not looked up. */
	ret = 0;
	if (proj_seen_maybe(b->p, ev->id))
		ret = view_batch_get(b->vb, key, strlen(key), &val, NULL, error_r);
	if (ret < 0)
		return -1;
	if (ret > 0) {
		free(val);
		b->delta.duplicates++;
		log_debug("projector: %s/%d@%lld: event %s already applied, skipped",
			  evm_topics[rec->topic].suffix, (int)rec->partition,
			  (long long)rec->offset, ev->id);
		return 0;
	}
	ctx.result = json_object();
	ctx.changed = json_array();
	ret = proj_open_sealed(b, &ctx, rec, ev, &st, error_r);
	if (ret == 0)
		st = run_applier(b, &ctx, rec, error_r);
	else if (ret < 0)
		st = APPLY_FAILED;
	if (st != APPLY_FAILED) {
		put_outcome(b, &ctx, st);
		b->delta.applied++;
		if (st == APPLY_REJECTED)
			b->delta.rejected++;
		else
			merge_changed(b, ctx.changed);
	}
	json_decref(ctx.result);
	json_decref(ctx.changed);
	return st == APPLY_FAILED ? -1 : 0;
}

/* Applies one polled record into the batch; -1 drops the whole batch. */
int proj_apply_record(struct projector *p, struct proj_batch *b,
		      const struct evlog_record *rec, const char **error_r)
{
	int idx = proj_part_index(p, rec->topic, rec->partition);
	const char *reason = NULL;
	struct evm_event ev;
	int ret = 0;

	if (idx < 0) {
		log_warn("projector: record from unassigned partition %s/%d ignored",
			 evm_topics[rec->topic].suffix, (int)rec->partition);
		return 0;
	}
	if (rec->offset < b->next[idx])
		return 0;  /* delivered again by the backend: already applied */
	b->records++;
	b->next[idx] = rec->offset + 1;
	/* A Kafka tombstone (null value; empty on the embedded log) of a
	 * collected chunk key (projector/blob_gc.h) or of an erased account's
	 * account.key record (projector/keyring.h): not an event. */
	if ((rec->topic == EVM_TOPIC_BLOB || rec->topic == EVM_TOPIC_DIRECTORY) && rec->value_len == 0)
		return 0;
	if (evm_event_decode(rec->value, rec->value_len, &ev, &reason) < 0) {
		log_warn("projector: %s/%d@%lld does not decode, skipped: %s",
			 evm_topics[rec->topic].suffix, (int)rec->partition,
			 (long long)rec->offset, reason);
		if (rec->topic == EVM_TOPIC_CLUSTER) {
			pthread_mutex_lock(&p->mu);
			p->cluster_decode_errors++;
			pthread_mutex_unlock(&p->mu);
		} else {
			b->delta.decode_errors++;
		}
		return 0;
	}
	if (rec->topic == EVM_TOPIC_CLUSTER) {
		if (strcmp(ev.type, HEARTBEAT_TYPE) == 0)
			proj_node_heartbeat(p, &ev, rec);
		else
			log_debug("projector: cluster record of type %s ignored", ev.type);
	} else {
		ret = apply_event(b, rec, &ev, error_r);
		if (ret < 0 && b->dir_behind) {
			/* Not applied: the poll stops here and the record comes
			 * again after the directory catch-up. */
			b->records--;
			b->next[idx] = rec->offset;
		}
	}
	evm_event_clear(&ev);
	return ret;
}
