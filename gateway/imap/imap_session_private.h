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
#include "gateway/imap/imap_partial.h"
#include "gateway/imap/imap_session.h"

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
#define IMAP_CMD_NOARGS   (1u << 5)   /* "Arguments: none" (RFC 9051 6; UID forms excepted) */

struct imap_session;
typedef void imap_cmd_fn(struct imap_session *s, const struct imap_command *cmd);

struct imap_cmd_def {
	const char *name;
	imap_cmd_fn *fn;
	unsigned flags;
};

const struct imap_cmd_def *imap_cmd_find(const char *name);
/* Why the command name (UID form when uid) cannot run in the session's
 * state (the text of a BAD), or NULL when it can. */
const char *imap_cmd_refused(const struct imap_session *s, const char *name, bool uid);

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
	int compress;                    /* RFC 4978: DEFLATE layer active (imap_compress.c) */
	int utf8;                        /* RFC 6855: ENABLE UTF8=ACCEPT */
	int condstore;                   /* RFC 7162 3.1: a CONDSTORE enabling command was seen */
	int qresync;                     /* RFC 7162 3.2.3: ENABLE QRESYNC */
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
/* Sends the tagged reply held while the selected mailbox's \Recent claim
 * was in flight (after the mailbox updates) and ends the command. */
void imap_reply_release(struct imap_session *s);
void imap_close_after_flush(struct imap_session *s, const char *why);
void imap_capability_string(struct imap_session *s, struct buf *out);
void imap_starttls(struct imap_session *s);
/* Authentication succeeded: state, limits, push subscription. */
void imap_logged_in(struct imap_session *s, const char *account, const char *tenant);
/* UNAUTHENTICATE (RFC 8437): undoes imap_logged_in and every ENABLE; TLS
 * and COMPRESS stay. */
void imap_logged_out(struct imap_session *s);
/* Writes: submits one mail event for the account; cb runs on the loop once
 * (not when the connection is gone), after the projector's outcome. data is
 * stolen. The session waits (no further input is processed). */
typedef void imap_write_cb(struct imap_session *s, int status, json_t *outcome, const char *error);
void imap_submit(struct imap_session *s, const char *type, json_t *data, imap_write_cb *cb);
/* imap_submit whose cb runs once the record (topic, partition, offset) is
 * applied locally too, e.g. the last chunk of an APPENDed blob, so a FETCH
 * right after the answer finds the body (imap_session_write.c). */
void imap_submit_after(struct imap_session *s, const char *type, json_t *data, enum evm_topic_id topic,
		       int32_t partition, int64_t offset, imap_write_cb *cb);
/* ", the server's disk is full" when a failed write's error says the log's
 * storage is full (EVLOG_ERR_STORAGE_FULL), else "": for NO [UNAVAILABLE]. */
const char *imap_unavailable_why(struct imap_session *s, const char *error);
/* 1 when the outcome is "accepted"; else answers NO with a response code
 * mapped from the projector's code (RFC 5530) and returns 0. */
int imap_outcome_ok(struct imap_session *s, int status, json_t *outcome, const char *error,
		    const char *what);

/* ---- imap_mailbox.c: the selected mailbox ---- */
/* A message of the snapshot: 16 bytes, no view record (imap_msgrec.c
 * reads those when a command needs more than UID, flags and MODSEQ). */
struct imap_msg {
	uint32_t uid;
	uint32_t kw : 24;     /* keyword set (imap_mbox.kwsets), 0: none */
	uint32_t flags : 5;   /* system flags, MAIL_F_* (projector/mail.h) */
	uint32_t expunged : 1; /* gone from the view, not announced yet */
	uint32_t dirty : 1;   /* flags changed, FETCH FLAGS not sent yet */
	int64_t modseq;
};

/* A distinct keyword set of the mailbox: space-separated keywords as the
 * modseq index stores them (sorted). */
struct imap_kwset {
	char *kw;
	size_t len;
	int told;             /* its keywords were announced by FLAGS */
};
#define IMAP_KWSETS_MAX (1u << 24)

struct imap_mbox {
	char id[33];
	char *name;
	int readonly;
	uint32_t uidvalidity, uidnext;
	int64_t highestmodseq;
	int64_t synced;           /* every change up to this modseq is applied */
	struct imap_msg *msgs;    /* in UID order = sequence order */
	size_t n, cap;
	size_t exists_sent;       /* the EXISTS the client knows */
	uint32_t *saved;          /* RFC 5182 "$": UIDs saved by SEARCH RETURN (SAVE) */
	size_t nsaved;
	struct imap_uctx *uctx;   /* RFC 5267 4.3 update contexts (imap_context.c) */
	unsigned serial;          /* tells a reopened mailbox from this one */
	/* IMAP4rev1 \Recent (RFC 3501 2.3.2, imap_recent.c): the UID ranges
	 * this session claimed (mailbox.claim_recent), ascending. */
	int claim;                /* a rev1 SELECT: claims new arrivals */
	int claiming;             /* a claim is in flight */
	int recent_dirty;         /* the RECENT count changed, not sent yet */
	uint32_t claimed;         /* every UID up to this is decided */
	uint32_t view_recent;     /* the mailbox's recent_uid in the view */
	uint32_t (*recent)[2];
	size_t nrecent;
	json_t *keywords;         /* the keywords FLAGS announced (imap_keywords.c) */
	/* ACL (imap_acl.c): the account whose mailbox this is (the session's
	 * own, or the owner of a shared one), the session's rights on it
	 * (projector/mail_acl.h bits), and the owner's change subscription. */
	char owner[EVM_ADDRESS_MAX + 1];
	unsigned rights;
	struct projector_sub *owner_sub;
	struct imap_kwset *kwsets; /* [0] is the empty set */
	size_t nkwsets, kwcap;
};

/* Loads name's state and messages. 1 found, 0 no such mailbox, -1 error. */
int imap_mbox_open(struct imap_session *s, const char *name, int readonly, struct imap_mbox **mb_r,
		   const char **error_r);
void imap_mbox_free(struct imap_mbox **mb);
/* Applies the view's changes since mb->synced (the modseq index,
 * projector/mail.h mail_changes): new messages are appended, gone ones
 * marked expunged, changed flags marked dirty. Nothing is read past the
 * mailbox record when its highestmodseq is what was seen. 0 or -1. */
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
/* "(\Seen $Junk)" of a message (recent: with \Recent first). */
void imap_flags_string(const struct imap_mbox *mb, const struct imap_msg *m, int recent, struct buf *out);

/* ---- imap_msgrec.c: keyword sets and view records of the snapshot ---- */
/* The id of a keyword set ("kw1 kw2", sorted), added when new; -1 past
 * IMAP_KWSETS_MAX. */
int64_t imap_kwset_id(struct imap_mbox *mb, const char *kw, size_t len);
void imap_kwsets_free(struct imap_mbox *mb);
/* 1 when message m has the system flag or keyword (case-insensitive). */
int imap_msg_has_flag(const struct imap_mbox *mb, const struct imap_msg *m, const char *flag);
/* Reads message records (mail.h) from the view in runs of UIDs. */
struct imap_recs {
	json_t *list;         /* the records of the run, UID order */
	uint32_t lo, hi;      /* the run's UIDs */
	size_t pos;
};
#define IMAP_RECS_RUN 256
/* The record of message i (borrowed: valid until the next call or
 * imap_recs_free), NULL when gone from the view (or on a view error,
 * logged). A miss reads messages i .. i + run - 1 (run capped at
 * IMAP_RECS_RUN) with one range read. */
json_t *imap_recs_get(struct imap_session *s, struct imap_recs *c, size_t i, size_t run);
void imap_recs_free(struct imap_recs *c);
/* How many of idx[k..n) (ascending message indexes) follow each other in
 * the mailbox from k on: the run to pass to imap_recs_get. */
size_t imap_idx_run(const size_t *idx, size_t n, size_t k);
void imap_deselect(struct imap_session *s);

/* ---- imap_recent.c: IMAP4rev1 \Recent (RFC 3501 2.3.2) ---- */
/* 1 when uid is \Recent in this session. */
int imap_msg_recent(const struct imap_mbox *mb, uint32_t uid);
/* The RECENT count: messages of the snapshot not expunged and \Recent. */
size_t imap_recent_count(const struct imap_mbox *mb);
/* Records a mailbox.claim_recent outcome {claimed_from, recent_uid}: 1
 * when it made messages \Recent here, else 0. */
int imap_recent_claimed(struct imap_mbox *mb, json_t *outcome);
/* Decides \Recent for the snapshot's messages above mb->claimed: a rev1
 * SELECT submits a claim (mb->claiming; the arrivals are announced and a
 * held tagged reply released on its outcome), or, with the log
 * unreachable, takes what nobody claimed without one; EXAMINE takes what
 * nobody claimed without claiming; IMAP4rev2 sessions nothing. */
void imap_recent_claim(struct imap_session *s);
/* RFC 3501 2.3.2: "If it is not possible to determine whether or not this
 * session is the first session to be notified about a message, then that
 * message SHOULD be considered recent." When the log cannot take a claim,
 * UIDs from < uid <= to are \Recent here without one (another session may
 * show them as \Recent too). Returns 1 when the set grew. */
int imap_recent_assume(struct imap_mbox *mb, uint32_t from, uint32_t to);
/* 0 while the log is unreachable (evlog_health): a SELECT then does not
 * wait for a claim, a read never waits on a write. */
int imap_recent_can_claim(struct imap_session *s);

/* ---- imap_keywords.c: FLAGS announcements (RFC 9051 7.3.5) ---- */
/* SELECT / EXAMINE: "* FLAGS" and "* OK [PERMANENTFLAGS]" with every
 * keyword of the snapshot. */
void imap_keywords_select(struct imap_session *s);
/* Before a FETCH response with m's flags: announces its new keywords. */
void imap_keywords_check(struct imap_session *s, const struct imap_msg *m);

/* ---- imap_auth.c ---- */
/* Checks a user name and password on a worker thread (yescrypt is slow),
 * then answers the command (OK with capabilities, or NO
 * [AUTHENTICATIONFAILED]). user and password are copied and wiped. */
void imap_auth_verify(struct imap_session *s, const char *user, const char *password);

/* ---- imap_auth_ext.c: AUTHENTICATE LOGIN and SCRAM-SHA-256 ---- */
int imap_auth_ext_known(const char *mech);
/* Runs the exchange and answers (TLS policy checked by the caller). */
void imap_auth_ext_start(struct imap_session *s, const struct imap_command *cmd);
/* imap_compress.c: RFC 4978 COMPRESS DEFLATE. */
imap_cmd_fn imap_cmd_compress;

/* ---- imap_mbox_name.c: mailbox names on the wire (mUTF-7 for rev1) ---- */
int imap_names_mutf7(const struct imap_session *s);
/* A name or pattern from the client as UTF-8 (v, or decoded into tmp);
 * NULL when invalid for the session's encoding. */
const char *imap_name_in(struct imap_session *s, const char *v, struct buf *tmp);
/* imap_mailbox_arg after decoding modified UTF-7 when the session uses it. */
int imap_mailbox_arg_s(struct imap_session *s, const struct imap_arg *a, char *out, size_t size);
/* imap_quote of a mailbox name, modified UTF-7 when the session uses it. */
void imap_quote_mailbox(struct imap_session *s, struct buf *out, const char *name);
/* imap_list_pattern of a reference and pattern in the session's encoding. */
char *imap_list_pattern_s(struct imap_session *s, const char *ref, const char *pat);

/* ---- command handlers (imap_cmd_*.c) ---- */
imap_cmd_fn imap_cmd_capability, imap_cmd_noop, imap_cmd_logout, imap_cmd_starttls,
	imap_cmd_authenticate, imap_cmd_login, imap_cmd_enable, imap_cmd_id, imap_cmd_namespace,
	imap_cmd_create, imap_cmd_delete, imap_cmd_rename, imap_cmd_subscribe, imap_cmd_unsubscribe,
	imap_cmd_list, imap_cmd_lsub, imap_cmd_status, imap_cmd_append, imap_cmd_select,
	imap_cmd_examine, imap_cmd_close, imap_cmd_unselect, imap_cmd_expunge, imap_cmd_check,
	imap_cmd_search, imap_cmd_fetch, imap_cmd_store, imap_cmd_copy, imap_cmd_move,
	imap_cmd_idle;
/* RFC 5256 SORT / THREAD, RFC 5267 ESORT (imap_cmd_sort.c, imap_cmd_thread.c). */
imap_cmd_fn imap_cmd_sort, imap_cmd_thread;
/* RFC 9208 QUOTA (imap_cmd_quota.c). */
imap_cmd_fn imap_cmd_getquotaroot, imap_cmd_getquota, imap_cmd_setquota;
/* RFC 4314 ACL (imap_cmd_acl.c). */
imap_cmd_fn imap_cmd_setacl, imap_cmd_deleteacl, imap_cmd_getacl, imap_cmd_listrights, imap_cmd_myrights;
/* RFC 8437 UNAUTHENTICATE (imap_cmd_unauth.c); RFC 8508 REPLACE (imap_cmd_replace.c). */
imap_cmd_fn imap_cmd_unauthenticate, imap_cmd_replace;
/* RFC 5464 METADATA (imap_cmd_metadata.c); RFC 4467 URLAUTH (imap_cmd_urlauth.c). */
imap_cmd_fn imap_cmd_getmetadata, imap_cmd_setmetadata;
imap_cmd_fn imap_cmd_genurlauth, imap_cmd_resetkey, imap_cmd_urlfetch;
/* RFC 5465 NOTIFY (imap_cmd_notify.c). */
imap_cmd_fn imap_cmd_notify;
/* imap_cmd_createext.c: CREATE's "(USE (\\Sent))" (RFC 6154 3) into *use_r
 * ("" for none); -1 with *error_r = "BAD" or a NO text. */
int imap_create_params(const struct imap_arg *a, const char **use_r, const char **error_r);
/* mailbox.create's outcome: OK [MAILBOXID (id)] (RFC 8474 4.1). */
imap_write_cb imap_create_done;
/* imap_status.c: 0 when every STATUS item is known, else -1 (BAD). */
int imap_status_check(const struct imap_arg *items, size_t n);
/* "* STATUS name (item value ...)" of a mailbox record (RFC 9051 7.3.2). */
void imap_status_line(struct imap_session *s, json_t *box, const struct imap_arg *items, size_t n);
/* imap_fetch_ext.c: FETCH EMAILID, THREADID (RFC 8474), SAVEDATE (RFC 8514),
 * PREVIEW (RFC 8970) of a message record and its summary. */
enum imap_fetch_ext { IMAP_FX_EMAILID, IMAP_FX_THREADID, IMAP_FX_SAVEDATE, IMAP_FX_PREVIEW };
void imap_fetch_ext_render(struct buf *out, enum imap_fetch_ext which, json_t *rec, json_t *summary);
/* imap_cmd_append.c: APPEND's arguments args[n] (mailbox [flags]
 * [date-time] message): the message is stored, then one message.append
 * is submitted with done as its callback. 0 when started, -1 after
 * answering BAD or NO (REPLACE uses it too). */
int imap_append_one(struct imap_session *s, const struct imap_arg *args, size_t nargs, imap_write_cb *done);
/* imap_cmd_append.c: RFC 9051 9 date-time to ms. 0 or -1. */
int imap_date_time_parse(const char *v, int64_t *ms_r);
/* imap_cmd_multiappend.c: handles APPEND with several messages (RFC 3502)
 * or CATENATE (RFC 4469) and returns 1; 0 for a plain APPEND. */
int imap_append_multi(struct imap_session *s, const struct imap_command *cmd);
/* imap_catenate.c: appends the message the CATENATE parts list (RFC 4469)
 * builds to out: 0, or -1 after answering NO [BADURL]/[TOOBIG] or BAD. */
int imap_catenate(struct imap_session *s, const struct imap_arg *parts, struct buf *out);

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
/* 1 when the criteria use MODSEQ (RFC 7162 3.1.5). */
int imap_search_uses_modseq(const struct imap_search *sr);

/* ---- imap_condstore.c: CONDSTORE / QRESYNC (RFC 7162) ---- */
/* A mod-sequence-value (1*DIGIT <= 2^63-1; zero only when allow_zero). 0 or -1. */
int imap_modseq_arg(const struct imap_arg *a, int allow_zero, uint64_t *v_r);
/* A CONDSTORE enabling command was issued (RFC 7162 3.1). */
void imap_condstore_enable(struct imap_session *s);
/* The unsolicited or STORE FETCH response of message i: FLAGS, plus UID
 * and MODSEQ when uid is set or CONDSTORE is on (RFC 7162 3.1.4). */
void imap_flags_fetch(struct imap_session *s, size_t i, int uid, int flags);
/* Appends uid to a [[lo,hi]...] array kept in ascending order. */
void imap_ranges_add(json_t *ranges, uint32_t uid);
/* "* VANISHED [(EARLIER) ]<set>" (RFC 7162 3.2.10); nothing when empty. */
void imap_vanished(struct imap_session *s, json_t *ranges, int earlier);
/* VANISHED (EARLIER) for the expunged UIDs in set with modseq > since
 * (RFC 7162 3.2.5, 3.2.6). 0, or -1 on a view error. */
int imap_vanished_since(struct imap_session *s, const struct imap_range *set, size_t nset,
			uint64_t since);
struct imap_select_opts {
	int condstore, qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_range *known;     /* known-uids, NULL: all */
	size_t nknown;
};
/* SELECT/EXAMINE parameters (RFC 7162 3.1.8, 3.2.5). 0, or -1 with *error_r (BAD). */
int imap_select_opts_parse(struct imap_session *s, const struct imap_arg *a, struct imap_select_opts *o,
			   const char **error_r);
void imap_select_opts_free(struct imap_select_opts *o);
/* After the SELECT responses: VANISHED (EARLIER) and FETCH of what changed
 * since the client's modseq (RFC 7162 3.2.5). */
void imap_qresync_select(struct imap_session *s, const struct imap_select_opts *o);
/* FETCH modifiers (CHANGEDSINCE, VANISHED). 0, or -1 with *error_r (BAD). */
int imap_fetch_modifiers(struct imap_session *s, const struct imap_command *cmd, const struct imap_arg *a,
			 uint64_t *since_r, int *vanished_r, const char **error_r);
/* UID FETCH (VANISHED): the VANISHED (EARLIER) response for a UID set. */
void imap_fetch_vanished(struct imap_session *s, const char *set, uint64_t since);
/* The MODSEQ of a SEARCH result (idx[n]; opts IMAP_RET_*; imin/imax: the
 * MIN and MAX messages' indexes) (RFC 7162 3.1.5). */
int64_t imap_result_modseq(struct imap_session *s, const size_t *idx, size_t n, unsigned opts, size_t imin,
			   size_t imax);
/* 1 when SEARCH/SORT criteria use MODSEQ; enables CONDSTORE then (RFC 7162 3.1.5). */
int imap_search_args_modseq(struct imap_session *s, const struct imap_arg *args, size_t n);

/* ---- imap_searchres.c: RFC 5182 SEARCHRES ---- */
/* A sequence set (uid: a UID set) that may be "$", the saved result, as
 * ranges like imap_seqset_parse's (malloc'ed; none for an empty "$").
 * 0, or -1 on a syntax error. */
int imap_set_resolve(struct imap_mbox *mb, const char *set, bool uid, struct imap_range **r_r, size_t *n_r);
/* Replaces the saved result by the UIDs of the messages idx[n]. */
void imap_searchres_save(struct imap_mbox *mb, const size_t *idx, size_t n);

/* ---- imap_esearch.c: RETURN options and ESEARCH (RFC 4731, 5182, 5267) ---- */
enum { IMAP_RET_MIN = 1, IMAP_RET_MAX = 2, IMAP_RET_COUNT = 4, IMAP_RET_ALL = 8,
       IMAP_RET_SAVE = 16, IMAP_RET_PARTIAL = 32, IMAP_RET_UPDATE = 64, IMAP_RET_CONTEXT = 128 };
struct imap_ret {
	unsigned opts;           /* IMAP_RET_*; 0 after "RETURN ()" means ALL */
	struct imap_partial partial;   /* PARTIAL range (RFC 9394 4) */
	bool modseq;             /* the criteria used MODSEQ: add "MODSEQ n" (RFC 7162 3.1.5) */
};
/* "RETURN (...)" at args[0]: 1 (two arguments used), 0 absent, -1 invalid
 * (*error_r for BAD). */
int imap_return_parse(const struct imap_arg *args, size_t n, struct imap_ret *ret, const char **error_r);
/* true for the charsets searched (UTF-8, US-ASCII). */
bool imap_charset_ok(const char *cs);
/* Indexes (ascending, malloc'ed) of the messages matching the criteria,
 * expunged ones left out. 0, or -1 with *error_r (BAD). */
int imap_search_run(struct imap_session *s, const struct imap_arg *args, size_t n, size_t **idx_r,
		    size_t *n_r, const char **error_r);
/* SAVE, then "* ESEARCH ..." unless SAVE is the only option, for the
 * result idx[n] in result order (sorted: SORT's order, else ascending). */
void imap_esearch_result(struct imap_session *s, const size_t *idx, size_t n, const struct imap_ret *ret,
			 bool sorted);

/* ---- imap_context.c: RFC 5267 4.3 UPDATE contexts ---- */
struct imap_uctx;
/* After SEARCH / SORT with RETURN (UPDATE): keeps the criteria (crit: the
 * SORT criteria list, NULL for SEARCH) and the result idx[n] in result
 * order (UIDs or sequence numbers, as the command used); sends "* NO
 * [NOUPDATE ..]" instead past the limit. */
void imap_context_add(struct imap_session *s, const struct imap_arg *crit, const struct imap_arg *keys,
		      size_t nkeys, const size_t *idx, size_t n);
/* true when tag names a live context (UPDATE with that tag is BAD). */
bool imap_context_tag_used(struct imap_mbox *mb, const char *tag);
/* Sends ADDTO / REMOVEFROM for every context whose result changed, over
 * the messages the client knows (called before EXPUNGE and after EXISTS). */
void imap_context_report(struct imap_session *s);
void imap_context_free_all(struct imap_mbox *mb);
imap_cmd_fn imap_cmd_cancelupdate;
/* imap_cmd_sort.c: sorts idx[n] by a SORT criteria list; -1 if invalid. */
int imap_sort_idx(struct imap_session *s, const struct imap_arg *crit, size_t *idx, size_t n);

/* ---- imap_casemap.c: RFC 5051 i;unicode-casemap ---- */
/* The casemapped form (titlecase, then NFKD) of UTF-8 text, malloc'ed;
 * invalid octets are kept as they are. Compare results octet by octet. */
char *imap_casemap(const char *s, size_t len);
/* 1 when the casemapped needle occurs in the casemapped text h[hl]. */
int imap_casemap_find(const char *h, size_t hl, const char *needle_mapped);

#endif
