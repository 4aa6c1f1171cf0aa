/* mgmt_http - see mgmt_http.h */
#include "gateway/mgmt_http.h"
#include "common/buf.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define MGMT_MAX_BODY (16 * 1024 * 1024)
#define MGMT_MAX_HEADERS (16 * 1024)
#define MGMT_TIMEOUT_S 120

struct mgmt_http {
	struct node *node;
	struct evhttp *http;
};

void mgmt_reply_json(struct evhttp_request *req, int code, json_t *body)
{
	struct evbuffer *out = evbuffer_new();
	char *s = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);

	evbuffer_add(out, s, strlen(s));
	evbuffer_add(out, "\n", 1);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
	evhttp_send_reply(req, code, code < 400 ? "OK" : "Error", out);
	evbuffer_free(out);
	free(s);
	json_decref(body);
}

void mgmt_reply_error(struct evhttp_request *req, int code, const char *message)
{
	mgmt_reply_json(req, code, json_pack("{s:s}", "error", message));
}

static void reply_text(struct evhttp_request *req, int code, const char *ctype, const char *text, size_t len)
{
	struct evbuffer *out = evbuffer_new();

	evbuffer_add(out, text, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	evhttp_send_reply(req, code, code < 400 ? "OK" : "Service Unavailable", out);
	evbuffer_free(out);
}

/* Why the log makes this node not ready (its writes would fail): the
 * reason as text, or NULL when the log is reachable (evlog_health). */
static const char *readyz_log_problem(struct node *node)
{
	static char why[320];
	struct evlog_health h;

	evlog_health(node->log, &h);
	if (h.reachable)
		return NULL;
	snprintf(why, sizeof why, "%s: %s", h.storage_full ? "log storage full" : "log unreachable",
		 h.reason);
	return why;
}

/* /readyz: ready only when the log is reachable, the projector runs and
 * every partition is caught up with the log end within
 * projector.ready_lag. */
static void handle_readyz(struct node *node, struct evhttp_request *req)
{
	json_t *st = projector_status(node->projector);
	const char *log_problem = readyz_log_problem(node);
	int ready = json_is_true(json_object_get(st, "ready")) && log_problem == NULL;
	struct buf b = BUF_INIT;

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
	reply_text(req, ready ? 200 : 503, "text/plain; charset=utf-8", b.data, b.len);
	buf_free(&b);
	json_decref(st);
}

/* Constant-time check of "Authorization: Bearer <mgmt.admin_token>". */
static int admin_authorized(struct node *node, struct evhttp_request *req)
{
	const char *token = node->cfg->mgmt_admin_token;
	const char *auth;
	size_t n;

	if (token[0] == '\0')
		return 1;
	auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	if (auth == NULL || strncmp(auth, "Bearer ", 7) != 0)
		return 0;
	auth += 7;
	n = strlen(token);
	return strlen(auth) == n && CRYPTO_memcmp(auth, token, n) == 0;
}

static void mgmt_request(struct evhttp_request *req, void *arg)
{
	struct mgmt_http *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);

	if (path == NULL) {
		mgmt_reply_error(req, 400, "bad request");
		return;
	}
	if (strcmp(path, "/healthz") == 0) {
		reply_text(req, 200, "text/plain; charset=utf-8", "ok\n", 3);
	} else if (strcmp(path, "/readyz") == 0 && m->node->draining) {
		/* evmailctl node drain: load balancers stop sending here. */
		reply_text(req, 503, "text/plain; charset=utf-8", "draining\n", 9);
	} else if (strcmp(path, "/readyz") == 0) {
		handle_readyz(m->node, req);
	} else if (strcmp(path, "/metrics") == 0) {
		struct buf b = BUF_INIT;
		metrics_render(m->node, &b);
		reply_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
		buf_free(&b);
	} else if (strncmp(path, "/admin/", 7) == 0) {
		if (!admin_authorized(m->node, req)) {
			log_warn("mgmt: unauthorized admin request %s", path);
			mgmt_reply_error(req, 401, "admin token required");
			return;
		}
		admin_api_handle(m->node, req, path + 7);
	} else {
		(void)method;
		mgmt_reply_error(req, 404, "no such path");
	}
}

/* Splits "host:port" (or "[v6]:port"). */
static int split_listen(const char *listen, char *host, size_t hsize, unsigned *port_r)
{
	const char *colon = strrchr(listen, ':');
	const char *h = listen;
	size_t hlen;
	char *end;
	unsigned long port;

	if (colon == NULL)
		return -1;
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && h[0] == '[' && h[hlen - 1] == ']') {
		h++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= hsize)
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535)
		return -1;
	*port_r = (unsigned)port;
	return 0;
}

int mgmt_http_start(struct node *node, struct mgmt_http **mgmt_r, const char **error_r)
{
	static char err[300];
	struct mgmt_http *m;
	char host[256];
	unsigned port;

	if (split_listen(node->cfg->mgmt_listen, host, sizeof host, &port) < 0) {
		snprintf(err, sizeof err, "mgmt.listen '%s' is not host:port", node->cfg->mgmt_listen);
		*error_r = err;
		return -1;
	}
	m = xcalloc(1, sizeof *m);
	m->node = node;
	m->http = evhttp_new(node->base);
	evhttp_set_max_body_size(m->http, MGMT_MAX_BODY);
	evhttp_set_max_headers_size(m->http, MGMT_MAX_HEADERS);
	evhttp_set_timeout(m->http, MGMT_TIMEOUT_S);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE);
	evhttp_set_gencb(m->http, mgmt_request, m);
	if (evhttp_bind_socket(m->http, host, (ev_uint16_t)port) != 0) {
		snprintf(err, sizeof err, "cannot listen on %s (mgmt.listen): %s", node->cfg->mgmt_listen,
			 errno == EACCES && port < 1024 ? "permission denied (a port below 1024 needs root "
							  "or CAP_NET_BIND_SERVICE)"
							: "address in use or not local");
		evhttp_free(m->http);
		free(m);
		*error_r = err;
		return -1;
	}
	log_info("management listener on %s", node->cfg->mgmt_listen);
	*mgmt_r = m;
	return 0;
}

void mgmt_http_stop(struct mgmt_http **mgmt)
{
	if (*mgmt == NULL)
		return;
	evhttp_free((*mgmt)->http);
	free(*mgmt);
	*mgmt = NULL;
}
