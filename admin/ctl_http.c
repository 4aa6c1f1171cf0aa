/* ctl_http - a blocking JSON client for the node's admin API, on a
 * private libevent loop. The node serves mgmt.listen with its own HTTP
 * server (gateway/mgmt_http.h on gateway/http/); this client side stays on
 * libevent's evhttp client on purpose: evmailctl makes one request per
 * connection (Connection: close), so it needs nothing that server adds. */
#include "admin/ctl.h"
#include "common/buf.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_HTTP_TIMEOUT_S 120

struct ctl_reply {
	int status;
	struct buf body;
	struct event_base *base;
};

int ctl_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("evmailctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_FAIL;
}

int ctl_usage(const char *usage)
{
	fprintf(stderr, "usage: evmailctl %s\n", usage);
	return CTL_USAGE;
}

static void ctl_http_done(struct evhttp_request *req, void *arg)
{
	struct ctl_reply *r = arg;

	if (req != NULL && evhttp_request_get_response_code(req) > 0) {
		struct evbuffer *in = evhttp_request_get_input_buffer(req);
		size_t len = evbuffer_get_length(in);
		r->status = evhttp_request_get_response_code(req);
		buf_append(&r->body, evbuffer_pullup(in, (ev_ssize_t)len), len);
	}
	event_base_loopexit(r->base, NULL);
}

int ctl_http(struct ctl *ctl, const char *method, const char *path, json_t *body,
	     json_t **reply_r, const char **error_r)
{
	static char err[512];
	struct ctl_reply r = { -1, BUF_INIT, NULL };
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct evkeyvalq *headers;
	enum evhttp_cmd_type cmd = strcmp(method, "POST") == 0 ? EVHTTP_REQ_POST : EVHTTP_REQ_GET;
	char hostport[300];

	*reply_r = NULL;
	r.base = event_base_new();
	conn = evhttp_connection_base_new(r.base, NULL, ctl->host, (ev_uint16_t)ctl->port);
	evhttp_connection_set_timeout(conn, CTL_HTTP_TIMEOUT_S);
	req = evhttp_request_new(ctl_http_done, &r);
	headers = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof hostport, "%s:%u", ctl->host, ctl->port);
	evhttp_add_header(headers, "Host", hostport);
	evhttp_add_header(headers, "Connection", "close");
	if (ctl->cfg.mgmt_admin_token[0] != '\0') {
		char auth[600];
		snprintf(auth, sizeof auth, "Bearer %s", ctl->cfg.mgmt_admin_token);
		evhttp_add_header(headers, "Authorization", auth);
	}
	if (body != NULL) {
		char *s = json_dumps(body, JSON_COMPACT);
		evhttp_add_header(headers, "Content-Type", "application/json");
		evbuffer_add(evhttp_request_get_output_buffer(req), s, strlen(s));
		free(s);
		json_decref(body);
	}
	evhttp_make_request(conn, req, cmd, path);
	event_base_dispatch(r.base);
	evhttp_connection_free(conn);
	event_base_free(r.base);
	if (r.status < 0) {
		snprintf(err, sizeof err, "cannot reach the node at %s:%u (is evmaild running? mgmt.listen / --node)",
			 ctl->host, ctl->port);
		*error_r = err;
		buf_free(&r.body);
		return -1;
	}
	if (r.body.len > 0)
		*reply_r = json_loadb(r.body.data, r.body.len, 0, NULL);
	buf_free(&r.body);
	return r.status;
}

/* The node's {"error": ...} text, or a generic one. */
static const char *reply_error(json_t *reply, int status)
{
	static char msg[64];
	const char *e = json_string_value(json_object_get(reply, "error"));

	if (e != NULL)
		return e;
	snprintf(msg, sizeof msg, "the node answered HTTP %d", status);
	return msg;
}

int ctl_get(struct ctl *ctl, const char *path, json_t **reply_r)
{
	const char *error = NULL;
	int status = ctl_http(ctl, "GET", path, NULL, reply_r, &error);

	if (status < 0)
		return ctl_fail("%s", error);
	if (status != 200 || *reply_r == NULL) {
		int ret = ctl_fail("%s", reply_error(*reply_r, status));
		json_decref(*reply_r);
		*reply_r = NULL;
		return ret;
	}
	return CTL_OK;
}

int ctl_command(struct ctl *ctl, const char *type, const char *tenant, const char *account,
		json_t *data, const char *ok_message)
{
	const char *error = NULL, *st;
	json_t *reply = NULL, *outcome;
	json_t *cmd = json_pack("{s:s,s:s,s:s,s:o}", "type", type, "tenant", tenant ? tenant : "",
				"account", account ? account : "", "data", data);
	int status = ctl_http(ctl, "POST", "/admin/commands", cmd, &reply, &error);
	int ret;

	if (status < 0)
		return ctl_fail("%s", error);
	if (status != 200 || !json_is_array(reply) || json_array_size(reply) != 1) {
		ret = ctl_fail("%s", reply_error(reply, status));
		json_decref(reply);
		return ret;
	}
	outcome = json_array_get(reply, 0);
	st = json_string_value(json_object_get(outcome, "status"));
	if (st != NULL && strcmp(st, "accepted") == 0) {
		if (ctl->json)
			ctl_print_json(json_incref(outcome));
		else
			printf("%s\n", ok_message);
		ret = CTL_OK;
	} else {
		const char *reason = json_string_value(json_object_get(outcome, "reason"));
		ret = ctl_fail("%s", reason ? reason : "the command was not accepted");
	}
	json_decref(reply);
	return ret;
}

void ctl_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS);

	printf("%s\n", s);
	free(s);
	json_decref(v);
}

const char *ctl_escape(const char *s)
{
	static char out[2048];
	char *e = evhttp_uriencode(s, -1, 0);

	snprintf(out, sizeof out, "%s", e ? e : "");
	free(e);
	return out;
}
