/* http_node - the node's HTTP listeners: http.listen (plain) and
 * https.listen (implicit TLS, only with tls.cert), with the limits of the
 * limits.http_* keys, and the node's own routes on them: GET/HEAD /healthz
 * (as on mgmt.listen). Other modules (JMAP, DAV) register their routes on
 * node->http and node->https after http_node_start. Loop thread only. */
#ifndef EVM_HTTP_NODE_H
#define EVM_HTTP_NODE_H

#include "gateway/node.h"

/* Binds the configured listeners (gateway role, before the privilege
 * switch: the view is not open yet). 0, or -1 with *error_r. */
int http_node_start(struct node *node, const char **error_r);
/* The view is open: Basic authentication can look accounts up. */
void http_node_view_ready(struct node *node);
void http_node_stop(struct node *node);
void http_node_set_draining(struct node *node, int on);
/* Open HTTP connections on both listeners. */
unsigned http_node_sessions(const struct node *node);

#endif
