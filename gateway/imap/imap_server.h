/* imap_server - IMAP listeners (imap.listen with STARTTLS, imaps.listen
 * with implicit TLS): accept connections through the connection layer (gateway/conn/conn.h), run one
 * imap_session per connection, stop them all on shutdown.
 *
 * For gateway/node.c (one call per configured listener):
 *
 *   if (cfg->imap_listen[0] != '\0' &&
 *       imap_server_start(node, cfg->imap_listen, 0, &imap, &error) < 0) -> fail
 *   if (cfg->imaps_listen[0] != '\0' && cfg->tls_cert[0] != '\0' &&
 *       imap_server_start(node, cfg->imaps_listen, 1, &imaps, &error) < 0) -> fail
 *   ... and in node_stop(), before the log and the view close:
 *   imap_server_stop(&imap); imap_server_stop(&imaps);
 *
 * It reads tls.cert/tls.key (STARTTLS offered when set; required for
 * implicit_tls), imap.allow_plaintext_auth, limits.imap_* and
 * limits.connections(_per_ip) from node->cfg. */
#ifndef EVM_IMAP_SERVER_H
#define EVM_IMAP_SERVER_H

#include "gateway/imap/imap_session.h"
#include "gateway/node.h"

struct imap_server;

/* Returns 0, or -1 with *error_r (bind failure, unreadable certificate,
 * implicit TLS without a certificate). */
int imap_server_start(struct node *node, const char *listen, int implicit_tls,
		      struct imap_server **s_r, const char **error_r);
/* Closes the listener and every session; NULL-safe, sets *s to NULL. */
void imap_server_stop(struct imap_server **s);
/* Open connections (tests, metrics). */
unsigned imap_server_sessions(const struct imap_server *s);
/* Drain (on 1): new connections get "* BYE [UNAVAILABLE]" and are closed,
 * open sessions once no command is in progress; on 0 undoes it. NULL-safe. */
void imap_server_set_draining(struct imap_server *s, int on);

#endif
