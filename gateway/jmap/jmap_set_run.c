/* jmap_set_run - see jmap_set_run.h. */
#include "gateway/jmap/jmap_set_run.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jmap_setrun {
	struct jmap_call *call;
	const struct jmap_set_ops *ops;
	void *ctx;
	struct jmap_set_args a;
	struct jmap_set_result r;
	char old_state[JMAP_STATE_MAX];
	json_t *creates;       /* creation ids in order */
	json_t *updates;       /* update keys as given */
	enum jmap_set_op op;   /* the phase */
	size_t next;           /* index in the phase's list */
	char key[256];         /* the object in progress (as given) */
	char id[256];          /* ... resolved */
	struct jmap_set_plan plan;
	int wrote;             /* some event of this method was accepted */
};

struct jmap_call *jmap_setrun_call(const struct jmap_setrun *sr)
{
	return sr->call;
}

void *jmap_setrun_ctx(const struct jmap_setrun *sr)
{
	return sr->ctx;
}

const struct jmap_set_args *jmap_setrun_args(const struct jmap_setrun *sr)
{
	return &sr->a;
}

struct jmap_set_result *jmap_setrun_result(struct jmap_setrun *sr)
{
	return &sr->r;
}

void jmap_setrun_fail(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *err)
{
	if (op == JMAP_OP_CREATE)
		jmap_set_not_created(&sr->r, key, err);
	else if (op == JMAP_OP_UPDATE)
		jmap_set_not_updated(&sr->r, key, err);
	else
		jmap_set_not_destroyed(&sr->r, key, err);
}

static void plan_clear(struct jmap_set_plan *p)
{
	json_decref(p->events);
	json_decref(p->note);
	free(p->blob);
	memset(p, 0, sizeof *p);
}

/* The default success record: the created object is the plan's note
 * (the server-set properties), an update has none, a destroy its id. */
static void record_done(struct jmap_setrun *sr, enum jmap_set_op op, const char *key,
			const struct jmap_set_plan *p)
{
	struct jmap_set_result *r = jmap_setrun_result(sr);

	if (op == JMAP_OP_CREATE)
		jmap_set_created(r, jmap_setrun_call(sr), key, json_incref(p->note));
	else if (op == JMAP_OP_UPDATE)
		jmap_set_updated(r, key, NULL);
	else
		jmap_set_destroyed(r, key);
}
/* The method is over (answered or failed): frees everything. */
static void setrun_free(struct jmap_setrun *sr)
{
	plan_clear(&sr->plan);
	jmap_set_result_free(&sr->r);
	jmap_set_args_free(&sr->a);
	json_decref(sr->creates);
	json_decref(sr->updates);
	if (sr->ops->free_ctx != NULL)
		sr->ops->free_ctx(sr->ctx);
	free(sr);
}

static void answer(struct jmap_setrun *sr)
{
	char state[JMAP_STATE_MAX];

	if (jmap_mail_state(sr->call, sr->ops->type, state) == 0) {
		json_t *resp = jmap_set_response(&sr->r, sr->a.account->id, sr->old_state, state);

		if (sr->ops->response_name != NULL) {
			jmap_call_add(sr->call, sr->ops->response_name, resp);
			jmap_call_done(sr->call);
		} else {
			jmap_call_reply(sr->call, resp);
		}
	}
	setrun_free(sr);
}

/* 1 when id is in the destroy list. */
static int destroying(const struct jmap_setrun *sr, const char *id)
{
	json_t *v;
	size_t i;

	json_array_foreach(sr->a.destroy, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

static void next_object(struct jmap_setrun *sr);

static void object_written(struct jmap_call *call, void *ctx, const struct jmap_wseq_end *end)
{
	struct jmap_setrun *sr = ctx;
	json_t *err = NULL;

	(void)call;
	if (json_array_size(end->results) > 0)
		sr->wrote = 1;
	if (end->status == JMAP_WSEQ_FAILED) {
		log_warn("jmap: %s on %s: %s", jmap_call_name(sr->call), sr->key, end->error);
		jmap_call_error(sr->call, sr->wrote ? "serverPartialFail" : "serverUnavailable",
				sr->wrote ? "a write failed after others were made: resynchronise"
					  : "the write could not be made, try again");
		setrun_free(sr);
		return;
	}
	if (end->status == JMAP_WSEQ_REJECTED) {
		if (sr->ops->rejected != NULL)
			err = sr->ops->rejected(sr, sr->op, end->code);
		if (err == NULL)
			err = jmap_set_error(jmap_wseq_set_error_type(end->code), NULL, NULL);
		jmap_setrun_fail(sr, sr->op, sr->key, err);
	} else if (sr->ops->done != NULL) {
		sr->ops->done(sr, sr->op, sr->op == JMAP_OP_UPDATE ? sr->id : sr->key, &sr->plan,
			      end->results);
	} else {
		record_done(sr, sr->op, sr->op == JMAP_OP_UPDATE ? sr->id : sr->key, &sr->plan);
	}
	plan_clear(&sr->plan);
	next_object(sr);
}

/* The next object's key and value in the current phase; 0 when the
 * phase is over. */
static int pick(struct jmap_setrun *sr, json_t **value_r)
{
	json_t *list = sr->op == JMAP_OP_CREATE ? sr->creates :
		       sr->op == JMAP_OP_UPDATE ? sr->updates : sr->a.destroy;
	const char *k = json_string_value(json_array_get(list, sr->next));

	if (k == NULL)
		return 0;
	sr->next++;
	snprintf(sr->key, sizeof sr->key, "%s", k);
	*value_r = sr->op == JMAP_OP_CREATE ? json_object_get(sr->a.create, k) :
		   sr->op == JMAP_OP_UPDATE ? json_object_get(sr->a.update, k) : NULL;
	return 1;
}

/* Plans and starts the next object, or answers when none is left. */
static void next_object(struct jmap_setrun *sr)
{
	json_t *value = NULL;
	const char *id;

	for (;;) {
		if (!pick(sr, &value)) {
			if (sr->op == JMAP_OP_DESTROY) {
				answer(sr);
				return;
			}
			sr->op = sr->op == JMAP_OP_CREATE ? JMAP_OP_UPDATE : JMAP_OP_DESTROY;
			sr->next = 0;
			continue;
		}
		snprintf(sr->id, sizeof sr->id, "%s", sr->key);
		if (sr->op == JMAP_OP_UPDATE) {
			/* RFC 8620 5.3: "#cid" names this request's creation. */
			if (!jmap_call_resolve_id(sr->call, sr->key, &id)) {
				jmap_setrun_fail(sr, sr->op, sr->key, jmap_set_error("notFound", NULL, NULL));
				continue;
			}
			snprintf(sr->id, sizeof sr->id, "%s", id);
			if (destroying(sr, sr->id)) {
				jmap_setrun_fail(sr, sr->op, sr->key, jmap_set_error("willDestroy", NULL, NULL));
				continue;
			}
		}
		if (sr->ops->plan(sr, sr->op, sr->id, value, &sr->plan) < 0) {
			plan_clear(&sr->plan);
			continue;
		}
		jmap_wseq_run(sr->call, sr->plan.events, sr->plan.blob_id, sr->plan.blob, sr->plan.blob_len,
			      object_written, sr);
		sr->plan.events = NULL;
		return;
	}
}

void jmap_setrun_start(struct jmap_call *call, const struct jmap_set_ops *ops, void *ctx,
		       struct jmap_set_args *a, const char *old_state, json_t *create_order)
{
	struct jmap_setrun *sr = xcalloc(1, sizeof *sr);
	const char *k;
	json_t *v;

	sr->call = call;
	sr->ops = ops;
	sr->ctx = ctx;
	sr->a = *a;
	memset(a, 0, sizeof *a);
	jmap_set_result_init(&sr->r);
	snprintf(sr->old_state, sizeof sr->old_state, "%s", old_state);
	sr->creates = create_order;
	if (sr->creates == NULL) {
		sr->creates = json_array();
		json_object_foreach(sr->a.create, k, v)
			json_array_append_new(sr->creates, json_string(k));
	}
	sr->updates = json_array();
	json_object_foreach(sr->a.update, k, v)
		json_array_append_new(sr->updates, json_string(k));
	sr->op = JMAP_OP_CREATE;
	next_object(sr);
}
