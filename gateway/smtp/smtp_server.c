/* smtp_server - see smtp_server.h (the node wiring is in smtp_node.c, so
 * this file links without the delivery pipeline). */
#include "gateway/smtp/smtp_server.h"
#include "gateway/smtp/smtp_server_private.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

struct smtp_conn {
	struct smtp_conn *prev, *next;
	struct smtp_session *session;
	struct smtp_server *server;
};

static void session_closed(void *ctx, struct smtp_session *session, const char *peer_ip)
{
	struct smtp_conn *c = ctx;
	struct smtp_server *srv = c->server;

	net_conn_closed(srv->listener, peer_ip);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	srv->nconns--;
	free(c);
}

static void on_accept(void *ctx, struct net_listener *l, struct bufferevent *bev, const char *peer_ip,
		      int tls)
{
	struct smtp_server *srv = ctx;
	struct smtp_conn *c = xcalloc(1, sizeof *c);

	c->server = srv;
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prev = c;
	srv->conns = c;
	srv->nconns++;
	c->session = smtp_session_start(srv->base, bev, peer_ip, tls, &srv->set.session, &srv->set.backend,
					session_closed, c);
}

int smtp_server_create(struct event_base *base, const struct smtp_server_settings *set,
		       struct smtp_server **s_r, const char **error_r)
{
	struct smtp_server *srv = xcalloc(1, sizeof *srv);
	struct net_listener_settings ls;
	char reject[300];

	srv->base = base;
	srv->set = *set;
	srv->hostname = xstrdup(set->session.hostname);
	srv->set.session.hostname = srv->hostname;
	memset(&ls, 0, sizeof ls);
	ls.name = set->session.lmtp ? "lmtp" : "smtp";
	ls.listen = set->listen;
	ls.tls = set->session.tls;
	ls.implicit_tls = set->implicit_tls;
	ls.max_connections = set->max_connections;
	ls.max_per_ip = set->max_per_ip;
	ls.accept = on_accept;
	ls.ctx = srv;
	snprintf(reject, sizeof reject, "421 4.7.0 %s Too many connections, try again later\r\n",
		 srv->hostname);
	if (net_listen(base, &ls, reject, &srv->listener, error_r) < 0) {
		free(srv->hostname);
		free(srv);
		return -1;
	}
	*s_r = srv;
	return 0;
}

unsigned smtp_server_sessions(const struct smtp_server *s)
{
	return s->nconns;
}

void smtp_server_set_draining(struct smtp_server *s, int on)
{
	struct smtp_conn *c, *next;

	if (s == NULL)
		return;
	s->set.session.draining = on;
	/* next is taken first: a session may end (and free its conn) inside. */
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		smtp_session_set_draining(c->session, on);
	}
}

void smtp_server_stop(struct smtp_server **sp)
{
	struct smtp_server *srv = *sp;

	if (srv == NULL)
		return;
	/* Each close unlinks its conn through session_closed. */
	while (srv->conns != NULL)
		smtp_session_close(srv->conns->session);
	net_listener_free(&srv->listener);
	net_tls_free(&srv->owned_tls);
	if (srv->on_stop != NULL)
		srv->on_stop();
	free(srv->hostname);
	free(srv);
	*sp = NULL;
}
