/* test_smtp_tls - real listeners through net.c: STARTTLS with `openssl
 * s_client -starttls smtp`, the STARTTLS command-injection case (RFC 3207
 * 4.2), a failed handshake, implicit TLS and the connection limits. The
 * server loop runs in a thread; the clients block in the main thread. */
#include "gateway/smtp/smtp_server.h"
#include "gateway/smtp/test_smtp_fake.h"
#include "common/log.h"
#include "gateway/conn/conn_testutil.h"
#include "tests/unit/testlib.h"

static struct fake fake;
static struct net_tls *tls;
static char dir[1024];

/* Starts a server (in the loop thread afterwards). */
static struct smtp_server *server(unsigned port, int implicit, unsigned per_ip)
{
	struct smtp_server_settings s = { 0 };
	struct smtp_server *srv = NULL;
	const char *error = NULL;
	char listen[64];

	snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
	s.listen = listen;
	s.session.hostname = "mx.test";
	s.session.tls = tls;
	s.session.max_line = 1000;
	s.session.max_message = 100000;
	s.session.max_recipients = 10;
	s.session.max_errors = 10;
	s.session.command_timeout_s = 10;
	s.session.data_timeout_s = 10;
	s.implicit_tls = implicit;
	s.max_connections = 100;
	s.max_per_ip = per_ip;
	s.backend = (struct smtp_backend){ .resolve = fake_resolve, .deliver = fake_deliver, .ctx = &fake };
	if (smtp_server_create(base, &s, &srv, &error) < 0) {
		fprintf(stderr, "%s\n", error);
		abort();
	}
	return srv;
}

static void test_s_client(void)
{
	unsigned port = free_port();
	struct smtp_server *srv = server(port, 0, 0);
	pthread_t th;
	char cmd[4096], path[1100];
	FILE *f;
	char *out;
	struct buf b = BUF_INIT;
	int rc;

	atomic_store(&stop_loop, 0);
	pthread_create(&th, NULL, loop_thread, NULL);
	snprintf(path, sizeof path, "%s/in.txt", dir);
	f = fopen(path, "w");
	fputs("EHLO client.example\nMAIL FROM:<s@o.example>\nRCPT TO:<a@x.test>\nDATA\nSubject: tls\n\nhello\n.\nQUIT\n", f);
	fclose(f);
	snprintf(cmd, sizeof cmd, "timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:%u -crlf -quiet "
		 "-servername localhost < %s/in.txt > %s/out.txt 2> %s/err.txt", port, dir, dir, dir);
	rc = system(cmd);
	atomic_store(&stop_loop, 1);
	pthread_join(th, NULL);
	snprintf(path, sizeof path, "%s/out.txt", dir);
	f = fopen(path, "r");
	if (f != NULL) {
		char tmp[4096];
		size_t n;
		while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
			buf_append(&b, tmp, n);
		fclose(f);
	}
	buf_puts(&b, "");
	out = b.data;
	CHECK_EQ_INT(rc, 0);   /* s_client exits 0 only after a clean TLS close_notify */
	if (strstr(out, "221 2.0.0") == NULL)
		fprintf(stderr, "s_client output:\n%s\n", out);
	/* After STARTTLS the EHLO reply no longer offers STARTTLS. */
	CHECK(strstr(out, "250-PIPELINING") != NULL && strstr(out, "STARTTLS") == NULL);
	CHECK(strstr(out, "250 2.0.0 Ok: ") != NULL);
	CHECK(strstr(out, "221 2.0.0 mx.test closing connection") != NULL);
	CHECK_EQ_INT(fake.calls, 1);
	CHECK(strstr(fake.received, " with ESMTPS id ") != NULL);
	CHECK_EQ_STR(fake.data.data, "Subject: tls\r\n\r\nhello\r\n");
	buf_free(&b);
	smtp_server_stop(&srv);
}

/* "STARTTLS\r\nRSET\r\n" in one packet: RSET must never be answered, and
 * the session starts over (EHLO needed again). */
static void test_injection_and_failures(void)
{
	unsigned port = free_port();
	struct smtp_server *srv = server(port, 0, 0);
	pthread_t th;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd, eof;
	char *got;

	atomic_store(&stop_loop, 0);
	pthread_create(&th, NULL, loop_thread, NULL);
	fd = connect_to(port);
	free(read_until(fd, NULL, "\r\n", &eof));
	send_all(fd, NULL, "EHLO c\r\n");
	got = read_until(fd, NULL, "250 CHUNKING\r\n", &eof);
	CHECK(strstr(got, "250-STARTTLS\r\n") != NULL);
	free(got);
	send_all(fd, NULL, "STARTTLS\r\nRSET\r\nMAIL FROM:<evil@o.example>\r\n");
	got = read_until(fd, NULL, "\r\n", &eof);
	CHECK_EQ_STR(got, "220 2.0.0 Ready to start TLS\r\n");
	free(got);
	ssl = tls_client(fd, &ctx);
	CHECK(ssl != NULL);
	send_all(fd, ssl, "MAIL FROM:<a@b.example>\r\nEHLO c2\r\nSTARTTLS\r\nQUIT\r\n");
	got = read_until(fd, ssl, NULL, &eof);
	CHECK_EQ_STR(got, "503 5.5.1 Send HELO/EHLO first\r\n250-mx.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n"
		     "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250-DSN\r\n250 CHUNKING\r\n"
		     "503 5.5.1 TLS already active\r\n221 2.0.0 mx.test closing connection\r\n");
	free(got);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd);

	/* A client that says STARTTLS and then speaks plain text: closed. */
	fd = connect_to(port);
	free(read_until(fd, NULL, "\r\n", &eof));
	send_all(fd, NULL, "STARTTLS\r\n");
	free(read_until(fd, NULL, "220 2.0.0", &eof));
	send_all(fd, NULL, "EHLO this is not a ClientHello\r\n\r\n");
	free(read_until(fd, NULL, NULL, &eof));
	CHECK(eof);
	close(fd);
	/* ... and one that disconnects mid-handshake. */
	fd = connect_to(port);
	free(read_until(fd, NULL, "\r\n", &eof));
	send_all(fd, NULL, "STARTTLS\r\n\x16\x03\x01\x02");
	close(fd);
	/* The server still serves. */
	fd = connect_to(port);
	got = read_until(fd, NULL, "\r\n", &eof);
	CHECK_EQ_STR(got, "220 mx.test ESMTP evmail ready\r\n");
	free(got);
	close(fd);
	usleep(100000);
	atomic_store(&stop_loop, 1);
	pthread_join(th, NULL);
	CHECK_EQ_INT(smtp_server_sessions(srv), 0);
	smtp_server_stop(&srv);
}

static void test_implicit_tls_and_limits(void)
{
	unsigned port = free_port();
	struct smtp_server *srv = server(port, 1, 2);
	pthread_t th;
	SSL_CTX *ctx;
	SSL *ssl;
	int fd1, fd2, fd3, eof;
	char *got;

	atomic_store(&stop_loop, 0);
	pthread_create(&th, NULL, loop_thread, NULL);
	fd1 = connect_to(port);
	ssl = tls_client(fd1, &ctx);
	CHECK(ssl != NULL);
	got = read_until(fd1, ssl, "\r\n", &eof);
	CHECK_EQ_STR(got, "220 mx.test ESMTP evmail ready\r\n");
	free(got);
	send_all(fd1, ssl, "EHLO c\r\n");
	got = read_until(fd1, ssl, "250 CHUNKING\r\n", &eof);
	CHECK(strstr(got, "STARTTLS") == NULL);
	free(got);
	fd2 = connect_to(port);
	fd3 = connect_to(port);
	/* The third from this address is over max_per_ip = 2: closed at once.
	 * (Implicit TLS: no plain-text reply line.) */
	got = read_until(fd3, NULL, NULL, &eof);
	CHECK(eof && got[0] == '\0');
	free(got);
	close(fd3);
	close(fd2);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd1);
	usleep(200000);
	fd1 = connect_to(port);
	ssl = tls_client(fd1, &ctx);
	CHECK(ssl != NULL);
	got = read_until(fd1, ssl, "\r\n", &eof);
	CHECK_EQ_STR(got, "220 mx.test ESMTP evmail ready\r\n");
	free(got);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	close(fd1);
	usleep(100000);
	atomic_store(&stop_loop, 1);
	pthread_join(th, NULL);
	smtp_server_stop(&srv);
}

static void test_plain_limit_reply(void)
{
	unsigned port = free_port();
	struct smtp_server *srv = server(port, 0, 1);
	pthread_t th;
	int fd1, fd2, eof;
	char *got;

	atomic_store(&stop_loop, 0);
	pthread_create(&th, NULL, loop_thread, NULL);
	fd1 = connect_to(port);
	free(read_until(fd1, NULL, "\r\n", &eof));
	fd2 = connect_to(port);
	got = read_until(fd2, NULL, NULL, &eof);
	CHECK_EQ_STR(got, "421 4.7.0 mx.test Too many connections, try again later\r\n");
	free(got);
	close(fd2);
	close(fd1);
	usleep(100000);
	atomic_store(&stop_loop, 1);
	pthread_join(th, NULL);
	/* A server stopped with a session still open frees it. */
	smtp_server_stop(&srv);
	CHECK(srv == NULL);
}

static void test_bad_config(void)
{
	struct net_tls *bad = NULL;
	struct net_listener *l = NULL;
	struct net_listener_settings ls = { .name = "smtp", .listen = "127.0.0.1" };
	const char *error = NULL;
	char host[64];
	unsigned port;

	CHECK(net_tls_load("/nonexistent/cert.pem", "/nonexistent/key.pem", &bad, &error) < 0);
	CHECK(error != NULL && strstr(error, "tls.cert") != NULL && bad == NULL);
	CHECK(net_listen(base, &ls, NULL, &l, &error) < 0 && l == NULL);
	CHECK(net_split_hostport("[::1]:25", host, sizeof host, &port) == 0 && strcmp(host, "::1") == 0 && port == 25);
	CHECK(net_split_hostport("0.0.0.0:2525", host, sizeof host, &port) == 0 && port == 2525);
	CHECK(net_split_hostport(":25", host, sizeof host, &port) == 0 && host[0] == '\0');
	CHECK(net_split_hostport("::1:25", host, sizeof host, &port) < 0);
	CHECK(net_split_hostport("host:99999", host, sizeof host, &port) < 0);
	CHECK(net_split_hostport("host:", host, sizeof host, &port) < 0);
	CHECK(net_split_hostport("host:+5", host, sizeof host, &port) < 0);
}

int main(void)
{
	log_set_level(LOG_WARN);
	snprintf(dir, sizeof dir, "%s", test_tmpdir("smtp_tls"));
	if (make_test_cert(dir, &tls) < 0)
		return 1;
	base = event_base_new();
	fake.base = base;
	test_run("STARTTLS with openssl s_client", test_s_client);
	test_run("STARTTLS injection, handshake failures", test_injection_and_failures);
	test_run("implicit TLS and per-IP limit", test_implicit_tls_and_limits);
	test_run("421 over the connection limit", test_plain_limit_reply);
	test_run("bad certificate and listen address", test_bad_config);
	net_tls_free(&tls);
	event_base_free(base);
	fake_free(&fake);
	return test_done();
}
