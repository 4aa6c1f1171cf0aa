/* mgmt_http - see mgmt_http.h */
#include "gateway/mgmt_http.h"
#include "gateway/auth_gate.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MGMT_MAX_BODY (16 * 1024 * 1024)    /* POST /admin/commands batches */
#define MGMT_MAX_HEADERS (16 * 1024)
#define MGMT_IDLE_TIMEOUT_S 120
#define MGMT_TEXT "text/plain; charset=utf-8"
#define MGMT_METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Answers with body (len octets) and a Content-Type. Finishes req. */
static void reply(struct http_request *req, int code, const char *ctype, const char *body, size_t len)
{
	struct http_response resp;
	const char *error;

	http_response_init(&resp, code);
	if (http_response_field(&resp, "Content-Type", ctype, &error) < 0)
		log_panic("mgmt: Content-Type %s: %s", ctype, error);
	http_respond(req, &resp, body, len);
	http_response_clear(&resp);
}

/* Answers with body (consumed) as one line of JSON; challenge, when not
 * NULL, is a WWW-Authenticate value. Finishes req. */
static void reply_json(struct http_request *req, int code, const char *challenge, json_t *body)
{
	char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	struct http_response resp;
	struct buf b = BUF_INIT;
	const char *error;

	if (s == NULL) {   /* no body (a failed json_pack): never a crash */
		log_error("mgmt: no JSON answer to %s %s", http_request_method(req), http_request_path(req));
		code = 500;
		s = xstrdup("{\"error\":\"internal error\"}");
	}
	buf_puts(&b, s);
	buf_puts(&b, "\n");
	http_response_init(&resp, code);
	if (http_response_field(&resp, "Content-Type", "application/json", &error) < 0 ||
	    (challenge != NULL && http_response_field(&resp, "WWW-Authenticate", challenge, &error) < 0))
		log_panic("mgmt: %s", error);
	http_respond(req, &resp, b.data, b.len);
	http_response_clear(&resp);
	buf_free(&b);
	free(s);
	json_decref(body);
}

void mgmt_reply_json(struct http_request *req, int code, json_t *body)
{
	reply_json(req, code, NULL, body);
}

void mgmt_reply_error(struct http_request *req, int code, const char *message)
{
	mgmt_reply_json(req, code, json_pack("{s:s}", "error", message != NULL ? message : "internal error"));
}

/* Anything that is not one of the routes below: 404 as JSON (evmailctl
 * prints "error"). */
static void not_found(void *ctx, struct http_request *req)
{
	mgmt_reply_error(req, 404, "no such path");
}

/* GET/HEAD /healthz: the process is alive. */
static void healthz(void *ctx, struct http_request *req)
{
	if (strcmp(http_request_path(req), "/healthz") != 0) {
		not_found(ctx, req);
		return;
	}
	reply(req, 200, MGMT_TEXT, "ok\n", 3);
}

/* Why the log makes this node not ready (its writes would fail): the
 * reason as text, or NULL when the log is reachable (evlog_health). */
static const char *readyz_log_problem(struct node *node, char *why, size_t size)
{
	struct evlog_health h;

	evlog_health(node->log, &h);
	if (h.reachable)
		return NULL;
	snprintf(why, size, "%s: %s", h.storage_full ? "log storage full" : "log unreachable", h.reason);
	return why;
}

/* GET/HEAD /readyz: ready only when the node is not draining (`evmailctl
 * node drain`: load balancers stop sending here), the log is reachable,
 * the projector runs and every partition is caught up with the log end
 * within projector.ready_lag. */
static void readyz(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	char why[320];
	const char *log_problem;
	struct buf b = BUF_INIT;
	json_t *st;
	int ready;

	if (strcmp(http_request_path(req), "/readyz") != 0) {
		not_found(ctx, req);
		return;
	}
	if (node->draining) {
		reply(req, 503, MGMT_TEXT, "draining\n", 9);
		return;
	}
	if (node->projector == NULL) {
		reply(req, 503, MGMT_TEXT, "not ready: starting\n", 20);
		return;
	}
	st = projector_status(node->projector);
	log_problem = readyz_log_problem(node, why, sizeof why);
	ready = json_is_true(json_object_get(st, "ready")) && log_problem == NULL;
	if (log_problem != NULL) {
		buf_printf(&b, "not ready: %s\n", log_problem);
	} else if (ready) {
		buf_puts(&b, "ready\n");
	} else {
		const char *state = json_string_value(json_object_get(st, "state"));
		const char *detail = json_string_value(json_object_get(st, "detail"));
		buf_printf(&b, "not ready: %s%s%s\n", state ? state : "unknown",
			   detail && *detail ? ": " : "", detail ? detail : "");
	}
	reply(req, ready ? 200 : 503, MGMT_TEXT, b.data, b.len);
	buf_free(&b);
	json_decref(st);
}

/* GET/HEAD /metrics: Prometheus text exposition format 0.0.4. */
static void metrics(void *ctx, struct http_request *req)
{
	struct buf b = BUF_INIT;

	if (strcmp(http_request_path(req), "/metrics") != 0) {
		not_found(ctx, req);
		return;
	}
	if (((struct node *)ctx)->projector == NULL) {
		reply(req, 503, MGMT_TEXT, "starting\n", 9);
		return;
	}
	metrics_render(ctx, &b);
	reply(req, 200, MGMT_METRICS_TYPE, b.data, b.len);
	buf_free(&b);
}

/* The 401 for a wrong or missing admin token, after the failure delay. */
static void admin_refuse(void *ctx)
{
	struct http_request *req = ctx;

	reply_json(req, 401, "Bearer realm=\"evmail admin\"",
		   json_pack("{s:s}", "error", "admin token required"));
}

/* /admin/...: "Authorization: Bearer <mgmt.admin_token>" when a token is
 * set (compared in constant time by http_auth_bearer). A refusal is 401
 * with a Bearer challenge (RFC 6750 3) and the JSON error evmailctl
 * prints, answered after auth.failure_delay_ms and counted per client
 * address (gateway/auth_gate.h): a locked-out client gets the same 401
 * without its token being compared. */
static void admin(void *ctx, struct http_request *req)
{
	struct node *node = ctx;
	const char *token = node->cfg->mgmt_admin_token, *ip = http_request_peer_ip(req);

	if (node->projector == NULL) {
		/* starting: the view is not open yet (a bootstrap may run) */
		reply(req, 503, MGMT_TEXT, "starting\n", 9);
		return;
	}
	if (token[0] == '\0') {
		admin_api_handle(node, req, http_request_path(req) + strlen("/admin/"));
		return;
	}
	if (!auth_gate_allowed(ip, "")) {
		auth_gate_delay(node->base, admin_refuse, req);
		return;
	}
	if (http_auth_bearer(req, token)) {
		auth_gate_success(ip, "");
		admin_api_handle(node, req, http_request_path(req) + strlen("/admin/"));
		return;
	}
	log_warn("mgmt: [%s] unauthorized admin request %s %s", ip, http_request_method(req),
		 http_request_path(req));
	auth_gate_failed(node->base, ip, "", admin_refuse, req);
}

int mgmt_http_start(struct node *node, struct http_server **srv_r, const char **error_r)
{
	static __thread char err[600];
	const struct evm_config *cfg = node->cfg;
	struct http_server_settings set = {
		.name = "mgmt",
		.listen = cfg->mgmt_listen,
		.max_connections = (unsigned)cfg->limits_connections,
		.max_per_ip = (unsigned)cfg->limits_connections_per_ip,
		.idle_timeout_s = MGMT_IDLE_TIMEOUT_S,
	};
	struct http_server *srv = NULL;

	http_parser_settings_default(&set.limits);
	set.limits.max_header_bytes = MGMT_MAX_HEADERS;
	if (set.limits.max_request_line > MGMT_MAX_HEADERS)
		set.limits.max_request_line = set.limits.max_field_line = MGMT_MAX_HEADERS;
	set.limits.max_body = MGMT_MAX_BODY;
	if (http_server_start(node->base, &set, &srv, error_r) < 0 ||
	    http_server_route_methods(srv, "/", "GET, HEAD, POST, DELETE", not_found, node, error_r) < 0 ||
	    http_server_route_methods(srv, "/healthz", "GET, HEAD", healthz, node, error_r) < 0 ||
	    http_server_route_methods(srv, "/readyz", "GET, HEAD", readyz, node, error_r) < 0 ||
	    http_server_route_methods(srv, "/metrics", "GET, HEAD", metrics, node, error_r) < 0 ||
	    http_server_route_methods(srv, "/admin/", "GET, POST, DELETE", admin, node, error_r) < 0) {
		snprintf(err, sizeof err, "mgmt.listen %s: %s", cfg->mgmt_listen, *error_r);
		*error_r = err;
		http_server_stop(&srv);
		return -1;
	}
	log_info("management listener on %s", cfg->mgmt_listen);
	*srv_r = srv;
	return 0;
}

void mgmt_http_stop(struct http_server **srv)
{
	http_server_stop(srv);
}
