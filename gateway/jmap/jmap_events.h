/* jmap_events - JMAP push over EventSource (RFC 8620 7.3) on the node's
 * HTTP server: the live streams of this node. Loop thread only. */
#ifndef EVM_JMAP_EVENTS_H
#define EVM_JMAP_EVENTS_H

#include "gateway/node.h"

struct jmap_events;
struct http_request;
struct jmap_mail_req;

struct jmap_events *jmap_events_new(struct node *node);
/* Ends every stream (the answers end cleanly) and frees. */
void jmap_events_free(struct jmap_events **ev);
unsigned jmap_events_count(const struct jmap_events *ev);

/* Serves GET /jmap/eventsource/?types=&closeafter=&ping= for an
 * authenticated account (mreq: its reference is taken). Without
 * closeafter=state the current states are sent at once, then every change
 * of an asked type; with it, the first change ends the answer. A bad
 * parameter: 400. */
void jmap_events_serve(struct jmap_events *ev, struct http_request *req, struct jmap_mail_req *mreq);

#endif
