/* jmap_write_seq - see jmap_write_seq.h. */
#include "gateway/jmap/jmap_write_seq.h"
#include "gateway/deliver_blob.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

struct wseq {
	struct jmap_call *call;
	json_t *events;
	json_t *results;
	size_t next;
	jmap_wseq_cb *cb;
	void *ctx;
};

/* The end: calls back and frees the sequence. */
static void finish(struct wseq *w, struct jmap_wseq_end *end)
{
	end->results = w->results;
	w->cb(w->call, w->ctx, end);
	json_decref(w->events);
	json_decref(w->results);
	free(w);
}

static void step(struct wseq *w);

static void event_done(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct wseq *w = ctx;
	struct jmap_wseq_end end = { .index = w->next };
	const char *st = json_string_value(json_object_get(outcome, "status"));

	(void)call;
	if (status < 0) {
		end.status = JMAP_WSEQ_FAILED;
		end.error = error != NULL ? error : "the write failed";
		finish(w, &end);
		return;
	}
	if (st == NULL || strcmp(st, "accepted") != 0) {
		end.status = JMAP_WSEQ_REJECTED;
		end.code = json_string_value(json_object_get(outcome, "code"));
		end.reason = json_string_value(json_object_get(outcome, "reason"));
		if (end.code == NULL)
			end.code = "rejected";
		if (end.reason == NULL)
			end.reason = "";
		finish(w, &end);
		return;
	}
	json_array_append(w->results, outcome);
	w->next++;
	step(w);
}

/* Submits the next event, or ends once none is left. */
static void step(struct wseq *w)
{
	json_t *ev = json_array_get(w->events, w->next);
	struct jmap_wseq_end end = { .status = JMAP_WSEQ_ACCEPTED, .index = w->next };

	if (ev == NULL) {
		finish(w, &end);
		return;
	}
	jmap_mail_submit(w->call, json_string_value(json_array_get(ev, 0)),
			 json_incref(json_array_get(ev, 1)), event_done, w);
}

static void blob_done(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct wseq *w = ctx;
	struct jmap_wseq_end end = { .status = JMAP_WSEQ_FAILED, .index = 0 };

	(void)partition;
	(void)offset;
	if (status < 0) {
		end.error = error != NULL ? error : "the blob was not stored";
		finish(w, &end);
		return;
	}
	step(w);
}

/* An empty sequence still answers on a later turn of the loop. */
static void empty_done(evutil_socket_t fd, short what, void *ctx)
{
	struct jmap_wseq_end end = { .status = JMAP_WSEQ_ACCEPTED };

	(void)fd;
	(void)what;
	finish(ctx, &end);
}

void jmap_wseq_run(struct jmap_call *call, json_t *events, const char *blob_id, const void *blob,
		   size_t blob_len, jmap_wseq_cb *cb, void *ctx)
{
	struct wseq *w = xcalloc(1, sizeof *w);
	struct jmap_mail_req *req = jmap_mail_req(call);

	w->call = call;
	w->events = events != NULL ? events : json_array();
	w->results = json_array();
	w->cb = cb;
	w->ctx = ctx;
	if (blob != NULL && blob_len > 0) {
		deliver_blob_store(req->node, req->actor, jmap_mail_address(call), blob_id, blob, blob_len,
				   blob_done, w);
		return;
	}
	if (json_array_size(w->events) == 0) {
		event_base_once(jmap_call_base(call), -1, EV_TIMEOUT, empty_done, w, NULL);
		return;
	}
	/* jmap_mail_submit never calls back inside the call. */
	step(w);
}

const char *jmap_wseq_set_error_type(const char *code)
{
	static const struct {
		const char *code, *type;
	} map[] = {
		{ "not-found", "notFound" },      { "quota", "overQuota" },
		{ "exists", "alreadyExists" },    { "forbidden", "forbidden" },
		{ "not-empty", "mailboxHasChild" },
	};

	for (size_t i = 0; code != NULL && i < sizeof map / sizeof map[0]; i++) {
		if (strcmp(code, map[i].code) == 0)
			return map[i].type;
	}
	return "invalidProperties";
}
