/* mime_parser - the push interface: splits the input into lines without
 * keeping bodies, and finds boundary lines (RFC 2046 5.1.1).
 *
 * Only what a boundary match needs is kept of a body line (its first
 * MIME_PFX_MAX bytes, and whether the rest is whitespace); header blocks
 * are kept until parsed, up to max_header_bytes. Work is linear in the
 * input: a line is looked at once, plus once more when a header block ends
 * at a line that is not a header (it is then fed again as body). */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_DEPTH 32
#define DEFAULT_PARTS 1000
#define DEFAULT_HEADER_BYTES (256 * 1024)
#define DEPTH_CAP 1000

/* A new parser; zero limit fields take their defaults. */
struct mime_parser *mime_parser_new(const struct mime_limits *limits)
{
	struct mime_parser *p = xcalloc(1, sizeof *p);

	if (limits != NULL)
		p->lim = *limits;
	if (p->lim.max_depth == 0)
		p->lim.max_depth = DEFAULT_DEPTH;
	if (p->lim.max_depth > DEPTH_CAP)
		p->lim.max_depth = DEPTH_CAP;   /* the summary is built recursively */
	if (p->lim.max_parts == 0)
		p->lim.max_parts = DEFAULT_PARTS;
	if (p->lim.max_header_bytes == 0)
		p->lim.max_header_bytes = DEFAULT_HEADER_BYTES;
	p->root = mime_part_new(NULL, 0, 0);
	p->root->message_root = true;
	p->capstack = 8;
	p->stack = xmalloc(p->capstack * sizeof *p->stack);
	p->stack[p->nstack++] = p->root;
	p->nparts = 1;
	p->state = MIME_ST_HEADER;
	p->cand = p->tail_ws = true;
	return p;
}

/* Frees the parser and everything it holds. */
void mime_parser_free(struct mime_parser **pp)
{
	struct mime_parser *p = *pp;

	if (p == NULL)
		return;
	mime_part_free(p->root);
	free(p->stack);
	buf_free(&p->hdr);
	for (int k = 0; k < 3; k++)
		buf_free(&p->pv_buf[k]);
	json_decref(p->headers);
	json_decref(p->result);
	free(p);
	*pp = NULL;
}

/* Keeps what a boundary match needs of a body line segment. */
static void track(struct mime_parser *p, const char *d, size_t n)
{
	size_t take;

	if (!p->cand)
		return;
	take = MIME_PFX_MAX - p->pfx_len < n ? MIME_PFX_MAX - p->pfx_len : n;
	memcpy(p->pfx + p->pfx_len, d, take);
	p->pfx_len += take;
	if ((p->pfx_len >= 1 && p->pfx[0] != '-') || (p->pfx_len >= 2 && p->pfx[1] != '-')) {
		p->cand = false;
		return;
	}
	for (size_t i = take; i < n && p->tail_ws; i++) {
		if (!mime_is_wsp(d[i]) && d[i] != '\r')
			p->tail_ws = false;
	}
}

/* Keeps the start of the preview source's body. */
static void preview_add(struct mime_parser *p, const char *d, size_t n)
{
	struct mime_part *top = p->stack[p->nstack - 1];

	for (int k = 1; k <= 2; k++) {
		struct buf *b = &p->pv_buf[k];

		if (p->pv_part[k] == top && b->len < MIME_PREVIEW_BUF_MAX)
			buf_append(b, d, n < MIME_PREVIEW_BUF_MAX - b->len ? n : MIME_PREVIEW_BUF_MAX - b->len);
	}
}

/* The stack level whose boundary the line is, innermost first; -1 if none.
 * A boundary line is "--" boundary ["--"] followed only by whitespace. */
static long match_boundary(struct mime_parser *p, const char *c, size_t blen, bool complete,
			   bool tail_ws, bool *close_r)
{
	if (blen < 2 || c[0] != '-' || c[1] != '-')
		return -1;
	for (size_t k = p->nstack; k-- > 0;) {
		const struct mime_part *m = p->stack[k];
		size_t j, bl = m->boundary_len;

		if (m->boundary == NULL || m->boundary_closed || blen < 2 + bl ||
		    memcmp(c + 2, m->boundary, bl) != 0)
			continue;
		j = 2 + bl;
		*close_r = blen >= j + 2 && c[j] == '-' && c[j + 1] == '-';
		if (*close_r)
			j += 2;
		while (j < blen && (mime_is_wsp(c[j]) || c[j] == '\r'))
			j++;
		if (j == blen && (complete || tail_ws))
			return (long)k;
	}
	return -1;
}

/* Ends the current line and hands it to the structure code. */
static void end_line(struct mime_parser *p, bool has_lf)
{
	struct mime_part *top = p->stack[p->nstack - 1];
	size_t clen = p->line_len - (p->last_cr ? 1 : 0), blen;
	struct mime_line li;
	const char *content;
	bool complete, tail_ws = p->tail_ws, close = false;
	long k = -1;

	li.ls = p->line_start;
	li.end = p->offset;
	li.term = p->offset - (has_lf ? 1 : 0) - (p->last_cr ? 1 : 0);
	li.nl_before = p->nl_total - (has_lf ? 1 : 0);
	li.prev_term = p->prev_term;
	li.prev_clen = p->prev_clen;
	li.has_prev = p->has_prev;
	if (p->state == MIME_ST_HEADER) {
		content = p->hdr.data + (li.ls - top->hstart);
		blen = clen;
		complete = true;
	} else {
		content = p->pfx;
		blen = p->pfx_len < clen ? p->pfx_len : clen;
		complete = p->pfx_len >= clen;
	}
	p->prev_term = li.term;
	p->prev_clen = clen;
	p->has_prev = true;
	p->line_start = p->offset;
	p->line_len = p->pfx_len = 0;
	p->last_cr = false;
	p->cand = p->tail_ws = true;
	if (!p->opaque && p->any_boundary)
		k = match_boundary(p, content, blen, complete, tail_ws, &close);
	if (k >= 0)
		mime_boundary_line(p, (size_t)k, close, &li);
	else if (p->state == MIME_ST_HEADER)
		mime_header_line(p, &li, content, clen);
}

/* Counts LFs in opaque data. */
static void opaque_bytes(struct mime_parser *p, const char *d, size_t n)
{
	const char *e = d + n, *q = d;

	while ((q = memchr(q, '\n', (size_t)(e - q))) != NULL) {
		p->nl_total++;
		q++;
	}
	p->offset += n;
	p->last_byte = (unsigned char)d[n - 1];
}

/* Header limit reached inside this segment: keep what fits, then the rest
 * of the message is the part's opaque body. */
static void header_overflow(struct mime_parser *p, const char *d, size_t room)
{
	struct mime_part *top = p->stack[p->nstack - 1];

	buf_truncate(&p->hdr, p->line_start - top->hstart);   /* complete lines only */
	p->offset += room;
	if (room > 0)
		p->last_byte = (unsigned char)d[room - 1];
	p->truncated = p->opaque = true;
	mime_finish_header(p, p->offset, p->nl_total, false);
}

/* Consumes input bytes (also used to feed a line again). */
void mime_parser_bytes(struct mime_parser *p, const char *d, size_t n)
{
	while (n > 0) {
		const char *lf;
		size_t seg, take;

		if (p->opaque) {
			opaque_bytes(p, d, n);
			return;
		}
		lf = memchr(d, '\n', n);
		seg = lf != NULL ? (size_t)(lf - d) : n;
		take = lf != NULL ? seg + 1 : n;
		if (p->state == MIME_ST_HEADER) {
			size_t room = p->lim.max_header_bytes - p->hdr.len;

			if (take > room) {
				header_overflow(p, d, room);
				d += room;
				n -= room;
				continue;
			}
			buf_append(&p->hdr, d, take);
		} else {
			if (p->any_boundary)
				track(p, d, seg);
			preview_add(p, d, take);
		}
		if (seg > 0)
			p->last_cr = d[seg - 1] == '\r';
		p->line_len += seg;
		p->offset += take;
		p->last_byte = (unsigned char)d[take - 1];
		d += take;
		n -= take;
		if (lf != NULL) {
			p->nl_total++;
			end_line(p, true);
		}
	}
}

/* Feeds the next piece of the message. */
void mime_parser_feed(struct mime_parser *p, const void *data, size_t len)
{
	if (!p->finished && len > 0)
		mime_parser_bytes(p, data, len);
}

/* Builds the summary (see mime.h). */
static json_t *summary(struct mime_parser *p)
{
	int k = p->pv_part[1] != NULL ? 1 : p->pv_part[2] != NULL ? 2 : 0;
	char *preview = NULL, *base;
	const char *subject = json_string_value(json_object_get(p->headers, "subject"));
	json_t *o;

	if (k > 0) {
		struct mime_part *pp = p->pv_part[k];

		preview = mime_preview_make(p->pv_buf[k].data == NULL ? "" : p->pv_buf[k].data,
			p->pv_buf[k].len, pp->encoding,
			json_string_value(json_object_get(pp->params, "charset")), k == 2);
	}
	base = mime_base_subject(subject != NULL ? subject : "");
	o = json_pack("{s:I, s:I, s:b, s:O, s:O, s:{s:s}, s:s, s:b, s:o}",
		"size", (json_int_t)p->offset,
		"lines", (json_int_t)(p->nl_total + (p->offset > 0 && p->last_byte != '\n')),
		"truncated", p->truncated, "envelope", p->root->envelope, "headers", p->headers,
		"thread", "base_subject", base, "preview", preview != NULL ? preview : "",
		"has_attachment", mime_part_has_attachment(p->root), "part", mime_part_json(p->root));
	free(preview);
	free(base);
	if (o == NULL)
		abort();   /* a broken invariant: every value is valid UTF-8 */
	return o;
}

/* Ends the input: the last line, then every open part, then the summary. */
json_t *mime_parser_finish(struct mime_parser *p)
{
	if (!p->finished) {
		p->finished = true;
		while (p->line_len > 0 && !p->opaque)
			end_line(p, false);
		while (p->nstack > 0)
			mime_close_top(p, NULL);
		p->result = summary(p);
	}
	return json_incref(p->result);
}

/* One-shot parse. */
json_t *mime_parse(const void *data, size_t len, const struct mime_limits *limits)
{
	struct mime_parser *p = mime_parser_new(limits);
	json_t *j;

	mime_parser_feed(p, data, len);
	j = mime_parser_finish(p);
	mime_parser_free(&p);
	return j;
}
