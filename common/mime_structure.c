/* mime_structure - what header ends, boundary lines and the end of input
 * do to the part tree (RFC 2045, RFC 2046 5.1, 5.2.1). */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>

/* Recomputes whether any open multipart still waits for its boundary. */
static void update_any_boundary(struct mime_parser *p)
{
	p->any_boundary = false;
	for (size_t k = 0; k < p->nstack; k++) {
		if (p->stack[k]->boundary != NULL && !p->stack[k]->boundary_closed)
			p->any_boundary = true;
	}
}

/* Pushes a new open part. */
static void push(struct mime_parser *p, struct mime_part *part)
{
	if (p->nstack == p->capstack) {
		p->capstack *= 2;
		p->stack = xrealloc(p->stack, p->capstack * sizeof *p->stack);
	}
	p->stack[p->nstack++] = part;
	p->nparts++;
}

/* Drops a part's boundary: it is read as a leaf. */
static void make_leaf(struct mime_part *part)
{
	free(part->boundary);
	part->boundary = NULL;
	part->boundary_len = 0;
}

/* Whether a message part can be parsed as a message: RFC 2046 5.2.1 allows
 * only 7bit, 8bit and binary (an encoded one would need decoding first). */
static bool is_message(const struct mime_part *part)
{
	return strcmp(part->type, "message") == 0 &&
	       (strcmp(part->subtype, "rfc822") == 0 || strcmp(part->subtype, "global") == 0) &&
	       (strcmp(part->encoding, "7bit") == 0 || strcmp(part->encoding, "8bit") == 0 ||
		strcmp(part->encoding, "binary") == 0);
}

/* Starts the body of a part whose header is complete: children for a
 * multipart or message (within the limits), else a leaf. */
static void start_body(struct mime_parser *p, struct mime_part *part)
{
	int kind;

	if (part->boundary != NULL) {
		if (part->depth + 1 > p->lim.max_depth) {
			p->truncated = true;
			make_leaf(part);
		}
		return;
	}
	if (is_message(part)) {
		struct mime_part *child;

		if (part->depth + 1 > p->lim.max_depth) {
			p->truncated = true;
			return;
		}
		if (p->nparts >= p->lim.max_parts) {
			p->truncated = p->opaque = true;
			return;
		}
		child = mime_part_new(NULL, part->bstart, part->depth + 1);
		child->parent = part;
		child->message_root = child->in_message = true;
		part->message = child;
		push(p, child);
		p->state = MIME_ST_HEADER;
		return;
	}
	kind = mime_part_preview_kind(part);
	if (kind == 1 && p->pv_part[1] == NULL)
		p->pv_part[1] = part;
	else if (kind == 2 && p->pv_part[1] == NULL && p->pv_part[2] == NULL)
		p->pv_part[2] = part;
}

/* Ends the header block of the innermost part at hend (body starts there):
 * parses its fields and, if allowed, starts its body. */
void mime_finish_header(struct mime_parser *p, uint64_t hend, uint64_t nl_at_bstart,
			bool allow_children)
{
	struct mime_part *part = p->stack[p->nstack - 1];
	size_t n = (size_t)(hend - part->hstart);
	struct mime_fields f;

	mime_fields_scan(p->hdr.data == NULL ? "" : p->hdr.data, n < p->hdr.len ? n : p->hdr.len, &f);
	part->hend = part->bstart = part->bend = hend;
	part->nl_at_bstart = nl_at_bstart;
	part->header_done = true;
	mime_part_set_fields(part, &f);
	if (part == p->root)
		p->headers = mime_headers_json(&f);
	mime_fields_free(&f);
	buf_truncate(&p->hdr, 0);
	p->state = MIME_ST_BODY;
	if (allow_children && !p->opaque)
		start_body(p, part);
	else
		make_leaf(part);
	update_any_boundary(p);
}

/* A line in a header block: a blank line ends it (RFC 5322 2.1); a line
 * that is no field and no continuation also ends it, and is then read
 * again as the first body line (mail is never refused). */
void mime_header_line(struct mime_parser *p, const struct mime_line *li, const char *content,
		      size_t clen)
{
	struct mime_part *top = p->stack[p->nstack - 1];
	size_t off, n;
	char *again;

	if (clen == 0) {
		mime_finish_header(p, li->end, p->nl_total, true);
		return;
	}
	if (mime_is_wsp(content[0]) || mime_is_field_line(content, clen))
		return;
	off = (size_t)(li->ls - top->hstart);
	n = (size_t)(li->end - li->ls);
	again = xstrndup(p->hdr.data + off, n);
	mime_finish_header(p, li->ls, li->nl_before, true);
	p->offset = li->ls;
	p->nl_total = li->nl_before;
	p->line_start = li->ls;
	p->prev_term = li->prev_term;
	p->prev_clen = li->prev_clen;
	p->has_prev = li->has_prev;
	p->last_byte = li->ls > 0 ? '\n' : 0;
	mime_parser_bytes(p, again, n);
	free(again);
}

/* Closes the innermost open part at a boundary line (li) or at the end of
 * input (li NULL). Its body ends before the CRLF that precedes the
 * boundary line, which belongs to the boundary (RFC 2046 5.1.1). */
void mime_close_top(struct mime_parser *p, const struct mime_line *li)
{
	struct mime_part *part = p->stack[p->nstack - 1];
	uint64_t end;

	if (!part->header_done)
		mime_finish_header(p, li != NULL ? li->ls : p->offset,
				   li != NULL ? li->nl_before : p->nl_total, false);
	if (li == NULL) {
		part->bend = p->offset > part->bstart ? p->offset : part->bstart;
		part->lines = p->nl_total - part->nl_at_bstart +
			      (part->bend > part->bstart && p->last_byte != '\n');
	} else {
		end = li->has_prev ? li->prev_term : li->ls;
		part->bend = end > part->bstart ? end : part->bstart;
		part->lines = part->bend == part->bstart ? 0 :
			      (li->nl_before - 1) - part->nl_at_bstart + (li->prev_clen > 0);
	}
	for (int k = 1; k <= 2; k++) {
		if (p->pv_part[k] == part && p->pv_buf[k].len > part->bend - part->bstart)
			buf_truncate(&p->pv_buf[k], (size_t)(part->bend - part->bstart));
	}
	p->nstack--;
	p->state = MIME_ST_BODY;
	update_any_boundary(p);
}

/* A boundary line of the multipart at stack level: closes the parts inside
 * it, then starts the next child or (close delimiter) the epilogue. */
void mime_boundary_line(struct mime_parser *p, size_t level, bool close, const struct mime_line *li)
{
	struct mime_part *m = p->stack[level], *child;

	while (p->nstack - 1 > level)
		mime_close_top(p, li);
	p->state = MIME_ST_BODY;
	if (close) {
		m->boundary_closed = true;
		update_any_boundary(p);
		return;
	}
	if (p->nparts >= p->lim.max_parts) {
		p->truncated = p->opaque = true;
		return;
	}
	child = mime_part_new(m, li->end, m->depth + 1);
	push(p, child);
	buf_truncate(&p->hdr, 0);
	p->state = MIME_ST_HEADER;
}
