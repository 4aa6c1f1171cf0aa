/* imap_session - one IMAP4rev2 / IMAP4rev1 session (RFC 9051, RFC 3501
 * compatible), a protocol of the connection layer (gateway/conn/conn.h,
 * imap_connection.c): the push parser is fed from the
 * input buffer, commands are dispatched from one table
 * (imap_cmd_table.c) in order, one at a time; a command that writes waits
 * for the projector's outcome (gateway/command.h) before its tagged answer
 * and before the next pipelined command is read.
 *
 * The session reads only the authenticated account's data: the account
 * address is the key of every read and every event. */
#ifndef EVM_IMAP_SESSION_H
#define EVM_IMAP_SESSION_H

#include <event2/bufferevent.h>
#include <stddef.h>

#include "gateway/conn/conn.h"
#include "gateway/imap/imap_session_settings.h"
#include "gateway/node.h"

struct imap_session;

/* Takes bev over (a connection without a server, through conn_attach:
 * tests), sends the greeting. tls: 1 when bev is already TLS. */
struct imap_session *imap_session_start(struct node *node, struct bufferevent *bev,
					const char *peer_ip, int tls,
					const struct imap_session_settings *set,
					imap_session_closed_cb *closed, void *closed_ctx);
/* Closes at once (server shutdown); closed is called. */
void imap_session_close(struct imap_session *s);
/* A session on c (the layer's open callback): the greeting, or BYE when
 * draining. closed (may be NULL) runs once the connection is gone. */
struct imap_session *imap_session_new(struct node *node, struct conn *c,
				      const struct imap_session_settings *set,
				      imap_session_closed_cb *closed, void *closed_ctx);
/* IMAP as a protocol of the connection layer: limits, timeouts and every
 * callback but open (the caller's). */
void imap_session_protocol(const struct imap_session_settings *set, struct conn_protocol *p);
/* The node drains (on 1): the session sends "* BYE [UNAVAILABLE]" and
 * closes as soon as no command is in progress (RFC 9051 7.1.5), at once
 * when it is between commands or in IDLE; on 0 takes it back. */
void imap_session_set_draining(struct imap_session *s, int on);
/* 16 hex digits, for logs. */
const char *imap_session_id(const struct imap_session *s);

#endif
