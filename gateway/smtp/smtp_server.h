/* smtp_server - SMTP and LMTP listeners: accept connections through the
 * connection layer (gateway/conn/conn.h), run one smtp_session per
 * connection, stop them all on shutdown.
 *
 * For gateway/node.c (one call per configured listener):
 *
 *   if (cfg->smtp_listen[0] != '\0' &&
 *       smtp_server_start(node, 0, cfg->smtp_listen, &smtp, &error) < 0) -> fail
 *   if (cfg->lmtp_listen[0] != '\0' &&
 *       smtp_server_start(node, 1, cfg->lmtp_listen, &lmtp, &error) < 0) -> fail
 *   ... and in node_stop(), before the log and the view close:
 *   smtp_server_stop(&smtp); smtp_server_stop(&lmtp);
 *
 * smtp_server_start reads the node's limits, hostname (smtp.hostname, else
 * node.id) and tls.cert/tls.key (STARTTLS offered when set) and delivers
 * with deliver_resolve()/deliver_message() on node->view. */
#ifndef EVM_SMTP_SERVER_H
#define EVM_SMTP_SERVER_H

#include "gateway/node.h"
#include "gateway/smtp/smtp_session.h"

struct smtp_server;

/* lmtp: 1 for RFC 2033 LMTP. Returns 0, or -1 with *error_r (bind failure,
 * unreadable certificate). */
int smtp_server_start(struct node *node, int lmtp, const char *listen, struct smtp_server **s_r,
		      const char **error_r);
/* A message submission listener (RFC 6409; implicit_tls: RFC 8314
 * "submissions", needs tls.cert): AUTH against the directory, sender
 * checks, submission.allow_plaintext_auth, limits.submission_per_hour (one
 * window for all of the node's submission listeners), dkim.sign, and the
 * outbound queue for remote recipients. */
int smtp_submission_start(struct node *node, const char *listen, int implicit_tls,
			  struct smtp_server **s_r, const char **error_r);
/* Closes the listener and every session; NULL-safe, sets *s to NULL. */
void smtp_server_stop(struct smtp_server **s);

/* The same without a node, for tests and tools: everything explicit. */
struct smtp_server_settings {
	const char *listen;
	struct smtp_session_settings session;   /* hostname copied; tls borrowed */
	int implicit_tls;                       /* SMTPS-style listener */
	unsigned max_connections;
	unsigned max_per_ip;
	struct smtp_backend backend;
};
int smtp_server_create(struct event_base *base, const struct smtp_server_settings *set,
		       struct smtp_server **s_r, const char **error_r);
/* Number of open connections (tests, metrics). */
unsigned smtp_server_sessions(const struct smtp_server *s);
/* Drain (on 1): new connections get 421 4.3.2 and are closed, open
 * sessions close once between transactions; on 0 undoes it. NULL-safe. */
void smtp_server_set_draining(struct smtp_server *s, int on);

#endif
