/* http_response - writes HTTP/1.1 responses into an evbuffer (RFC 9112 4,
 * 6, 7.1): the status line, the fields a handler added, Date (RFC 9110
 * 6.6.1), the framing, and the body as given or in chunks.
 *
 * Framing (RFC 9112 6.1-6.3, RFC 9110 8.6): a known length is a
 * Content-Length; an unknown length (a streamed answer) is chunked for an
 * HTTP/1.1 request and delimited by closing the connection for HTTP/1.0
 * (which has no chunked coding). 1xx and 204 carry neither field and no
 * body; the answer to HEAD carries the fields GET would (RFC 9110 9.3.2)
 * but no body. "Connection: close" when the connection ends after this
 * answer, "Connection: keep-alive" to an HTTP/1.0 client when it does not.
 * A 101 gets "Connection: Upgrade" (the caller adds Upgrade, RFC 9110 7.8).
 * The status line always says HTTP/1.1 (RFC 9110 6.2). */
#ifndef EVM_HTTP_RESPONSE_H
#define EVM_HTTP_RESPONSE_H

#include <event2/buffer.h>
#include <stdint.h>

#include "common/buf.h"

struct http_response {
	int status;                /* 100..599 */
	struct buf fields;         /* "Name: value\r\n" lines */
};

/* What the request says about its answer. */
struct http_framing {
	int minor;                 /* the request's HTTP/1.<minor> */
	int head;                  /* the method was HEAD: no body */
	int close;                 /* the connection ends after this answer */
};

void http_response_init(struct http_response *r, int status);
/* Frees the fields (the struct itself is the caller's). */
void http_response_clear(struct http_response *r);
/* Adds a field. -1 with *error_r when name is not a token, value holds a
 * control character other than HTAB (header injection) or the field is
 * one the writer owns (Content-Length, Transfer-Encoding, Connection,
 * Date). */
int http_response_field(struct http_response *r, const char *name, const char *value,
			const char **error_r);
/* The standard reason phrase, "Unknown" for others. */
const char *http_status_reason(int status);
/* 1 when a response with this status has no body (1xx, 204, 304). */
int http_status_bodyless(int status);

/* Writes the status line and header section. length >= 0: the body's
 * length; length < 0: streamed. *chunked_r: the body must be written with
 * http_write_chunk / http_write_last_chunk. *close_r: the connection must
 * close after the body (f->close, or a streamed answer to HTTP/1.0). */
void http_response_write_head(struct evbuffer *out, const struct http_response *r,
			      const struct http_framing *f, int64_t length, int *chunked_r,
			      int *close_r);
/* One chunk (RFC 9112 7.1); len 0 writes nothing (that is the last chunk). */
void http_write_chunk(struct evbuffer *out, const void *data, size_t len);
/* The last chunk and an empty trailer section. */
void http_write_last_chunk(struct evbuffer *out);
/* The interim "100 Continue" (RFC 9110 15.2.1). */
void http_write_continue(struct evbuffer *out);
/* An IMF-fixdate (RFC 9110 5.6.7) of t into out (at least 30 bytes). */
void http_date(int64_t t, char *out, size_t size);

#endif
