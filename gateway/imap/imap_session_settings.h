/* imap_session_settings - what the owner of an IMAP session (imap_server.c)
 * sets for it, and how it learns the connection is gone: the part of
 * imap_session.h the session's own files need (a header without functions,
 * below every file of gateway/imap). */
#ifndef EVM_IMAP_SESSION_SETTINGS_H
#define EVM_IMAP_SESSION_SETTINGS_H

#include <stddef.h>

#include "gateway/net.h"

struct imap_session;

struct imap_session_settings {
	struct net_tls *tls;            /* STARTTLS offered when set and not yet TLS; borrowed */
	int allow_plaintext_auth;       /* LOGIN/AUTHENTICATE without TLS */
	unsigned preauth_timeout_s;     /* idle time before authentication */
	unsigned idle_timeout_s;        /* idle time after authentication (>= 30 min) */
	size_t max_literal;             /* after authentication (APPENDLIMIT) */
	int draining;                   /* the node is draining: greet with BYE and close */
};

/* The connection is gone (the owner releases its net slot). */
typedef void imap_session_closed_cb(void *ctx, struct imap_session *s, const char *peer_ip);

#endif
