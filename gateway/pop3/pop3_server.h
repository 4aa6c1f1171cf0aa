/* pop3_server - POP3 listeners (pop3.listen with STLS, pop3s.listen with
 * implicit TLS): accept connections through the connection layer (gateway/conn/conn.h), run one pop3_session
 * per connection, stop them all on shutdown. Reads tls.cert/tls.key,
 * pop3.allow_plaintext_auth, limits.imap_preauth_timeout_s and
 * limits.connections(_per_ip) from node->cfg. */
#ifndef EVM_POP3_SERVER_H
#define EVM_POP3_SERVER_H

#include "gateway/pop3/pop3_session.h"
#include "gateway/node.h"

struct pop3_server;

/* Returns 0, or -1 with *error_r (bind failure, unreadable certificate,
 * implicit TLS without a certificate). */
int pop3_server_start(struct node *node, const char *listen, int implicit_tls,
		      struct pop3_server **s_r, const char **error_r);
/* Closes the listener and every session (nothing deleted); NULL-safe. */
void pop3_server_stop(struct pop3_server **s);
/* Open connections; 0 for NULL. */
unsigned pop3_server_sessions(const struct pop3_server *s);
/* Drain (on 1): new connections get "-ERR [SYS/TEMP]" and are closed,
 * open sessions once no command is in progress; 0 undoes it. NULL-safe. */
void pop3_server_set_draining(struct pop3_server *s, int on);

#endif
