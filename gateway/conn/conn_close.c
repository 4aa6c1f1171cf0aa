/* conn_close - the end of a connection: at once (conn_close), or once the
 * output of every layer is out and the TLS close_notify sent
 * (conn_close_after_flush), bounded by CONN_FLUSH_MAX_MS. */
#include "gateway/conn/conn_private.h"

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>

void conn_close(struct conn *c, const char *why)
{
	struct bufferevent *bev = c->bev;

	if (bev == NULL)
		return;
	conn_ref(c);
	conn_unwatch_layers(c);
	c->bev = NULL;
	c->closing = 1;
	bufferevent_free(bev);        /* and every layer under it */
	event_del(c->wake);
	event_del(c->deadline);
	if (c->server != NULL)
		conn_server_release(c->server, c);
	if (c->proto.closed != NULL)
		c->proto.closed(c->session, c, why);
	c->session = NULL;
	conn_unref(c);                /* the reference of being open */
	conn_unref(c);
}

void conn_close_after_flush(struct conn *c, const char *why)
{
	if (c->bev == NULL || c->closing)
		return;
	c->closing = 1;
	c->want_input = 0;
	snprintf(c->close_why, sizeof c->close_why, "%s", why);
	bufferevent_disable(c->bev, EV_READ);
	conn_arm_deadline(c);
	conn_wake(c);
}

int conn_closing(const struct conn *c)
{
	return c->bev == NULL || c->closing;
}

/* The TLS connection, under a filter layer if any; NULL without TLS. */
static SSL *conn_ssl(struct conn *c)
{
	SSL *ssl = NULL;

	for (struct bufferevent *b = c->bev; b != NULL && ssl == NULL; b = bufferevent_get_underlying(b))
		ssl = bufferevent_openssl_get_ssl(b);
	return ssl;
}

/* RFC 8446 6.1: the close_notify goes after the last response (under a
 * filter layer too), so the client sees a clean end; then the conn closes
 * once that is out as well. The layers' watch calls this again whenever
 * their output shrinks (conn_layer.c). */
void conn_flush_step(struct conn *c)
{
	SSL *ssl;

	if (c->bev == NULL || conn_pending_output(c) > 0)
		return;
	if (c->tls && !c->tls_shutdown && (ssl = conn_ssl(c)) != NULL) {
		c->tls_shutdown = 1;
		if (SSL_is_init_finished(ssl))
			(void)SSL_shutdown(ssl);
		ERR_clear_error();
		if (conn_pending_output(c) > 0)
			return;
	}
	conn_close(c, c->close_why);
}
