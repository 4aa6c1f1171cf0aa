/* jmap_api - the JMAP API request engine (RFC 8620 3), transport-free:
 * the HTTP route, and later JMAP over WebSocket, hand it a request body and
 * get back the response object or a request-level problem.
 *
 * Methods are rows of a table registered by name with the capability they
 * belong to. A call whose name is not registered, or whose capability the
 * request does not list in "using", is unknownMethod (RFC 8620 3.6.2).
 * Before a handler runs, the engine resolves the call's result references
 * (RFC 8620 3.7, jmap_resultref.h). Calls run one after another in request
 * order (RFC 8620 3.3): the next starts only once the previous is finished.
 *
 * Handlers may be asynchronous: a handler gets a struct jmap_call and
 * finishes it exactly once, either inside the handler or later on the loop
 * (after the log acknowledged a write), with jmap_call_reply(),
 * jmap_call_error() or jmap_call_add()... then jmap_call_done(). Until then
 * the call, its arguments and its context stay valid. A method may add more
 * than one response (an implicit Email/set after EmailSubmission/set,
 * RFC 8621 7.5); each carries the call's id.
 *
 * "Core/echo" (RFC 8620 4) is registered by jmap_api_new().
 *
 * Threads: everything runs on the loop thread of the event_base given to
 * jmap_api_new(). The api must outlive every run it started. */
#ifndef EVM_JMAP_API_H
#define EVM_JMAP_API_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "gateway/jmap/jmap_request.h"

/* One account the authenticated user may use (RFC 8620 1.6.2, 2). */
struct jmap_account {
	const char *id;                    /* an Id (RFC 8620 1.2) */
	const char *name;
	int is_personal;
	int is_read_only;
	const char *const *capabilities;   /* NULL-terminated URIs usable in it */
	/* An account another user shares with this one (its mailboxes
	 * shared by ACL): the owner's address; NULL for the user's own.
	 * Only methods marked with jmap_method_serves_shared() accept it. */
	const char *owner;
};

/* The authenticated user and every account the user may access; accounts
 * of other users or tenants are simply not in the list. */
struct jmap_user {
	const char *username;
	const struct jmap_account *accounts;
	size_t naccounts;
};

/* What one API request runs with. user and session_state are copied when
 * the run starts; request_ctx is borrowed and must stay valid until every
 * handler given it has finished (a cancelled run's handler may still be
 * finishing its call). */
struct jmap_run_params {
	const struct jmap_user *user;
	const char *session_state;         /* jmap_session_state() of this user */
	void *request_ctx;                 /* for handlers: jmap_call_request_ctx() */
};

struct jmap_api;
struct jmap_call;
struct jmap_run;

/* A method: reads args (borrowed, read-only, valid until the call is
 * finished) and finishes call exactly once, now or later. */
typedef void jmap_method_fn(struct jmap_call *call, json_t *args, void *method_ctx);

/* The end of a request: status 200 with a Response object (RFC 8620 3.4),
 * or 400 with a problem details object (3.6.1). body is borrowed for the
 * callback. */
typedef void jmap_run_done_cb(void *arg, int status, json_t *body);

/* An engine with the core capability (limits from s, copied) and Core/echo. */
struct jmap_api *jmap_api_new(struct event_base *base, const struct jmap_settings *s);
void jmap_api_free(struct jmap_api **api);
/* 1 while some run (a cancelled one's handler included) is unfinished:
 * jmap_api_free must not be called then. */
int jmap_api_busy(const struct jmap_api *api);
const struct jmap_settings *jmap_api_settings(const struct jmap_api *api);

/* Adds a capability: session_caps is its value in the Session's
 * "capabilities", account_caps its value in an account's
 * "accountCapabilities" (NULL: {}); both are stolen. */
void jmap_api_add_capability(struct jmap_api *api, const char *uri, json_t *session_caps,
			     json_t *account_caps);
/* The capabilities, URI -> session capability object (borrowed). */
const json_t *jmap_api_capabilities(const struct jmap_api *api);
/* The account capability object of uri (borrowed), or NULL when unknown. */
const json_t *jmap_api_account_capability(const struct jmap_api *api, const char *uri);
/* Registers name; capability must have been added first. ctx is given to fn. */
void jmap_method_register(struct jmap_api *api, const char *name, const char *capability,
			  jmap_method_fn *fn, void *ctx);

/* Runs one API request whose body is complete in memory. content_type is
 * the request's Content-Type (NULL when the transport has none, as over
 * WebSocket). cb runs exactly once, later on the loop, never inside this
 * call, unless the run is cancelled first. Returns the run (owned by the
 * engine; valid until cb ran or jmap_run_cancel()). */
struct jmap_run *jmap_api_run(struct jmap_api *api, const struct jmap_run_params *p,
			      const char *content_type, const void *body, size_t len,
			      jmap_run_done_cb *cb, void *arg);
/* The same for a request already read with jmap_reader (req is consumed). */
struct jmap_run *jmap_api_execute(struct jmap_api *api, const struct jmap_run_params *p,
				  struct jmap_request *req, jmap_run_done_cb *cb, void *arg);
/* The client is gone: cb will not run. A handler in progress still finishes
 * its call (its write may be under way); no further call is started. Sets
 * *run to NULL. */
void jmap_run_cancel(struct jmap_run **run);

/* Marks the registered method name as serving shared accounts (those with
 * an owner); every other method answers accountNotSupportedByMethod for
 * them (RFC 8620 3.6.2), so a method reads another user's data only once
 * it filters by what is shared. */
void jmap_method_serves_shared(struct jmap_api *api, const char *name);

/* ---- for handlers ---- */

/* The method name and the client's call id of this call. */
const char *jmap_call_name(const struct jmap_call *call);
const char *jmap_call_id(const struct jmap_call *call);
/* The capability the method was registered with. */
const char *jmap_call_capability(const struct jmap_call *call);
const struct jmap_user *jmap_call_user(const struct jmap_call *call);
const struct jmap_settings *jmap_call_settings(const struct jmap_call *call);
const char *jmap_call_session_state(const struct jmap_call *call);
void *jmap_call_request_ctx(const struct jmap_call *call);
struct event_base *jmap_call_base(const struct jmap_call *call);
/* The user's account with that id, or NULL. */
const struct jmap_account *jmap_call_account(const struct jmap_call *call, const char *id);
/* The account the call's "accountId" named, once jmap_arg_account
 * accepted it (NULL before). */
const struct jmap_account *jmap_call_target(const struct jmap_call *call);

/* createdIds (RFC 8620 3.3): the server id created for creation id cid
 * (without "#") in this request, or NULL. */
const char *jmap_call_created_id(const struct jmap_call *call, const char *cid);
/* Records that creation id cid became the object id. */
void jmap_call_set_created(struct jmap_call *call, const char *cid, const char *id);
/* An id argument as the method should use it: "#cid" becomes the id cid was
 * created as (1), any other string is itself (1); 0 when "#cid" names no
 * creation of this request. */
int jmap_call_resolve_id(const struct jmap_call *call, const char *ref, const char **id_r);

/* Adds a response [name, args (stolen), call id]; does not finish the call. */
void jmap_call_add(struct jmap_call *call, const char *name, json_t *args);
/* Finishes the call: the engine moves on to the next one. */
void jmap_call_done(struct jmap_call *call);
/* jmap_call_add() with the call's own name, then jmap_call_done(). */
void jmap_call_reply(struct jmap_call *call, json_t *args);
/* Finishes the call with a method-level error (RFC 8620 3.6.2):
 * ["error", {"type", "description"?}, call id]. description may be NULL. */
void jmap_call_error(struct jmap_call *call, const char *type, const char *description);

#endif
