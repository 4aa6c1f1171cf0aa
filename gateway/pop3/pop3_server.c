/* pop3_server - see pop3_server.h */
#include "gateway/pop3/pop3_server.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

struct pop3_conn {
	struct pop3_conn *prev, *next;
	struct pop3_session *session;
	struct pop3_server *server;
};

struct pop3_server {
	struct node *node;
	struct pop3_session_settings set;
	struct net_tls *tls;
	struct net_listener *listener;
	struct pop3_conn *conns;
	unsigned nconns;
};

static void session_closed(void *ctx, struct pop3_session *session, const char *peer_ip)
{
	struct pop3_conn *c = ctx;
	struct pop3_server *srv = c->server;

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
	struct pop3_server *srv = ctx;
	struct pop3_conn *c = xcalloc(1, sizeof *c);

	c->server = srv;
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prev = c;
	srv->conns = c;
	srv->nconns++;
	c->session = pop3_session_start(srv->node, bev, peer_ip, tls, &srv->set, session_closed, c);
}

int pop3_server_start(struct node *node, const char *listen, int implicit_tls,
		      struct pop3_server **s_r, const char **error_r)
{
	const struct evm_config *cfg = node->cfg;
	struct pop3_server *srv;
	struct net_listener_settings ls;
	struct net_tls *tls = NULL;

	if (implicit_tls && cfg->tls_cert[0] == '\0') {
		*error_r = "implicit TLS needs tls.cert and tls.key";
		return -1;
	}
	if (cfg->tls_cert[0] != '\0' && net_tls_load(cfg->tls_cert, cfg->tls_key, &tls, error_r) < 0)
		return -1;
	srv = xcalloc(1, sizeof *srv);
	srv->node = node;
	srv->tls = tls;
	srv->set.tls = tls;
	srv->set.allow_plaintext_auth = cfg->pop3_allow_plaintext_auth != 0;
	srv->set.preauth_timeout_s = (unsigned)cfg->limits_imap_preauth_timeout_s;
	memset(&ls, 0, sizeof ls);
	ls.name = implicit_tls ? "pop3s" : "pop3";
	ls.listen = listen;
	ls.tls = tls;
	ls.implicit_tls = implicit_tls;
	ls.max_connections = (unsigned)cfg->limits_connections;
	ls.max_per_ip = (unsigned)cfg->limits_connections_per_ip;
	ls.accept = on_accept;
	ls.ctx = srv;
	if (net_listen(node->base, &ls, "-ERR [SYS/TEMP] Too many connections, try again later\r\n",
		       &srv->listener, error_r) < 0) {
		net_tls_free(&srv->tls);
		free(srv);
		return -1;
	}
	*s_r = srv;
	return 0;
}

unsigned pop3_server_sessions(const struct pop3_server *s)
{
	return s != NULL ? s->nconns : 0;
}

void pop3_server_set_draining(struct pop3_server *s, int on)
{
	struct pop3_conn *c, *next;

	if (s == NULL)
		return;
	s->set.draining = on;
	/* next is taken first: a session may end (and free its conn) inside. */
	for (c = s->conns; c != NULL; c = next) {
		next = c->next;
		pop3_session_set_draining(c->session, on);
	}
}

void pop3_server_stop(struct pop3_server **sp)
{
	struct pop3_server *srv = *sp;

	if (srv == NULL)
		return;
	while (srv->conns != NULL)
		pop3_session_close(srv->conns->session);
	net_listener_free(&srv->listener);
	net_tls_free(&srv->tls);
	free(srv);
	*sp = NULL;
}
