/* jmap_http - see jmap_http.h. */
#include "gateway/jmap/jmap_http.h"
#include "gateway/jmap/jmap_binary.h"
#include "gateway/jmap/jmap_events.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_session.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_ws.h"
#include "gateway/http/http_server.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/projector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JMAP_REALM "evmail JMAP"

struct jmap_node {
	struct node *node;
	struct jmap_api *api;
	struct jmap_events *events;
	struct jmap_ws_server *ws;
	unsigned long next_id;
};

enum jmap_route { R_SESSION, R_API, R_EVENTS, R_WS, R_UPLOAD, R_DOWNLOAD };

/* One HTTP request on a JMAP route, from authentication to its answer. */
struct jmap_http_req {
	struct jmap_node *jn;
	struct http_request *req;
	enum jmap_route route;
	struct jmap_mail_req *mreq;
	struct jmap_run *run;
};

/* The Host as a URL authority, or "localhost" when it holds anything
 * else than host characters (no header injection into the Session). */
static void authority(struct http_request *req, char *out, size_t size)
{
	const char *h = http_request_header(req, "Host");
	size_t n;

	if (h == NULL || h[0] == '\0' || strlen(h) >= size) {
		snprintf(out, size, "localhost");
		return;
	}
	n = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]");
	snprintf(out, size, "%s", h[n] == '\0' ? h : "localhost");
}

/* The Session's URL templates for this request's scheme and host. */
struct urls {
	char api[300], download[400], upload[300], events[400], ws[300];
	struct jmap_session_urls u;
};

static void build_urls(struct http_request *req, struct urls *u)
{
	char host[256];
	const char *scheme = http_request_is_tls(req) ? "https" : "http";

	authority(req, host, sizeof host);
	snprintf(u->api, sizeof u->api, "%s://%s/jmap/api/", scheme, host);
	snprintf(u->download, sizeof u->download,
		 "%s://%s/jmap/download/{accountId}/{blobId}/{name}?accept={type}", scheme, host);
	snprintf(u->upload, sizeof u->upload, "%s://%s/jmap/upload/{accountId}/", scheme, host);
	snprintf(u->events, sizeof u->events,
		 "%s://%s/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}", scheme, host);
	snprintf(u->ws, sizeof u->ws, "%s://%s%s", http_request_is_tls(req) ? "wss" : "ws", host, JMAP_WS_PATH);
	u->u.api = u->api;
	u->u.download = u->download;
	u->u.upload = u->upload;
	u->u.event_source = u->events;
}

/* The user's accounts, shared ones included (jmap_shared.h): 0, or -1
 * after answering 500. */
static int user_of(struct jmap_http_req *jr, struct jmap_mail_user *mu)
{
	const char *error = NULL;

	if (jmap_mail_user_build(jr->mreq, mu, &error) < 0) {
		log_error("jmap: accounts of %s: %s", jr->mreq->address, error);
		http_respond_text(jr->req, 500, "text/plain; charset=utf-8", "cannot read the accounts\n");
		return -1;
	}
	return 0;
}

static void respond_json(struct http_request *req, int status, const char *ctype, json_t *body)
{
	struct http_response resp;
	const char *error;
	char *text = json_dumps(body, JSON_COMPACT);

	http_response_init(&resp, status);
	(void)http_response_field(&resp, "Content-Type", ctype, &error);
	(void)http_response_field(&resp, "Cache-Control", "no-cache, no-store", &error);
	http_respond(req, &resp, text != NULL ? text : "{}", text != NULL ? strlen(text) : 2);
	http_response_clear(&resp);
	free(text);
}

static void jreq_free(struct jmap_http_req *jr)
{
	jmap_mail_req_unref(&jr->mreq);
	free(jr);
}

/* RFC 8887 4.1: the WebSocket capability's url, absolute like the others
 * (the capabilities are the engine's, shared: this session gets a copy). */
static void set_ws_url(json_t *session, const char *url)
{
	json_t *caps = json_deep_copy(json_object_get(session, "capabilities"));

	json_object_set_new(json_object_get(caps, JMAP_CAP_WEBSOCKET), "url", json_string(url));
	json_object_set_new(session, "capabilities", caps);
}

/* The state of this user's Session (its URLs from this request): 0, or
 * -1 after answering 500. */
static int session_state_of(struct jmap_http_req *jr, char state[JMAP_SESSION_STATE_SIZE])
{
	struct jmap_mail_user mu;
	struct urls u;
	const char *error = NULL;
	int r;

	if (user_of(jr, &mu) < 0)
		return -1;
	build_urls(jr->req, &u);
	r = jmap_session_state(jr->jn->api, &mu.user, &u.u, state, &error);
	jmap_mail_user_clear(&mu);
	if (r < 0) {
		log_error("jmap: session state of %s: %s", jr->mreq->address, error);
		http_respond_text(jr->req, 500, "text/plain; charset=utf-8", "cannot build the session\n");
		return -1;
	}
	return 0;
}

/* RFC 8620 2: GET /.well-known/jmap. */
static void serve_session(struct jmap_http_req *jr)
{
	struct jmap_mail_user mu;
	struct urls u;
	json_t *session = NULL;
	const char *error = NULL;

	if (user_of(jr, &mu) < 0) {
		jreq_free(jr);
		return;
	}
	build_urls(jr->req, &u);
	if (jmap_session_build(jr->jn->api, &mu.user, &u.u, &session, &error) < 0) {
		log_error("jmap: session of %s: %s", jr->mreq->address, error);
		http_respond_text(jr->req, 500, "text/plain; charset=utf-8", "cannot build the session\n");
	} else {
		set_ws_url(session, u.ws);
		respond_json(jr->req, 200, "application/json", session);
	}
	json_decref(session);
	jmap_mail_user_clear(&mu);
	jreq_free(jr);
}

static void api_done(void *arg, int status, json_t *body)
{
	struct jmap_http_req *jr = arg;

	jr->run = NULL;
	respond_json(jr->req, status, status == 200 ? "application/json" : "application/problem+json", body);
	jreq_free(jr);
}

static void api_cancel(void *ctx, struct http_request *req)
{
	struct jmap_http_req *jr = ctx;

	jmap_run_cancel(&jr->run);
	/* The answer is dropped by the server; finish req and free ours. */
	http_respond_text(req, 499, NULL, NULL);
	jreq_free(jr);
}

/* RFC 8620 3.1: POST the Request object. */
static void serve_api(struct jmap_http_req *jr)
{
	struct jmap_mail_user mu;
	struct jmap_run_params p;
	char state[JMAP_SESSION_STATE_SIZE];
	struct evbuffer *body = http_request_body(jr->req);
	size_t len = evbuffer_get_length(body);
	const unsigned char *data = evbuffer_pullup(body, -1);

	if (session_state_of(jr, state) < 0) {
		jreq_free(jr);
		return;
	}
	if (user_of(jr, &mu) < 0) {
		jreq_free(jr);
		return;
	}
	memset(&p, 0, sizeof p);
	p.user = &mu.user;   /* copied by the run */
	p.session_state = state;
	p.request_ctx = jr->mreq;
	http_request_on_cancel(jr->req, api_cancel, jr);
	jr->run = jmap_api_run(jr->jn->api, &p, http_request_header(jr->req, "Content-Type"),
			       data != NULL ? data : (const unsigned char *)"", len, api_done, jr);
	jmap_mail_user_clear(&mu);
}

/* RFC 8887 4.2: GET /jmap/ws/ upgrading to the "jmap" subprotocol. */
static void serve_ws(struct jmap_http_req *jr)
{
	char state[JMAP_SESSION_STATE_SIZE];

	if (session_state_of(jr, state) == 0) {
		jmap_ws_serve(jr->jn->ws, jr->req, jr->mreq, state);
		jr->mreq = NULL;   /* the socket took it */
	}
	jreq_free(jr);
}

static void authenticated(void *ctx, struct http_request *req, int ok, const char *account,
			  const char *tenant)
{
	struct jmap_http_req *jr = ctx;
	char actor[64];

	if (!ok) {
		http_respond_unauthorized(req, JMAP_REALM);
		free(jr);
		return;
	}
	snprintf(actor, sizeof actor, "jmap:%lu", ++jr->jn->next_id);
	jr->mreq = jmap_mail_req_new(jr->jn->node, account, tenant, actor);
	switch (jr->route) {
	case R_SESSION:
		serve_session(jr);
		break;
	case R_API:
		serve_api(jr);
		break;
	case R_EVENTS:
		jmap_events_serve(jr->jn->events, req, jr->mreq);
		jr->mreq = NULL;   /* the stream took it */
		jreq_free(jr);
		break;
	case R_WS:
		serve_ws(jr);
		break;
	case R_UPLOAD:
		jmap_binary_upload(req, jr->mreq, jmap_api_settings(jr->jn->api)->max_size_upload);
		jr->mreq = NULL;   /* taken */
		jreq_free(jr);
		break;
	case R_DOWNLOAD:
		jmap_binary_download(req, jr->mreq);
		jr->mreq = NULL;   /* taken */
		jreq_free(jr);
		break;
	}
}

static void route(struct jmap_node *jn, struct http_request *req, enum jmap_route r)
{
	struct jmap_http_req *jr = xcalloc(1, sizeof *jr);

	jr->jn = jn;
	jr->req = req;
	jr->route = r;
	http_auth_basic(req, authenticated, jr);
}

static void on_session(void *ctx, struct http_request *req)
{
	if (strcmp(http_request_path(req), "/.well-known/jmap") != 0) {
		http_respond_text(req, 404, "text/plain; charset=utf-8", "Not Found\n");
		return;
	}
	route(ctx, req, R_SESSION);
}

static void on_api(void *ctx, struct http_request *req)
{
	route(ctx, req, R_API);
}

static void on_events(void *ctx, struct http_request *req)
{
	route(ctx, req, R_EVENTS);
}

static void on_ws(void *ctx, struct http_request *req)
{
	route(ctx, req, R_WS);
}

static void on_upload(void *ctx, struct http_request *req)
{
	route(ctx, req, R_UPLOAD);
}

static void on_download(void *ctx, struct http_request *req)
{
	route(ctx, req, R_DOWNLOAD);
}

static int add_routes(struct jmap_node *jn, struct http_server *srv, const char **error_r)
{
	if (srv == NULL)
		return 0;
	if (http_server_route_methods(srv, "/.well-known/jmap", "GET, HEAD", on_session, jn, error_r) < 0 ||
	    http_server_route_methods(srv, "/jmap/api/", "POST", on_api, jn, error_r) < 0 ||
	    http_server_route_methods(srv, "/jmap/eventsource/", "GET", on_events, jn, error_r) < 0 ||
	    http_server_route_methods(srv, JMAP_WS_PATH, "GET", on_ws, jn, error_r) < 0 ||
	    http_server_route_methods(srv, "/jmap/upload/", "POST", on_upload, jn, error_r) < 0 ||
	    http_server_route_methods(srv, "/jmap/download/", "GET, HEAD", on_download, jn, error_r) < 0)
		return -1;
	return 0;
}

int jmap_http_start(struct node *node, const char **error_r)
{
	struct jmap_node *jn;
	struct jmap_settings s;

	if (node->http == NULL && node->https == NULL)
		return 0;
	jn = xcalloc(1, sizeof *jn);
	jn->node = node;
	jmap_settings_default(&s);
	/* One octet under the HTTP body limit: a body of maxSizeRequest + 1
	 * must reach the JMAP reader, whose answer is the problem "limit" of
	 * RFC 8620 3.6.1, not the HTTP parser's 413. */
	if ((uint64_t)node->cfg->limits_http_body <= s.max_size_request)
		s.max_size_request = (uint64_t)node->cfg->limits_http_body - 1;
	jn->api = jmap_api_new(node->base, &s);
	jn->events = jmap_events_new(node);
	jn->ws = jmap_ws_new(node, jn->api);
	/* RFC 8887 4.1; the url is set per Session (set_ws_url). */
	jmap_api_add_capability(jn->api, JMAP_CAP_WEBSOCKET,
				json_pack("{s:s, s:b}", "url", JMAP_WS_PATH, "supportsPush", 1), NULL);
	jmap_mail_register(jn->api);
	if (add_routes(jn, node->http, error_r) < 0 || add_routes(jn, node->https, error_r) < 0) {
		jmap_ws_free(&jn->ws);
		jmap_events_free(&jn->events);
		jmap_api_free(&jn->api);
		free(jn);
		return -1;
	}
	node->jmap = jn;
	return 0;
}

void jmap_http_stop(struct node *node)
{
	struct jmap_node *jn = node->jmap;

	if (jn == NULL)
		return;
	node->jmap = NULL;
	jmap_events_free(&jn->events);
	jmap_ws_free(&jn->ws);
	/* A handler still waiting for its write keeps its run: the process is
	 * ending, leave the engine to it rather than free it under the run. */
	if (jmap_api_busy(jn->api)) {
		log_warn("jmap: stopping with requests in flight");
		return;
	}
	jmap_api_free(&jn->api);
	free(jn);
}
