/* imap_session_private - the session state shared by imap_session.c (I/O,
 * dispatch, completion), the command files imap_cmd_*.c, imap_auth.c,
 * imap_mailbox.c (the selected mailbox) and imap_search.c. */
#ifndef EVM_IMAP_SESSION_PRIVATE_H
#define EVM_IMAP_SESSION_PRIVATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/address.h"
#include "common/buf.h"
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_session.h"

#define IMAP_OUT_HIGH (1024 * 1024)      /* stop reading above this much unsent output */
#define IMAP_IN_HIGH (256 * 1024)        /* read at most this much ahead */
#define IMAP_MAX_BAD 10                  /* BYE after this many BAD commands */
#define IMAP_PREAUTH_LINE 8192
#define IMAP_PREAUTH_LITERAL 8192
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

struct imap_session;
typedef void imap_cmd_fn(struct imap_session *s, const struct imap_command *cmd);

struct imap_cmd_def {
	const char *name;
	imap_cmd_fn *fn;
	unsigned flags;
};

const struct imap_cmd_def *imap_cmd_find(const char *name);

/* A line handler (AUTHENTICATE continuation, IDLE's DONE): gets one line
 * without its CRLF. */
typedef void imap_line_fn(struct imap_session *s, const char *line, size_t len);

struct imap_mbox;

struct imap_session {
	unsigned refs;
	struct node *node;
	struct event_base *base;
	struct bufferevent *bev;         /* NULL once the connection is gone */
	struct imap_session_settings set;
	imap_session_closed_cb *closed;
	void *closed_ctx;
	char peer_ip[64];
	char id[17];
	char actor[32];                  /* "imap:<id>" */
	enum imap_state state;
	int tls;
	int closing;
	int paused;
	int flush_tries;
	int tls_shutdown;
	unsigned bad;
	struct imap_parser *parser;
	struct event *resume;            /* runs the input loop after an async command */
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
	struct projector_sub *sub;
	int changed;                     /* the projector changed the account */
	struct imap_mbox *mbox;          /* selected mailbox */
	struct event *idle_timer;        /* keepalive while idling */
	int idling;
	void *op;                        /* state of an async command */
	void (*op_free)(void *op);       /* frees op if the session ends first */
};

/* ---- imap_session.c ---- */
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
void imap_close_after_flush(struct imap_session *s, const char *why);
void imap_capability_string(struct imap_session *s, struct buf *out);
void imap_starttls(struct imap_session *s);
/* Authentication succeeded: state, limits, push subscription. */
void imap_logged_in(struct imap_session *s, const char *account, const char *tenant);
/* Writes: submits one mail event for the account; cb runs on the loop once
 * (not when the connection is gone), after the projector's outcome. data is
 * stolen. The session waits (no further input is processed). */
typedef void imap_write_cb(struct imap_session *s, int status, json_t *outcome, const char *error);
void imap_submit(struct imap_session *s, const char *type, json_t *data, imap_write_cb *cb);
/* 1 when the outcome is "accepted"; else answers NO with a response code
 * mapped from the projector's code (RFC 5530) and returns 0. */
int imap_outcome_ok(struct imap_session *s, int status, json_t *outcome, const char *error,
		    const char *what);

/* ---- imap_mailbox.c: the selected mailbox ---- */
struct imap_msg {
	uint32_t uid;
	json_t *rec;          /* the message record (mail.h) */
	int expunged;         /* gone from the view, not announced yet */
	int dirty;            /* flags changed, FETCH FLAGS not sent yet */
};

struct imap_mbox {
	char id[33];
	char *name;
	int readonly;
	uint32_t uidvalidity, uidnext;
	int64_t highestmodseq;
	struct imap_msg *msgs;    /* in UID order = sequence order */
	size_t n, cap;
	size_t exists_sent;       /* the EXISTS the client knows */
};

/* Loads name's state and messages. 1 found, 0 no such mailbox, -1 error. */
int imap_mbox_open(struct imap_session *s, const char *name, int readonly, struct imap_mbox **mb_r,
		   const char **error_r);
void imap_mbox_free(struct imap_mbox **mb);
/* Re-reads the view: new messages are appended, gone ones marked
 * expunged, changed flags marked dirty. 0 or -1. */
int imap_mbox_sync(struct imap_session *s, struct imap_mbox *mb, const char **error_r);
/* Sends what the client should learn (EXPUNGE only when allow_expunge). */
void imap_mbox_report(struct imap_session *s, int allow_expunge);
/* Indexes (0-based) of the messages in a sequence set (uid: a UID set),
 * malloc'ed, ascending. -1 on a syntax error or a sequence number beyond
 * the mailbox (the caller answers BAD). */
int imap_mbox_select(struct imap_mbox *mb, const char *set, bool uid, size_t **idx_r, size_t *n_r);
/* [[lo,hi]...] of the UIDs of the indexes (ascending). */
json_t *imap_mbox_uid_ranges(struct imap_mbox *mb, const size_t *idx, size_t n);
/* "1:3,7" of a [[lo,hi]...] array. */
void imap_ranges_string(json_t *ranges, struct buf *out);
/* "(\Seen $Junk)" of a message record. */
void imap_flags_string(json_t *rec, struct buf *out);
void imap_deselect(struct imap_session *s);

/* ---- imap_auth.c ---- */
/* Checks a user name and password on a worker thread (yescrypt is slow),
 * then answers the command (OK with capabilities, or NO
 * [AUTHENTICATIONFAILED]). user and password are copied and wiped. */
void imap_auth_verify(struct imap_session *s, const char *user, const char *password);

/* ---- command handlers (imap_cmd_*.c) ---- */
imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_starttls,
	imap_cmd_authenticate, imap_cmd_login, imap_cmd_enable, imap_cmd_id, imap_cmd_namespace,
	imap_cmd_create, imap_cmd_delete, imap_cmd_rename, imap_cmd_subscribe, imap_cmd_unsubscribe,
	imap_cmd_list, imap_cmd_lsub, imap_cmd_status, imap_cmd_append, imap_cmd_select,
	imap_cmd_examine, imap_cmd_close, imap_cmd_unselect, imap_cmd_expunge, imap_cmd_check,
	imap_cmd_search, imap_cmd_fetch, imap_cmd_store, imap_cmd_copy, imap_cmd_move,
	imap_cmd_idle;

/* Argument helpers: the string value of an atom, quoted string or
 * literal (NULL for NIL and lists). */
const char *imap_arg_str(const struct imap_arg *a);
/* An astring that names a mailbox, canonical ("inbox" -> "INBOX", a
 * trailing '/' removed) into out. 0, or -1 (invalid name). */
int imap_mailbox_arg(const struct imap_arg *a, char *out, size_t size);
/* Appends the flags of a flag or a flag list (STORE, APPEND) to arr, system
 * flags in canonical case, \Recent dropped. 0, or -1 for an invalid flag. */
int imap_flag_list(const struct imap_arg *a, json_t *arr);
/* The mailbox's IMAP name quoted for a response. */
void imap_quote(struct buf *out, const char *s);

/* ---- imap_search.c ---- */
struct imap_search;
/* Parses SEARCH criteria (args from the first key on). 0, or -1 with
 * *error_r (BAD). */
int imap_search_parse(const struct imap_arg *args, size_t n, struct imap_mbox *mb,
		      struct imap_search **sr, const char **error_r);
/* 1 matches, 0 not, -1 error reading the view. */
int imap_search_match(struct imap_session *s, struct imap_search *sr, size_t idx);
void imap_search_free(struct imap_search **sr);

#endif
