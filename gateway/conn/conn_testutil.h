/* conn_testutil - the harness of the network tests of listeners on the
 * connection layer (test_conn.c, gateway/smtp/test_smtp_tls.c): the server
 * loop in a thread, blocking clients in the main thread over 127.0.0.1,
 * plain or TLS, every read bounded by SO_RCVTIMEO. */
#ifndef EVM_CONN_TESTUTIL_H
#define EVM_CONN_TESTUTIL_H

#include "common/buf.h"
#include "gateway/net.h"

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONN_TESTUTIL_UNUSED __attribute__((unused))

static struct event_base *base;
static atomic_int stop_loop;

/* Ends the loop once the main thread asks (stop_loop). */
static void tick(evutil_socket_t fd, short what, void *ctx)
{
	if (atomic_load(&stop_loop))
		event_base_loopbreak(base);
}

/* The server's loop, in its own thread, until stop_loop. */
CONN_TESTUTIL_UNUSED static void *loop_thread(void *arg)
{
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 20000 };

	event_add(t, &tv);
	event_base_dispatch(base);
	event_free(t);
	return NULL;
}

/* A TCP port on 127.0.0.1 nobody listens on now. */
CONN_TESTUTIL_UNUSED static unsigned free_port(void)
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

/* A client socket to 127.0.0.1:port; rcvbuf > 0 sets SO_RCVBUF first. */
CONN_TESTUTIL_UNUSED static int connect_rcvbuf(unsigned port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { 10, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd >= 0 && rcvbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		abort();
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	return fd;
}

CONN_TESTUTIL_UNUSED static int connect_to(unsigned port)
{
	return connect_rcvbuf(port, 0);
}

/* Reads once (plain or TLS); <= 0 at EOF, error or timeout. *clean_r
 * (may be NULL): a TLS close_notify ended it. */
CONN_TESTUTIL_UNUSED static int read_some(int fd, SSL *ssl, char *tmp, size_t size, int *clean_r)
{
	int n;

	if (ssl == NULL)
		return (int)read(fd, tmp, size);
	n = SSL_read(ssl, tmp, (int)size);
	if (n <= 0 && clean_r != NULL)
		*clean_r = SSL_get_error(ssl, n) == SSL_ERROR_ZERO_RETURN;
	return n;
}

/* Reads until `until` is in the text (NULL: EOF), EOF or timeout; the
 * text, to free. */
CONN_TESTUTIL_UNUSED static char *read_until(int fd, SSL *ssl, const char *until, int *eof_r)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "");
	*eof_r = 0;
	while (until == NULL || strstr(b.data, until) == NULL) {
		char tmp[4096];
		int n = read_some(fd, ssl, tmp, sizeof tmp, NULL);

		if (n <= 0) {
			*eof_r = 1;
			break;
		}
		buf_append(&b, tmp, (size_t)n);
	}
	return buf_steal(&b);
}

CONN_TESTUTIL_UNUSED static void send_all(int fd, SSL *ssl, const char *s)
{
	int n = ssl != NULL ? SSL_write(ssl, s, (int)strlen(s)) : (int)write(fd, s, strlen(s));

	if (n != (int)strlen(s))
		abort();
}

/* A TLS client on fd (no verification: the test's own certificate);
 * NULL when the handshake fails. *ctx_r is the caller's to free. */
CONN_TESTUTIL_UNUSED static SSL *tls_client(int fd, SSL_CTX **ctx_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = SSL_new(ctx);

	SSL_set_fd(ssl, fd);
	SSL_set_tlsext_host_name(ssl, "localhost");
	*ctx_r = ctx;
	if (SSL_connect(ssl) != 1) {
		SSL_free(ssl);
		SSL_CTX_free(ctx);
		*ctx_r = NULL;
		return NULL;
	}
	return ssl;
}

/* A fresh self-signed certificate for localhost in dir, loaded as a
 * server context. 0, or -1 after saying why on stderr. */
CONN_TESTUTIL_UNUSED static int make_test_cert(const char *dir, struct net_tls **tls_r)
{
	const char *error = NULL;
	char cmd[3000], cert[1100], key[1100];

	snprintf(cert, sizeof cert, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout %s -out %s -days 2 -subj /CN=localhost 2>/dev/null", key, cert);
	if (system(cmd) != 0 || net_tls_load(cert, key, tls_r, &error) < 0) {
		fprintf(stderr, "cannot make a test certificate: %s\n", error ? error : "openssl req failed");
		return -1;
	}
	return 0;
}

#endif
