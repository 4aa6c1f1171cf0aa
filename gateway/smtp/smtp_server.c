/* smtp_server - see smtp_server.h (the node wiring is in smtp_node.c, so
 * this file links without the delivery pipeline). */
#include "gateway/smtp/smtp_server.h"
#include "gateway/smtp/smtp_server_private.h"
#include "gateway/smtp/smtp_session_private.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* A connection accepted by the layer: its session. */
static void *on_open(void *ctx, struct conn *c)
{
	struct smtp_server *srv = ctx;

	return smtp_session_new(c, &srv->set.session, &srv->set.backend, NULL, NULL);
}

int smtp_server_create(struct event_base *base, const struct smtp_server_settings *set,
		       struct smtp_server **s_r, const char **error_r)
{
	struct smtp_server *srv = xcalloc(1, sizeof *srv);
	struct conn_server_settings cs = { 0 };
	struct conn_protocol p;
	struct buf reject = BUF_INIT;

	srv->base = base;
	srv->set = *set;
	srv->hostname = xstrdup(set->session.hostname);
	srv->set.session.hostname = srv->hostname;
	buf_printf(&reject, "421 4.7.0 %s Too many connections, try again later\r\n", srv->hostname);
	srv->reject_line = buf_steal(&reject);
	cs.listen = set->listen;
	cs.tls = set->session.tls;
	cs.implicit_tls = set->implicit_tls;
	cs.max_connections = set->max_connections;
	cs.max_per_ip = set->max_per_ip;
	smtp_conn_protocol(&srv->set.session, &p);
	p.reject_line = srv->reject_line;
	p.open = on_open;
	if (conn_server_start(base, &cs, &p, srv, &srv->conns, error_r) < 0) {
		free(srv->reject_line);
		free(srv->hostname);
		free(srv);
		return -1;
	}
	*s_r = srv;
	return 0;
}

unsigned smtp_server_sessions(const struct smtp_server *s)
{
	return s != NULL ? conn_server_count(s->conns) : 0;
}

void smtp_server_set_draining(struct smtp_server *s, int on)
{
	if (s == NULL)
		return;
	s->set.session.draining = on;
	conn_server_set_draining(s->conns, on);
}

void smtp_server_stop(struct smtp_server **sp)
{
	struct smtp_server *srv = *sp;

	if (srv == NULL)
		return;
	conn_server_stop(&srv->conns);
	net_tls_free(&srv->owned_tls);
	if (srv->on_stop != NULL)
		srv->on_stop();
	free(srv->reject_line);
	free(srv->hostname);
	free(srv);
	*sp = NULL;
}
