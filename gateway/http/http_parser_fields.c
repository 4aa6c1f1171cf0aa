/* http_parser_fields - field lines, the framing decided from them, and
 * chunk size lines; see http_parser.h. */
#include "gateway/http/http_parser_private.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* tchar (RFC 9110 5.6.2). */
static int is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

int http_is_token(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!is_tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

/* field-vchar / SP / HTAB (RFC 9110 5.5). */
static int is_value_char(unsigned char c)
{
	return c == ' ' || c == '\t' || (c >= 0x21 && c != 0x7f);
}

const char *http_head_field(const struct http_head *h, const char *name)
{
	for (size_t i = 0; i < h->nfields; i++)
		if (strcasecmp(h->fields[i].name, name) == 0)
			return h->fields[i].value;
	return NULL;
}

void http_head_free(struct http_head **hp)
{
	struct http_head *h = *hp;

	if (h == NULL)
		return;
	for (size_t i = 0; i < h->nfields; i++) {
		free(h->fields[i].name);
		free(h->fields[i].value);
	}
	free(h->fields);
	free(h->method);
	free(h->target);
	free(h->path);
	free(h->query);
	free(h->upgrade);
	free(h);
	*hp = NULL;
}

/* Splits a field line into name and trimmed value (RFC 9112 5.1). 0 or -1. */
static int split_field(struct http_parser *p, const char *line, size_t len, size_t *name_len_r,
		       const char **value_r, size_t *value_len_r)
{
	const char *colon = memchr(line, ':', len), *v, *end = line + len;

	if (line[0] == ' ' || line[0] == '\t')
		return http_parser_fail(p, 400, "obsolete line folding"), -1;   /* RFC 9112 5.2 */
	if (colon == NULL || !http_is_token(line, (size_t)(colon - line)))
		return http_parser_fail(p, 400, "malformed field name"), -1;
	for (v = colon + 1; v < end; v++)
		if (!is_value_char((unsigned char)*v))
			return http_parser_fail(p, 400, "bad character in field value"), -1;
	v = colon + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*name_len_r = (size_t)(colon - line);
	*value_r = v;
	*value_len_r = (size_t)(end - v);
	return 0;
}

int http_parser_field(struct http_parser *p, const char *line, size_t len)
{
	struct http_head *h = p->head;
	size_t nlen, vlen;
	const char *v;

	if (split_field(p, line, len, &nlen, &v, &vlen) < 0)
		return -1;
	if (h->nfields >= p->set.max_fields)
		return http_parser_fail(p, 431, "too many header fields"), -1;
	h->fields = xrealloc(h->fields, (h->nfields + 1) * sizeof *h->fields);
	h->fields[h->nfields].name = xstrndup(line, nlen);
	h->fields[h->nfields].value = xstrndup(v, vlen);
	h->nfields++;
	return 0;
}

int http_parser_trailer(struct http_parser *p, const char *line, size_t len)
{
	size_t nlen, vlen;
	const char *v;

	if (split_field(p, line, len, &nlen, &v, &vlen) < 0)
		return -1;
	if (++p->section_fields > p->set.max_fields)
		return http_parser_fail(p, 431, "too many trailer fields"), -1;
	return 0;
}

/* Calls fn on each non-empty element of a comma list (RFC 9110 5.6.1),
 * trimmed. Stops at the first nonzero return and gives it back. */
static int each_element(const char *list, int (*fn)(void *ctx, const char *e, size_t len), void *ctx)
{
	const char *s = list;

	for (;;) {
		const char *comma = strchr(s, ','), *end = comma != NULL ? comma : s + strlen(s);
		int r;

		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			end--;
		if (end > s && (r = fn(ctx, s, (size_t)(end - s))) != 0)
			return r;
		if (comma == NULL)
			return 0;
		s = comma + 1;
	}
}

struct framing {
	unsigned codings, chunked;
	int chunked_last, bad;
	int close, keep_alive, upgrade;
	int expect_other;
};

/* A transfer-coding (RFC 9112 6.1): "chunked" counted, others noted. */
static int te_element(void *ctx, const char *e, size_t len)
{
	struct framing *f = ctx;
	size_t name = strcspn(e, "; \t");

	if (name > len)
		name = len;
	if (!http_is_token(e, name))
		return f->bad = 1;
	f->codings++;
	f->chunked_last = name == 7 && name == len && strncasecmp(e, "chunked", 7) == 0;
	f->chunked += f->chunked_last;
	return 0;
}

/* A Connection option (RFC 9112 9.3, RFC 9110 7.6.1). */
static int connection_element(void *ctx, const char *e, size_t len)
{
	struct framing *f = ctx;

	if (!http_is_token(e, len))
		return f->bad = 1;
	if (len == 5 && strncasecmp(e, "close", 5) == 0)
		f->close = 1;
	else if (len == 10 && strncasecmp(e, "keep-alive", 10) == 0)
		f->keep_alive = 1;
	else if (len == 7 && strncasecmp(e, "upgrade", 7) == 0)
		f->upgrade = 1;
	return 0;
}

/* An expectation (RFC 9110 10.1.1). */
static int expect_element(void *ctx, const char *e, size_t len)
{
	struct framing *f = ctx;

	if (!(len == 12 && strncasecmp(e, "100-continue", 12) == 0))
		f->expect_other = 1;
	return 0;
}

/* Host (RFC 9112 3.2): an HTTP/1.1 request has exactly one, and its value is
 * uri-host [":" port] (reg-name, IPv4 or IP-literal characters). */
static int check_host(struct http_parser *p, const struct http_head *h)
{
	const char *host = NULL;
	unsigned n = 0;

	for (size_t i = 0; i < h->nfields; i++)
		if (strcasecmp(h->fields[i].name, "host") == 0) {
			host = h->fields[i].value;
			n++;
		}
	if (n > 1 || (n == 0 && h->minor == 1))
		return http_parser_fail(p, 400, n > 1 ? "more than one Host" : "no Host"), -1;
	if (host != NULL && host[strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					  "0123456789-._~%!$&'()*+,;=:[]")] != '\0')
		return http_parser_fail(p, 400, "malformed Host"), -1;
	return 0;
}

/* Content-Length (RFC 9110 8.6): one field, 1*DIGIT, no list. 0 or -1. */
static int content_length(struct http_parser *p, const char *v, unsigned count, uint64_t *len_r)
{
	uint64_t n = 0;

	if (count > 1)
		return http_parser_fail(p, 400, "more than one Content-Length"), -1;
	if (v[0] == '\0')
		return http_parser_fail(p, 400, "malformed Content-Length"), -1;
	for (const char *c = v; *c != '\0'; c++) {
		if (*c < '0' || *c > '9')
			return http_parser_fail(p, 400, "malformed Content-Length"), -1;
		if (n > (UINT64_MAX - 9) / 10)
			return http_parser_fail(p, 400, "Content-Length overflows"), -1;
		n = n * 10 + (uint64_t)(*c - '0');
	}
	*len_r = n;
	return 0;
}

int http_parser_head_done(struct http_parser *p)
{
	struct http_head *h = p->head;
	struct framing f = { 0 };
	const char *cl = NULL, *upgrade = NULL;
	unsigned ncl = 0, nte = 0;

	if (check_host(p, h) < 0)
		return -1;
	for (size_t i = 0; i < h->nfields; i++) {
		const char *name = h->fields[i].name, *v = h->fields[i].value;

		if (strcasecmp(name, "content-length") == 0) {
			cl = v;
			ncl++;
		} else if (strcasecmp(name, "transfer-encoding") == 0) {
			nte++;
			each_element(v, te_element, &f);
		} else if (strcasecmp(name, "connection") == 0) {
			each_element(v, connection_element, &f);
		} else if (strcasecmp(name, "expect") == 0) {
			each_element(v, expect_element, &f);
			h->expect_continue = h->minor == 1;   /* RFC 9110 10.1.1: ignored in 1.0 */
		} else if (strcasecmp(name, "upgrade") == 0) {
			upgrade = v;
		}
	}
	if (f.bad)
		return http_parser_fail(p, 400, "malformed Transfer-Encoding or Connection"), -1;
	if (f.expect_other)
		return http_parser_fail(p, 417, "unsupported expectation"), -1;
	if (nte > 0) {
		/* RFC 9112 6.1: TE in 1.0 is faulty framing; with CL, smuggling
		 * (6.3 item 3); chunked must be final and applied once. */
		if (h->minor == 0)
			return http_parser_fail(p, 400, "Transfer-Encoding in HTTP/1.0"), -1;
		if (ncl > 0)
			return http_parser_fail(p, 400, "both Transfer-Encoding and Content-Length"), -1;
		if (f.codings == 0 || f.chunked > 1 || !f.chunked_last)
			return http_parser_fail(p, 400, "chunked is not the final transfer coding"), -1;
		if (f.codings > 1)
			return http_parser_fail(p, 501, "unsupported transfer coding"), -1;
		h->chunked = 1;
	} else if (ncl > 0) {
		if (content_length(p, cl, ncl, &h->content_length) < 0)
			return -1;
		if (h->content_length > p->set.max_body)
			return http_parser_fail(p, 413, "body too large"), -1;
	}
	h->keep_alive = h->minor == 1 ? !f.close : f.keep_alive && !f.close;
	if (f.upgrade && upgrade != NULL && h->minor == 1)   /* RFC 9110 7.8 */
		h->upgrade = xstrdup(upgrade);
	p->remaining = h->content_length;
	p->st = h->chunked ? HP_CHUNK_SIZE : h->content_length > 0 ? HP_BODY : HP_DONE;
	return 0;
}

/* quoted-string at s (RFC 9110 5.6.4): its length, 0 if malformed. */
static size_t quoted_string(const char *s, const char *end)
{
	const char *c = s + 1;

	for (; c < end && *c != '"'; c++) {
		unsigned char u = (unsigned char)*c;

		if (*c == '\\') {
			if (++c == end || !is_value_char((unsigned char)*c))
				return 0;
		} else if (!is_value_char(u)) {
			return 0;
		}
	}
	return c < end ? (size_t)(c + 1 - s) : 0;
}

/* Skips BWS (RFC 9110 5.6.3). */
static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

/* chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112
 * 7.1.1). 0 or -1. */
static int chunk_ext(const char *s, const char *end)
{
	while ((s = skip_ws(s, end)) < end) {
		size_t n;

		if (*s != ';')
			return -1;
		s = skip_ws(s + 1, end);
		for (n = 0; s + n < end && is_tchar((unsigned char)s[n]); n++)
			;
		if (n == 0)
			return -1;
		s = skip_ws(s + n, end);
		if (s == end || *s != '=')
			continue;
		s = skip_ws(s + 1, end);
		if (s < end && *s == '"') {
			if ((n = quoted_string(s, end)) == 0)
				return -1;
		} else {
			for (n = 0; s + n < end && is_tchar((unsigned char)s[n]); n++)
				;
			if (n == 0)
				return -1;
		}
		s += n;
	}
	return 0;
}

int http_parser_chunk_line(struct http_parser *p, const char *line, size_t len, uint64_t *size_r)
{
	const char *c = line, *end = line + len;
	uint64_t n = 0;

	if (memchr(line, '\r', len) != NULL)
		return http_parser_fail(p, 400, "bare CR"), -1;
	for (; c < end; c++) {
		int d = *c >= '0' && *c <= '9' ? *c - '0' : *c >= 'a' && *c <= 'f' ? *c - 'a' + 10
			: *c >= 'A' && *c <= 'F' ? *c - 'A' + 10 : -1;

		if (d < 0)
			break;
		if (n > (UINT64_MAX >> 4))
			return http_parser_fail(p, 413, "body too large"), -1;
		n = n << 4 | (uint64_t)d;
	}
	if (c == line || chunk_ext(c, end) < 0)
		return http_parser_fail(p, 400, "malformed chunk size line"), -1;
	if (n > p->set.max_body - p->body_total)
		return http_parser_fail(p, 413, "body too large"), -1;
	*size_r = n;
	return 0;
}
