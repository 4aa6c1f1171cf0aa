/* imap_session_private - the state of one IMAP session and the session
 * core every command and engine calls: output, tagged replies, references,
 * close-after-flush and STARTTLS (imap_reply.c, imap_connection.c,
 * imap_capability.c). The core calls no engine and no command: what it
 * needs from them (the mailbox updates before a tagged reply, freeing
 * their state) goes through the hooks imap_session_start sets
 * (imap_hooks.c), so gateway/imap has no include cycle. The engines have a
 * header each (imap_mailbox.h, imap_search.h, ...), the command handlers
 * imap_commands.h (for the table only). */
#ifndef EVM_IMAP_SESSION_PRIVATE_H
#define EVM_IMAP_SESSION_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "common/address.h"
#include "common/buf.h"
#include "gateway/conn/conn.h"
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_session_settings.h"

#define IMAP_OUT_HIGH (1024 * 1024)      /* stop reading above this much unsent output */
#define IMAP_IN_HIGH (256 * 1024)        /* read at most this much ahead */
#define IMAP_MAX_BAD 10                  /* BYE after this many BAD commands */
#define IMAP_PREAUTH_LINE 32768          /* holds an ID of 30 maximal pairs (RFC 2971 3.3) */
#define IMAP_PREAUTH_LITERAL 8192
#define IMAP_LITERAL_MINUS 4096          /* non-synchronising literals before login (RFC 7888 4) */
#define IMAP_AUTH_LINE 65536
#define IMAP_IDLE_KEEPALIVE_S 120
#define IMAP_WRITE_TIMEOUT_S 120
#define IMAP_COMMAND_TIMEOUT_MS 30000

enum imap_state {
	IMAP_S_NOAUTH,
	IMAP_S_AUTH,
	IMAP_S_SELECTED,
	IMAP_S_LOGOUT,
};

/* Command table flags (imap_cmd_table.c). */
#define IMAP_CMD_NOAUTH   (1u << 0)   /* allowed before authentication */
#define IMAP_CMD_AUTH     (1u << 1)   /* allowed after authentication */
#define IMAP_CMD_SELECTED (1u << 2)   /* needs a selected mailbox */
#define IMAP_CMD_UIDOK    (1u << 3)   /* has a UID form */
#define IMAP_CMD_SEQ      (1u << 4)   /* by sequence number: no EXPUNGE during it (RFC 9051 7.5.1) */
#define IMAP_CMD_MSN      (1u << 6)   /* its non-UID form takes or returns sequence numbers (RFC 9586 3) */
#define IMAP_CMD_NOARGS   (1u << 5)   /* "Arguments: none" (RFC 9051 6; UID forms excepted) */

struct imap_session;
typedef void imap_cmd_fn(struct imap_session *s, const struct imap_command *cmd);

struct imap_cmd_def {
	const char *name;
	imap_cmd_fn *fn;
	unsigned flags;
};

/* A line handler (AUTHENTICATE continuation, IDLE's DONE): gets one line
 * without its CRLF. */
typedef void imap_line_fn(struct imap_session *s, const char *line, size_t len);

struct imap_mbox;

/* The outcome of a command's write (imap_submit, imap_session_write.h):
 * runs on the loop once, not when the connection is gone. */
typedef void imap_write_cb(struct imap_session *s, int status, json_t *outcome, const char *error);

/* What the core asks of the engines above it (imap_hooks.c sets them). */
struct imap_session_hooks {
	/* Before each tagged reply: ok is false for BAD; allow_expunge is
	 * false for a command by sequence number (RFC 9051 7.5.1). */
	void (*before_reply)(struct imap_session *s, bool ok, int allow_expunge);
	/* 1 when the tagged reply must wait (a \Recent claim in flight). */
	int (*hold_reply)(struct imap_session *s);
	/* The selected mailbox's updates (EXPUNGE only when allow_expunge). */
	void (*report)(struct imap_session *s, int allow_expunge);
	/* Frees the engines' state of a session that ends. */
	void (*free)(struct imap_session *s);
};

struct imap_session {
	unsigned refs;
	struct node *node;
	struct event_base *base;
	struct conn *conn;               /* NULL once the connection is gone */
	const struct imap_session_hooks *hooks;   /* set by imap_session_start (imap_hooks.c) */
	struct imap_session_settings set;
	imap_session_closed_cb *closed;
	void *closed_ctx;
	char peer_ip[64];
	char id[17];
	char actor[32];                  /* "imap:<id>" */
	enum imap_state state;
	int tls;
	int closing;
	unsigned bad;
	struct imap_parser *parser;
	/* the command in progress */
	int in_cmd;
	char tag[IMAP_TAG_MAX + 1];
	const struct imap_cmd_def *cur;
	bool cur_uid;
	imap_line_fn *line_fn;
	/* authenticated */
	char account[EVM_ADDRESS_MAX + 1];
	char tenant[64];
	int rev2;                        /* ENABLE IMAP4rev2 */
	int compress;                    /* RFC 4978: DEFLATE layer active (imap_cmd_compress.c) */
	int utf8;                        /* RFC 6855: ENABLE UTF8=ACCEPT */
	int condstore;                   /* RFC 7162 3.1: a CONDSTORE enabling command was seen */
	int qresync;                     /* RFC 7162 3.2.3: ENABLE QRESYNC */
	int uidonly;                     /* RFC 9586: ENABLE UIDONLY, no sequence numbers */
	struct projector_sub *sub;
	int changed;                     /* the projector changed the account */
	struct imap_mbox *mbox;          /* selected mailbox */
	struct event *idle_timer;        /* keepalive while idling */
	int idling;
	int draining;                    /* BYE once no command is in progress */
	uint32_t replace_uid;            /* REPLACE (RFC 8508): the message to expunge
					  * once its replacement is appended */
	void *op;                        /* state of an async command */
	void (*op_free)(void *op);       /* frees op if the session ends first */
	char *held_reply;                /* the tagged reply waiting for a \Recent claim (imap_recent.c) */
	int held_expunge;                /* the report before it may send EXPUNGE */
	int reply_now;                   /* the command acts on the connection right after its
					  * tagged reply (COMPRESS): never held */
	struct imap_notify *notify;      /* RFC 5465 NOTIFY state (imap_notify_session.c) */
};

/* ---- imap_reply.c ---- */
void imap_session_ref(struct imap_session *s);
void imap_session_unref(struct imap_session *s);
/* Raw output. */
void imap_write(struct imap_session *s, const void *data, size_t len);
void imap_printf(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* One untagged or continuation line; CRLF appended. */
void imap_line(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Ends the current command with "<tag> OK|NO ..." (mailbox updates are
 * sent first) or "<tag> BAD ..." (counts toward IMAP_MAX_BAD). After an
 * asynchronous command the input loop resumes. */
void imap_ok(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_no(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void imap_bad(struct imap_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Sends the tagged reply held while the selected mailbox's \Recent claim
 * was in flight (after the mailbox updates) and ends the command. */
void imap_reply_release(struct imap_session *s);
/* The selected mailbox's updates through the report hook, for an engine
 * below imap_mailbox.c (imap_recent.c, once a claim is decided). */
void imap_report(struct imap_session *s, int allow_expunge);

/* ---- imap_capability.c ---- */
/* The CAPABILITY list in the session's state. */
void imap_capability_string(struct imap_session *s, struct buf *out);

/* ---- imap_connection.c: IMAP on the connection layer ---- */
/* RFC 9051 5.4: the autologout timer; longer once authenticated. */
void imap_set_timeouts(struct imap_session *s);
/* BYE sent or about to be: stop reading, close once the output is out. */
void imap_close_after_flush(struct imap_session *s, const char *why);
/* Closes the connection now; the session learns it in its closed
 * callback (which may drop the last reference: hold one around). */
void imap_finish_close(struct imap_session *s, const char *why);
/* Octets not yet handed to the socket, over every layer (COMPRESS, TLS). */
size_t imap_pending_output(struct imap_session *s);
/* STARTTLS: the TLS layer goes over the connection, the parser starts over. */
void imap_starttls(struct imap_session *s);
/* IMAP's limits, timeouts and the callbacks that are the connection's
 * own (output space, timeout); the session's lifecycle callbacks (input,
 * closed, drain) are imap_session.c's: imap_session_protocol. */
void imap_conn_protocol(const struct imap_session_settings *set, struct conn_protocol *p);

#endif
