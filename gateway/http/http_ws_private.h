/* http_ws_private - shared by http_ws.c (the session over wslay) and
 * http_ws_handshake.c (the opening handshake): a session is made before
 * the connection is handed over, then attached to it. */
#ifndef EVM_HTTP_WS_PRIVATE_H
#define EVM_HTTP_WS_PRIVATE_H

#include "gateway/http/http_ws.h"

/* A session not yet on a connection; protocol (may be NULL) is copied. */
struct http_ws *http_ws_alloc(const struct http_ws_settings *set, const struct http_ws_handler *h,
			      void *ctx, const char *protocol);
/* Puts it on c (timers, read timeout); the takeover callbacks run from now. */
void http_ws_attach(struct http_ws *ws, struct conn *c);
/* Frees a session that never got a connection. */
void http_ws_discard(struct http_ws **ws);

#endif
