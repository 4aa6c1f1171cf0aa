/* smtp_session_private - the session's state shared by smtp_session.c (I/O,
 * lifecycle), smtp_commands.c (one handler per verb), smtp_txn.c (the
 * mail transaction: parameters, recipients), smtp_message.c (Received:,
 * delivery), smtp_auth.c (AUTH) and smtp_submit.c (submission mode). */
#ifndef EVM_SMTP_SESSION_PRIVATE_H
#define EVM_SMTP_SESSION_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"
#include "gateway/conn/conn.h"
#include "gateway/smtp/smtp_data.h"
#include "gateway/smtp/smtp_parser.h"
#include "gateway/smtp/smtp_session.h"

#define SMTP_MAX_TARGETS 10000        /* unique accounts in one transaction */
#define SMTP_OUT_HIGH (256 * 1024)    /* stop reading above this much unsent output */
#define SMTP_IN_HIGH (256 * 1024)     /* read at most this much ahead */

enum smtp_state {
	SMTP_S_INIT,       /* no HELO/EHLO yet */
	SMTP_S_READY,      /* greeted, no transaction */
	SMTP_S_MAIL,       /* MAIL accepted (RCPTs, DATA, BDAT) */
	SMTP_S_DATA,       /* reading DATA content */
	SMTP_S_BDAT,       /* reading a BDAT chunk */
	SMTP_S_AUTH,       /* reading an AUTH response line (RFC 4954 4) */
	SMTP_S_WAIT,       /* delivery or password check in flight: input left unread */
	SMTP_S_CLOSING,    /* flushing the last reply */
};

struct smtp_rcpt {
	char *path;                   /* as given, for LMTP replies, DSN and "for" */
	size_t *targets;              /* indexes into txn.targets */
	size_t ntargets;
};

/* A recipient outside our domains (submission): for the outbound queue. */
struct smtp_remote {
	char *addr;
	char *orcpt;                  /* "" when none */
	char *notify;                 /* "" when none */
};

struct smtp_txn {
	char *mail_from;              /* NULL: no MAIL yet */
	int smtputf8;
	int body8bit;                 /* BODY=8BITMIME */
	int requiretls;               /* REQUIRETLS (RFC 8689 4), submission over TLS */
	struct smtp_remote *remote;   /* submission: recipients to queue */
	size_t nremote;
	uint64_t declared_size;
	json_t *dsn;                  /* NULL until a DSN parameter */
	struct smtp_rcpt *rcpts;
	size_t nrcpts;
	struct deliver_target *targets;
	size_t ntargets;
	struct forward_target *fwd;   /* inbound: remote addresses to forward to */
	size_t nfwd;
	int used_bdat;
	uint64_t bdat_octets;         /* chunk octets received so far */
	const char *bdat_error;       /* the transaction failed: reply to every chunk */
	struct buf msg;
	struct smtp_data data;
};

struct smtp_session {
	unsigned refs;
	struct event_base *base;
	struct conn *conn;            /* NULL once the connection is gone */
	struct smtp_session_settings set;
	struct smtp_backend backend;
	smtp_session_closed_cb *closed;
	void *closed_ctx;
	char peer_ip[64];
	char id[17];
	enum smtp_state state;
	int tls;
	int esmtp;                    /* EHLO/LHLO (1) or HELO (0) */
	char *helo;
	unsigned errors;
	unsigned messages;
	struct smtp_parser *parser;
	struct smtp_txn txn;
	uint64_t bdat_remaining;
	int bdat_last;
	const char *bdat_discard;     /* chunk refused: consume it, then this reply */
	char *account;                /* submission: the authenticated account, NULL before AUTH */
	char tenant[64];
	struct smtp_auth *auth;       /* an AUTH exchange in progress */
	struct smtp_submit *submit;   /* a submitted message's deliveries in flight */
	int draining;                 /* close with 421 once between transactions */
};

/* smtp_session.c */
void smtp_reply(struct smtp_session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A 4xx/5xx reply to a client mistake: counts toward limits.smtp_errors
 * and closes with 421 at the limit. */
void smtp_reply_error(struct smtp_session *s, const char *line);
void smtp_close_after_flush(struct smtp_session *s, const char *why);
void smtp_set_state(struct smtp_session *s, enum smtp_state st);
void smtp_starttls(struct smtp_session *s);
void smtp_session_ref(struct smtp_session *s);
void smtp_session_unref(struct smtp_session *s);
void smtp_run(struct smtp_session *s);
/* The connection layer's callbacks, limits and timeouts for SMTP/LMTP;
 * open is the caller's (smtp_server.c, smtp_session_start). */
void smtp_conn_protocol(const struct smtp_session_settings *set, struct conn_protocol *p);
/* A session on c (the layer's open callback): the greeting, or 421 when
 * draining. set and backend are copied. */
struct smtp_session *smtp_session_new(struct conn *c, const struct smtp_session_settings *set,
				      const struct smtp_backend *backend,
				      smtp_session_closed_cb *closed, void *closed_ctx);

/* smtp_commands.c */
void smtp_dispatch(struct smtp_session *s, const struct smtp_command *cmd);
void smtp_bdat_chunk_done(struct smtp_session *s);

/* smtp_txn.c */
void smtp_txn_reset(struct smtp_session *s);
/* MAIL parameters (RFC 1870, 6152, 6531, 3461 4.3/4.4); 0 or -1 after replying. */
int smtp_txn_mail(struct smtp_session *s, const struct smtp_command *cmd);
/* RCPT: parameters, resolution, the reply. */
void smtp_txn_rcpt(struct smtp_session *s, const struct smtp_command *cmd);
/* The content is complete (DATA end or BDAT LAST): checks, then delivery. */
void smtp_txn_data_end(struct smtp_session *s);
/* One reply per accepted RCPT in LMTP, one in SMTP. */
void smtp_reply_txn(struct smtp_session *s, const char *line);

/* smtp_message.c */
/* The Received: field for this message (RFC 5321 4.4, RFC 3848). */
char *smtp_received_field(const struct smtp_session *s, const char *msgid);

/* smtp_auth.c */
void smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *cmd);
/* One response line of the exchange (CRLF removed). */
void smtp_auth_line(struct smtp_session *s, const char *line, size_t len);
/* Frees an exchange in progress (session end). */
void smtp_auth_free(struct smtp_session *s);

/* smtp_submit.c */
/* MAIL in submission: AUTH done, sender allowed, rate; 0 or -1 after replying. */
int smtp_submit_mail(struct smtp_session *s);
/* A recipient resolved RCPT_NOT_LOCAL in submission: queued; the reply. */
void smtp_submit_remote_rcpt(struct smtp_session *s, const char *path, json_t *dsn);
/* The content is complete and passed the content checks: fix up, sign,
 * deliver locally and queue; replies when both are done. */
void smtp_submit_data_end(struct smtp_session *s, const char *msgid);

/* smtp_forward.c */
/* Inbound RCPT: the forward targets of path (kept in the transaction) and
 * in local (EVM_ADDRESS_MAX + 1) the address to resolve instead of path,
 * or ""; *nfwd_r how many were added. -1 after replying (refused). */
int smtp_forward_rcpt(struct smtp_session *s, const char *path, char *local, size_t *nfwd_r);
/* The content is complete and the transaction has forward targets:
 * deliver the local targets and queue the forwarded copies, one reply
 * when both are done. received is the Received: field (borrowed). */
/* data/len: the message to store and forward (with our
 * Authentication-Results when checked); junk: into Junk (DMARC
 * quarantine); auth_results/arc_cv: the check's verdict for the ARC seal
 * (NULL when none ran). */
void smtp_forward_data_end(struct smtp_session *s, const char *msgid, const char *received,
			   const char *data, size_t len, int junk, const char *auth_results,
			   const char *arc_cv);

#endif
