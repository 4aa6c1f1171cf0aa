/* conn - the one connection layer under every protocol server (IMAP, POP3,
 * SMTP/LMTP, HTTP): the listener with its limits, the bufferevent with its
 * layers (socket, TLS, filters such as IMAP COMPRESS), timeouts, output
 * backpressure, STARTTLS, closing at once or after the output is flushed,
 * and the server's list of live connections. A protocol is a table of
 * callbacks (struct conn_protocol, after nginx's ngx_mail_protocol_t); it
 * parses from conn_input() and writes to conn_output(), never touching a
 * bufferevent or a socket.
 *
 * Threads: everything runs on the loop thread of the event_base given.
 *
 * Lifetime and ownership:
 * - A connection is created by the server's listener (conn_server_start)
 *   or by conn_attach (tests, tools); open() then returns the protocol's
 *   session pointer. The layer owns the struct conn and the bufferevents.
 * - It ends once, by conn_close(), by conn_close_after_flush() when the
 *   output is out, by EOF, a network or TLS error, a write timeout, or
 *   conn_server_stop(). Then the bufferevents are freed, the limits slot
 *   released, the conn leaves the server's list and closed(session, why)
 *   runs exactly once: after it the protocol must not use the conn pointer
 *   (it sets its own pointer to NULL there) and may free its session (or
 *   keep it alive for its own callbacks in flight).
 * - The layer holds a reference on the conn around every callback, so a
 *   callback may call conn_close() (closed() runs inside that call) and
 *   then keep calling conn_* functions on c until it returns: on a closed
 *   conn they do nothing (conn_output() returns NULL).
 *
 * Backpressure: while the unsent output over every layer is above
 * out_high, the layer stops reading and does not call input(); it calls
 * input() again once the output is down to out_high / 2. A protocol that
 * handles several requests in one input() call asks conn_input_blocked()
 * before each one.
 *
 * Callbacks never run inside the call that caused them, except closed()
 * inside conn_close() (and the calls that close at once: conn_starttls
 * failing, conn_server_stop) and open() inside conn_attach(). */
#ifndef EVM_CONN_H
#define EVM_CONN_H

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stddef.h>

#include "gateway/net.h"

struct conn;
struct conn_server;
struct evm_config;

struct conn_protocol {
	const char *name;          /* "imap", "smtp", "http": log prefix; borrowed */
	/* Written (plain text only) to a connection refused over a limit,
	 * e.g. "421 4.7.0 Too many connections\r\n"; NULL: just close. */
	const char *reject_line;
	size_t in_high;            /* read at most this much ahead (0: 256 KiB) */
	size_t out_high;           /* stop reading above this much unsent output (0: 1 MiB) */
	unsigned preauth_timeout_s;  /* read timeout until conn_set_authenticated (0: 60) */
	unsigned idle_timeout_s;     /* read timeout after it (0: the pre-auth one) */
	unsigned write_timeout_s;    /* no output progress for this long: close (0: 120) */

	/* A new connection (TLS is being negotiated on implicit-TLS
	 * listeners). Returns the session, passed to every other callback;
	 * NULL refuses it: the layer closes it and calls nothing else. It
	 * may write a greeting and may call conn_close_after_flush (not
	 * conn_close: closed() needs the session it returns). ctx is
	 * the proto_ctx of conn_server_start / conn_attach. */
	void *(*open)(void *ctx, struct conn *c);
	/* Input arrived in conn_input(c) (or reading resumed): consume what
	 * can be handled now. Not called while conn_input_blocked(). */
	void (*input)(void *session, struct conn *c);
	/* Optional: the output went down to out_high / 2 (the socket took
	 * some), e.g. to stream the next part of a large answer. */
	void (*output_space)(void *session, struct conn *c);
	/* Optional: the read timeout expired. The protocol may write its
	 * farewell ("* BYE", "421 ..."); then the layer closes after flush
	 * (with why "timeout"). */
	void (*timeout)(void *session, struct conn *c);
	/* Required: the connection is gone (see Lifetime). why is for logs:
	 * "closed", "lost connection", "timeout", "write timeout",
	 * "server shutdown", "TLS error N", "network error", or the why given
	 * to conn_close*. */
	void (*closed)(void *session, struct conn *c, const char *why);
	/* Optional: conn_server_set_draining(on) for each live connection;
	 * the protocol says goodbye once idle (on 1) or takes it back (0). */
	void (*drain)(void *session, struct conn *c, int on);
	/* Optional: 1 while a request's answer is still to come (a password
	 * check, a write waiting for the log). With it, a client's EOF is a
	 * half-close (RFC 9293 3.6: it may still read): the layer stops
	 * reading, lets input() handle every complete request already
	 * buffered, and closes after flush once busy() is 0 and input() takes
	 * nothing more (bounded by CONN_EOF_MAX_MS). Without it, EOF closes
	 * at once and an answer in flight is lost: HTTP goes without, so a
	 * client that leaves cancels its request and ends its stream (an
	 * HTTP client does not half-close to mark the end of a request). */
	int (*busy)(void *session);
};

/* ---- servers (conn_server.c) ---- */

struct conn_server_settings {
	const char *name;            /* "imaps": for logs (NULL: the protocol's name) */
	const char *listen;          /* "host:port" / "[v6]:port" */
	struct net_tls *tls;         /* borrowed; needed for implicit_tls and STARTTLS */
	int implicit_tls;
	unsigned max_connections;    /* 0 = unlimited */
	unsigned max_per_ip;         /* 0 = unlimited */
};

/* A node's listener from its configuration: name, listen, implicit_tls,
 * limits.connections and limits.connections_per_ip into *set, and
 * tls.cert/tls.key loaded into *tls_r when configured (NULL otherwise;
 * the caller frees it with net_tls_free after conn_server_stop). Returns
 * 0, or -1 with *error_r (implicit TLS without a certificate, an
 * unreadable certificate). */
int conn_server_config(const struct evm_config *cfg, const char *name, const char *listen,
		       int implicit_tls, struct conn_server_settings *set, struct net_tls **tls_r,
		       const char **error_r);
/* Binds set->listen; proto is copied (its strings are borrowed and must
 * outlive the server); proto_ctx is passed to open(). Every accepted
 * socket gets TCP_NODELAY. Returns 0, or -1 with *error_r. */
int conn_server_start(struct event_base *base, const struct conn_server_settings *set,
		      const struct conn_protocol *proto, void *proto_ctx, struct conn_server **srv_r,
		      const char **error_r);
/* Closes every connection at once (closed(why "server shutdown") for
 * each), then the listener. NULL-safe, sets *srv to NULL. */
void conn_server_stop(struct conn_server **srv);
/* Live connections. 0 for NULL. */
unsigned conn_server_count(const struct conn_server *srv);
/* Drain on/off: remembered for new connections (conn_draining) and
 * announced to each live one through drain(). NULL-safe. */
void conn_server_set_draining(struct conn_server *srv, int on);

/* ---- one connection (conn.c) ---- */

/* A connection over an existing bufferevent (a socketpair in tests): bev
 * is taken over (freed with the conn); tls: bev is already TLS; tls_ctx
 * (borrowed, may be NULL) for STARTTLS. open() runs inside this call.
 * Returns the conn, or NULL when open() refused (bev freed). */
struct conn *conn_attach(struct event_base *base, struct bufferevent *bev, const char *peer_ip,
			 int tls, struct net_tls *tls_ctx, const struct conn_protocol *proto,
			 void *proto_ctx);

/* The input buffer: the protocol drains what it consumed. */
struct evbuffer *conn_input(struct conn *c);
/* The output buffer (top layer); NULL once closing or closed. */
struct evbuffer *conn_output(struct conn *c);
/* Appends to the output; nothing once closing or closed. */
void conn_write(struct conn *c, const void *data, size_t len);
void conn_printf(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* 1 when input() must not consume now: closing or closed, held
 * (conn_hold_input), or the output is over out_high (reading stops; it
 * resumes by itself once the output drains). */
int conn_input_blocked(struct conn *c);
/* Stops (on 1) or restarts (0) reading from the socket, e.g. while a
 * command waits for the log: no read timeout meanwhile. Restarting does
 * not call input(); conn_resume_input does. */
void conn_hold_input(struct conn *c, int on);
/* Calls input() from the loop soon (an asynchronous step finished and the
 * buffered input may hold the next request). Never inside this call. */
void conn_resume_input(struct conn *c);
/* Octets not yet handed to the kernel, over every layer. */
size_t conn_pending_output(struct conn *c);

/* The read timeout switches to idle_timeout_s (after login). */
void conn_set_authenticated(struct conn *c);
/* Overrides the read timeout from now on (SMTP DATA); 0: back to the
 * pre-auth or idle timeout. */
void conn_set_read_timeout(struct conn *c, unsigned seconds);

/* RFC 3207 4.2, RFC 9051 6.2.1, RFC 2595 4: after the protocol's "go
 * ahead" is written (it goes out in plain text), discards the buffered
 * plain-text input (CVE-2011-0411) and starts the TLS handshake. Returns
 * 0, or -1 after closing the connection (no certificate, TLS setup
 * failure): closed() has run. */
int conn_starttls(struct conn *c);
/* Pushes a filter bufferevent (libevent's bufferevent_filter_new
 * callbacks) over the connection, e.g. IMAP COMPRESS=DEFLATE (RFC 4978):
 * output written from now on goes through it, as does input not yet
 * read from the layer below (what is already in conn_input stays).
 * free_ctx(ctx) runs when the layer is freed (also on failure).
 * Returns 0 or -1 (the connection is unchanged). */
int conn_push_filter(struct conn *c, bufferevent_filter_cb input, bufferevent_filter_cb output,
		     void *ctx, void (*free_ctx)(void *ctx));

/* Closes at once: pending output is dropped, closed(why) runs inside. */
void conn_close(struct conn *c, const char *why);
/* Stops reading and closes once the output of every layer is out and a
 * TLS close_notify sent (bounded: ~1 s, then at once); closed(why) runs
 * then. Output written after this call is dropped. */
void conn_close_after_flush(struct conn *c, const char *why);
/* 1 once conn_close_after_flush was called or the conn is closed. */
int conn_closing(const struct conn *c);

/* Linux TCP_QUICKACK on the socket under every layer (net_quickack):
 * the protocol read part of a request and waits for the rest. */
int conn_quickack(struct conn *c);

/* 16 hex digits, random, for logs. */
const char *conn_id(const struct conn *c);
/* The client's address as text (IPv4-mapped IPv6 shown as IPv4). */
const char *conn_peer_ip(const struct conn *c);
/* 1 over TLS (implicit, or after conn_starttls). */
int conn_is_tls(const struct conn *c);
/* 1 while the server drains (conn_server_set_draining); 0 for attached. */
int conn_draining(const struct conn *c);
struct event_base *conn_base(const struct conn *c);
/* The socket under every layer, -1 once closed (tests: getsockopt). */
evutil_socket_t conn_socket(const struct conn *c);
/* The session open() returned (NULL before open() returned). */
void *conn_session(const struct conn *c);

#endif
