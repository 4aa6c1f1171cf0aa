/* jmap_http - JMAP on the node's HTTP listeners (RFC 8620 2, 3.1, 7.3):
 * the Session resource at /.well-known/jmap, the API endpoint
 * /jmap/api/, the EventSource push stream /jmap/eventsource/, and JMAP
 * over WebSocket at /jmap/ws/ (RFC 8887, jmap_ws.h). Every
 * request is authenticated with HTTP Basic against the directory (the
 * same check as IMAP LOGIN); without valid credentials: 401.
 *
 * URLs in the Session are absolute, built from the request's scheme and
 * Host (checked: a Host with anything but host characters gives
 * relative-looking "localhost" URLs rather than echoing it); the
 * websocket capability's url is ws:// or wss:// on the same host. */
#ifndef EVM_JMAP_HTTP_H
#define EVM_JMAP_HTTP_H

#include "gateway/node.h"

/* Creates the node's JMAP engine and registers the routes on node->http
 * and node->https (whichever exist). 0, or -1 with *error_r. */
int jmap_http_start(struct node *node, const char **error_r);
void jmap_http_stop(struct node *node);

#endif
