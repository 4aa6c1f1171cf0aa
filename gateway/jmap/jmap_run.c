/* jmap_run - one API request through the engine (RFC 8620 3.3-3.4): the
 * method calls one after another, each finished by its handler now or
 * later, then the Response object, handed over on a later loop turn. */
#include "gateway/jmap/jmap_api.h"
#include "gateway/jmap/jmap_private.h"
#include "gateway/jmap/jmap_resultref.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Frees a run whose callback ran or was cancelled, giving back its place. */
static void run_free(struct jmap_run *run)
{
	struct jmap_api *api = run->api;

	if (run->counted) {
		json_int_t n = json_integer_value(json_object_get(api->active, run->username)) - 1;

		if (n > 0)
			json_object_set_new(api->active, run->username, json_integer(n));
		else
			json_object_del(api->active, run->username);
	}
	if (run->done_ev != NULL)
		event_free(run->done_ev);
	jmap_request_free(&run->req);
	json_decref(run->responses);
	json_decref(run->created_ids);
	json_decref(run->body);
	jmap_user_free(&run->user);
	free(run->session_state);
	free(run);
}

/* The loop turn after the result is known: the callback, then the end. */
static void run_deliver(evutil_socket_t fd, short what, void *arg)
{
	struct jmap_run *run = arg;

	run->cb(run->cb_arg, run->status, run->body);
	run_free(run);
}

/* Schedules the callback for the next loop turn (never inside the call
 * that started the run, STYLE.md "Asynchrony"). */
static void run_finish(struct jmap_run *run, int status, json_t *body)
{
	run->status = status;
	run->body = body;
	run->done_ev = event_new(run->api->base, -1, 0, run_deliver, run);
	if (run->done_ev == NULL)
		log_panic("jmap: event_new failed");
	event_active(run->done_ev, EV_TIMEOUT, 1);
}

/* The Response object (RFC 8620 3.4): createdIds only when the request had it. */
static void run_respond(struct jmap_run *run)
{
	json_t *resp = json_object();

	json_object_set(resp, "methodResponses", run->responses);
	json_object_set_new(resp, "sessionState", jmap_json_text(run->session_state));

	if (run->req->created_ids != NULL)
		json_object_set(resp, "createdIds", run->created_ids);
	run_finish(run, 200, resp);
}

/* An error response for the call at hand, which never reached a handler. */
static void call_fail(struct jmap_run *run, const char *type, const char *description)
{
	json_t *err = json_pack("{s:s}", "type", type);

	if (description != NULL)
		json_object_set_new(err, "description", jmap_json_text(description));
	json_array_append_new(run->responses, json_pack("[s, o, s]", "error", err, run->call.id));
}

/* The registered method of name, or NULL. */
static const struct jmap_method *find_method(const struct jmap_api *api, const char *name)
{
	for (size_t i = 0; i < api->nmethods; i++) {
		if (strcmp(api->methods[i].name, name) == 0)
			return &api->methods[i];
	}
	return NULL;
}

/* 1 when the request lists capability in "using" (RFC 8620 3.3). */
static int request_uses(const struct jmap_request *req, const char *capability)
{
	json_t *v;
	size_t i;

	json_array_foreach(req->using, i, v) {
		if (strcmp(json_string_value(v), capability) == 0)
			return 1;
	}
	return 0;
}

/* Starts the next call: 1 when a handler took it and has not finished it
 * yet, 0 when it is already finished. */
static int call_start(struct jmap_run *run, json_t *inv)
{
	struct jmap_call *call = &run->call;
	const char *type, *error;
	json_t *args;

	*call = (struct jmap_call){
		.run = run,
		.name = json_string_value(json_array_get(inv, 0)),
		.id = json_string_value(json_array_get(inv, 2)),
	};
	call->method = find_method(run->api, call->name);
	/* RFC 8620 3.6.2: a method of a capability not in "using" is as
	 * unknown as one that does not exist. */
	if (call->method == NULL || !request_uses(run->req, call->method->capability)) {
		call_fail(run, "unknownMethod", NULL);
		return 0;
	}
	if (jmap_resultref_resolve(run->responses, json_array_get(inv, 1), &args, &type, &error) < 0) {
		call_fail(run, type, error);
		return 0;
	}
	call->args = args;
	run->in_handler = 1;
	call->method->fn(call, args, call->method->ctx);
	run->in_handler = 0;
	return call->finished ? 0 : 1;
}

/* Runs calls until one waits for its handler or none is left. */
static void run_next(struct jmap_run *run)
{
	size_t n = json_array_size(run->req->method_calls);

	while (run->next < n && !run->cancelled) {
		json_t *inv = json_array_get(run->req->method_calls, run->next++);

		if (call_start(run, inv)) {
			run->pending = 1;
			return;
		}
		json_decref(run->call.args);
		run->call.args = NULL;
	}
	if (run->cancelled)
		run_free(run);
	else
		run_respond(run);
}

void jmap_run_call_finished(struct jmap_run *run)
{
	if (run->in_handler)
		return;  /* call_start sees call->finished when the handler returns */
	run->pending = 0;
	json_decref(run->call.args);
	run->call.args = NULL;
	run_next(run);
}

/* A place among the user's requests in flight; 0 when all are taken. */
static int take_place(struct jmap_run *run)
{
	struct jmap_api *api = run->api;
	json_int_t n = json_integer_value(json_object_get(api->active, run->username));

	if (n >= (json_int_t)api->settings.max_concurrent_requests)
		return 0;
	json_object_set_new(api->active, run->username, json_integer(n + 1));
	run->counted = 1;
	return 1;
}

/* A new run, not started. */
static struct jmap_run *run_new(struct jmap_api *api, const struct jmap_run_params *p,
				jmap_run_done_cb *cb, void *arg)
{
	struct jmap_run *run = xcalloc(1, sizeof *run);

	run->api = api;
	run->user = jmap_user_dup(p->user);
	run->session_state = xstrdup(p->session_state != NULL ? p->session_state : "");
	run->params = (struct jmap_run_params){
		.user = run->user,
		.session_state = run->session_state,
		.request_ctx = p->request_ctx,
	};
	run->username = run->user->username != NULL ? run->user->username : "";
	run->responses = json_array();
	run->cb = cb;
	run->cb_arg = arg;
	return run;
}

struct jmap_run *jmap_api_execute(struct jmap_api *api, const struct jmap_run_params *p,
				  struct jmap_request *req, jmap_run_done_cb *cb, void *arg)
{
	struct jmap_run *run = run_new(api, p, cb, arg);
	char detail[96];

	run->req = req;
	run->created_ids = req->created_ids != NULL ? json_copy(req->created_ids) : json_object();
	if (!take_place(run)) {
		snprintf(detail, sizeof detail, "more than %u requests at once",
			 api->settings.max_concurrent_requests);
		run_finish(run, 400, jmap_problem(JMAP_PROBLEM_LIMIT, "maxConcurrentRequests", detail));
		return run;
	}
	run_next(run);
	return run;
}

struct jmap_run *jmap_api_run(struct jmap_api *api, const struct jmap_run_params *p,
			      const char *content_type, const void *body, size_t len,
			      jmap_run_done_cb *cb, void *arg)
{
	struct jmap_request *req;
	struct jmap_run *run;
	json_t *problem;

	/* RFC 8620 3.6.1: a request that is not application/json is notJSON. */
	if (content_type != NULL && !jmap_content_type_is_json(content_type)) {
		run = run_new(api, p, cb, arg);
		run_finish(run, 400, jmap_problem(JMAP_PROBLEM_NOT_JSON, NULL,
						  "the content type is not application/json"));
		return run;
	}
	if (jmap_request_parse(&api->settings, api->capabilities, body, len, &req, &problem) < 0) {
		run = run_new(api, p, cb, arg);
		run_finish(run, 400, problem);
		return run;
	}
	return jmap_api_execute(api, p, req, cb, arg);
}

void jmap_run_cancel(struct jmap_run **runp)
{
	struct jmap_run *run = *runp;

	if (run == NULL)
		return;
	*runp = NULL;
	run->cancelled = 1;
	run->cb = NULL;
	/* A handler still holds the call: run_next frees the run once it is done. */
	if (!run->in_handler && !run->pending)
		run_free(run);
}
