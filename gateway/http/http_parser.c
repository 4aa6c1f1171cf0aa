/* http_parser - the state machine, line collection and the request line;
 * see http_parser.h (fields and framing: http_parser_fields.c). */
#include "gateway/http/http_parser_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void http_parser_settings_default(struct http_parser_settings *set_r)
{
	*set_r = (struct http_parser_settings){
		.max_request_line = 8192,
		.max_field_line = 8192,
		.max_fields = 100,
		.max_header_bytes = 65536,
		.max_body = 10 * 1024 * 1024,
		.max_chunk_line = 1024,
	};
}

struct http_parser *http_parser_new(const struct http_parser_settings *set)
{
	struct http_parser *p = xcalloc(1, sizeof *p);

	p->set = *set;
	p->st = HP_START;
	return p;
}

void http_parser_free(struct http_parser **pp)
{
	struct http_parser *p = *pp;

	if (p == NULL)
		return;
	http_head_free(&p->head);
	buf_free(&p->line);
	free(p);
	*pp = NULL;
}

enum http_parse_status http_parser_fail(struct http_parser *p, int status, const char *reason)
{
	p->st = HP_ERROR;
	p->status = status;
	p->reason = reason;
	return HTTP_PARSE_ERROR;
}

int http_parser_error(const struct http_parser *p, const char **reason_r)
{
	*reason_r = p->reason != NULL ? p->reason : "no error";
	return p->status;
}

const struct http_head *http_parser_head(const struct http_parser *p)
{
	return p->head;
}

struct http_head *http_parser_take_head(struct http_parser *p)
{
	struct http_head *h = p->head;

	p->head = NULL;
	return h;
}

int http_parser_started(const struct http_parser *p)
{
	return p->st != HP_START || p->line.len > 0;
}

void http_parser_next(struct http_parser *p)
{
	if (p->st != HP_DONE)
		return;
	http_head_free(&p->head);
	buf_truncate(&p->line, 0);
	p->st = HP_START;
	p->empty_lines = 0;
	p->section_bytes = 0;
	p->section_fields = 0;
	p->remaining = 0;
	p->body_total = 0;
}

/* Collects one line of at most limit bytes (CRLF not counted). 1: complete
 * in p->line (CRLF removed), 0: all of in consumed, -1: over limit. -2: the
 * line ends in a bare LF. *used_r: bytes taken from in. The verdict depends
 * only on the line, never on how the input was split. */
static int collect_line(struct http_parser *p, const unsigned char *in, size_t len, size_t limit,
			size_t *used_r)
{
	const unsigned char *lf = len > 0 ? memchr(in, '\n', len) : NULL;
	size_t take = lf != NULL ? (size_t)(lf - in) : len;

	*used_r = 0;
	if (len == 0)
		return 0;
	if (p->line.len + take > limit + 1)   /* + the CR */
		return -1;
	buf_append(&p->line, in, take);
	*used_r = take;
	if (lf == NULL)
		return 0;
	*used_r = take + 1;
	if (p->line.len == 0 || p->line.data[p->line.len - 1] != '\r')
		return -2;
	buf_truncate(&p->line, p->line.len - 1);
	return 1;
}

/* Where an origin path starts in an absolute-form target (RFC 9112
 * 3.2.2), or NULL when the target is not http(s)://authority[...]. */
static const char *absolute_path(const char *t)
{
	size_t skip = strncasecmp(t, "http://", 7) == 0 ? 7 : strncasecmp(t, "https://", 8) == 0 ? 8 : 0;

	if (skip == 0 || t[skip] == '\0' || t[skip] == '/' || t[skip] == '?')
		return NULL;
	return t + skip + strcspn(t + skip, "/?");
}

/* Splits the target into path and query (RFC 9112 3.2). 0 or -1. */
static int split_target(struct http_parser *p, struct http_head *h)
{
	const char *t = h->target, *path, *q;

	if (strcmp(t, "*") == 0) {          /* asterisk-form, RFC 9112 3.2.4 */
		if (strcmp(h->method, "OPTIONS") != 0)
			return http_parser_fail(p, 400, "'*' target outside OPTIONS"), -1;
		h->path = xstrdup("*");
		return 0;
	}
	if (t[0] == '/')
		path = t;
	else if ((path = absolute_path(t)) == NULL)
		return http_parser_fail(p, 400, "bad request-target"), -1;
	if (strchr(path, '#') != NULL)
		return http_parser_fail(p, 400, "fragment in request-target"), -1;
	q = strchr(path, '?');
	if (q == NULL) {
		h->path = xstrdup(path[0] == '\0' ? "/" : path);
	} else {
		h->path = q == path ? xstrdup("/") : xstrndup(path, (size_t)(q - path));
		h->query = xstrdup(q + 1);
	}
	return 0;
}

/* method SP request-target SP HTTP-version (RFC 9112 3). 0 or -1. */
static int request_line(struct http_parser *p, const char *line, size_t len)
{
	const char *sp1 = memchr(line, ' ', len), *sp2, *v;
	struct http_head *h;

	if (sp1 == NULL || (sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - line))) == NULL)
		return http_parser_fail(p, 400, "malformed request line"), -1;
	v = sp2 + 1;
	if (len - (size_t)(v - line) != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return http_parser_fail(p, 400, "malformed HTTP version"), -1;
	if (!http_is_token(line, (size_t)(sp1 - line)))
		return http_parser_fail(p, 400, "malformed method"), -1;
	if (sp2 == sp1 + 1)
		return http_parser_fail(p, 400, "empty request-target"), -1;
	for (const char *c = sp1 + 1; c < sp2; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			return http_parser_fail(p, 400, "bad character in request-target"), -1;
	if (v[5] != '1')                     /* RFC 9110 6.2 */
		return http_parser_fail(p, 505, "HTTP version not supported"), -1;
	if ((size_t)(sp1 - line) == 7 && memcmp(line, "CONNECT", 7) == 0)
		return http_parser_fail(p, 501, "CONNECT not supported"), -1;
	h = p->head = xcalloc(1, sizeof *h);
	h->method = xstrndup(line, (size_t)(sp1 - line));
	h->target = xstrndup(sp1 + 1, (size_t)(sp2 - sp1 - 1));
	h->minor = v[7] == '0' ? 0 : 1;
	return split_target(p, h);
}

/* The start and the header section, one line at a time. */
static enum http_parse_status head_line(struct http_parser *p, const unsigned char *in, size_t len,
					size_t *used_r)
{
	int start = p->st == HP_START;
	size_t limit = start ? p->set.max_request_line : p->set.max_field_line;
	int r = collect_line(p, in, len, limit, used_r);

	if (r == 0)
		return HTTP_PARSE_MORE;
	if (r == -1)
		return start ? http_parser_fail(p, 414, "request line too long")
			     : http_parser_fail(p, 431, "header field line too long");
	if (r == -2)
		return http_parser_fail(p, 400, "bare LF");
	if (memchr(p->line.data, '\r', p->line.len) != NULL)
		return http_parser_fail(p, 400, "bare CR");
	if (start && p->line.len == 0) {     /* RFC 9112 2.2 */
		buf_truncate(&p->line, 0);
		return ++p->empty_lines > HTTP_MAX_EMPTY_LINES ? http_parser_fail(p, 400, "empty lines")
							       : HTTP_PARSE_MORE;
	}
	if (!start) {
		p->section_bytes += p->line.len + 2;
		if (p->section_bytes > p->set.max_header_bytes)
			return http_parser_fail(p, 431, p->st == HP_TRAILER ? "trailer section too large"
									     : "header section too large");
	}
	return HTTP_PARSE_HEAD;              /* here: "a line is ready" */
}

/* Runs one step of the state machine on in. */
static enum http_parse_status step(struct http_parser *p, const unsigned char *in, size_t len,
				   size_t *used_r, const unsigned char **body_r, size_t *body_len_r)
{
	enum http_parse_status st;
	uint64_t size;
	int r = 0;

	*used_r = 0;
	switch (p->st) {
	case HP_START:
	case HP_FIELDS:
	case HP_TRAILER:
		st = head_line(p, in, len, used_r);
		if (st != HTTP_PARSE_HEAD)
			return st;
		if (p->st == HP_START) {
			r = request_line(p, p->line.data, p->line.len);
			p->st = HP_FIELDS;
		} else if (p->line.len == 0 && p->st == HP_FIELDS) {
			buf_truncate(&p->line, 0);
			return http_parser_head_done(p) < 0 ? HTTP_PARSE_ERROR : HTTP_PARSE_HEAD;
		} else if (p->line.len == 0) {
			p->st = HP_DONE;
			buf_truncate(&p->line, 0);
			return HTTP_PARSE_DONE;
		} else {
			r = p->st == HP_FIELDS ? http_parser_field(p, p->line.data, p->line.len)
					       : http_parser_trailer(p, p->line.data, p->line.len);
		}
		buf_truncate(&p->line, 0);
		return r < 0 ? HTTP_PARSE_ERROR : HTTP_PARSE_MORE;
	case HP_BODY:
	case HP_CHUNK_DATA:
		*used_r = p->remaining < len ? (size_t)p->remaining : len;
		*body_r = in;
		*body_len_r = *used_r;
		p->remaining -= *used_r;
		if (p->remaining == 0)
			p->st = p->st == HP_BODY ? HP_DONE : HP_CHUNK_CR;
		return *used_r > 0 ? HTTP_PARSE_BODY : HTTP_PARSE_MORE;
	case HP_CHUNK_CR:
	case HP_CHUNK_LF:
		if (len == 0)
			return HTTP_PARSE_MORE;
		*used_r = 1;
		if (in[0] != (p->st == HP_CHUNK_CR ? '\r' : '\n'))
			return http_parser_fail(p, 400, "chunk data not followed by CRLF");
		p->st = p->st == HP_CHUNK_CR ? HP_CHUNK_LF : HP_CHUNK_SIZE;
		return HTTP_PARSE_MORE;
	case HP_CHUNK_SIZE:
		r = collect_line(p, in, len, p->set.max_chunk_line, used_r);
		if (r == 0)
			return HTTP_PARSE_MORE;
		if (r == -1)
			return http_parser_fail(p, 400, "chunk size line too long");
		if (r == -2)
			return http_parser_fail(p, 400, "bare LF");
		r = http_parser_chunk_line(p, p->line.data, p->line.len, &size);
		buf_truncate(&p->line, 0);
		if (r < 0)
			return HTTP_PARSE_ERROR;
		p->remaining = size;
		p->body_total += size;
		p->section_bytes = 0;
		p->section_fields = 0;
		p->st = size == 0 ? HP_TRAILER : HP_CHUNK_DATA;
		return HTTP_PARSE_MORE;
	case HP_DONE:
		return HTTP_PARSE_DONE;
	case HP_ERROR:
		return HTTP_PARSE_ERROR;
	}
	return HTTP_PARSE_ERROR;
}

enum http_parse_status http_parser_feed(struct http_parser *p, const unsigned char *in, size_t len,
					size_t *consumed_r, const unsigned char **body_r,
					size_t *body_len_r)
{
	size_t off = 0, used;
	enum http_parse_status st;

	static const unsigned char none[1];

	*body_r = NULL;
	*body_len_r = 0;
	/* No input at all may come as NULL: never do arithmetic on it (C17
	 * 6.5.6: NULL + 0 is undefined; UBSan stops there). */
	if (in == NULL)
		in = none;
	for (;;) {
		st = step(p, in + off, len - off, &used, body_r, body_len_r);
		off += used;
		if (st != HTTP_PARSE_MORE || off == len)
			break;
	}
	*consumed_r = off;
	return st;
}
