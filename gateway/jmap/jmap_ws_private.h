/* jmap_ws_private - shared by jmap_ws.c (sockets, requests) and
 * jmap_ws_push.c (WebSocketPushEnable/Disable, StateChange). */
#ifndef EVM_JMAP_WS_PRIVATE_H
#define EVM_JMAP_WS_PRIVATE_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_session.h"
#include "gateway/jmap/jmap_ws.h"

struct http_ws;
struct projector_sub;

/* Pings keep NATs and proxies from dropping an idle push socket; a client
 * that answers nothing for JMAP_WS_IDLE_S is gone. */
#define JMAP_WS_PING_S 30
#define JMAP_WS_IDLE_S 100

struct ws_request;

/* One socket. */
struct ws_conn {
	struct ws_conn *prev, *next;
	struct jmap_ws_server *owner;      /* NULL once the server is gone */
	struct http_ws *ws;                /* NULL once closed */
	struct jmap_mail_req *mreq;
	char session_state[JMAP_SESSION_STATE_SIZE];
	struct ws_request *requests;       /* in flight */
	unsigned nrequests;
	struct projector_sub *sub;         /* push enabled */
	struct jmap_shared_push *shared;   /* the accounts shared with the user, while pushing */
	unsigned push_types;
	int push_pending;                  /* a change came while the output was congested */
	int64_t last[MAIL_J_TYPES];        /* states last pushed */
};

/* One Request being run. */
struct ws_request {
	struct ws_request *prev, *next;
	struct ws_conn *wc;
	struct jmap_run *run;
	char *id;                          /* the Request's "id", or NULL */
};

struct jmap_ws_server {
	struct node *node;
	struct jmap_api *api;
	struct ws_conn *conns;
	unsigned count;
};

/* Sends obj as one text message (nothing once closing). */
void jmap_ws_send_json(struct ws_conn *wc, json_t *obj);
/* A RequestError (RFC 8887 4.3.4) of a new problem; id may be NULL. */
void jmap_ws_request_error(struct ws_conn *wc, const char *id, const char *type, const char *limit,
			   const char *detail);

/* RFC 8887 4.3.5.2: WebSocketPushEnable {dataTypes, pushState}. */
void jmap_ws_push_enable(struct ws_conn *wc, json_t *msg, const char *id);
/* RFC 8887 4.3.5.3: WebSocketPushDisable (also when the socket ends). */
void jmap_ws_push_disable(struct ws_conn *wc);
/* Pushes what moved, or waits for the output to drain (congested). */
void jmap_ws_push_now(struct ws_conn *wc);

#endif
