/* smtp_server_private - struct smtp_server, shared by smtp_server.c and
 * smtp_node.c. */
#ifndef EVM_SMTP_SERVER_PRIVATE_H
#define EVM_SMTP_SERVER_PRIVATE_H

#include "gateway/conn/conn.h"
#include "gateway/smtp/smtp_server.h"

struct smtp_server {
	struct event_base *base;
	struct smtp_server_settings set;
	char *hostname;
	struct net_tls *owned_tls;      /* loaded by smtp_server_start */
	void (*on_stop)(void);          /* run by smtp_server_stop (smtp_node.c's limiter) */
	char *reject_line;              /* over a limit: 421 with the hostname */
	struct conn_server *conns;      /* the listener and its connections */
};

#endif
