/* conn_layer - the layers of a connection's I/O: the socket, TLS (implicit
 * or STARTTLS) and filters (IMAP COMPRESS), each a bufferevent over the
 * one below. The layer watches each one's output buffer, so a conn paused
 * by backpressure or flushing before its close wakes up as soon as the
 * output below it drains, whatever layer held it. */
#include "gateway/conn/conn_private.h"
#include "common/log.h"

/* A layer's output shrank: resume reading or go on with the flush when
 * the whole output is down far enough. */
static void on_layer_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	size_t pending;

	if (info->n_deleted == 0 || c->bev == NULL || (!c->paused && !c->closing))
		return;
	pending = conn_pending_output(c);
	if (c->closing ? pending == 0 : pending <= c->proto.out_high / 2)
		conn_wake(c);
}

void conn_watch_layer(struct conn *c, struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);

	if (c->nlayers == CONN_MAX_LAYERS)
		log_panic("conn[%s]: more than %d layers", c->id, CONN_MAX_LAYERS);
	c->outs[c->nlayers] = out;
	c->out_cbs[c->nlayers] = evbuffer_add_cb(out, on_layer_output, c);
	c->nlayers++;
}

void conn_unwatch_layers(struct conn *c)
{
	for (unsigned i = 0; i < c->nlayers; i++)
		if (c->out_cbs[i] != NULL)
			evbuffer_remove_cb_entry(c->outs[i], c->out_cbs[i]);
	c->nlayers = 0;
}

int conn_starttls(struct conn *c)
{
	struct bufferevent *old = c->bev, *nbev;
	struct evbuffer *in;

	if (old == NULL || c->closing)
		return -1;
	if (c->tls_ctx == NULL || c->tls) {
		conn_close(c, c->tls ? "STARTTLS over TLS" : "STARTTLS without a certificate");
		return -1;
	}
	/* RFC 3207 4.2 / RFC 2595 4 / RFC 9051 6.2.1: what the client sent
	 * after the command, in plain text, is not part of the TLS session
	 * (the command injection of CVE-2011-0411). */
	in = bufferevent_get_input(old);
	evbuffer_drain(in, evbuffer_get_length(in));
	bufferevent_set_timeouts(old, NULL, NULL);   /* the TLS layer has its own */
	nbev = net_starttls(c->base, old, c->tls_ctx);
	if (nbev == NULL) {
		conn_close(c, "STARTTLS setup failed");
		return -1;
	}
	c->bev = nbev;
	c->tls = 1;
	conn_watch_layer(c, nbev);
	conn_setup_top(c);
	return 0;
}

int conn_push_filter(struct conn *c, bufferevent_filter_cb input, bufferevent_filter_cb output,
		     void *ctx, void (*free_ctx)(void *ctx))
{
	struct bufferevent *under = c->bev, *f;

	if (under == NULL || c->closing || c->nlayers == CONN_MAX_LAYERS) {
		if (free_ctx != NULL)
			free_ctx(ctx);
		return -1;
	}
	f = bufferevent_filter_new(under, input, output, BEV_OPT_CLOSE_ON_FREE, free_ctx, ctx);
	if (f == NULL) {
		if (free_ctx != NULL)
			free_ctx(ctx);
		return -1;
	}
	bufferevent_set_timeouts(under, NULL, NULL);
	c->bev = f;
	conn_watch_layer(c, f);
	conn_setup_top(c);
	/* Octets for the new layer that arrived with the command that
	 * pushed it are already below: let the filter see them. */
	if (evbuffer_get_length(bufferevent_get_input(under)) > 0)
		bufferevent_trigger(under, EV_READ, BEV_TRIG_IGNORE_WATERMARKS | BEV_TRIG_DEFER_CALLBACKS);
	return 0;
}
