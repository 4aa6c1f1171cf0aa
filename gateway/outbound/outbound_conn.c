/* outbound_conn - one outbound SMTP connection: connect, read replies
 * through the push parser, timeouts, failures, the idle pool, QUIT. */
#include "gateway/outbound/outbound_private.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void on_read(struct bufferevent *bev, void *ctx);
static void on_write(struct bufferevent *bev, void *ctx);
static void on_event(struct bufferevent *bev, short what, void *ctx);

void ob_conn_arm(struct ob_conn *c, int seconds)
{
	struct timeval tv = { seconds, 0 };

	evtimer_add(c->timer, &tv);
}

void ob_conn_write(struct ob_conn *c, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	va_list ap;

	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
	ob_conn_arm(c, (int)c->ob->cfg->delivery_command_timeout_s);
}

void ob_conn_set_bev(struct ob_conn *c, struct bufferevent *bev)
{
	c->bev = bev;
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

void ob_conn_kill(struct ob_conn *c)
{
	struct outbound *ob = c->ob;

	if (c->dead)
		return;
	c->dead = 1;
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	c->bev = NULL;
	event_free(c->timer);
	smtp_reply_parser_free(&c->parser);
	TAILQ_REMOVE(&ob->conns, c, link);
	ob->nconns--;
	TAILQ_INSERT_TAIL(&ob->dead, c, link);
	ob_kick(ob);
}

void ob_conn_fail(struct ob_conn *c, const char *enhanced, const char *fmt, ...)
{
	struct ob_send *s = c->send;
	char why[OB_ERR_MAX], enh[12];
	va_list ap;

	/* the arguments may point into the reply parser that kill frees */
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	snprintf(enh, sizeof enh, "%s", enhanced != NULL ? enhanced : "");
	enhanced = enh;
	c->send = NULL;
	ob_conn_kill(c);
	if (s != NULL)
		ob_send_host_failed(s, why, enhanced, 0);
	else
		log_debug("outbound: idle connection %s: %s", c->remote, why);
}

static void make_key(const struct route_host *h, char *key, size_t size)
{
	size_t i;

	snprintf(key, size, "%s|%u|%d|%d", h->name, (unsigned)h->port, (int)h->tls, h->auth);
	for (i = 0; key[i] != '\0'; i++)
		key[i] = (char)tolower((unsigned char)key[i]);
}

struct ob_conn *ob_conn_find_idle(struct outbound *ob, const struct route_host *h)
{
	char key[sizeof ((struct ob_conn *)0)->key];
	struct ob_conn *c;

	make_key(h, key, sizeof key);
	TAILQ_FOREACH(c, &ob->conns, link)
		if (c->state == CONN_IDLE && strcmp(c->key, key) == 0)
			return c;
	return NULL;
}

/* Sends QUIT and waits (bounded) for the answer before closing. */
static void quit(struct ob_conn *c)
{
	c->state = CONN_QUIT;
	c->last_cmd = "after QUIT";
	ob_conn_write(c, "QUIT");
	ob_conn_arm(c, OB_QUIT_S);
}

void ob_conn_release(struct ob_conn *c, int reusable)
{
	c->send = NULL;
	c->nexpect = c->expect_head = 0;
	if (!reusable || c->messages >= (unsigned)c->ob->cfg->delivery_messages_per_connection) {
		quit(c);
		return;
	}
	c->state = CONN_IDLE;
	ob_conn_arm(c, OB_IDLE_S);
}

void ob_conn_reuse(struct ob_conn *c, struct ob_send *s)
{
	c->send = s;
	c->state = CONN_RSET;
	c->last_cmd = "after RSET";
	ob_conn_write(c, "RSET");
}

/* Keeps at most delivery.concurrency connections: the oldest idle one goes. */
static void make_room(struct outbound *ob)
{
	struct ob_conn *c;

	if (ob->nconns < (size_t)ob->cfg->delivery_concurrency)
		return;
	TAILQ_FOREACH(c, &ob->conns, link)
		if (c->state == CONN_IDLE) {
			quit(c);
			return;
		}
}

/* Connect failed before any event could report it: fail from the timer. */
static void fail_later(struct ob_conn *c, const char *why)
{
	snprintf(c->pending, sizeof c->pending, "%s", why);
	c->state = CONN_CONNECTING;
	event_active(c->timer, EV_TIMEOUT, 0);
}

struct ob_conn *ob_conn_open(struct outbound *ob, struct ob_send *s, const struct route_host *h, const char *addr)
{
	struct ob_conn *c = xcalloc(1, sizeof *c);
	struct sockaddr_storage ss;
	int sslen = (int)sizeof ss;
	char hp[80];

	make_room(ob);
	c->ob = ob;
	c->send = s;
	c->host = *h;
	snprintf(c->addr, sizeof c->addr, "%s", addr);
	snprintf(c->remote, sizeof c->remote, "%s [%s]", h->name, addr);
	make_key(h, c->key, sizeof c->key);
	c->timer = evtimer_new(ob->base, ob_conn_on_timer, c);
	c->parser = smtp_reply_parser_new();
	TAILQ_INSERT_TAIL(&ob->conns, c, link);
	ob->nconns++;
	c->state = CONN_CONNECTING;
	c->last_cmd = "";
	snprintf(hp, sizeof hp, strchr(addr, ':') != NULL ? "[%s]:%u" : "%s:%u", addr, (unsigned)h->port);
	if (evutil_parse_sockaddr_port(hp, (struct sockaddr *)&ss, &sslen) < 0) {
		fail_later(c, "bad address");
		return c;
	}
	ob_conn_set_bev(c, bufferevent_socket_new(ob->base, -1, BEV_OPT_CLOSE_ON_FREE));
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, sslen) < 0) {
		char why[160];
		snprintf(why, sizeof why, "connect: %s", strerror(errno));
		fail_later(c, why);
		return c;
	}
	ob_conn_arm(c, (int)ob->cfg->delivery_connect_timeout_s);
	return c;
}

void ob_conn_on_timer(evutil_socket_t fd, short what, void *ctx)
{
	struct ob_conn *c = ctx;

	switch (c->state) {
	case CONN_CONNECTING:
		if (c->pending[0] != '\0')
			ob_conn_fail(c, "4.4.1", "%s: %s", c->remote, c->pending);
		else
			ob_conn_fail(c, "4.4.1", "%s: connect timeout (%llds)", c->remote,
				     (long long)c->ob->cfg->delivery_connect_timeout_s);
		return;
	case CONN_IDLE:
		quit(c);
		return;
	case CONN_QUIT:
		ob_conn_kill(c);
		return;
	default:
		ob_conn_fail(c, "4.4.2", "%s: timeout %s", c->remote, ob_conn_phase(c));
	}
}

/* One complete reply: to the dialogue, the transaction or the pool. */
static void dispatch(struct ob_conn *c, const struct smtp_reply *r)
{
	char line[OB_ERR_MAX];

	if (c->state == CONN_QUIT) {
		ob_conn_kill(c);
		return;
	}
	smtp_reply_format(r, line, sizeof line);
	if (r->code == 421 || c->state == CONN_IDLE || c->state == CONN_READY) {
		/* RFC 5321 3.8: 421 = the server is closing the channel */
		ob_conn_fail(c, r->enhanced[0] != '\0' ? r->enhanced : "4.4.2", "%s: %s (%s)", c->remote, line,
			     ob_conn_phase(c));
		return;
	}
	if (c->state == CONN_RSET) {
		struct ob_send *s = c->send;
		if (r->code / 100 == 2) {
			c->state = CONN_READY;
			ob_send_conn_ready(s, c);
			return;
		}
		c->send = NULL;
		ob_conn_kill(c);
		ob_send_reuse_failed(s);
		return;
	}
	if (c->state == CONN_TXN)
		ob_txn_reply(c, r);
	else
		ob_dialog_reply(c, r);
}

static void on_read(struct bufferevent *bev, void *ctx)
{
	struct ob_conn *c = ctx;

	while (!c->dead && c->bev != NULL) {
		struct evbuffer *in = bufferevent_get_input(c->bev);
		struct evbuffer_iovec v;
		const struct smtp_reply *r = NULL;
		const char *error = NULL;
		size_t used = 0;
		enum smtp_reply_status st;

		if (evbuffer_get_length(in) == 0 || evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return;
		if (c->state != CONN_IDLE && c->state != CONN_QUIT)
			ob_conn_arm(c, (int)c->ob->cfg->delivery_command_timeout_s);
		st = smtp_reply_feed(c->parser, v.iov_base, v.iov_len, &used, &r, &error);
		evbuffer_drain(in, used);
		if (st == SMTP_REPLY_ERROR) {
			ob_conn_fail(c, "4.5.0", "%s: bad reply %s: %s", c->remote, ob_conn_phase(c), error);
			return;
		}
		if (st == SMTP_REPLY_DONE)
			dispatch(c, r);
	}
}

static void on_write(struct bufferevent *bev, void *ctx)
{
	struct ob_conn *c = ctx;

	if (c->state == CONN_TXN && c->body_pumping)
		ob_txn_body_more(c);
}

/* The OpenSSL error queue as text, or fallback. */
static void tls_error(struct ob_conn *c, char *out, size_t size, const char *fallback)
{
	unsigned long e = bufferevent_get_openssl_error(c->bev);

	if (e != 0)
		ERR_error_string_n(e, out, size);
	else
		snprintf(out, size, "%s", fallback);
	ERR_clear_error();
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
	struct ob_conn *c = ctx;
	int err = EVUTIL_SOCKET_ERROR();
	char tls[256];

	if (what & BEV_EVENT_CONNECTED) {
		if (c->state == CONN_CONNECTING)
			ob_dialog_connected(c);
		else if (c->state == CONN_HANDSHAKE)
			ob_dialog_tls_done(c);
		return;
	}
	if (c->state == CONN_IDLE || c->state == CONN_QUIT) {
		ob_conn_kill(c);
		return;
	}
	if (c->state == CONN_CONNECTING)
		ob_conn_fail(c, "4.4.1", "%s: connect: %s", c->remote, evutil_socket_error_to_string(err));
	else if (c->state == CONN_HANDSHAKE)
		tls_error(c, tls, sizeof tls, (what & BEV_EVENT_EOF) ? "connection closed" : "failed"),
			ob_conn_fail(c, "4.7.5", "%s: TLS handshake failed: %s", c->remote, tls);
	else if (what & BEV_EVENT_EOF)
		ob_conn_fail(c, "4.4.2", "%s: connection lost %s", c->remote, ob_conn_phase(c));
	else
		ob_conn_fail(c, "4.4.2", "%s: connection error %s: %s", c->remote, ob_conn_phase(c),
			     c->tls ? "TLS" : evutil_socket_error_to_string(err));
}

/* QUIT without waiting (shutdown): through the TLS filter into the socket
 * bufferevent under it, then straight to the socket. Best effort. */
static void quit_now(struct ob_conn *c)
{
	struct bufferevent *under = bufferevent_get_underlying(c->bev);
	struct bufferevent *sock = under != NULL ? under : c->bev;

	evbuffer_add(bufferevent_get_output(c->bev), "QUIT\r\n", 6);
	if (under != NULL)
		bufferevent_flush(c->bev, EV_WRITE, BEV_FLUSH);   /* encrypts into under */
	if (bufferevent_getfd(sock) >= 0)
		(void)evbuffer_write(bufferevent_get_output(sock), bufferevent_getfd(sock));
	ERR_clear_error();
}

void ob_conn_close_all(struct outbound *ob)
{
	struct ob_conn *c;

	while ((c = TAILQ_FIRST(&ob->conns)) != NULL) {
		if (c->state == CONN_IDLE || c->state == CONN_READY)
			quit_now(c);
		c->send = NULL;
		ob_conn_kill(c);
	}
}
