/* http_parser - a push parser for HTTP/1.1 requests (RFC 9112), shared by
 * every protocol served over HTTP (JMAP, DAV, management).
 *
 * The caller feeds bytes as they arrive. One request at a time: the parser
 * reports the head (request line and header section) once, then the body in
 * pieces that point into the caller's input (no copy), then DONE, and stops
 * there: bytes after the request are not consumed, so a pipelined request
 * stays with the caller until http_parser_next(). It never reads a socket.
 *
 * Syntax (strict, because two parsers disagreeing on framing is request
 * smuggling):
 * - lines end in CRLF; a bare CR or a bare LF is a 400 (RFC 9112 2.2 lets a
 *   recipient be this strict); up to 4 empty lines before a request line are
 *   ignored (RFC 9112 2.2);
 * - request-line = method SP request-target SP HTTP-version (RFC 9112 3),
 *   single spaces; the method a token; the target origin-form ("/p?q"),
 *   absolute-form ("http://h/p?q", RFC 9112 3.2.2) or "*" for OPTIONS;
 *   CONNECT (authority-form) is 501; HTTP/1.0 and 1.1 (a higher 1.x is read
 *   as 1.1, RFC 9110 6.2), another major 505;
 * - field-name a token immediately followed by ":" (whitespace before the
 *   colon is a 400, RFC 9112 5.1); the value is VCHAR / obs-text / SP /
 *   HTAB with surrounding whitespace removed (RFC 9110 5.5); obs-fold (a
 *   line starting with SP or HTAB) is a 400 (RFC 9112 5.2);
 * - an HTTP/1.1 request needs exactly one Host (RFC 9112 3.2: 400).
 *
 * Framing (RFC 9112 6.3): Transfer-Encoding "chunked" (exactly once, last)
 * is a chunked body; any other coding 501 (RFC 9112 6.1); Transfer-Encoding
 * in an HTTP/1.0 request, Transfer-Encoding together with Content-Length, a
 * Content-Length that is not 1*DIGIT, overflows, is a list or appears twice:
 * 400. Neither: no body. Chunks (RFC 9112 7.1): hex size, extensions
 * (";name[=token|quoted-string]") checked and ignored, data and CRLF, the
 * last chunk, trailer fields checked like header fields (same limits) and
 * discarded (RFC 9110 6.5.1).
 *
 * Limits (struct http_parser_settings): request line 414, a field line, the
 * number of fields or the whole header section 431, body 413 (at the head
 * for a Content-Length, as soon as a chunk goes past it otherwise), a chunk
 * size line 400. Every error is final: the parser stays in the error state
 * and the connection must be closed after the answer, since the framing of
 * what follows is unknown.
 *
 * Expect (RFC 9110 10.1.1): "100-continue" sets expect_continue (ignored in
 * HTTP/1.0); any other expectation is 417. Connection (RFC 9112 9.3):
 * HTTP/1.1 keeps alive unless "close"; HTTP/1.0 only with "keep-alive". */
#ifndef EVM_HTTP_PARSER_H
#define EVM_HTTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

struct http_parser_settings {
	size_t max_request_line;   /* bytes without CRLF: 414 past it */
	size_t max_field_line;     /* one header or trailer field line: 431 */
	unsigned max_fields;       /* header fields (and trailer fields): 431 */
	size_t max_header_bytes;   /* whole header (or trailer) section: 431 */
	uint64_t max_body;         /* decoded body: 413 */
	size_t max_chunk_line;     /* chunk size with extensions: 400 past it */
};

/* 8 KiB lines, 100 fields, 64 KiB of header, 10 MiB of body, 1 KiB chunk
 * lines. */
void http_parser_settings_default(struct http_parser_settings *set_r);

struct http_field {
	char *name;                /* as sent; compare with strcasecmp */
	char *value;               /* whitespace around it removed */
};

/* The request head, owned by whoever holds it (http_parser_take_head). */
struct http_head {
	char *method;              /* case-sensitive token (RFC 9110 9.1) */
	char *target;              /* the request-target as sent */
	char *path;                /* origin path, not decoded ("*" for OPTIONS *) */
	char *query;               /* after "?", not decoded; NULL without "?" */
	int minor;                 /* HTTP/1.<minor>: 0 or 1 */
	struct http_field *fields;
	size_t nfields;
	int keep_alive;            /* the connection may serve another request */
	int expect_continue;       /* Expect: 100-continue (HTTP/1.1) */
	int chunked;               /* body framing: chunked */
	uint64_t content_length;   /* body framing: Content-Length (0 when chunked) */
	char *upgrade;             /* Upgrade value when Connection lists "upgrade", else NULL */
};

enum http_parse_status {
	HTTP_PARSE_MORE,           /* all input consumed, nothing complete */
	HTTP_PARSE_HEAD,           /* the head is complete: http_parser_head() */
	HTTP_PARSE_BODY,           /* *body_r, *body_len_r: the next piece of body */
	HTTP_PARSE_DONE,           /* the request is complete; nothing is consumed
				    * any more until http_parser_next() */
	HTTP_PARSE_ERROR,          /* http_parser_error(); final */
};

struct http_parser;

/* set is copied. */
struct http_parser *http_parser_new(const struct http_parser_settings *set);
void http_parser_free(struct http_parser **p);
/* Consumes bytes of in (*consumed_r of len) up to the next thing to report.
 * HTTP_PARSE_BODY points into in. MORE consumes everything; HEAD and BODY
 * at least one byte; DONE up to the end of the request (the end of a
 * trailer section) and then nothing until http_parser_next(); after ERROR
 * nothing counts any more. */
enum http_parse_status http_parser_feed(struct http_parser *p, const unsigned char *in, size_t len,
					size_t *consumed_r, const unsigned char **body_r,
					size_t *body_len_r);
/* The head after HTTP_PARSE_HEAD, until http_parser_next() (or taken). */
const struct http_head *http_parser_head(const struct http_parser *p);
/* Hands the head to the caller (free it with http_head_free); NULL if none. */
struct http_head *http_parser_take_head(struct http_parser *p);
/* 1 once any byte of a request (beyond empty lines) was consumed and
 * until http_parser_next(): a request has begun (a timeout is a 408). */
int http_parser_started(const struct http_parser *p);
/* After DONE: ready for the next request on the connection. */
void http_parser_next(struct http_parser *p);
/* After ERROR: the status to answer (400, 413, 414, 417, 431, 501, 505) and
 * *reason_r, a static text for logs and the error body. */
int http_parser_error(const struct http_parser *p, const char **reason_r);

/* The first value of field name (case-insensitive) or NULL. */
const char *http_head_field(const struct http_head *h, const char *name);
void http_head_free(struct http_head **h);

/* 1 when s (len bytes) is a token (RFC 9110 5.6.2), else 0. */
int http_is_token(const char *s, size_t len);

#endif
