/* test_conn - the connection layer with a tiny line protocol over real
 * 127.0.0.1 sockets: TCP_NODELAY, implicit TLS, STARTTLS (plain text after
 * the command discarded), pre-auth and idle timeouts, the limits' reject
 * line, output backpressure, close-after-flush over plain, TLS and a
 * deflate filter, closing from inside a callback, and a client's
 * half-close with an answer in flight. The server loop
 * runs in a thread; the clients block in the main thread (every read
 * bounded by SO_RCVTIMEO). */
#include "gateway/conn/conn.h"
#include "gateway/conn/conn_testutil.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <netinet/tcp.h>
#include <zlib.h>

static struct net_tls *tls;
/* what the protocol saw (written by the loop thread) */
static atomic_int nodelay_seen, lines_seen, blocked_seen, input_over_high, timeouts_seen;
static char closed_why[128];
static size_t out_high = 64 * 1024;

/* ---- the protocol: one command per line ---- */

/* Deterministic, hardly compressible payload: octet i of a BIG answer. */
static char payload_octet(size_t i)
{
	uint32_t x = (uint32_t)i * 2654435761u;

	x ^= x >> 13;
	return "abcdefghijklmnopqrstuvwxyz0123456789"[x % 36];
}

static void write_payload(struct conn *c, size_t n)
{
	char chunk[4096];

	for (size_t done = 0; done < n;) {
		size_t k = n - done < sizeof chunk ? n - done : sizeof chunk;
		for (size_t i = 0; i < k; i++)
			chunk[i] = payload_octet(done + i);
		conn_write(c, chunk, k);
		done += k;
	}
}

/* Output only: raw deflate with a sync flush (as IMAP COMPRESS). */
static enum bufferevent_filter_result z_out(struct evbuffer *src, struct evbuffer *dst, ev_ssize_t limit,
					    enum bufferevent_flush_mode mode, void *ctx)
{
	z_stream *z = ctx;

	while (evbuffer_get_length(src) > 0) {
		struct evbuffer_iovec in, out;

		if (evbuffer_peek(src, -1, NULL, &in, 1) < 1)
			return BEV_ERROR;
		z->next_in = in.iov_base;
		z->avail_in = (uInt)in.iov_len;
		do {
			if (evbuffer_reserve_space(dst, 16384, &out, 1) < 1)
				return BEV_ERROR;
			z->next_out = out.iov_base;
			z->avail_out = (uInt)out.iov_len;
			if (deflate(z, Z_SYNC_FLUSH) == Z_STREAM_ERROR)
				return BEV_ERROR;
			out.iov_len -= z->avail_out;
			evbuffer_commit_space(dst, &out, 1);
		} while (z->avail_out == 0 || z->avail_in > 0);
		evbuffer_drain(src, in.iov_len);
	}
	return BEV_OK;
}

static void z_free(void *ctx)
{
	deflateEnd(ctx);
	free(ctx);
}

static void *tp_open(void *ctx, struct conn *c)
{
	int v = 0;
	socklen_t len = sizeof v;

	if (getsockopt(conn_socket(c), IPPROTO_TCP, TCP_NODELAY, &v, &len) == 0 && v != 0)
		atomic_store(&nodelay_seen, 1);
	if (ctx != NULL) {
		/* a small send buffer, so the output piles up in the layer */
		int sz = 4096;
		setsockopt(conn_socket(c), SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	}
	conn_printf(c, "hi %s\r\n", conn_id(c));
	return c;   /* the session is the conn itself */
}

/* SLOW: the answer comes from a timer, as an answer that waits for the
 * log does; no input is taken meanwhile (as IMAP and POP3 do). */
static int slow_busy;

static void slow_done(evutil_socket_t fd, short what, void *ctx)
{
	struct conn *c = ctx;

	slow_busy = 0;
	conn_write(c, "slow done\r\n", 11);
	conn_resume_input(c);
}

static int tp_busy(void *session)
{
	return slow_busy;
}

static void tp_command(struct conn *c, const char *line)
{
	unsigned long n;

	if (strcmp(line, "STARTTLS") == 0) {
		conn_write(c, "go\r\n", 4);
		(void)conn_starttls(c);
	} else if (strcmp(line, "AUTH") == 0) {
		conn_set_authenticated(c);
		conn_write(c, "ok\r\n", 4);
	} else if (sscanf(line, "BIG %lu", &n) == 1) {
		write_payload(c, n);
	} else if (sscanf(line, "QUITBIG %lu", &n) == 1) {
		write_payload(c, n);
		conn_close_after_flush(c, "quit");
		conn_write(c, "dropped", 7);   /* after the close: never sent */
	} else if (strcmp(line, "ZIP") == 0) {
		z_stream *z = xcalloc(1, sizeof *z);

		conn_write(c, "zip\r\n", 5);
		if (deflateInit2(z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			abort();
		if (conn_push_filter(c, NULL, z_out, z, z_free) < 0)
			conn_close(c, "filter failed");
	} else if (strcmp(line, "SLOW") == 0) {
		struct timeval tv = { 0, 100 * 1000 };

		slow_busy = 1;
		event_base_once(conn_base(c), -1, EV_TIMEOUT, slow_done, c, &tv);
	} else if (strcmp(line, "KILL") == 0) {
		conn_close(c, "killed");
		/* still inside the callback: every call is harmless now */
		conn_write(c, "x", 1);
		conn_printf(c, "%s", "y");
		conn_close_after_flush(c, "again");
		conn_close(c, "again");
		conn_resume_input(c);
		conn_hold_input(c, 1);
	} else {
		conn_printf(c, "echo: %s\r\n", line);
	}
}

static void tp_input(void *session, struct conn *c)
{
	if (conn_pending_output(c) > out_high)
		atomic_fetch_add(&input_over_high, 1);
	for (;;) {
		if (slow_busy)
			return;
		size_t len;
		char *line;

		if (conn_input_blocked(c)) {
			if (!conn_closing(c))
				atomic_fetch_add(&blocked_seen, 1);
			return;
		}
		line = evbuffer_readln(conn_input(c), &len, EVBUFFER_EOL_CRLF);
		if (line == NULL)
			return;
		atomic_fetch_add(&lines_seen, 1);
		tp_command(c, line);
		free(line);
	}
}

static void tp_timeout(void *session, struct conn *c)
{
	atomic_fetch_add(&timeouts_seen, 1);
	conn_write(c, "timeout\r\n", 9);
}

static void tp_closed(void *session, struct conn *c, const char *why)
{
	snprintf(closed_why, sizeof closed_why, "%s", why);
}

static struct conn_protocol proto = {
	.name = "tp", .reject_line = "busy\r\n", .in_high = 4096, .preauth_timeout_s = 30,
	.idle_timeout_s = 30, .write_timeout_s = 30, .open = tp_open, .input = tp_input,
	.timeout = tp_timeout, .closed = tp_closed,
};

/* ---- the harness ---- */

static pthread_t loop;

static struct conn_server *start(const struct conn_protocol *p, int implicit, unsigned max, unsigned per_ip,
				 void *ctx, unsigned *port_r)
{
	struct conn_server_settings set = { .tls = tls, .implicit_tls = implicit, .max_connections = max,
					    .max_per_ip = per_ip };
	struct conn_server *srv = NULL;
	const char *error = NULL;
	char listen[64];

	*port_r = free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%u", *port_r);
	set.listen = listen;
	if (conn_server_start(base, &set, p, ctx, &srv, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		abort();
	}
	atomic_store(&nodelay_seen, 0);
	atomic_store(&lines_seen, 0);
	atomic_store(&blocked_seen, 0);
	atomic_store(&input_over_high, 0);
	atomic_store(&timeouts_seen, 0);
	closed_why[0] = '\0';
	atomic_store(&stop_loop, 0);
	pthread_create(&loop, NULL, loop_thread, NULL);
	return srv;
}

/* Stops the loop first: after this the server state is the test's. */
static void finish(struct conn_server **srv)
{
	atomic_store(&stop_loop, 1);
	pthread_join(loop, NULL);
	conn_server_stop(srv);
}

/* ---- the tests ---- */

static void test_nodelay(void)
{
	unsigned port;
	struct conn_server *srv = start(&proto, 0, 0, 0, NULL, &port);
	int fd = connect_to(port), eof;
	char *got = read_until(fd, NULL, "\r\n", &eof);

	CHECK(strncmp(got, "hi ", 3) == 0 && strlen(got) == 3 + 16 + 2);
	free(got);
	CHECK_EQ_INT(conn_server_count(srv), 1);
	close(fd);
	finish(&srv);
	CHECK_EQ_INT(atomic_load(&nodelay_seen), 1);
}

static void test_implicit_tls(void)
{
	unsigned port;
	struct conn_server *srv = start(&proto, 1, 0, 0, NULL, &port);
	int fd = connect_to(port), eof, clean = 0, n;
	SSL_CTX *cctx = NULL;
	SSL *ssl = tls_client(fd, &cctx);
	char *got, tmp[64];

	CHECK(ssl != NULL);
	got = read_until(fd, ssl, "\r\n", &eof);
	CHECK(strncmp(got, "hi ", 3) == 0);
	free(got);
	send_all(fd, ssl, "hello\r\nQUITBIG 5\r\n");
	got = read_until(fd, ssl, "echo: hello\r\n", &eof);
	CHECK(!eof);
	free(got);
	got = read_until(fd, ssl, NULL, &eof);
	free(got);
	n = read_some(fd, ssl, tmp, sizeof tmp, &clean);
	CHECK(n <= 0);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	close(fd);
	finish(&srv);
	CHECK_EQ_STR(closed_why, "quit");
}

/* RFC 3207 4.2: "INJECTED", sent in plain text right behind STARTTLS, is
 * never executed. */
static void test_starttls(void)
{
	unsigned port;
	struct conn_server *srv = start(&proto, 0, 0, 0, NULL, &port);
	int fd = connect_to(port), eof;
	char *got = read_until(fd, NULL, "\r\n", &eof);
	SSL_CTX *cctx = NULL;
	SSL *ssl;

	free(got);
	send_all(fd, NULL, "STARTTLS\r\nINJECTED\r\n");
	got = read_until(fd, NULL, "go\r\n", &eof);
	CHECK_EQ_STR(got, "go\r\n");
	free(got);
	ssl = tls_client(fd, &cctx);
	CHECK(ssl != NULL);
	send_all(fd, ssl, "AFTER\r\n");
	got = read_until(fd, ssl, "AFTER\r\n", &eof);
	CHECK_EQ_STR(got, "echo: AFTER\r\n");
	free(got);
	SSL_free(ssl);
	SSL_CTX_free(cctx);
	close(fd);
	finish(&srv);
	CHECK_EQ_INT(atomic_load(&lines_seen), 2);   /* STARTTLS, AFTER */
}

/* The read timeout: pre-auth, then the idle one once authenticated; the
 * protocol's farewell goes out before the close. */
static void test_timeouts(void)
{
	struct conn_protocol p = proto;
	struct conn_server *srv;
	unsigned port;
	int fd, eof;
	char *got;

	p.preauth_timeout_s = 1;
	p.idle_timeout_s = 600;
	srv = start(&p, 0, 0, 0, NULL, &port);
	fd = connect_to(port);
	got = read_until(fd, NULL, NULL, &eof);
	CHECK(strstr(got, "timeout\r\n") != NULL);
	free(got);
	close(fd);
	finish(&srv);
	CHECK_EQ_STR(closed_why, "timeout");
	CHECK_EQ_INT(atomic_load(&timeouts_seen), 1);

	p.preauth_timeout_s = 600;
	p.idle_timeout_s = 1;
	srv = start(&p, 0, 0, 0, NULL, &port);
	fd = connect_to(port);
	send_all(fd, NULL, "AUTH\r\n");
	got = read_until(fd, NULL, NULL, &eof);
	CHECK(strstr(got, "ok\r\ntimeout\r\n") != NULL);
	free(got);
	close(fd);
	finish(&srv);
	CHECK_EQ_STR(closed_why, "timeout");
}

/* Over a limit the reject line is written and the socket closed. */
static void test_limits(void)
{
	for (int per_ip = 0; per_ip <= 1; per_ip++) {
		unsigned port;
		struct conn_server *srv = start(&proto, 0, per_ip ? 10 : 1, 1, NULL, &port);
		int a = connect_to(port), b, eof;
		char *got = read_until(a, NULL, "\r\n", &eof);

		CHECK(strncmp(got, "hi ", 3) == 0);
		free(got);
		b = connect_to(port);
		got = read_until(b, NULL, NULL, &eof);
		CHECK_EQ_STR(got, "busy\r\n");
		free(got);
		close(b);
		CHECK_EQ_INT(conn_server_count(srv), 1);
		close(a);
		finish(&srv);
	}
}

/* A client that does not read: past out_high the layer stops reading and
 * input() is not called; once the client reads, everything is answered. */
static void test_backpressure(void)
{
	unsigned port;
	struct conn_server *srv = start(&proto, 0, 0, 0, &proto, &port);
	int fd = connect_rcvbuf(port, 4096), eof, lines, bad = 0;
	size_t total = 0, want = 200 * 16384;
	struct buf b = BUF_INIT;
	char *got = read_until(fd, NULL, "\r\n", &eof);

	free(got);
	for (int i = 0; i < 200; i++)
		buf_puts(&b, "BIG 16384\r\n");
	buf_puts(&b, "QUITBIG 0\r\n");
	send_all(fd, NULL, b.data);
	buf_free(&b);
	/* Let the server run into the limit (a fixed amount of work: it
	 * cannot get past it however long it runs). */
	usleep(300000);
	lines = atomic_load(&lines_seen);
	CHECK(lines < 200);
	CHECK(atomic_load(&blocked_seen) > 0);
	for (;;) {
		char tmp[65536];
		int n = (int)read(fd, tmp, sizeof tmp);

		if (n <= 0)
			break;
		for (int i = 0; i < n; i++)
			if (tmp[i] != payload_octet((total + (size_t)i) % 16384))
				bad = 1;
		total += (size_t)n;
	}
	close(fd);
	finish(&srv);
	CHECK_EQ_INT(total, want);
	CHECK(!bad);
	CHECK_EQ_INT(atomic_load(&lines_seen), 201);
	CHECK_EQ_INT(atomic_load(&input_over_high), 0);
	CHECK_EQ_STR(closed_why, "quit");
}

/* Reads the rest of a connection (inflating after "zip\r\n" when zip),
 * checks the payload, returns its length; *clean_r: TLS close_notify. */
static size_t read_payload(int fd, SSL *ssl, int zip, int *clean_r, int *bad_r)
{
	z_stream z = { 0 };
	size_t total = 0, skip = zip ? 5 : 0;
	char tmp[16384], out[65536];
	int n;

	inflateInit2(&z, -15);
	*bad_r = 0;
	while ((n = read_some(fd, ssl, tmp, sizeof tmp, clean_r)) > 0) {
		char *p = tmp;
		size_t k = (size_t)n;

		if (skip > 0) {
			size_t s = k < skip ? k : skip;
			p += s;
			k -= s;
			skip -= s;
		}
		z.next_in = (Bytef *)p;
		z.avail_in = (uInt)k;
		while (z.avail_in > 0 || !zip) {
			const char *d = zip ? out : p;
			size_t m = k;

			if (zip) {
				z.next_out = (Bytef *)out;
				z.avail_out = sizeof out;
				if (inflate(&z, Z_SYNC_FLUSH) == Z_DATA_ERROR)
					*bad_r = 1;
				m = sizeof out - z.avail_out;
			}
			for (size_t i = 0; i < m; i++)
				if (d[i] != payload_octet(total + i))
					*bad_r = 1;
			total += m;
			if (!zip || m == 0)
				break;
		}
	}
	inflateEnd(&z);
	return total;
}

/* Every octet written before conn_close_after_flush arrives: plain, TLS
 * (ending with a close_notify), and under a deflate filter over TLS. */
static void test_close_after_flush(void)
{
	for (int mode = 0; mode < 3; mode++) {
		unsigned port;
		struct conn_server *srv = start(&proto, mode > 0, 0, 0, NULL, &port);
		int fd = connect_rcvbuf(port, 8192), eof, clean = 0, bad;
		SSL_CTX *cctx = NULL;
		SSL *ssl = mode > 0 ? tls_client(fd, &cctx) : NULL;
		size_t got_len;
		char *got;

		CHECK(mode == 0 || ssl != NULL);
		got = read_until(fd, ssl, "\r\n", &eof);
		free(got);
		send_all(fd, ssl, mode == 2 ? "ZIP\r\nQUITBIG 3000000\r\n" : "QUITBIG 3000000\r\n");
		got_len = read_payload(fd, ssl, mode == 2, &clean, &bad);
		CHECK_EQ_INT(got_len, 3000000);
		CHECK(!bad);
		CHECK(mode == 0 || clean);
		SSL_free(ssl);
		SSL_CTX_free(cctx);
		close(fd);
		finish(&srv);
		CHECK_EQ_STR(closed_why, "quit");
	}
}

/* conn_close from inside input(), followed by more calls on the conn. */
static void test_close_inside_callback(void)
{
	unsigned port;
	struct conn_server *srv = start(&proto, 0, 0, 0, NULL, &port);
	int fd = connect_to(port), eof;
	char *got = read_until(fd, NULL, "\r\n", &eof);

	free(got);
	send_all(fd, NULL, "KILL\r\nnever\r\n");
	got = read_until(fd, NULL, NULL, &eof);
	CHECK_EQ_STR(got, "");
	free(got);
	close(fd);
	finish(&srv);
	CHECK_EQ_STR(closed_why, "killed");
	CHECK_EQ_INT(atomic_load(&lines_seen), 1);
}

/* RFC 9293 3.6: a client that half-closes after its requests still gets
 * every answer, the one in flight included, then the server's FIN; a
 * partial request left at the end is dropped. */
static void test_half_close(void)
{
	struct conn_protocol p = proto;
	unsigned port;
	struct conn_server *srv;
	int fd, eof;
	char *got;

	p.busy = tp_busy;
	srv = start(&p, 0, 0, 0, NULL, &port);
	fd = connect_to(port);
	free(read_until(fd, NULL, "\r\n", &eof));
	send_all(fd, NULL, "SLOW\r\nafter\r\npartial");
	shutdown(fd, SHUT_WR);
	got = read_until(fd, NULL, NULL, &eof);
	CHECK_EQ_STR(got, "slow done\r\necho: after\r\n");
	CHECK_EQ_INT(eof, 1);
	free(got);
	close(fd);
	finish(&srv);
	CHECK_EQ_STR(closed_why, "closed by client");
	CHECK_EQ_INT(atomic_load(&lines_seen), 2);
}

int main(void)
{
	log_set_level(LOG_WARN);
	if (make_test_cert(test_tmpdir("conn"), &tls) < 0)
		return 1;
	proto.out_high = out_high;
	base = event_base_new();
	test_run("TCP_NODELAY on the accepted socket", test_nodelay);
	test_run("implicit TLS", test_implicit_tls);
	test_run("STARTTLS discards the plain text behind it", test_starttls);
	test_run("pre-auth and idle timeouts", test_timeouts);
	test_run("limits: total and per IP", test_limits);
	test_run("backpressure", test_backpressure);
	test_run("close after flush: plain, TLS, deflate over TLS", test_close_after_flush);
	test_run("closing inside a callback", test_close_inside_callback);
	test_run("half-close: answers in flight still go out", test_half_close);
	net_tls_free(&tls);
	event_base_free(base);
	return test_done();
}
