/* jmap_ws_push - push on a JMAP WebSocket (RFC 8887 4.3.5): StateChange
 * objects with a pushState from this node's projector (jmap_ws.h), the
 * accounts shared with the user included (jmap_shared_push.h). */
#include "gateway/jmap/jmap_ws_private.h"
#include "gateway/jmap/jmap_push.h"
#include "gateway/jmap/jmap_shared_push.h"
#include "gateway/http/http_ws.h"
#include "projector/projector.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* pushState (RFC 8887 4.3.5.1): every type's state, "<m>.<e>.<t>". */
static void push_state_string(const int64_t now[MAIL_J_TYPES], char *out, size_t size)
{
	snprintf(out, size, "%" PRId64 ".%" PRId64 ".%" PRId64, now[MAIL_J_MAILBOX], now[MAIL_J_EMAIL],
		 now[MAIL_J_THREAD]);
}

/* 0 with the states of a pushState of ours, -1 for anything else. */
static int push_state_parse(const char *s, int64_t states[MAIL_J_TYPES])
{
	const char *p = s;

	for (int t = 0; t < MAIL_J_TYPES; t++) {
		char *end;
		long long v;

		if (*p < '0' || *p > '9')
			return -1;
		v = strtoll(p, &end, 10);
		if (v < 0 || v == LLONG_MAX || *end != (t + 1 < MAIL_J_TYPES ? '.' : '\0'))
			return -1;
		states[t] = v;
		p = end + 1;
	}
	return 0;
}

/* A StateChange of the enabled types that moved, unless the output is
 * congested (then once it drains: the states coalesce). */
void jmap_ws_push_now(struct ws_conn *wc)
{
	int64_t now[MAIL_J_TYPES];
	char ps[96];
	json_t *change;

	if (wc->ws == NULL || wc->owner == NULL || wc->push_types == 0)
		return;
	if (http_ws_congested(wc->ws)) {
		wc->push_pending = 1;
		return;
	}
	wc->push_pending = 0;
	if (jmap_push_states(wc->owner->node->view, wc->mreq->address, now) < 0)
		return;
	change = jmap_push_state_change(wc->mreq->account_id, wc->push_types, now, wc->last, 0);
	if (wc->shared != NULL)
		change = jmap_shared_push_join(wc->shared, change, 0);
	if (change == NULL)
		return;
	push_state_string(now, ps, sizeof ps);
	json_object_set_new(change, "pushState", json_string(ps));
	jmap_ws_send_json(wc, change);
	json_decref(change);
}

static void on_change(void *ctx, const char *account)
{
	(void)account;
	jmap_ws_push_now(ctx);
}

void jmap_ws_push_enable(struct ws_conn *wc, json_t *msg, const char *id)
{
	json_t *types = json_object_get(msg, "dataTypes"), *ps = json_object_get(msg, "pushState"), *v;
	unsigned mask = 0;
	size_t i;
	int64_t now[MAIL_J_TYPES];

	if (types == NULL || json_is_null(types)) {
		mask = JMAP_PUSH_ALL;
	} else if (json_is_array(types)) {
		json_array_foreach(types, i, v) {
			if (!json_is_string(v)) {
				jmap_ws_request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "dataTypes must be type names");
				return;
			}
			mask |= jmap_push_type_bit(json_string_value(v));
		}
	} else {
		jmap_ws_request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "dataTypes must be an array or null");
		return;
	}
	if (ps != NULL && !json_is_string(ps) && !json_is_null(ps)) {
		jmap_ws_request_error(wc, id, JMAP_PROBLEM_NOT_REQUEST, NULL, "pushState must be a string");
		return;
	}
	/* Subscribe before reading the states, so no change falls between. */
	if (wc->sub == NULL)
		wc->sub = projector_subscribe(wc->owner->node->projector, wc->mreq->address, on_change, wc);
	wc->push_types = mask;
	jmap_shared_push_free(&wc->shared);
	wc->shared = jmap_shared_push_new(wc->mreq, mask, !json_is_string(ps), on_change, wc);
	if (jmap_push_states(wc->owner->node->view, wc->mreq->address, now) < 0)
		return;
	if (!json_is_string(ps)) {
		memcpy(wc->last, now, sizeof now);   /* from now on */
		return;
	}
	/* The changes since the client's pushState; one not of ours (or from
	 * another server) gets every enabled type's state. */
	if (push_state_parse(json_string_value(ps), wc->last) < 0)
		for (int t = 0; t < MAIL_J_TYPES; t++)
			wc->last[t] = -1;
	jmap_ws_push_now(wc);
}

void jmap_ws_push_disable(struct ws_conn *wc)
{
	projector_unsubscribe(&wc->sub);
	jmap_shared_push_free(&wc->shared);
	wc->push_types = 0;
	wc->push_pending = 0;
}
