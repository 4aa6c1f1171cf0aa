/* smtp_session - one SMTP (RFC 5321) or LMTP (RFC 2033) conversation on a
 * bufferevent: the command state machine, PIPELINING (RFC 2920), DATA and
 * BDAT (RFC 3030), STARTTLS (RFC 3207), SIZE, 8BITMIME, SMTPUTF8, DSN,
 * ENHANCEDSTATUSCODES.
 *
 * Resolution and delivery go through struct smtp_backend, so the session
 * runs with the real deliver_* functions in the server and with fakes in
 * unit tests.
 *
 * Lifetime: the session owns its bufferevent. It ends by itself (QUIT, EOF,
 * timeout, too many errors, network or TLS error) or by
 * smtp_session_close(); either way the bufferevent is freed and `closed`
 * runs exactly once. A delivery in flight keeps the session's memory alive
 * (not its connection) until the backend's callback arrives, so that
 * callback never touches freed memory. */
#ifndef EVM_SMTP_SESSION_H
#define EVM_SMTP_SESSION_H

#include <event2/bufferevent.h>
#include <stddef.h>

#include "gateway/deliver.h"
#include "gateway/net.h"

struct smtp_backend {
	/* deliver_resolve() semantics. */
	enum deliver_rcpt_status (*resolve)(void *ctx, const char *rcpt,
					    struct deliver_target **targets_r, size_t *n_r);
	/* deliver_message() semantics: cb runs exactly once, later, on the loop. */
	void (*deliver)(void *ctx, const struct deliver_request *req, deliver_done_cb *cb,
			void *cb_ctx);
	/* Optional: 1 when account cannot take size more octets (quota). */
	int (*over_quota)(void *ctx, const char *account, uint64_t size);
	void *ctx;
};

struct smtp_session_settings {
	int lmtp;                  /* LHLO instead of EHLO; one reply per RCPT after data */
	const char *hostname;      /* greeting, Received: */
	struct net_tls *tls;       /* offer STARTTLS when set and not yet TLS */
	size_t max_line;           /* limits.smtp_line_length */
	size_t max_message;        /* limits.message_size */
	unsigned max_recipients;   /* limits.recipients */
	unsigned max_errors;       /* limits.smtp_errors */
	unsigned command_timeout_s;
	unsigned data_timeout_s;
};

struct smtp_session;

/* Called once when the connection is gone; the session may still exist
 * (waiting for a delivery callback) but will not call anything else. */
typedef void smtp_session_closed_cb(void *ctx, struct smtp_session *s, const char *peer_ip);

/* Starts a session: sends the greeting. tls: bev is already TLS (implicit).
 * settings and backend are copied; hostname and tls must outlive it. */
struct smtp_session *smtp_session_start(struct event_base *base, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct smtp_session_settings *set,
					const struct smtp_backend *backend,
					smtp_session_closed_cb *closed, void *closed_ctx);
/* Closes the connection now (server shutdown): runs closed. */
void smtp_session_close(struct smtp_session *s);
/* The session id used in logs and Received:. */
const char *smtp_session_id(const struct smtp_session *s);

#endif
