/* pop3_session_private - the session structure shared by pop3_session.c,
 * pop3_auth.c, pop3_cmd.c and pop3_maildrop.c. */
#ifndef EVM_POP3_SESSION_PRIVATE_H
#define EVM_POP3_SESSION_PRIVATE_H

#include "gateway/pop3/pop3_session.h"
#include "gateway/pop3/pop3_parser.h"
#include "common/address.h"
#include "gateway/conn/conn.h"

#include <stdint.h>

#define POP3_IN_HIGH (64 * 1024)         /* read watermark */
#define POP3_OUT_HIGH (256 * 1024)       /* stop reading commands above this */
#define POP3_WRITE_TIMEOUT_S 300
#define POP3_COMMAND_TIMEOUT_MS 30000
#define POP3_MAX_BAD 20                  /* errors before the session is closed */

enum pop3_state { POP3_S_AUTH, POP3_S_TRANS, POP3_S_UPDATE };

enum pop3_sasl {
	POP3_SASL_NONE,
	POP3_SASL_PLAIN,                 /* waiting for the PLAIN response */
	POP3_SASL_LOGIN_USER,            /* LOGIN: waiting for the user name */
	POP3_SASL_LOGIN_PASS,            /* LOGIN: waiting for the password */
};

/* One message of the maildrop, numbered from 1 by its index + 1. */
struct pop3_msg {
	uint32_t uid;
	uint64_t size;
	int deleted;                     /* DELE'd in this session */
};

struct pop3_session {
	int refs;
	struct node *node;
	struct event_base *base;
	struct conn *conn;               /* NULL once the connection is gone */
	struct pop3_session_settings set;
	pop3_session_closed_cb *closed;
	void *closed_ctx;
	struct pop3_parser *parser;
	char peer_ip[64];
	char id[17];
	char actor[32];                  /* "pop3:<id>" */
	enum pop3_state state;
	enum pop3_sasl sasl;
	int tls, busy, closing, draining;
	unsigned bad;
	char user[EVM_ADDRESS_MAX + 1];  /* USER's name, "" if none yet */
	char account[EVM_ADDRESS_MAX + 1];
	char tenant[64];
	/* the maildrop (TRANSACTION) */
	char mailbox_id[64];
	uint32_t uidvalidity;
	struct pop3_msg *msgs;
	size_t nmsgs;
};

void pop3_session_ref(struct pop3_session *s);
void pop3_session_unref(struct pop3_session *s);

/* Responses: "+OK text" / "-ERR text" lines, and raw output. */
void pop3_ok(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_err(struct pop3_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void pop3_write(struct pop3_session *s, const void *data, size_t len);
struct evbuffer *pop3_output(struct pop3_session *s);
/* Stops reading, sends what is queued, then closes. */
void pop3_close_after_flush(struct pop3_session *s, const char *why);
/* An asynchronous step is over: read the next command. */
void pop3_resume(struct pop3_session *s);
void pop3_starttls(struct pop3_session *s);
/* Timeouts for the current state. */
void pop3_set_timeouts(struct pop3_session *s);
/* The connection layer's callbacks, limits and timeouts for POP3; open
 * is the caller's (pop3_server.c, pop3_session_start). */
void pop3_conn_protocol(const struct pop3_session_settings *set, struct conn_protocol *p);
/* A session on c (the layer's open callback): the greeting, or -ERR
 * [SYS/TEMP] when draining. */
struct pop3_session *pop3_session_new(struct node *node, struct conn *c,
				      const struct pop3_session_settings *set,
				      pop3_session_closed_cb *closed, void *closed_ctx);

/* pop3_cmd.c: one command of the current state. */
void pop3_dispatch(struct pop3_session *s, const struct pop3_command *cmd);
/* pop3_auth.c */
void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd);
void pop3_sasl_line(struct pop3_session *s, const char *line);
/* 1 when USER/PASS/AUTH may be used now (TLS, or allowed in plain text). */
int pop3_auth_allowed(const struct pop3_session *s);
/* pop3_maildrop.c */
int pop3_maildrop_load(struct pop3_session *s, const char **error_r);
void pop3_maildrop_free(struct pop3_session *s);
void pop3_cmd_retr_top(struct pop3_session *s, const struct pop3_command *cmd, int top);
/* QUIT in TRANSACTION (RFC 1939 6): expunge the DELE'd messages, answer
 * once the projector applied it, then close. */
void pop3_update(struct pop3_session *s);

#endif
