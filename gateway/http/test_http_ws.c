/* test_http_ws - WebSocket sessions on the HTTP server over loopback: the
 * handshake (the accept value of RFC 6455 1.3's own example key, the
 * subprotocol, the refusals), a masked text message (whole, and written 1
 * and 7 octets at a time), a fragmented one with
 * a ping between its fragments, ping -> pong, an oversized message ->
 * close 1009, an unmasked client frame -> 1002, bad UTF-8 -> 1007, the
 * close handshake started by either side, and backpressure (no message is
 * delivered while the unsent output is over the watermark).
 *
 * The server's loop runs in a thread (conn_testutil.h); the clients block
 * in the main thread with every read bounded by a 10 s timeout. */
#include "gateway/http/http_ws.h"
#include "gateway/conn/conn_testutil.h"
#include "common/buf.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdint.h>

#define MAX_MESSAGE 70000
#define OUT_HIGH 65536

static struct http_server *srv;
static unsigned port;
static atomic_int closed_count, last_code, saw_congested, max_pending_at_delivery;

/* ---- the server: an echo endpoint (loop thread) ---- */

static void on_message(void *ctx, struct http_ws *ws, int binary, const unsigned char *data, size_t len)
{
	int p = (int)http_ws_pending(ws);

	if (p > atomic_load(&max_pending_at_delivery))
		atomic_store(&max_pending_at_delivery, p);
	if (!binary && len == 5 && memcmp(data, "close", 5) == 0) {
		http_ws_close(ws, HTTP_WS_NORMAL, "bye");
		return;
	}
	if (binary)
		http_ws_send_binary(ws, data, len);
	else
		http_ws_send_text(ws, data, len);
	if (http_ws_congested(ws))
		atomic_store(&saw_congested, 1);
}

static void on_closed(void *ctx, struct http_ws *ws, unsigned code, const char *why)
{
	atomic_store(&last_code, (int)code);
	atomic_fetch_add(&closed_count, 1);
}

static const struct http_ws_handler echo = { .message = on_message, .closed = on_closed };
static const char *const protocols[] = { "echo", "other", NULL };

static void h_ws(void *ctx, struct http_request *req)
{
	struct http_ws_settings set = { .protocols = protocols, .max_message = MAX_MESSAGE,
					.out_high = OUT_HIGH, .idle_timeout_s = 30 };

	struct http_ws *ws = http_ws_accept(req, &set, &echo, NULL);
	int sndbuf = 4096;

	/* a small kernel buffer, so the output waits in ours */
	if (ws != NULL)
		setsockopt(conn_socket(http_ws_conn(ws)), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
}

static void h_plain(void *ctx, struct http_request *req)
{
	struct http_ws_settings set = { .max_message = MAX_MESSAGE };

	(void)http_ws_accept(req, &set, &echo, NULL);
}

/* ---- the client (main thread) ---- */

struct client {
	int fd;
	struct buf in;
};

static void cl_open(struct client *c)
{
	int one = 1;

	c->fd = connect_rcvbuf(port, 16384);
	/* small writes leave as they are written (the split test) */
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->in = (struct buf)BUF_INIT;
}

static void cl_close(struct client *c)
{
	close(c->fd);
	buf_free(&c->in);
}

/* Reads until the buffer holds n octets: 0, or -1 at EOF or timeout. */
static int cl_need(struct client *c, size_t n)
{
	while (c->in.len < n) {
		char tmp[16384];
		ssize_t r = read(c->fd, tmp, sizeof tmp);

		if (r <= 0)
			return -1;
		buf_append(&c->in, tmp, (size_t)r);
	}
	return 0;
}

static void cl_drop(struct client *c, size_t n)
{
	memmove(c->in.data, c->in.data + n, c->in.len - n);
	c->in.len -= n;
}

/* 1 when the server closed the TCP connection (EOF, nothing more). */
static int cl_eof(struct client *c)
{
	char tmp[64];

	return c->in.len == 0 && read(c->fd, tmp, sizeof tmp) == 0;
}

/* Sends one frame, masked unless masked is 0 (RFC 6455 5.2, 5.3). */
static void send_frame(struct client *c, int fin, int opcode, int masked, const void *data, size_t len)
{
	static const unsigned char key[4] = { 0x37, 0xfa, 0x21, 0x3d };
	struct buf f = BUF_INIT;
	unsigned char h[14];
	size_t n = 0;

	h[n++] = (unsigned char)((fin ? 0x80 : 0) | opcode);
	if (len < 126) {
		h[n++] = (unsigned char)((masked ? 0x80 : 0) | len);
	} else if (len <= 0xffff) {
		h[n++] = (unsigned char)((masked ? 0x80 : 0) | 126);
		h[n++] = (unsigned char)(len >> 8);
		h[n++] = (unsigned char)len;
	} else {
		h[n++] = (unsigned char)((masked ? 0x80 : 0) | 127);
		for (int i = 7; i >= 0; i--)
			h[n++] = (unsigned char)((uint64_t)len >> (8 * i));
	}
	if (masked) {
		memcpy(h + n, key, 4);
		n += 4;
	}
	buf_append(&f, h, n);
	for (size_t i = 0; i < len; i++) {
		unsigned char b = ((const unsigned char *)data)[i];

		buf_append(&f, masked ? (unsigned char[]){ b ^ key[i % 4] } : &b, 1);
	}
	if (write(c->fd, f.data, f.len) != (ssize_t)f.len)
		abort();
	buf_free(&f);
}

/* The same frame written in pieces of step octets (1 and 7: wslay's push
 * parsing across reads). */
static void send_frame_split(struct client *c, size_t step, const char *text)
{
	struct client tmp = { .fd = -1 };
	int sv[2];
	char f[256];
	ssize_t n;

	/* Build the frame with send_frame into a socketpair, then replay it. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	tmp.fd = sv[0];
	send_frame(&tmp, 1, 0x1, 1, text, strlen(text));
	n = read(sv[1], f, sizeof f);
	close(sv[0]);
	close(sv[1]);
	for (ssize_t off = 0; off < n; off += (ssize_t)step) {
		size_t len = (size_t)(n - off) < step ? (size_t)(n - off) : step;

		if (write(c->fd, f + off, len) != (ssize_t)len)
			abort();
	}
}

/* Reads one server frame: its opcode (-1 at EOF), payload into out.
 * Server frames are never masked (RFC 6455 5.1): a masked one is -2. */
static int read_frame(struct client *c, int *fin_r, struct buf *out)
{
	const unsigned char *p;
	uint64_t len;
	size_t hl = 2;
	int op;

	buf_truncate(out, 0);
	if (cl_need(c, 2) < 0)
		return -1;
	p = (const unsigned char *)c->in.data;
	if (p[1] & 0x80)
		return -2;
	len = p[1] & 0x7f;
	if (len == 126)
		hl += 2;
	else if (len == 127)
		hl += 8;
	if (cl_need(c, hl) < 0)
		return -1;
	p = (const unsigned char *)c->in.data;
	if (hl == 4)
		len = (uint64_t)p[2] << 8 | p[3];
	else if (hl == 10)
		for (int i = 0; i < 8; i++)
			len = (i == 0 ? 0 : len << 8) | p[2 + i];
	if (cl_need(c, hl + (size_t)len) < 0)
		return -1;
	p = (const unsigned char *)c->in.data;
	*fin_r = (p[0] & 0x80) != 0;
	op = p[0] & 0x0f;
	buf_append(out, c->in.data + hl, (size_t)len);
	buf_puts(out, "");
	out->len = (size_t)len;
	cl_drop(c, hl + (size_t)len);
	return op;
}

/* Sends a request and reads the head of the answer into head; its status. */
static int handshake(struct client *c, const char *path, const char *extra, struct buf *head)
{
	char req[1024];
	char *end;
	size_t n;

	snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", path, extra);
	if (write(c->fd, req, strlen(req)) != (ssize_t)strlen(req))
		abort();
	buf_truncate(head, 0);
	while (c->in.len == 0 || (end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4)) == NULL)
		if (cl_need(c, c->in.len + 1) < 0)
			return -1;
	n = (size_t)(end - c->in.data) + 4;
	buf_append(head, c->in.data, n);
	buf_puts(head, "");
	cl_drop(c, n);
	return atoi(head->data + 9);
}

#define UPGRADE "Upgrade: websocket\r\nConnection: Upgrade\r\n"
#define RFC_KEY "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
#define V13 "Sec-WebSocket-Version: 13\r\n"

/* A client connected through the handshake to /ws with "echo". */
static int open_ws(struct client *c)
{
	struct buf head = BUF_INIT;
	int status;

	cl_open(c);
	status = handshake(c, "/ws", UPGRADE RFC_KEY V13 "Sec-WebSocket-Protocol: echo\r\n", &head);
	buf_free(&head);
	return status;
}

/* Waits (bounded) for the server to report n closed sessions. */
static int wait_closed(int n)
{
	for (int i = 0; i < 1000 && atomic_load(&closed_count) < n; i++)
		usleep(10000);
	return atomic_load(&closed_count) >= n;
}

/* The close code of a Close payload. */
static int close_code(const struct buf *p)
{
	return p->len >= 2 ? ((unsigned char)p->data[0] << 8 | (unsigned char)p->data[1]) : 0;
}

/* ---- tests ---- */

static void test_handshake(void)
{
	struct client c;
	struct buf head = BUF_INIT;

	cl_open(&c);
	CHECK_EQ_INT(handshake(&c, "/ws", UPGRADE RFC_KEY V13 "Sec-WebSocket-Protocol: chat, echo\r\n"
			       "Sec-WebSocket-Protocol: other\r\n", &head), 101);
	/* RFC 6455 1.3: the example key and its accept value. */
	CHECK(strstr(head.data, "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n") != NULL);
	CHECK(strstr(head.data, "\r\nSec-WebSocket-Protocol: echo\r\n") != NULL);
	CHECK(strcasestr(head.data, "\r\nUpgrade: websocket\r\n") != NULL);
	CHECK(strcasestr(head.data, "\r\nConnection: Upgrade\r\n") != NULL);
	cl_close(&c);
	/* Without a subprotocol list the answer names none. */
	cl_open(&c);
	CHECK_EQ_INT(handshake(&c, "/plain", UPGRADE RFC_KEY V13 "Sec-WebSocket-Protocol: echo\r\n", &head), 101);
	CHECK(strstr(head.data, "Sec-WebSocket-Protocol") == NULL);
	cl_close(&c);
	buf_free(&head);
}

static void test_refusals(void)
{
	struct client c;
	struct buf head = BUF_INIT;

	cl_open(&c);
	CHECK_EQ_INT(handshake(&c, "/ws", "", &head), 426);
	CHECK(strcasestr(head.data, "\r\nUpgrade: websocket\r\n") != NULL);
	cl_close(&c);
	cl_open(&c);
	CHECK_EQ_INT(handshake(&c, "/ws", UPGRADE RFC_KEY "Sec-WebSocket-Version: 8\r\n"
			       "Sec-WebSocket-Protocol: echo\r\n", &head), 426);
	CHECK(strstr(head.data, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
	cl_close(&c);
	cl_open(&c);
	CHECK_EQ_INT(handshake(&c, "/ws", UPGRADE V13 "Sec-WebSocket-Key: c2hvcnQ=\r\n"
			       "Sec-WebSocket-Protocol: echo\r\n", &head), 400);
	cl_close(&c);
	cl_open(&c);
	CHECK_EQ_INT(handshake(&c, "/ws", UPGRADE RFC_KEY V13 "Sec-WebSocket-Protocol: chat\r\n", &head), 400);
	cl_close(&c);
	buf_free(&head);

	char out[HTTP_WS_ACCEPT_SIZE];
	const char *error;

	CHECK_EQ_INT(http_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out, &error), 0);
	CHECK_EQ_STR(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	CHECK_EQ_INT(http_ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", out, &error), -1);
	CHECK_EQ_INT(http_ws_accept_key("dGhlIHNhbXBsZSBub25j*Q==", out, &error), -1);
	CHECK_EQ_INT(http_ws_accept_key("", out, &error), -1);
}

static void test_messages(void)
{
	struct client c;
	struct buf p = BUF_INIT;
	int fin = 0;

	CHECK_EQ_INT(open_ws(&c), 101);
	send_frame(&c, 1, 0x1, 1, "Hello", 5);
	CHECK_EQ_INT(read_frame(&c, &fin, &p), 0x1);
	CHECK(fin);
	CHECK_EQ_STR(p.data, "Hello");
	/* RFC 6455 5.4: fragments, with a control frame between them. */
	send_frame(&c, 0, 0x1, 1, "Hel", 3);
	send_frame(&c, 1, 0x9, 1, "mid", 3);
	send_frame(&c, 0, 0x0, 1, "lo, ", 4);
	send_frame(&c, 1, 0x0, 1, "world", 5);
	CHECK_EQ_INT(read_frame(&c, &fin, &p), 0xA);
	CHECK_EQ_STR(p.data, "mid");
	CHECK_EQ_INT(read_frame(&c, &fin, &p), 0x1);
	CHECK_EQ_STR(p.data, "Hello, world");
	/* the same message in 1- and 7-octet writes */
	for (size_t step = 1; step <= 7; step += 6) {
		send_frame_split(&c, step, "split across writes");
		CHECK_EQ_INT(read_frame(&c, &fin, &p), 0x1);
		CHECK_EQ_STR(p.data, "split across writes");
	}
	/* ping -> pong with the same payload (5.5.3) */
	send_frame(&c, 1, 0x9, 1, "are you there", 13);
	CHECK_EQ_INT(read_frame(&c, &fin, &p), 0xA);
	CHECK_EQ_STR(p.data, "are you there");
	/* binary, 64-bit length */
	{
		size_t n = MAX_MESSAGE;
		unsigned char *big = xmalloc(n);

		for (size_t i = 0; i < n; i++)
			big[i] = (unsigned char)(i * 7);
		send_frame(&c, 1, 0x2, 1, big, n);
		CHECK_EQ_INT(read_frame(&c, &fin, &p), 0x2);
		CHECK_EQ_INT(p.len, n);
		CHECK(memcmp(p.data, big, n) == 0);
		free(big);
	}
	/* the close handshake started by the client: echoed, then TCP closed */
	int before = atomic_load(&closed_count);

	send_frame(&c, 1, 0x8, 1, "\x03\xe8" "done", 6);
	CHECK_EQ_INT(read_frame(&c, &fin, &p), 0x8);
	CHECK_EQ_INT(close_code(&p), 1000);
	CHECK(cl_eof(&c));
	CHECK(wait_closed(before + 1));
	CHECK_EQ_INT(atomic_load(&last_code), 1000);
	cl_close(&c);
	buf_free(&p);
}

/* Sends what makes the server fail the connection; expects its Close
 * with code, then the end of the connection. */
static void expect_failure(int fin, int opcode, int masked, const void *data, size_t len, int code,
			   int closed_code)
{
	struct client c;
	struct buf p = BUF_INIT;
	int f = 0;
	int before = atomic_load(&closed_count);

	CHECK_EQ_INT(open_ws(&c), 101);
	send_frame(&c, fin, opcode, masked, data, len);
	CHECK_EQ_INT(read_frame(&c, &f, &p), 0x8);
	CHECK_EQ_INT(close_code(&p), code);
	/* the server half-closed and discards input until the client leaves */
	CHECK(cl_eof(&c));
	cl_close(&c);
	CHECK(wait_closed(before + 1));
	CHECK_EQ_INT(atomic_load(&last_code), closed_code);
	buf_free(&p);
}

static void test_failures(void)
{
	unsigned char *big = xcalloc(1, MAX_MESSAGE + 1);

	/* over max_message: 1009 (7.4.1), before the payload was even sent */
	expect_failure(1, 0x2, 1, big, MAX_MESSAGE + 1, 1009, 1009);
	/* a control frame over 125 octets (5.5): wslay's frame error, a Close
	 * without a status (1005 for the session) */
	expect_failure(1, 0x9, 1, big, 126, 0, 1005);
	free(big);
	/* a client frame without the mask: 1002 (5.1) */
	expect_failure(1, 0x1, 0, "Hello", 5, 1002, 1002);
	/* text that is not UTF-8: 1007 (8.1) */
	expect_failure(1, 0x1, 1, "\xc3\x28", 2, 1007, 1007);
	/* a reserved opcode: 1002 (5.2) */
	expect_failure(1, 0x3, 1, "x", 1, 1002, 1002);
}

static void test_server_close(void)
{
	struct client c;
	struct buf p = BUF_INIT;
	int fin = 0, before = atomic_load(&closed_count);

	CHECK_EQ_INT(open_ws(&c), 101);
	send_frame(&c, 1, 0x1, 1, "close", 5);
	CHECK_EQ_INT(read_frame(&c, &fin, &p), 0x8);
	CHECK_EQ_INT(close_code(&p), 1000);
	CHECK_EQ_STR(p.data + 2, "bye");
	/* messages after the server's Close are not delivered nor answered */
	send_frame(&c, 1, 0x1, 1, "late", 4);
	send_frame(&c, 1, 0x8, 1, "\x03\xe8", 2);
	CHECK(cl_eof(&c));
	CHECK(wait_closed(before + 1));
	CHECK_EQ_INT(atomic_load(&last_code), 1000);
	cl_close(&c);
	buf_free(&p);
}

/* The client writes many large messages without reading: the server
 * stops reading once its output is over the watermark, so no message is
 * delivered while more than OUT_HIGH (plus the message that crossed it)
 * waits to be sent; once the client reads, every echo arrives intact. */
struct writer {
	struct client *c;
	int n;
	size_t size;
};

static void *write_all(void *arg)
{
	struct writer *w = arg;
	unsigned char *m = xmalloc(w->size);

	for (int i = 0; i < w->n; i++) {
		memset(m, 'a' + i % 26, w->size);
		send_frame(w->c, 1, 0x2, 1, m, w->size);
	}
	free(m);
	return NULL;
}

static void test_backpressure(void)
{
	struct client c;
	struct writer w = { .c = &c, .n = 120, .size = 60000 };
	struct buf p = BUF_INIT;
	struct timeval tv = { 10, 0 };
	pthread_t t;
	int fin = 0;

	CHECK_EQ_INT(open_ws(&c), 101);
	setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	atomic_store(&max_pending_at_delivery, 0);
	pthread_create(&t, NULL, write_all, &w);
	for (int i = 0; i < 1000 && !atomic_load(&saw_congested); i++)
		usleep(10000);
	CHECK(atomic_load(&saw_congested));
	/* Give a server without backpressure the time to go on reading (a
	 * correct one waits however long this is). */
	usleep(300000);
	for (int i = 0; i < w.n; i++) {
		CHECK_EQ_INT(read_frame(&c, &fin, &p), 0x2);
		CHECK_EQ_INT(p.len, w.size);
		CHECK(p.data[0] == 'a' + i % 26 && p.data[w.size - 1] == 'a' + i % 26);
	}
	pthread_join(t, NULL);
	CHECK(atomic_load(&max_pending_at_delivery) <= OUT_HIGH + (int)w.size + 16);
	cl_close(&c);
	buf_free(&p);
}

int main(void)
{
	struct http_server_settings set = { .name = "http", .idle_timeout_s = 30 };
	char listen[64];
	const char *error = NULL;
	pthread_t loop;

	log_set_level(LOG_ERROR);
	base = event_base_new();
	port = free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
	set.listen = listen;
	http_parser_settings_default(&set.limits);
	if (http_server_start(base, &set, &srv, &error) < 0 ||
	    http_server_route(srv, "/ws", h_ws, NULL, &error) < 0 ||
	    http_server_route(srv, "/plain", h_plain, NULL, &error) < 0) {
		fprintf(stderr, "server: %s\n", error);
		return 1;
	}
	pthread_create(&loop, NULL, loop_thread, NULL);
	test_run("handshake: accept value and subprotocol", test_handshake);
	test_run("handshake refusals", test_refusals);
	test_run("text, fragments, ping, binary, client close", test_messages);
	test_run("1009, 1002, 1007", test_failures);
	test_run("close started by the server", test_server_close);
	test_run("backpressure", test_backpressure);
	atomic_store(&stop_loop, 1);
	pthread_join(loop, NULL);
	http_server_stop(&srv);
	event_base_free(base);
	return test_done();
}
