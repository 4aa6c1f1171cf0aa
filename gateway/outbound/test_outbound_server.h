/* test_outbound_server - a scripted SMTP server on 127.0.0.1 for the
 * outbound client's tests. It runs on the client's own event loop (no
 * thread), records every command line and message, and misbehaves on
 * demand (421 greeting, refused EHLO, garbage, a stall, a drop mid-DATA).
 * hold_until_data answers nothing until the DATA/BDAT line has arrived,
 * which proves the client pipelined (a client waiting for the MAIL reply
 * would time out). */
#ifndef EVM_TEST_OUTBOUND_SERVER_H
#define EVM_TEST_OUTBOUND_SERVER_H

#include "common/buf.h"
#include "gateway/net.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

enum tsrv_mode { TS_NORMAL, TS_STALL_AFTER_DATA, TS_DROP_MID_DATA, TS_GARBAGE_TO_MAIL };

struct tsrv_conf {
	const char *greeting;        /* NULL: "220 mx.test ESMTP" */
	const char *keywords;        /* EHLO keywords, "\n"-separated; NULL: PIPELINING,8BITMIME,SIZE,DSN */
	int ehlo_refused;            /* 502 to EHLO */
	int starttls;                /* offer STARTTLS (before TLS) */
	const char *mail_reply;      /* NULL: 250 */
	const char *rcpt_addr[4];    /* recipients with a scripted reply; others 250 */
	const char *rcpt_reply[4];
	const char *data_reply;      /* NULL: "250 2.0.0 queued as X" */
	int hold_until_data;
	enum tsrv_mode mode;
};

struct tsrv {
	struct event_base *base;
	struct evconnlistener *lis;
	unsigned port;
	struct tsrv_conf conf;
	struct net_tls *tls;
	int connections, open, max_open, messages, tls_sessions;
	struct buf log;              /* "C: line\n" per command, "TLS\n" when TLS starts */
	struct buf data;             /* the last message, unstuffed */
	struct tsess *sessions;
};

struct tsess {
	struct tsess *next;
	struct tsrv *srv;
	struct bufferevent *bev;
	int in_data, tls, dead, holding, rcpts_ok;
	size_t bdat_left;
	struct buf held;
	struct buf msg;
};

static inline void ts_read(struct bufferevent *bev, void *ctx);
static inline void ts_event(struct bufferevent *bev, short what, void *ctx);

static inline void ts_close(struct tsess *t)
{
	struct tsess **pp;

	if (t->dead)
		return;
	for (pp = &t->srv->sessions; *pp != NULL; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	t->dead = 1;
	t->srv->open--;
	bufferevent_free(t->bev);
	buf_free(&t->held);
	buf_free(&t->msg);
	free(t);
}

static inline void ts_reply(struct tsess *t, const char *line)
{
	if (t->holding) {
		buf_printf(&t->held, "%s\r\n", line);
		return;
	}
	evbuffer_add_printf(bufferevent_get_output(t->bev), "%s\r\n", line);
}

static inline void ts_flush_held(struct tsess *t)
{
	evbuffer_add(bufferevent_get_output(t->bev), t->held.data != NULL ? t->held.data : "", t->held.len);
	buf_truncate(&t->held, 0);
	t->holding = 0;
}

static inline void ts_message_done(struct tsess *t)
{
	struct tsrv *s = t->srv;
	const char *r = s->conf.data_reply != NULL ? s->conf.data_reply : "250 2.0.0 queued as X";

	buf_truncate(&s->data, 0);
	buf_append(&s->data, t->msg.data != NULL ? t->msg.data : "", t->msg.len);
	buf_truncate(&t->msg, 0);
	if (s->conf.mode == TS_STALL_AFTER_DATA)
		return;
	if (r[0] == '2')
		s->messages++;
	evbuffer_add_printf(bufferevent_get_output(t->bev), "%s\r\n", r);
}

static inline void ts_ehlo(struct tsess *t)
{
	const char *kw = t->srv->conf.keywords != NULL ? t->srv->conf.keywords : "PIPELINING\n8BITMIME\nSIZE 1000000\nDSN";
	struct buf b = BUF_INIT;
	const char *p = kw;

	buf_puts(&b, "250-mx.test hello");
	if (t->srv->conf.starttls && !t->tls)
		buf_puts(&b, "\r\n250-STARTTLS");
	while (*p != '\0') {
		size_t n = strcspn(p, "\n");
		buf_printf(&b, "\r\n250-%.*s", (int)n, p);
		p += n + (p[n] == '\n');
	}
	buf_puts(&b, "\r\n250 HELP");
	ts_reply(t, b.data);
	buf_free(&b);
}

static inline const char *ts_rcpt_reply(struct tsess *t, const char *line)
{
	for (int i = 0; i < 4 && t->srv->conf.rcpt_addr[i] != NULL; i++)
		if (strstr(line, t->srv->conf.rcpt_addr[i]) != NULL)
			return t->srv->conf.rcpt_reply[i];
	return "250 2.1.5 ok";
}

static inline void ts_command(struct tsess *t, const char *line)
{
	struct tsrv *s = t->srv;

	buf_printf(&s->log, "C: %s\n", line);
	if (strncasecmp(line, "EHLO", 4) == 0) {
		if (s->conf.ehlo_refused)
			ts_reply(t, "502 5.5.1 no EHLO here");
		else
			ts_ehlo(t);
	} else if (strncasecmp(line, "HELO", 4) == 0) {
		ts_reply(t, "250 mx.test");
	} else if (strcasecmp(line, "STARTTLS") == 0 && s->tls != NULL && !t->tls) {
		struct bufferevent *nb;
		evbuffer_add_printf(bufferevent_get_output(t->bev), "220 2.0.0 go ahead\r\n");
		bufferevent_flush(t->bev, EV_WRITE, BEV_FLUSH);
		nb = net_starttls(s->base, t->bev, s->tls);
		if (nb == NULL)
			abort();
		t->bev = nb;
		t->tls = 1;
		s->tls_sessions++;
		buf_puts(&s->log, "TLS\n");
		bufferevent_setcb(nb, ts_read, NULL, ts_event, t);
		bufferevent_enable(nb, EV_READ | EV_WRITE);
	} else if (strncasecmp(line, "AUTH PLAIN ", 11) == 0) {
		ts_reply(t, t->tls ? "235 2.7.0 ok" : "538 5.7.11 encryption required");
	} else if (strncasecmp(line, "MAIL", 4) == 0) {
		if (s->conf.mode == TS_GARBAGE_TO_MAIL) {
			evbuffer_add_printf(bufferevent_get_output(t->bev), "hello? \x01 what\r\n");
			return;
		}
		t->holding = s->conf.hold_until_data;
		t->rcpts_ok = 0;
		ts_reply(t, s->conf.mail_reply != NULL ? s->conf.mail_reply : "250 2.1.0 ok");
	} else if (strncasecmp(line, "RCPT", 4) == 0) {
		const char *r = ts_rcpt_reply(t, line);
		t->rcpts_ok += r[0] == '2';
		ts_reply(t, r);
	} else if (strcasecmp(line, "DATA") == 0) {
		ts_reply(t, t->rcpts_ok > 0 ? "354 go ahead" : "554 5.5.1 no valid recipients");
		ts_flush_held(t);
		t->in_data = t->rcpts_ok > 0;
	} else if (strncasecmp(line, "BDAT ", 5) == 0) {
		ts_flush_held(t);
		t->bdat_left = (size_t)strtoul(line + 5, NULL, 10);
		if (t->bdat_left == 0)
			ts_message_done(t);
	} else if (strcasecmp(line, "RSET") == 0 || strcasecmp(line, "NOOP") == 0) {
		ts_reply(t, "250 2.0.0 ok");
	} else if (strcasecmp(line, "QUIT") == 0) {
		ts_reply(t, "221 2.0.0 bye");
		ts_flush_held(t);
	} else {
		ts_reply(t, "500 5.5.2 what?");
	}
}

static inline void ts_read(struct bufferevent *bev, void *ctx)
{
	struct tsess *t = ctx;
	char *line;
	size_t n;

	for (;;) {
		struct evbuffer *in = bufferevent_get_input(t->bev);   /* STARTTLS replaces bev */
		if (t->bdat_left > 0) {
			size_t take = evbuffer_get_length(in);
			if (take == 0)
				return;
			if (take > t->bdat_left)
				take = t->bdat_left;
			buf_reserve(&t->msg, take);
			evbuffer_remove(in, t->msg.data + t->msg.len, take);
			t->msg.len += take;
			t->msg.data[t->msg.len] = '\0';
			if ((t->bdat_left -= take) == 0)
				ts_message_done(t);
			continue;
		}
		if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF_STRICT)) == NULL)
			return;
		if (t->in_data) {
			if (t->srv->conf.mode == TS_DROP_MID_DATA) {
				free(line);
				ts_close(t);
				return;
			}
			if (strcmp(line, ".") == 0) {
				t->in_data = 0;
				ts_message_done(t);
			} else {
				buf_puts(&t->msg, line[0] == '.' ? line + 1 : line);
				buf_puts(&t->msg, "\r\n");
			}
			free(line);
			continue;
		}
		ts_command(t, line);
		free(line);
		if (t->dead)
			return;
	}
}

static inline void ts_event(struct bufferevent *bev, short what, void *ctx)
{
	struct tsess *t = ctx;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		ts_close(t);
}

static inline void ts_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *ctx)
{
	struct tsrv *s = ctx;
	struct tsess *t = calloc(1, sizeof *t);

	t->srv = s;
	t->next = s->sessions;
	s->sessions = t;
	t->bev = bufferevent_socket_new(s->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(t->bev, ts_read, NULL, ts_event, t);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	s->connections++;
	if (++s->open > s->max_open)
		s->max_open = s->open;
	evbuffer_add_printf(bufferevent_get_output(t->bev), "%s\r\n",
			    s->conf.greeting != NULL ? s->conf.greeting : "220 mx.test ESMTP");
	if (s->conf.greeting != NULL && strncmp(s->conf.greeting, "421", 3) == 0)
		bufferevent_disable(t->bev, EV_READ);
}

/* Listens on 127.0.0.1 at a free port. */
static inline void tsrv_start(struct tsrv *s, struct event_base *base, const struct tsrv_conf *conf, struct net_tls *tls)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof sa;

	memset(s, 0, sizeof *s);
	s->base = base;
	s->conf = *conf;
	s->tls = tls;
	buf_puts(&s->log, "");
	buf_puts(&s->data, "");
	s->lis = evconnlistener_new_bind(base, ts_accept, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 16,
					 (struct sockaddr *)&sa, sizeof sa);
	if (s->lis == NULL || getsockname(evconnlistener_get_fd(s->lis), (struct sockaddr *)&sa, &len) < 0)
		abort();
	s->port = ntohs(sa.sin_port);
}

/* Stops listening and closes every session. */
static inline void tsrv_stop(struct tsrv *s)
{
	while (s->sessions != NULL)
		ts_close(s->sessions);
	evconnlistener_free(s->lis);
	s->lis = NULL;
	buf_free(&s->log);
	buf_free(&s->data);
}

/* A port nothing listens on (bound, then closed). */
static inline unsigned tsrv_closed_port(void)
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

#endif
