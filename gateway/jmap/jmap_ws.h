/* jmap_ws - JMAP over WebSocket (RFC 8887) at /jmap/ws/ on the node's
 * HTTP listeners: the "jmap" subprotocol on an http_ws session of an
 * account authenticated by the upgrade request (jmap_http.c).
 *
 * Messages are text, one JSON object each, told apart by "@type" (RFC
 * 8887 4.3):
 * - "Request" (with an optional "id"): run through the engine like a POST
 *   to the API endpoint; answered by a "Response" with "requestId" = id,
 *   or a "RequestError" (the problem details of RFC 8620 3.6.1, with
 *   "requestId" when known). Several requests may run at once (up to
 *   maxConcurrentRequests per socket, then a "limit" RequestError) and
 *   are answered as they finish, in any order (4.3.3).
 * - "WebSocketPushEnable" {dataTypes, pushState}: StateChange objects
 *   (RFC 8620 7.1) of those types for the account are pushed on the
 *   socket from this node's projector, each with a "pushState" that
 *   encodes every type's state; given a pushState, the changes since it
 *   are pushed at once (4.3.5.2). "WebSocketPushDisable" stops them.
 * - No "@type", another one, or not JSON: a RequestError (notRequest,
 *   notJSON). A binary message fails the connection with 1003 (4.3.1).
 *
 * Loop thread only. */
#ifndef EVM_JMAP_WS_H
#define EVM_JMAP_WS_H

#include "gateway/node.h"

#define JMAP_CAP_WEBSOCKET "urn:ietf:params:jmap:websocket"
#define JMAP_WS_PATH "/jmap/ws/"

struct jmap_api;
struct jmap_mail_req;
struct jmap_ws_server;
struct http_request;

/* The node's JMAP sockets, served with api (borrowed; outlives it). */
struct jmap_ws_server *jmap_ws_new(struct node *node, struct jmap_api *api);
/* Cancels every request in flight, stops every push and starts closing
 * every socket (1001); the sockets finish closing on their own. NULL-safe,
 * sets *srv to NULL. */
void jmap_ws_free(struct jmap_ws_server **srv);
unsigned jmap_ws_count(const struct jmap_ws_server *srv);

/* Upgrades an authenticated GET /jmap/ws/ of mreq's account (its
 * reference is taken); session_state is the Session's state for this
 * user, copied into every Response. A bad handshake is answered (426,
 * 400) and req finished either way. */
void jmap_ws_serve(struct jmap_ws_server *srv, struct http_request *req, struct jmap_mail_req *mreq,
		   const char *session_state);

#endif
