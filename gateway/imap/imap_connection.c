/* imap_connection - the session's connection: timeouts, the bufferevent's
 * setup, STARTTLS (RFC 9051 6.2.1), and closing (at once, or after the
 * output is flushed and the TLS close_notify sent). */
#include "gateway/imap/imap_session_private.h"
#include "common/log.h"
#include "gateway/net.h"
#include "projector/projector.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* RFC 9051 5.4: the autologout timer; longer once authenticated. */
void imap_set_timeouts(struct imap_session *s)
{
	struct timeval rd = { (time_t)s->set.preauth_timeout_s, 0 };
	struct timeval wr = { IMAP_WRITE_TIMEOUT_S, 0 };

	if (s->state != IMAP_S_NOAUTH)
		rd.tv_sec = (time_t)s->set.idle_timeout_s;
	bufferevent_set_timeouts(s->bev, &rd, &wr);
}

/* Callbacks, watermarks, timeouts; reading and writing enabled. */
void imap_bev_setup(struct imap_session *s, bufferevent_data_cb rd, bufferevent_data_cb wr,
		    bufferevent_event_cb ev)
{
	bufferevent_setcb(s->bev, rd, wr, ev, s);
	bufferevent_setwatermark(s->bev, EV_READ, 0, IMAP_IN_HIGH);
	bufferevent_setwatermark(s->bev, EV_WRITE, IMAP_OUT_HIGH / 2, 0);
	imap_set_timeouts(s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* The connection is gone: free it, tell the owner, drop its reference. */
void imap_finish_close(struct imap_session *s, const char *why)
{
	if (s->bev == NULL)
		return;
	log_info("imap[%s]: disconnect from [%s]: %s (user=%s, bad=%u)", s->id, s->peer_ip, why,
		 s->account[0] ? s->account : "-", s->bad);
	bufferevent_free(s->bev);
	s->bev = NULL;
	s->closing = 1;
	projector_unsubscribe(&s->sub);
	if (s->idle_timer != NULL)
		event_del(s->idle_timer);
	if (s->closed != NULL)
		s->closed(s->closed_ctx, s, s->peer_ip);
	imap_session_unref(s);
}

/* A TLS filter may still hold bytes in the bufferevent under it. */
/* Octets not yet handed to the socket, over every layer (COMPRESS, TLS). */
size_t imap_pending_output(struct bufferevent *bev)
{
	size_t n = 0;

	for (; bev != NULL; bev = bufferevent_get_underlying(bev))
		n += evbuffer_get_length(bufferevent_get_output(bev));
	return n;
}

/* The TLS connection, under a COMPRESS layer if any; NULL without TLS. */
static SSL *session_ssl(struct bufferevent *bev)
{
	SSL *ssl = NULL;

	for (; bev != NULL && ssl == NULL; bev = bufferevent_get_underlying(bev))
		ssl = bufferevent_openssl_get_ssl(bev);
	return ssl;
}

/* Waits until every layer has written its output, then sends the TLS
 * close_notify (after the last response, even under COMPRESS) and
 * closes once that is out too (at most ~1 s). */
static void flush_retry(evutil_socket_t fd, short what, void *ctx)
{
	struct imap_session *s = ctx;
	struct timeval tv = { 0, 20000 };
	SSL *ssl;

	if (s->bev == NULL) {
		imap_session_unref(s);
		return;
	}
	if (imap_pending_output(s->bev) > 0 && ++s->flush_tries < 50) {
		event_base_once(s->base, -1, EV_TIMEOUT, flush_retry, s, &tv);
		return;
	}
	if (s->tls && !s->tls_shutdown && (ssl = session_ssl(s->bev)) != NULL) {
		s->tls_shutdown = 1;
		if (SSL_is_init_finished(ssl))
			(void)SSL_shutdown(ssl);
		ERR_clear_error();
		event_base_once(s->base, -1, EV_TIMEOUT, flush_retry, s, &tv);
		return;
	}
	imap_finish_close(s, "closed");
	imap_session_unref(s);
}

/* Closing and nothing left in the output buffer: flush the layers below. */
void imap_try_finish_flush(struct imap_session *s)
{
	if (s->bev == NULL || evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return;
	imap_session_ref(s);
	flush_retry(-1, 0, s);
}

/* Stops reading; closes once every byte of output is out. */
void imap_close_after_flush(struct imap_session *s, const char *why)
{
	if (s->bev == NULL || s->closing)
		return;
	log_debug("imap[%s]: closing: %s", s->id, why);
	s->closing = 1;
	bufferevent_disable(s->bev, EV_READ);
	bufferevent_setwatermark(s->bev, EV_WRITE, 0, 0);
	imap_try_finish_flush(s);
}

/* RFC 9051 6.2.1: after "OK Begin TLS" the client's plain-text input is
 * discarded (command injection, CVE-2011-0411 / RFC 7817 et al.), the
 * parser starts over. */
void imap_starttls(struct imap_session *s)
{
	struct bufferevent *nbev;
	bufferevent_data_cb rd, wr;
	bufferevent_event_cb ev;
	void *arg;

	bufferevent_getcb(s->bev, &rd, &wr, &ev, &arg);
	evbuffer_drain(bufferevent_get_input(s->bev), evbuffer_get_length(bufferevent_get_input(s->bev)));
	bufferevent_setcb(s->bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(s->bev, NULL, NULL);
	nbev = net_starttls(s->base, s->bev, s->set.tls);
	if (nbev == NULL) {
		bufferevent_setcb(s->bev, rd, wr, ev, arg);
		imap_finish_close(s, "STARTTLS setup failed");
		return;
	}
	s->bev = nbev;
	s->tls = 1;
	imap_parser_reset(s->parser);
	imap_bev_setup(s, rd, wr, ev);
	log_info("imap[%s]: starttls", s->id);
}
