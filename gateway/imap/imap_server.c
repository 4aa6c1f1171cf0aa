/* imap_server - see imap_server.h */
#include "gateway/imap/imap_server.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

struct imap_server {
	struct node *node;
	struct imap_session_settings set;
	struct net_tls *tls;
	struct conn_server *conns;
};

/* A connection accepted by the layer: its session. */
static void *on_open(void *ctx, struct conn *c)
{
	struct imap_server *srv = ctx;

	return imap_session_new(srv->node, c, &srv->set, NULL, NULL);
}

int imap_server_start(struct node *node, const char *listen, int implicit_tls,
		      struct imap_server **s_r, const char **error_r)
{
	const struct evm_config *cfg = node->cfg;
	struct imap_server *srv;
	struct conn_server_settings cs;
	struct conn_protocol p;
	struct net_tls *tls = NULL;

	if (conn_server_config(cfg, implicit_tls ? "imaps" : "imap", listen, implicit_tls, &cs, &tls,
			       error_r) < 0)
		return -1;
	srv = xcalloc(1, sizeof *srv);
	srv->node = node;
	srv->tls = tls;
	srv->set.tls = tls;
	srv->set.allow_plaintext_auth = cfg->imap_allow_plaintext_auth != 0;
	srv->set.preauth_timeout_s = (unsigned)cfg->limits_imap_preauth_timeout_s;
	srv->set.idle_timeout_s = (unsigned)cfg->limits_imap_idle_timeout_s;
	srv->set.max_literal = (size_t)cfg->limits_imap_literal;
	if ((int64_t)srv->set.max_literal > cfg->limits_message_size)
		srv->set.max_literal = (size_t)cfg->limits_message_size;
	imap_session_protocol(&srv->set, &p);
	p.open = on_open;
	if (conn_server_start(node->base, &cs, &p, srv, &srv->conns, error_r) < 0) {
		net_tls_free(&srv->tls);
		free(srv);
		return -1;
	}
	*s_r = srv;
	return 0;
}

unsigned imap_server_sessions(const struct imap_server *s)
{
	return s != NULL ? conn_server_count(s->conns) : 0;
}

void imap_server_set_draining(struct imap_server *s, int on)
{
	if (s == NULL)
		return;
	s->set.draining = on;
	conn_server_set_draining(s->conns, on);
}

void imap_server_stop(struct imap_server **sp)
{
	struct imap_server *srv = *sp;

	if (srv == NULL)
		return;
	conn_server_stop(&srv->conns);
	net_tls_free(&srv->tls);
	free(srv);
	*sp = NULL;
}
