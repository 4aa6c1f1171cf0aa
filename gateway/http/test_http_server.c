/* test_http_server - the HTTP server over real loopback sockets: keep-alive,
 * HEAD, 404/405/501, pipelining of three requests in one write (one of them
 * answered asynchronously), chunked request bodies, chunked streamed
 * answers, 100-continue, each limit answering its status and closing, an
 * asynchronous answer and a stream outliving their client, the upgrade
 * hand-over, Basic against a real view and Bearer, the idle timeout.
 *
 * The server's loop runs in a thread; the clients block in the main thread
 * (every read has a 10 s timeout, so a failure cannot hang the test). */
#include "gateway/http/http_server.h"
#include "gateway/auth_password.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/password.h"
#include "projector/applier.h"
#include "projector/view.h"
#include "tests/unit/testlib.h"

#include <arpa/inet.h>
#include <event2/thread.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static struct event_base *base;
static struct http_server *srv, *idle_srv;
static unsigned port, idle_port;
static struct view *view;
static atomic_int stop_loop, late_cancelled, late_answered, events_cancelled, ws_closed;

/* ---- handlers (loop thread) ---- */

/* 200 with "METHOD path query body". */
static void h_echo(void *ctx, struct http_request *req)
{
	struct evbuffer *out = evbuffer_new();
	struct http_response resp;
	const char *error;

	evbuffer_add_printf(out, "%s %s %s ", http_request_method(req), http_request_path(req),
			    http_request_query(req) ? http_request_query(req) : "-");
	evbuffer_add_buffer(out, http_request_body(req));
	http_response_init(&resp, 200);
	(void)http_response_field(&resp, "Content-Type", "text/plain", &error);
	http_respond_buffer(req, &resp, out);
	http_response_clear(&resp);
	evbuffer_free(out);
}

static void answer_async(evutil_socket_t fd, short what, void *arg)
{
	struct http_request *req = arg;

	http_respond_text(req, 200, "text/plain", http_request_path(req));
}

/* Answers on a later loop turn, as after the log acknowledged a write. */
static void h_async(void *ctx, struct http_request *req)
{
	struct timeval tv = { 0, 1000 };

	event_base_once(base, -1, EV_TIMEOUT, answer_async, req, &tv);
}

static void late_answer(evutil_socket_t fd, short what, void *arg)
{
	struct http_request *req = arg;

	CHECK(!http_request_connected(req));
	http_respond_text(req, 200, "text/plain", "too late");
	atomic_fetch_add(&late_answered, 1);
}

/* The client went away: the answer still comes, later. */
static void late_cancel(void *ctx, struct http_request *req)
{
	struct timeval tv = { 0, 1000 };

	atomic_fetch_add(&late_cancelled, 1);
	event_base_once(base, -1, EV_TIMEOUT, late_answer, req, &tv);
}

/* Never answers until the connection is gone. */
static void h_late(void *ctx, struct http_request *req)
{
	http_request_on_cancel(req, late_cancel, NULL);
}

struct stream_state {
	struct http_request *req;
	int n;
};

static void stream_next(evutil_socket_t fd, short what, void *arg)
{
	struct stream_state *st = arg;
	struct timeval tv = { 0, 1000 };
	char line[32];

	if (st->n == 3) {
		http_stream_end(st->req);
		free(st);
		return;
	}
	snprintf(line, sizeof line, "data: %d\n\n", ++st->n);
	http_stream_write(st->req, line, strlen(line));
	event_base_once(base, -1, EV_TIMEOUT, stream_next, st, &tv);
}

/* Three events, one per loop turn, then the end. */
static void h_stream(void *ctx, struct http_request *req)
{
	struct stream_state *st = xcalloc(1, sizeof *st);
	struct http_response resp;
	const char *error;

	st->req = req;
	http_response_init(&resp, 200);
	(void)http_response_field(&resp, "Content-Type", "text/event-stream", &error);
	http_stream_start(req, &resp);
	http_response_clear(&resp);
	stream_next(-1, 0, st);
}

static void events_cancel(void *ctx, struct http_request *req)
{
	CHECK_EQ_INT(http_stream_write(req, "x", 1), -1);
	atomic_fetch_add(&events_cancelled, 1);
	http_stream_end(req);
}

/* One event, then open until the client leaves. */
static void h_events(void *ctx, struct http_request *req)
{
	struct http_response resp;
	const char *error;

	http_response_init(&resp, 200);
	(void)http_response_field(&resp, "Content-Type", "text/event-stream", &error);
	http_stream_start(req, &resp);
	http_response_clear(&resp);
	http_stream_write(req, "data: hello\n\n", 13);
	http_request_on_cancel(req, events_cancel, NULL);
}

static void ws_input(void *ctx, struct conn *c)
{
	evbuffer_add_buffer(conn_output(c), conn_input(c));
}

static void ws_closed_cb(void *ctx, struct conn *c, const char *why)
{
	atomic_fetch_add(&ws_closed, 1);
}

static const struct http_takeover ws_ops = { .input = ws_input, .closed = ws_closed_cb };

/* Upgrades to an echo protocol (a stand-in for WebSocket framing). */
static void h_ws(void *ctx, struct http_request *req)
{
	const char *want = http_request_upgrade_wanted(req), *error;
	struct http_response resp;

	if (want == NULL || strcasecmp(want, "websocket") != 0) {
		http_respond_text(req, 426, "text/plain", "upgrade required\n");
		return;
	}
	http_response_init(&resp, 101);
	(void)http_response_field(&resp, "Upgrade", "websocket", &error);
	CHECK(http_upgrade(req, &resp, &ws_ops, NULL) != NULL);
	http_response_clear(&resp);
}

static void basic_done(void *ctx, struct http_request *req, int ok, const char *account, const char *tenant)
{
	char text[300];

	if (!ok) {
		http_respond_unauthorized(req, "test");
		return;
	}
	snprintf(text, sizeof text, "hello %s of %s", account, tenant);
	http_respond_text(req, 200, "text/plain", text);
}

static void h_basic(void *ctx, struct http_request *req)
{
	http_auth_basic(req, basic_done, NULL);
}

static void h_bearer(void *ctx, struct http_request *req)
{
	if (http_auth_bearer(req, "s3cret"))
		http_respond_text(req, 200, "text/plain", "admin");
	else
		http_respond_unauthorized(req, "admin");
}

/* ---- clients (main thread) ---- */

struct client {
	int fd;
	struct buf in;
};

static void cl_open(struct client *c, unsigned p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 10, 0 };

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	c->in = (struct buf)BUF_INIT;
	buf_puts(&c->in, "");
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		abort();
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

static void cl_close(struct client *c)
{
	close(c->fd);
	buf_free(&c->in);
}

static void cl_send(struct client *c, const char *s, size_t len)
{
	if (write(c->fd, s, len) != (ssize_t)len)
		abort();
}

#define SEND(c, s) cl_send(c, s, strlen(s))

/* Reads more; 0 at EOF (or timeout, error). */
static int cl_fill(struct client *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof tmp);

	if (n <= 0)
		return 0;
	buf_append(&c->in, tmp, (size_t)n);
	return 1;
}

/* Takes n bytes from the front of c->in into out (reading as needed). */
static int cl_take(struct client *c, size_t n, struct buf *out)
{
	while (c->in.len < n)
		if (!cl_fill(c))
			return -1;
	if (out != NULL)
		buf_append(out, c->in.data, n);
	memmove(c->in.data, c->in.data + n, c->in.len - n + 1);
	c->in.len -= n;
	return 0;
}

/* A line without its CRLF into line (reading as needed). */
static int cl_line(struct client *c, struct buf *line)
{
	char *eol;

	while ((eol = strstr(c->in.data, "\r\n")) == NULL)
		if (!cl_fill(c))
			return -1;
	buf_truncate(line, 0);
	cl_take(c, (size_t)(eol - c->in.data), line);
	buf_puts(line, "");
	return cl_take(c, 2, NULL);
}

/* A field's value in a head text (first match), or "" (static buffer). */
static const char *field(const char *head, const char *name)
{
	static char v[256];
	char pat[128];
	const char *p, *e;

	snprintf(pat, sizeof pat, "\r\n%s: ", name);
	if ((p = strcasestr(head, pat)) == NULL)
		return "";
	p += strlen(pat);
	e = strstr(p, "\r\n");
	snprintf(v, sizeof v, "%.*s", (int)(e - p), p);
	return v;
}

/* One response: its status (-1 if the connection ended first); head and
 * body (decoded) into the buffers. */
static int cl_response(struct client *c, int head_only, struct buf *head, struct buf *body)
{
	struct buf line = BUF_INIT;
	char *end;
	int status = -1;
	const char *cl;

	buf_truncate(head, 0);
	buf_truncate(body, 0);
	while ((end = strstr(c->in.data, "\r\n\r\n")) == NULL)
		if (!cl_fill(c))
			return -1;
	cl_take(c, (size_t)(end - c->in.data) + 4, head);
	buf_puts(head, "");
	if (sscanf(head->data, "HTTP/1.1 %d ", &status) != 1)
		return -1;
	cl = field(head->data, "Content-Length");
	if (head_only || status < 200 || status == 204 || status == 304) {
		/* no body */
	} else if (cl[0] != '\0') {
		if (cl_take(c, strtoul(cl, NULL, 10), body) < 0)
			status = -1;
	} else if (strcmp(field(head->data, "Transfer-Encoding"), "chunked") == 0) {
		for (;;) {
			unsigned long n;

			if (cl_line(c, &line) < 0) {
				status = -1;
				break;
			}
			n = strtoul(line.data, NULL, 16);
			if (n == 0) {
				while (cl_line(c, &line) == 0 && line.len > 0)
					;
				break;
			}
			if (cl_take(c, n, body) < 0 || cl_take(c, 2, NULL) < 0) {
				status = -1;
				break;
			}
		}
	} else {
		while (cl_fill(c))
			;
		cl_take(c, c->in.len, body);
	}
	buf_puts(body, "");
	buf_free(&line);
	return status;
}

/* 1 when the server closed the connection with nothing more to read. */
static int cl_eof(struct client *c)
{
	return !cl_fill(c) && c->in.len == 0;
}

/* Waits (at most 10 s) until *v reaches want. */
static int wait_for(atomic_int *v, int want)
{
	for (int i = 0; i < 1000 && atomic_load(v) < want; i++)
		usleep(10000);
	return atomic_load(v) >= want;
}

/* ---- the tests ---- */

static struct buf head = BUF_INIT, body = BUF_INIT;

static void test_keep_alive(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "GET /echo/a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(body.data, "GET /echo/a x=1 ");
	CHECK_EQ_STR(field(head.data, "Content-Type"), "text/plain");
	CHECK(strstr(head.data, "\r\nDate: ") != NULL);
	SEND(&c, "HEAD /echo/b HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 1, &head, &body), 200);
	CHECK_EQ_STR(field(head.data, "Content-Length"), "15");
	SEND(&c, "GET /nope HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 404);
	SEND(&c, "POST /only-get/x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 405);
	CHECK_EQ_STR(field(head.data, "Allow"), "GET, HEAD");
	SEND(&c, "BREW /echo HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 501);
	/* the HEAD answer had no body: this one parses right after it */
	SEND(&c, "GET /only-get/y HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(field(head.data, "Connection"), "close");
	CHECK(cl_eof(&c));
	cl_close(&c);
	/* HTTP/1.0: closed unless keep-alive is asked */
	cl_open(&c, port);
	SEND(&c, "GET /echo HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(field(head.data, "Connection"), "keep-alive");
	SEND(&c, "GET /echo HTTP/1.0\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK(cl_eof(&c));
	cl_close(&c);
}

static void test_pipelining(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "GET /echo/1 HTTP/1.1\r\nHost: h\r\n\r\n"
	     "GET /async/2 HTTP/1.1\r\nHost: h\r\n\r\n"
	     "POST /echo/3 HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(body.data, "GET /echo/1 - ");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(body.data, "/async/2");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(body.data, "POST /echo/3 - body");
	cl_close(&c);
}

static void test_chunked_request(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
	     "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(body.data, "POST /echo - hello, world");
	cl_close(&c);
}

static void test_streamed_response(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "GET /stream HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(field(head.data, "Transfer-Encoding"), "chunked");
	CHECK_EQ_STR(body.data, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
	SEND(&c, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");   /* still usable */
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	cl_close(&c);
	/* HTTP/1.0 has no chunked coding: the close ends the body */
	cl_open(&c, port);
	SEND(&c, "GET /stream HTTP/1.0\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(field(head.data, "Transfer-Encoding"), "");
	CHECK_EQ_STR(field(head.data, "Connection"), "close");
	CHECK_EQ_STR(body.data, "data: 1\n\ndata: 2\n\ndata: 3\n\n");
	cl_close(&c);
}

static void test_continue(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "PUT /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 100);
	SEND(&c, "12345");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(body.data, "PUT /echo - 12345");
	cl_close(&c);
	/* refused at the head: no 100, the final answer, then close */
	cl_open(&c, port);
	SEND(&c, "PUT /nope HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 404);
	CHECK_EQ_STR(field(head.data, "Connection"), "close");
	CHECK(cl_eof(&c));
	cl_close(&c);
	/* over the body limit: 413 instead of 100 */
	cl_open(&c, port);
	SEND(&c, "PUT /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 413);
	CHECK(cl_eof(&c));
	cl_close(&c);
}

/* Sends req on a fresh connection: the status, and the connection must
 * close after it. */
static int refused_with(const char *req, size_t len)
{
	struct client c;
	int status, eof;

	cl_open(&c, port);
	cl_send(&c, req, len);
	status = cl_response(&c, 0, &head, &body);
	eof = cl_eof(&c);
	cl_close(&c);
	return eof && strcmp(field(head.data, "Connection"), "close") == 0 ? status : -2;
}

static void test_limits(void)
{
	struct buf r = BUF_INIT;

	buf_puts(&r, "GET /");
	for (int i = 0; i < 1100; i++)
		buf_puts(&r, "a");
	buf_puts(&r, " HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(refused_with(r.data, r.len), 414);
	buf_truncate(&r, 0);
	buf_puts(&r, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	for (int i = 0; i < 1100; i++)
		buf_puts(&r, "b");
	buf_puts(&r, "\r\n\r\n");
	CHECK_EQ_INT(refused_with(r.data, r.len), 431);
	buf_truncate(&r, 0);
	buf_puts(&r, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 21; i++)
		buf_printf(&r, "X-%d: v\r\n", i);
	buf_puts(&r, "\r\n");
	CHECK_EQ_INT(refused_with(r.data, r.len), 431);
	buf_truncate(&r, 0);
	buf_puts(&r, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 5; i++) {
		buf_printf(&r, "X-%d: ", i);
		for (int j = 0; j < 900; j++)
			buf_puts(&r, "c");
		buf_puts(&r, "\r\n");
	}
	buf_puts(&r, "\r\n");
	CHECK_EQ_INT(refused_with(r.data, r.len), 431);
	buf_truncate(&r, 0);
	buf_puts(&r, "POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
	for (int i = 0; i < 5; i++) {
		buf_puts(&r, "3e8\r\n");
		for (int j = 0; j < 1000; j++)
			buf_puts(&r, "d");
		buf_puts(&r, "\r\n");
	}
	CHECK_EQ_INT(refused_with(r.data, r.len), 413);
	buf_free(&r);
#define REFUSED(s, status) CHECK_EQ_INT(refused_with(s, sizeof(s) - 1), status)
	REFUSED("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5000\r\n\r\n", 413);
	REFUSED("POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	REFUSED("GET / HTTP/2.0\r\nHost: h\r\n\r\n", 505);
	REFUSED("GET / HTTP/1.1\r\n\r\n", 400);
	REFUSED("GET / HTTP/1.1\r\nHost: h\r\nExpect: 42\r\n\r\n", 417);
	REFUSED("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
}

static void test_late_answer(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "GET /late HTTP/1.1\r\nHost: h\r\n\r\n");
	usleep(1000);
	cl_close(&c);
	CHECK(wait_for(&late_cancelled, 1));
	CHECK(wait_for(&late_answered, 1));
	/* an event stream whose client leaves is cancelled and ended */
	cl_open(&c, port);
	SEND(&c, "GET /events HTTP/1.1\r\nHost: h\r\n\r\n");
	while (strstr(c.in.data, "data: hello") == NULL)
		CHECK(cl_fill(&c));
	cl_close(&c);
	CHECK(wait_for(&events_cancelled, 1));
	/* the server goes on */
	cl_open(&c, port);
	SEND(&c, "GET /echo HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	cl_close(&c);
}

static void test_upgrade(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nping");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 101);
	CHECK_EQ_STR(field(head.data, "Upgrade"), "websocket");
	CHECK_EQ_STR(field(head.data, "Connection"), "Upgrade");
	while (c.in.len < 4)
		CHECK(cl_fill(&c));
	CHECK_EQ_STR(c.in.data, "ping");
	cl_take(&c, 4, NULL);
	SEND(&c, "GET / HTTP/1.1\r\n");       /* not HTTP any more: echoed */
	while (c.in.len < 16)
		CHECK(cl_fill(&c));
	CHECK_EQ_STR(c.in.data, "GET / HTTP/1.1\r\n");
	cl_close(&c);
	CHECK(wait_for(&ws_closed, 1));
	/* without Upgrade the handler answers normally */
	cl_open(&c, port);
	SEND(&c, "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 426);
	cl_close(&c);
}

static void test_auth(void)
{
	struct client c;

	cl_open(&c, port);
	SEND(&c, "GET /bearer HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer s3cret\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	SEND(&c, "GET /bearer HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer s3cre\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 401);
	SEND(&c, "GET /basic HTTP/1.1\r\nHost: h\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 401);
	CHECK_EQ_STR(field(head.data, "WWW-Authenticate"), "Basic realm=\"test\", charset=\"UTF-8\"");
	/* bob@acme.test:secret */
	SEND(&c, "GET /basic HTTP/1.1\r\nHost: h\r\nAuthorization: Basic Ym9iQGFjbWUudGVzdDpzZWNyZXQ=\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 200);
	CHECK_EQ_STR(body.data, "hello bob@acme.test of acme");
	/* bob@acme.test:wrong */
	SEND(&c, "GET /basic HTTP/1.1\r\nHost: h\r\nAuthorization: Basic Ym9iQGFjbWUudGVzdDp3cm9uZw==\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 401);
	/* malformed credentials are refused the same way */
	SEND(&c, "GET /basic HTTP/1.1\r\nHost: h\r\nAuthorization: Basic !!\r\n\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 401);
	cl_close(&c);
}

static void test_idle_timeout(void)
{
	struct client c;

	cl_open(&c, idle_port);     /* idle_timeout_s 1: closed without a word */
	CHECK(cl_eof(&c));
	cl_close(&c);
	cl_open(&c, idle_port);     /* a request begun: 408 */
	SEND(&c, "GET / HTTP/1.1\r\n");
	CHECK_EQ_INT(cl_response(&c, 0, &head, &body), 408);
	CHECK(cl_eof(&c));
	cl_close(&c);
}

/* ---- the harness ---- */

static void tick(evutil_socket_t fd, short what, void *ctx)
{
	if (atomic_load(&stop_loop))
		event_base_loopbreak(base);
}

static void *loop_thread(void *arg)
{
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 20000 };

	event_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	return NULL;
}

/* A free loopback port. */
static unsigned free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	close(fd);
	return ntohs(sa.sin_port);
}

static struct http_server *start(unsigned p, unsigned idle)
{
	struct http_server_settings set = { .name = "http", .idle_timeout_s = idle, .view = view };
	struct http_server *s = NULL;
	const char *error = NULL;
	char listen[64];

	snprintf(listen, sizeof listen, "127.0.0.1:%u", p);
	set.listen = listen;
	http_parser_settings_default(&set.limits);
	set.limits.max_request_line = 1024;
	set.limits.max_field_line = 1024;
	set.limits.max_fields = 20;
	set.limits.max_header_bytes = 4096;
	set.limits.max_body = 4096;
	if (http_server_start(base, &set, &s, &error) < 0) {
		fprintf(stderr, "http_server_start: %s\n", error);
		abort();
	}
	return s;
}

/* Applies one directory event in its own batch; aborts unless accepted. */
static void apply(const char *type, json_t *data)
{
	const struct applier *a = applier_find(type);
	struct apply_ctx ctx = { 0 };
	struct evm_event ev;
	struct view_batch *b;
	const char *error = NULL;
	static int64_t ts = 1700000000000;

	if (a == NULL || evm_event_init(&ev, type, "", "", "admin", data, &error) < 0)
		abort();
	ev.ts = ts++;
	b = view_batch_begin(view);
	ctx.batch = b;
	ctx.ev = &ev;
	ctx.topic = a->topic;
	ctx.offset = ev.ts;
	ctx.result = json_object();
	ctx.changed = json_array();
	if (a->apply(&ctx, &error) != APPLY_ACCEPTED || view_batch_commit(&b, &error) < 0) {
		fprintf(stderr, "%s: %s\n", type, error ? error : ctx.reject_reason);
		abort();
	}
	json_decref(ctx.result);
	json_decref(ctx.changed);
	evm_event_clear(&ev);
}

/* A view with the account bob@acme.test, password "secret". */
static void make_view(void)
{
	const char *error = NULL;
	char *hash = NULL;

	if (view_open(test_tmpdir("http-server"), &view, &error) < 0 ||
	    evm_password_hash("secret", &hash, &error) < 0) {
		fprintf(stderr, "setup: %s\n", error);
		exit(2);
	}
	apply("tenant.create", json_pack("{s:s}", "name", "acme"));
	apply("domain.add", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	apply("account.create", json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", "bob@acme.test",
					  "display_name", "Bob", "quota", (json_int_t)0, "state", "active",
					  "password_hash", hash));
	free(hash);
}

int main(void)
{
	const char *error = NULL;
	pthread_t loop;

	log_set_level(LOG_WARN);
	evthread_use_pthreads();   /* auth_password's workers wake the loop */
	base = event_base_new();
	make_view();
	port = free_port();
	srv = start(port, 30);
	idle_port = free_port();
	idle_srv = start(idle_port, 1);
	if (http_server_route(srv, "/echo", h_echo, NULL, &error) < 0 ||
	    http_server_route_methods(srv, "/only-get/", "GET, HEAD", h_echo, NULL, &error) < 0 ||
	    http_server_route(srv, "/async/", h_async, NULL, &error) < 0 ||
	    http_server_route(srv, "/late", h_late, NULL, &error) < 0 ||
	    http_server_route(srv, "/stream", h_stream, NULL, &error) < 0 ||
	    http_server_route(srv, "/events", h_events, NULL, &error) < 0 ||
	    http_server_route(srv, "/ws", h_ws, NULL, &error) < 0 ||
	    http_server_route(srv, "/basic", h_basic, NULL, &error) < 0 ||
	    http_server_route(srv, "/bearer", h_bearer, NULL, &error) < 0 ||
	    http_server_route(srv, "nope", h_echo, NULL, &error) == 0) {
		fprintf(stderr, "routes: %s\n", error);
		return 1;
	}
	pthread_create(&loop, NULL, loop_thread, NULL);
	test_run("keep-alive, HEAD, 404, 405, 501, HTTP/1.0", test_keep_alive);
	test_run("three pipelined requests in one write", test_pipelining);
	test_run("chunked request body", test_chunked_request);
	test_run("chunked streamed response", test_streamed_response);
	test_run("100-continue", test_continue);
	test_run("limits answer their status and close", test_limits);
	test_run("answers after the client left", test_late_answer);
	test_run("upgrade hands the connection over", test_upgrade);
	test_run("Basic against the directory, Bearer", test_auth);
	test_run("idle timeout", test_idle_timeout);
	atomic_store(&stop_loop, 1);
	pthread_join(loop, NULL);
	http_server_stop(&srv);
	http_server_stop(&idle_srv);
	view_close(&view);
	buf_free(&head);
	buf_free(&body);
	event_base_free(base);
	return test_done();
}
