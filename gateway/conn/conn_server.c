/* conn_server - a listener of the connection layer: net_listen (limits,
 * TCP_NODELAY, implicit TLS) and the list of its live connections. */
#include "gateway/conn/conn_private.h"
#include "common/buf.h"
#include "common/config.h"

#include <stdlib.h>
#include <string.h>

/* A connection accepted by net.c (within the limits): one conn, open(). */
static void on_accept(void *ctx, struct net_listener *l, struct bufferevent *bev, const char *peer_ip,
		      int tls)
{
	struct conn_server *srv = ctx;
	struct conn *c = conn_new(srv->base, bev, peer_ip, tls, srv->tls, &srv->proto, srv->proto_ctx);

	c->server = srv;
	c->next = srv->conns;
	if (c->next != NULL)
		c->next->prev = c;
	srv->conns = c;
	srv->count++;
	(void)conn_open(c);
}

void conn_server_release(struct conn_server *srv, struct conn *c)
{
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	c->server = NULL;
	srv->count--;
	net_conn_closed(srv->listener, c->peer_ip);
}

int conn_server_config(const struct evm_config *cfg, const char *name, const char *listen,
		       int implicit_tls, struct conn_server_settings *set, struct net_tls **tls_r,
		       const char **error_r)
{
	*tls_r = NULL;
	if (implicit_tls && cfg->tls_cert[0] == '\0') {
		*error_r = "implicit TLS needs tls.cert and tls.key";
		return -1;
	}
	if (cfg->tls_cert[0] != '\0' && net_tls_load_config(cfg, tls_r, error_r) < 0)
		return -1;
	*set = (struct conn_server_settings){
		.name = name,
		.listen = listen,
		.tls = *tls_r,
		.implicit_tls = implicit_tls,
		.max_connections = (unsigned)cfg->limits_connections,
		.max_per_ip = (unsigned)cfg->limits_connections_per_ip,
	};
	return 0;
}

int conn_server_start(struct event_base *base, const struct conn_server_settings *set,
		      const struct conn_protocol *proto, void *proto_ctx, struct conn_server **srv_r,
		      const char **error_r)
{
	struct conn_server *srv = xcalloc(1, sizeof *srv);
	struct net_listener_settings ls;

	srv->base = base;
	srv->proto = *proto;
	srv->proto_ctx = proto_ctx;
	srv->tls = set->tls;
	memset(&ls, 0, sizeof ls);
	ls.name = set->name != NULL ? set->name : proto->name;
	ls.listen = set->listen;
	ls.tls = set->tls;
	ls.implicit_tls = set->implicit_tls;
	ls.max_connections = set->max_connections;
	ls.max_per_ip = set->max_per_ip;
	ls.accept = on_accept;
	ls.ctx = srv;
	if (net_listen(base, &ls, proto->reject_line, &srv->listener, error_r) < 0) {
		free(srv);
		return -1;
	}
	*srv_r = srv;
	return 0;
}

unsigned conn_server_count(const struct conn_server *srv)
{
	return srv != NULL ? srv->count : 0;
}

void conn_server_set_draining(struct conn_server *srv, int on)
{
	struct conn *c, *next;

	if (srv == NULL)
		return;
	srv->draining = on;
	if (srv->proto.drain == NULL)
		return;
	/* next is taken first: a conn may close (and leave the list) inside. */
	for (c = srv->conns; c != NULL; c = next) {
		next = c->next;
		conn_ref(c);
		if (c->session != NULL)
			srv->proto.drain(c->session, c, on);
		conn_unref(c);
	}
}

void conn_server_stop(struct conn_server **srvp)
{
	struct conn_server *srv = *srvp;

	if (srv == NULL)
		return;
	/* Each close takes its conn off the list (conn_server_release). */
	while (srv->conns != NULL)
		conn_close(srv->conns, "server shutdown");
	net_listener_free(&srv->listener);
	free(srv);
	*srvp = NULL;
}
