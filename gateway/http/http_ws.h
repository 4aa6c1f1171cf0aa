/* http_ws - a WebSocket server session (RFC 6455) on a connection of the
 * HTTP server, protocol-neutral (JMAP, DAV push, management could use it).
 *
 * http_ws_accept() checks the opening handshake of a request (RFC 6455
 * 4.2.1: GET, Upgrade: websocket, Connection: Upgrade, a
 * Sec-WebSocket-Key of 16 octets in base64, Sec-WebSocket-Version 13),
 * picks the subprotocol (4.2.2: the first the client offers that the
 * caller speaks), answers 101 with Sec-WebSocket-Accept (SHA-1 through
 * OpenSSL EVP) and takes the connection over (http_upgrade). A bad
 * handshake is answered instead: 426 with "Upgrade: websocket" when the
 * request did not ask for WebSocket, 426 with "Sec-WebSocket-Version: 13"
 * for another version (4.4), 400 for a bad key or no acceptable
 * subprotocol.
 *
 * Framing is wslay's (its event API): masking, fragmentation, control
 * frames, UTF-8 of text messages (1007), unmasked client frames (1002),
 * reserved bits and opcodes (1002), the close handshake. A text or binary
 * message reaches message() whole; one longer than max_message is refused
 * with close 1009 before it is buffered. Pings are answered with pongs;
 * with ping_interval_s the server pings too, so that an idle client keeps
 * answering within idle_timeout_s (the connection's read timeout).
 *
 * Backpressure: while more than out_high octets wait to be sent (wslay's
 * queue plus the connection's output), no more input is read, so a client
 * that sends requests without reading the answers stops being served
 * until it reads; output_space() says when the output went down again.
 *
 * Closing: http_ws_close() starts the close handshake (7.1.2); the
 * connection ends once the client's Close came back, or after
 * HTTP_WS_CLOSE_WAIT_S. A Close from the client is echoed and the server
 * closes the TCP connection (7.1.1). A drain of the server closes with
 * 1001 (Going Away).
 *
 * Threads: the loop thread of the HTTP server. Callbacks never run inside
 * the http_ws_* call that caused them. closed() runs exactly once, after
 * which ws is freed: the caller drops its pointer there. */
#ifndef EVM_HTTP_WS_H
#define EVM_HTTP_WS_H

#include <stddef.h>

#include "gateway/conn/conn.h"
#include "gateway/http/http_server.h"

#define HTTP_WS_CLOSE_WAIT_S 5
/* Sec-WebSocket-Accept: base64 of a SHA-1, plus the NUL. */
#define HTTP_WS_ACCEPT_SIZE 29

/* Status codes of a Close frame (RFC 6455 7.4.1). */
#define HTTP_WS_NORMAL 1000
#define HTTP_WS_GOING_AWAY 1001
#define HTTP_WS_PROTOCOL_ERROR 1002
#define HTTP_WS_UNSUPPORTED_DATA 1003
#define HTTP_WS_ABNORMAL 1006      /* never sent: the connection ended without a Close */
#define HTTP_WS_INVALID_DATA 1007
#define HTTP_WS_POLICY 1008
#define HTTP_WS_TOO_BIG 1009
#define HTTP_WS_INTERNAL_ERROR 1011

struct http_ws;

struct http_ws_settings {
	/* Subprotocols spoken, preferred first, NULL-terminated. Set: the
	 * client must offer one of them (else 400). NULL: none is chosen and
	 * the client's offer is ignored. Borrowed during http_ws_accept. */
	const char *const *protocols;
	size_t max_message;          /* octets of one message (0: 1 MiB); over: close 1009 */
	size_t out_high;             /* stop reading above this much unsent output (0: 1 MiB) */
	unsigned ping_interval_s;    /* the server pings this often (0: never) */
	unsigned idle_timeout_s;     /* nothing read for this long: close (0: the HTTP idle timeout) */
};

struct http_ws_handler {
	/* A whole message: text (valid UTF-8) or binary. data is valid during
	 * the call only. */
	void (*message)(void *ctx, struct http_ws *ws, int binary, const unsigned char *data, size_t len);
	/* Optional: the unsent output went down to out_high / 2. */
	void (*output_space)(void *ctx, struct http_ws *ws);
	/* The session ended: code is the Close status received (or sent, or
	 * 1006 without a Close); why is for logs. ws is freed after this. */
	void (*closed)(void *ctx, struct http_ws *ws, unsigned code, const char *why);
};

/* Completes the handshake of req (see above) and returns the session, or
 * answers the error (or finds the connection gone) and returns NULL;
 * either way req is finished. set and h are copied. */
struct http_ws *http_ws_accept(struct http_request *req, const struct http_ws_settings *set,
			       const struct http_ws_handler *h, void *ctx);

/* A session on a connection already switched to WebSocket by other means
 * (tests, fuzzing): the caller's conn protocol forwards its callbacks to
 * http_ws_takeover with the returned session as ctx. */
struct http_ws *http_ws_new(struct conn *c, const struct http_ws_settings *set,
			    const struct http_ws_handler *h, void *ctx);
extern const struct http_takeover http_ws_takeover;

/* Sec-WebSocket-Accept of a Sec-WebSocket-Key (RFC 6455 4.2.2 item 5.4):
 * 0, or -1 with *error_r when key is not base64 of 16 octets. */
int http_ws_accept_key(const char *key, char out[HTTP_WS_ACCEPT_SIZE], const char **error_r);

/* The connection (for its id, peer and socket), NULL once closed. */
struct conn *http_ws_conn(const struct http_ws *ws);
/* The subprotocol chosen, or NULL. */
const char *http_ws_protocol(const struct http_ws *ws);
/* Queues a text (UTF-8) or binary message: 0, or -1 when the session is
 * closing or closed (the message is dropped). */
int http_ws_send_text(struct http_ws *ws, const void *data, size_t len);
int http_ws_send_binary(struct http_ws *ws, const void *data, size_t len);
/* A Ping (len <= 125): 0 or -1 like the sends. */
int http_ws_ping(struct http_ws *ws, const void *data, size_t len);
/* Starts the close handshake with code and a short reason (at most 123
 * octets, cut there). Nothing is sent after it. */
void http_ws_close(struct http_ws *ws, unsigned code, const char *reason);
/* Octets queued but not yet handed to the kernel. */
size_t http_ws_pending(const struct http_ws *ws);
/* 1 while the unsent output is over out_high (a producer should wait
 * for output_space). */
int http_ws_congested(const struct http_ws *ws);

#endif
