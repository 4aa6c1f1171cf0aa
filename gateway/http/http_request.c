/* http_request - the request object: accessors, answers (whole, streamed,
 * upgrade), cancellation when the connection goes away first, and what
 * the connection does after an answer; see http_server.h. */
#include "gateway/http/http_server_private.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

const struct http_head *http_request_head(const struct http_request *req)
{
	return req->head;
}

const char *http_request_method(const struct http_request *req)
{
	return req->head->method;
}

const char *http_request_path(const struct http_request *req)
{
	return req->head->path;
}

const char *http_request_query(const struct http_request *req)
{
	return req->head->query;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	return http_head_field(req->head, name);
}

struct evbuffer *http_request_body(struct http_request *req)
{
	return req->body;
}

const char *http_request_peer_ip(const struct http_request *req)
{
	return req->peer_ip;
}

int http_request_is_tls(const struct http_request *req)
{
	return req->tls;
}

int http_request_connected(const struct http_request *req)
{
	return req->s != NULL && conn_output(req->s->c) != NULL;
}

const char *http_request_upgrade_wanted(const struct http_request *req)
{
	const struct http_head *h = req->head;

	return h->content_length == 0 && !h->chunked ? h->upgrade : NULL;
}

void http_request_on_cancel(struct http_request *req, void (*cb)(void *ctx, struct http_request *req),
			    void *ctx)
{
	req->cancel = cb;
	req->cancel_ctx = ctx;
}

void http_request_free(struct http_request **reqp)
{
	struct http_request *req = *reqp;

	if (req == NULL)
		return;
	http_head_free(&req->head);
	if (req->body != NULL)
		evbuffer_free(req->body);
	free(req);
	*reqp = NULL;
}

/* The cancel callback, on the next loop turn (never inside the close). */
static void run_cancel(evutil_socket_t fd, short what, void *arg)
{
	struct http_request *req = arg;

	req->cancel_pending = 0;
	if (req->finished) {
		http_request_free(&req);
		return;
	}
	if (req->cancel != NULL)
		req->cancel(req->cancel_ctx, req);
}

void http_request_detach(struct http_request *req)
{
	struct timeval now = { 0, 0 };

	req->s = NULL;
	req->cancel_pending = 1;
	if (event_base_once(req->base, -1, EV_TIMEOUT, run_cancel, req, &now) < 0) {
		req->cancel_pending = 0;
		log_error("http: cannot schedule a request's cancellation");
	}
}

void http_request_finish(struct http_request *req)
{
	struct http_session *s = req->s;
	int close = req->close, linger = req->linger;

	if (req->cancel_pending) {   /* run_cancel frees it */
		req->finished = 1;
		return;
	}
	http_request_free(&req);
	if (s == NULL)
		return;
	s->req = NULL;
	if (linger) {
		http_session_linger(s);
		return;
	}
	if (close || s->srv->draining) {
		conn_close_after_flush(s->c, "closed");
		return;
	}
	conn_set_read_timeout(s->c, 0);   /* idle again: keep-alive timeout */
	if (!s->in_input)
		conn_resume_input(s->c);      /* a pipelined request may be waiting */
}

/* The framing of req's answer (RFC 9112 9.3: keep-alive or close). */
static struct http_framing framing(const struct http_request *req)
{
	return (struct http_framing){ .minor = req->head->minor, .head = req->head_only,
				      .close = req->close || req->s->srv->draining };
}

/* Writes the head; the output buffer, or NULL when the connection is gone. */
static struct evbuffer *write_head(struct http_request *req, const struct http_response *resp, int64_t length)
{
	struct evbuffer *out = req->s != NULL ? conn_output(req->s->c) : NULL;
	struct http_framing f;
	int close;

	if (out == NULL)
		return NULL;
	f = framing(req);
	http_response_write_head(out, resp, &f, length, &req->chunked, &close);
	req->close = close;
	return out;
}

void http_respond_buffer(struct http_request *req, const struct http_response *resp, struct evbuffer *body)
{
	size_t len = body != NULL ? evbuffer_get_length(body) : 0;
	struct evbuffer *out = write_head(req, resp, (int64_t)len);

	if (out != NULL && body != NULL && !req->head_only && !http_status_bodyless(resp->status))
		evbuffer_add_buffer(out, body);
	http_request_finish(req);
}

void http_respond(struct http_request *req, const struct http_response *resp, const void *body, size_t len)
{
	struct evbuffer *out = write_head(req, resp, (int64_t)len);

	if (out != NULL && len > 0 && !req->head_only && !http_status_bodyless(resp->status))
		evbuffer_add(out, body, len);
	http_request_finish(req);
}

void http_respond_text(struct http_request *req, int status, const char *content_type, const char *text)
{
	struct http_response resp;
	const char *error;

	http_response_init(&resp, status);
	if (content_type != NULL && http_response_field(&resp, "Content-Type", content_type, &error) < 0)
		log_panic("http: bad Content-Type %s: %s", content_type, error);
	http_respond(req, &resp, text != NULL ? text : "", text != NULL ? strlen(text) : 0);
	http_response_clear(&resp);
}

void http_request_finish_reject(struct http_request *req)
{
	struct http_response resp;
	const char *error;
	char text[64];

	http_response_init(&resp, req->reject);
	(void)http_response_field(&resp, "Content-Type", "text/plain; charset=utf-8", &error);
	if (req->reject == 405 && http_response_field(&resp, "Allow", req->allow, &error) < 0)
		log_panic("http: bad Allow %s: %s", req->allow, error);
	snprintf(text, sizeof text, "%s\n", http_status_reason(req->reject));
	http_respond(req, &resp, text, strlen(text));
	http_response_clear(&resp);
}

int http_stream_start(struct http_request *req, const struct http_response *resp)
{
	req->streaming = 1;
	if (write_head(req, resp, -1) == NULL)
		return -1;
	return 0;
}

int http_stream_write(struct http_request *req, const void *data, size_t len)
{
	struct evbuffer *out = req->s != NULL ? conn_output(req->s->c) : NULL;

	if (out == NULL)
		return -1;
	if (req->head_only || len == 0)
		return 0;
	if (req->chunked)
		http_write_chunk(out, data, len);
	else
		evbuffer_add(out, data, len);
	return 0;
}

size_t http_stream_pending(const struct http_request *req)
{
	return req->s != NULL ? conn_pending_output(req->s->c) : 0;
}

void http_stream_end(struct http_request *req)
{
	struct evbuffer *out = req->s != NULL ? conn_output(req->s->c) : NULL;

	if (out != NULL && req->chunked)
		http_write_last_chunk(out);
	http_request_finish(req);
}

struct conn *http_upgrade(struct http_request *req, const struct http_response *resp,
			  const struct http_takeover *ops, void *ctx)
{
	struct http_session *s = req->s;
	struct conn *c;

	if (s == NULL || http_request_upgrade_wanted(req) == NULL || resp->status != 101 ||
	    write_head(req, resp, 0) == NULL) {
		if (s != NULL)
			log_error("http: upgrade refused (no Upgrade asked, a body, or status %d): closing",
				  resp->status);
		req->close = 1;
		http_request_finish(req);
		return NULL;
	}
	c = s->c;
	s->ops_copy = *ops;
	s->ops = &s->ops_copy;
	s->ops_ctx = ctx;
	s->req = NULL;
	req->s = NULL;
	http_request_free(&req);
	conn_set_read_timeout(c, 0);
	conn_resume_input(c);
	return c;
}
