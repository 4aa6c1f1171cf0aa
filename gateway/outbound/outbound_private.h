/* outbound_private - the internals shared by the outbound_*.c files.
 *
 * An ob_send is one outbound_send() call: it waits for a slot (FIFO), asks
 * the resolver, then walks the route's hosts and addresses. An ob_conn is
 * one SMTP connection: it works for at most one send at a time and sits in
 * the pool (idle) between sends. Freeing is deferred to ob->tick so no
 * callback ever runs on freed memory: a dead conn is unlinked at once and
 * freed later; a finished send's callback runs from the tick. */
#ifndef EVM_OUTBOUND_PRIVATE_H
#define EVM_OUTBOUND_PRIVATE_H

#include "common/buf.h"
#include "gateway/outbound/outbound.h"
#include "gateway/outbound/smtp_reply.h"

#include <event2/bufferevent.h>
#include <openssl/ssl.h>
#include <sys/queue.h>

#define OB_IDLE_S 5                  /* an idle connection is closed after this */
#define OB_QUIT_S 5                  /* wait for the 221 at most this long */
#define OB_BODY_CHUNK 65536          /* message bytes queued per write */
#define OB_ERR_MAX 513

enum ob_send_state { SEND_WAITING, SEND_RESOLVING, SEND_ACTIVE, SEND_DONE, SEND_ORPHAN };

struct ob_conn;

struct ob_send {
	TAILQ_ENTRY(ob_send) link;           /* in ob->waiting, ob->active or ob->done */
	struct outbound *ob;
	enum ob_send_state state;
	struct outbound_msg msg;             /* deep copy */
	struct outbound_rcpt *rcpts;
	char *strings;                       /* storage of the copied strings */
	struct outbound_result *results;
	unsigned char *final;                /* per recipient: result is final */
	outbound_done_cb *cb;
	void *cb_ctx;
	char domain[ROUTE_NAME_MAX + 1];     /* lower case: the per-domain limit's key */
	struct route *route;
	unsigned host_i, addr_i;
	struct ob_conn *conn;                /* working for this send, or NULL */
	char temp_error[OB_ERR_MAX];         /* the last trouble with a host */
	char temp_enhanced[12];
	char perm_error[OB_ERR_MAX];         /* the last policy refusal of a host */
	char perm_enhanced[12];
	char error[OB_ERR_MAX];              /* for the callback's error argument */
};

enum ob_conn_state {
	CONN_CONNECTING, CONN_GREETING, CONN_EHLO, CONN_HELO, CONN_STARTTLS, CONN_HANDSHAKE,
	CONN_AUTH, CONN_AUTH_USER, CONN_AUTH_PASS, CONN_READY, CONN_RSET, CONN_TXN, CONN_IDLE,
	CONN_QUIT,
};

/* What a reply in the transaction answers, in order (RFC 2920 3.1). */
enum ob_expect { EXP_MAIL, EXP_RCPT, EXP_DATA, EXP_DOT, EXP_BDAT, EXP_IGNORE };

struct ob_conn {
	TAILQ_ENTRY(ob_conn) link;           /* in ob->conns */
	struct outbound *ob;
	struct ob_send *send;                /* NULL when idle */
	struct bufferevent *bev;
	struct event *timer;
	struct smtp_reply_parser *parser;
	enum ob_conn_state state;
	struct route_host host;
	char addr[48];
	char remote[300];                    /* "name [addr]" */
	char key[ROUTE_NAME_MAX + 40];       /* pool key: name, port, TLS mode, auth */
	const char *last_cmd;                /* for reports: "after RCPT TO" (never NULL) */
	char pending[160];                   /* a connect error waiting for the timer */
	struct smtp_ext ext;
	int tls;                             /* TLS is up */
	int dead;
	unsigned messages;
	/* the transaction */
	enum ob_expect *expect;
	size_t *expect_rcpt;                 /* recipient index for EXP_RCPT */
	size_t nexpect, expect_head, expect_cap;
	size_t rcpt_next;                    /* next RCPT to send without pipelining */
	size_t accepted;
	unsigned char *rcpt_ok;              /* per recipient: RCPT accepted here */
	int mail_refused;
	size_t body_off;                     /* DATA: bytes of msg.data queued so far */
	int body_bol;                        /* DATA: at the beginning of a line */
	int body_pumping;                    /* the message is being written */
	int body_raw;                        /* BDAT: no dot-stuffing, no final dot */
};

struct outbound {
	struct event_base *base;
	const struct evm_config *cfg;
	struct outbound_resolver resolver;
	SSL_CTX *ssl_ctx;
	char helo[256];
	char *relay_password;                /* NULL when none */
	struct event *tick;
	TAILQ_HEAD(, ob_send) waiting, active, done;
	TAILQ_HEAD(, ob_conn) conns, dead;
	size_t nconns, nwaiting;
};

/* outbound.c */
void ob_kick(struct outbound *ob);
/* Sends in state SEND_RESOLVING or SEND_ACTIVE for this domain. */
size_t ob_domain_active(const struct outbound *ob, const char *domain);

/* outbound_send.c */
void ob_send_start(struct ob_send *s);
/* Every open recipient gets status/reply; the send then completes. */
void ob_send_finish_open(struct ob_send *s, enum outbound_status st, const char *reply, const char *enhanced);
void ob_send_complete(struct ob_send *s);
/* The resolver answered a send whose outbound is gone. */
void ob_send_free_orphan(struct ob_send *s);
/* A connection is ready (greeting, TLS, AUTH done): run the transaction. */
void ob_send_conn_ready(struct ob_send *s, struct ob_conn *c);
/* The host failed; perm = policy refusal (5.x.x) rather than trouble. */
void ob_send_host_failed(struct ob_send *s, const char *why, const char *enhanced, int perm);
/* A reused connection failed RSET: open a fresh one to the same host. */
void ob_send_reuse_failed(struct ob_send *s);
/* Records one recipient's final result. */
void ob_send_result(struct ob_send *s, size_t i, enum outbound_status st, const struct smtp_reply *r,
		    const char *reply, const char *enhanced);

/* outbound_conn.c */
struct ob_conn *ob_conn_open(struct outbound *ob, struct ob_send *s, const struct route_host *h,
			     const char *addr);
void ob_conn_set_bev(struct ob_conn *c, struct bufferevent *bev);
void ob_conn_on_timer(evutil_socket_t fd, short what, void *ctx);
void ob_conn_write(struct ob_conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ob_conn_arm(struct ob_conn *c, int seconds);
/* Closes now (no QUIT); the struct is freed from the tick. */
void ob_conn_kill(struct ob_conn *c);
/* The send is done with c: keep it idle in the pool or QUIT. */
void ob_conn_release(struct ob_conn *c, int reusable);
/* An idle connection for this host (pool key), or NULL. */
struct ob_conn *ob_conn_find_idle(struct outbound *ob, const struct route_host *h);
/* Takes an idle connection for s: RSET first (RFC 5321 4.1.1.5). */
void ob_conn_reuse(struct ob_conn *c, struct ob_send *s);
/* c failed: report to its send (if any) and kill it. */
void ob_conn_fail(struct ob_conn *c, const char *enhanced, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Closes every connection of ob with a best-effort QUIT. */
void ob_conn_close_all(struct outbound *ob);

/* outbound_dialog.c: greeting, EHLO/HELO, STARTTLS, AUTH */
void ob_dialog_connected(struct ob_conn *c);
void ob_dialog_reply(struct ob_conn *c, const struct smtp_reply *r);
void ob_dialog_tls_done(struct ob_conn *c);

/* outbound_txn.c: MAIL, RCPT, DATA/BDAT */
void ob_txn_start(struct ob_conn *c);
void ob_txn_reply(struct ob_conn *c, const struct smtp_reply *r);
void ob_txn_body_more(struct ob_conn *c);
/* For reports: "after RCPT TO" = what the awaited reply answers. */
const char *ob_conn_phase(const struct ob_conn *c);

/* outbound_params.c */
/* Appends the MAIL FROM line (no CRLF) for msg over a server offering ext. */
void ob_mail_line(struct buf *out, const struct outbound_msg *msg, const struct smtp_ext *ext);
/* Appends the RCPT TO line (no CRLF); *dsn_r = NOTIFY/ORCPT were sent. */
void ob_rcpt_line(struct buf *out, const struct outbound_rcpt *r, const struct smtp_ext *ext, int *dsn_r);
/* An address we may put between <> (no controls, spaces or brackets). */
int ob_addr_ok(const char *addr);
/* RFC 3461 4: value as xtext; a valid "+HH" stays as it is. */
void ob_xtext(struct buf *out, const char *value);

/* outbound_tls.c */
int ob_tls_ctx_create(const struct evm_config *cfg, SSL_CTX **ctx_r, const char **error_r);
/* A client SSL for host h (SNI, name checks, DANE records), or NULL. */
SSL *ob_tls_new(SSL_CTX *ctx, const struct route_host *h, char *err, size_t errsize);
/* After the handshake: 0 when the peer meets h->tls, else -1 and why. */
int ob_tls_check(SSL *ssl, const struct route_host *h, char *err, size_t errsize);
const char *ob_tls_mode_name(enum route_tls t);

#endif
