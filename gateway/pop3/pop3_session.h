/* pop3_session - one POP3 connection (RFC 1939), a protocol of the
 * connection layer (gateway/conn/conn.h): AUTHORIZATION (USER/PASS, AUTH
 * PLAIN/LOGIN per RFC 5034, STLS per RFC 2595), TRANSACTION over the
 * account's INBOX as read from the view at login (message numbers fixed
 * for the session), UPDATE after QUIT:
 * the messages marked with DELE are expunged through the log
 * (message.expunge) and +OK is sent only once the projector applied it.
 * A session that ends without QUIT deletes nothing. */
#ifndef EVM_POP3_SESSION_H
#define EVM_POP3_SESSION_H

#include <event2/bufferevent.h>

#include "gateway/net.h"
#include "gateway/node.h"

struct pop3_session;

struct pop3_session_settings {
	struct net_tls *tls;           /* STLS offered when set and not already TLS */
	int allow_plaintext_auth;      /* USER/PASS/AUTH before STLS */
	unsigned preauth_timeout_s;    /* 0 = 60 */
	unsigned idle_timeout_s;       /* 0 = 600 (RFC 1939 3: at least 10 minutes) */
	int draining;                  /* refuse at once with -ERR [SYS/TEMP] */
};

/* The session ended (connection closed); the owner releases its slot. */
typedef void pop3_session_closed_cb(void *ctx, struct pop3_session *s, const char *peer_ip);

/* Takes bev over through conn_attach (tls: implicit TLS), sends the greeting. node may be NULL in
 * tests: every login then fails. */
struct pop3_session *pop3_session_start(struct node *node, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct pop3_session_settings *set,
					pop3_session_closed_cb *closed, void *closed_ctx);
/* Closes at once (server shutdown); nothing is deleted. */
void pop3_session_close(struct pop3_session *s);
/* Drain: a session with no command in progress says -ERR [SYS/TEMP] and
 * closes (without UPDATE); one in progress once it is done. */
void pop3_session_set_draining(struct pop3_session *s, int on);

#endif
