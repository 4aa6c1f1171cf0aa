/* jmap_private - the engine's structures, shared only inside gateway/jmap. */
#ifndef EVM_JMAP_PRIVATE_H
#define EVM_JMAP_PRIVATE_H

#include "gateway/jmap/jmap_api.h"

struct jmap_method {
	char *name;
	char *capability;
	jmap_method_fn *fn;
	void *ctx;
	int serves_shared;            /* jmap_method_serves_shared() */
};

struct jmap_api {
	struct event_base *base;
	struct jmap_settings settings;
	json_t *capabilities;         /* URI -> session capability object */
	json_t *account_caps;         /* URI -> account capability object */
	struct jmap_method *methods;
	size_t nmethods;
	json_t *active;               /* username -> runs in flight (maxConcurrentRequests) */
};

/* The call in progress of a run (one at a time, RFC 8620 3.3). */
struct jmap_call {
	struct jmap_run *run;
	const struct jmap_method *method;
	const char *name;             /* borrowed from the request */
	const char *id;
	json_t *args;                 /* the arguments after result references */
	const struct jmap_account *target;   /* "accountId" once accepted */
	int finished;
};

struct jmap_run {
	struct jmap_api *api;
	struct jmap_run_params params;
	struct jmap_request *req;
	json_t *responses;            /* methodResponses so far */
	json_t *created_ids;          /* the request's createdIds plus this request's creations */
	size_t next;                  /* index of the next method call to start */
	struct jmap_call call;
	int in_handler;               /* inside a handler's own invocation */
	int pending;                  /* a handler has not finished its call yet */
	int cancelled;
	int counted;                  /* holds one place in api->active */
	struct jmap_user *user;       /* copy of params.user */
	char *session_state;          /* copy of params.session_state */
	const char *username;         /* user->username, or "" */
	int status;
	json_t *body;                 /* the result, once known */
	struct event *done_ev;
	jmap_run_done_cb *cb;
	void *cb_arg;
};

/* jmap_request.c: the checks after the JSON parse; consumes root. */
int jmap_request_check(const struct jmap_settings *s, const json_t *known_caps, json_t *root,
		       struct jmap_request **req_r, json_t **problem_r);
/* jmap_request.c: a JSON string of s, with octets of broken UTF-8 made
 * "?" (descriptions that quote a client's text cut to a length). */
json_t *jmap_json_text(const char *s);
/* jmap_user.c: a deep copy of u (NULL: an empty user), and its end. */
struct jmap_user *jmap_user_dup(const struct jmap_user *u);
void jmap_user_free(struct jmap_user **u);
/* jmap_run.c: the call is finished; the engine moves on unless the handler
 * is still running (it then moves on when the handler returns). */
void jmap_run_call_finished(struct jmap_run *run);

#endif
