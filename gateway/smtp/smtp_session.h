/* smtp_session - one SMTP (RFC 5321) or LMTP (RFC 2033) conversation on a
 * bufferevent: the command state machine, PIPELINING (RFC 2920), DATA and
 * BDAT (RFC 3030), STARTTLS (RFC 3207), SIZE, 8BITMIME, SMTPUTF8, DSN,
 * ENHANCEDSTATUSCODES; in submission mode (RFC 6409) also AUTH (RFC 4954,
 * smtp_auth.c), sender checks, message fix-ups, DKIM signing and the
 * outbound queue for remote recipients (smtp_submit.c).
 *
 * Resolution and delivery go through struct smtp_backend, so the session
 * runs with the real deliver_* functions in the server and with fakes in
 * unit tests.
 *
 * Lifetime: the session is a protocol of the connection layer
 * (gateway/conn/conn.h), which owns the bufferevent. It ends by itself
 * (QUIT, EOF, timeout, too many errors, network or TLS error) or by
 * smtp_session_close(); either way the connection is freed and `closed`
 * runs exactly once. A delivery in flight keeps the session's memory alive
 * (not its connection) until the backend's callback arrives, so that
 * callback never touches freed memory. */
#ifndef EVM_SMTP_SESSION_H
#define EVM_SMTP_SESSION_H

#include <event2/bufferevent.h>
#include <stddef.h>

#include "gateway/auth_password.h"
#include "gateway/deliver.h"
#include "gateway/forward/forward.h"
#include "gateway/msgauth/msgauth_node.h"
#include "gateway/net.h"
#include "gateway/outbound/enqueue.h"

struct smtp_rate;

struct smtp_backend {
	/* deliver_resolve() semantics. */
	enum deliver_rcpt_status (*resolve)(void *ctx, const char *rcpt,
					    struct deliver_target **targets_r, size_t *n_r);
	/* deliver_message() semantics: cb runs exactly once, later, on the loop. */
	void (*deliver)(void *ctx, const struct deliver_request *req, deliver_done_cb *cb,
			void *cb_ctx);
	/* Optional: 1 when account cannot take size more octets (quota). */
	int (*over_quota)(void *ctx, const char *account, uint64_t size);
	/* Optional, inbound SMTP only (not LMTP, not submission): sender
	 * authentication, msgauth_node_check() semantics (msg borrowed until cb). */
	void (*msgauth)(void *ctx, const char *peer_ip, const char *helo, const char *mail_from,
			const char *msg, size_t len, msgauth_node_cb *cb, void *cb_ctx);
	/* Submission only (all required there): */
	/* auth_password_verify() semantics (throttled by peer_ip): cb runs
	 * once, later, on the loop. */
	void (*auth_password)(void *ctx, const char *peer_ip, const char *user, const char *password,
			      auth_password_cb *cb, void *cb_ctx);
	/* The SCRAM-SHA-256 record (projector/directory.h) of user when it is an
	 * active account: 1 with *rec_r (new reference) and tenant (64
	 * octets), 0 when not (unknown, disabled, no SCRAM keys). */
	int (*scram_lookup)(void *ctx, const char *user, json_t **rec_r, char *tenant);
	/* 1 when account may send as address: the account itself, or an alias
	 * whose targets include it; 0 when not; -1 on a lookup error. */
	int (*sender_allowed)(void *ctx, const char *account, const char *address);
	/* The DKIM keys of domain with their private keys (directory_dkim_keys
	 * form, new reference), or NULL when it has none. */
	json_t *(*dkim_keys)(void *ctx, const char *domain);
	/* outbound_enqueue() semantics: cb runs exactly once, later, on the loop. */
	void (*enqueue)(void *ctx, const struct enqueue_request *req, enqueue_done_cb *cb, void *cb_ctx);
	/* Optional, inbound SMTP only (not LMTP, not submission): forwarding
	 * (gateway/forward/forward.h). forward_resolve() semantics on the
	 * node's view and clock; forward_send() semantics. */
	int (*forward_resolve)(void *ctx, const char *rcpt, struct forward_target **targets_r,
			       size_t *n_r, char *local_r, const char **reply_r);
	void (*forward_send)(void *ctx, const struct forward_send_request *req, enqueue_done_cb *cb,
			     void *cb_ctx);
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
	int submission;            /* RFC 6409 message submission (needs the backend's submission part) */
	int allow_plaintext_auth;  /* submission: AUTH before STARTTLS (tests only) */
	int dkim_sign;             /* submission: sign with the From: domain's keys */
	struct smtp_rate *rate;    /* submission: messages per account and hour; NULL = unlimited */
	struct smtp_rate *ip_msgs;   /* MAIL per client IP and minute (451 4.7.1 over it); NULL = unlimited */
	struct smtp_rate *ip_rcpts;  /* RCPT per client IP and minute (451 4.7.1 over it); NULL = unlimited */
	int draining;              /* the node is draining: greet with 421 and close */
};

struct smtp_session;

/* Called once when the connection is gone; the session may still exist
 * (waiting for a delivery callback) but will not call anything else. */
typedef void smtp_session_closed_cb(void *ctx, struct smtp_session *s, const char *peer_ip);

/* Starts a session on bev (taken over through conn_attach; tests): sends
 * the greeting. tls: bev is already TLS (implicit).
 * settings and backend are copied; hostname and tls must outlive it. */
struct smtp_session *smtp_session_start(struct event_base *base, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct smtp_session_settings *set,
					const struct smtp_backend *backend,
					smtp_session_closed_cb *closed, void *closed_ctx);
/* Closes the connection now (server shutdown): runs closed. */
void smtp_session_close(struct smtp_session *s);
/* The node drains (on 1): the session answers 421 4.3.2 and closes as soon
 * as it is between transactions (RFC 5321 3.8), now if it is already;
 * a transaction in progress is finished first. on 0 takes it back. */
void smtp_session_set_draining(struct smtp_session *s, int on);
/* The session id used in logs and Received:. */
const char *smtp_session_id(const struct smtp_session *s);

#endif
