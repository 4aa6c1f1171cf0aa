/* fts_text - the normaliser of the text search engine: a stored
 * message's searchable pieces (header fields, body text, summary fields)
 * and the trigram set of a document (fts.h, THE TEXT). */
#include "gateway/fts/fts.h"
#include "gateway/fts/fts_casemap.h"
#include "common/mime.h"

#include <stdlib.h>
#include <string.h>

#define FTS_PART_DEPTH 64

/* The end of the top-level header block (after the blank line). */
size_t evm_fts_header_end(const char *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (b[i] == '\n' && (b[i + 1] == '\n' || (b[i + 1] == '\r' && i + 2 < len && b[i + 2] == '\n')))
			return i + 1;
	}
	return len;
}

/* Each "name: value" field of the header block b[end], unfolded and
 * decoded (RFC 5322 2.2.3, RFC 2047); lines without ':' are skipped. */
static void fields_in(const char *b, size_t end, evm_fts_field_cb *cb, void *ctx)
{
	size_t i = 0;

	while (i < end) {
		size_t ls = i, ve, colon;
		char *raw, *dec;
		int stop;

		while (i < end && !(b[i] == '\n' && (i + 1 >= end || (b[i + 1] != ' ' && b[i + 1] != '\t'))))
			i++;
		ve = i;
		i++;
		for (colon = ls; colon < ve && b[colon] != ':'; colon++)
			;
		if (colon >= ve || colon == ls)
			continue;
		raw = xstrndup(b + colon + 1, ve - colon - 1);
		for (char *p = raw; *p; p++) {
			if (*p == '\r' || *p == '\n')
				*p = ' ';
		}
		dec = mime_decode_header(raw, strlen(raw));
		stop = cb(ctx, b + ls, colon - ls, dec);
		free(dec);
		free(raw);
		if (stop)
			return;
	}
}

/* Each field of the message's top header block. */
void evm_fts_header_fields(const char *msg, size_t len, evm_fts_field_cb *cb, void *ctx)
{
	fields_in(msg, evm_fts_header_end(msg, len), cb, ctx);
}

/* Appends "name:value\n" of one field to a buf (ctx). */
static int field_line(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct buf *out = ctx;

	buf_append(out, name, nlen);
	buf_append(out, ":", 1);
	buf_puts(out, value);
	buf_append(out, "\n", 1);
	return 0;
}

/* [start, end] of a summary range shifted by plen, checked against len. */
static int range_of(json_t *r, size_t plen, size_t len, size_t *s_r, size_t *e_r)
{
	json_int_t s = json_integer_value(json_array_get(r, 0));
	json_int_t e = json_integer_value(json_array_get(r, 1));

	if (!json_is_array(r) || s < 0 || e < s || (size_t)e > len - plen)
		return -1;
	*s_r = plen + (size_t)s;
	*e_r = plen + (size_t)e;
	return 0;
}

/* The text of one part (and what it holds) into out. */
static void part_text(const char *msg, size_t len, size_t plen, json_t *part, struct buf *out, int depth)
{
	json_t *kids = json_object_get(part, "parts"), *inner = json_object_get(part, "message");
	const char *type = json_string_value(json_object_get(part, "type"));
	size_t s, e, i;
	json_t *kid;

	if (depth > FTS_PART_DEPTH || !json_is_object(part))
		return;
	if (json_is_array(kids)) {
		json_array_foreach(kids, i, kid)
			part_text(msg, len, plen, kid, out, depth + 1);
		return;
	}
	if (json_is_object(inner)) {   /* message/rfc822: its header, then its body */
		json_t *ip = json_object_get(inner, "part");

		if (range_of(json_object_get(ip, "header"), plen, len, &s, &e) == 0)
			fields_in(msg + s, e - s, field_line, out);
		part_text(msg, len, plen, ip, out, depth + 1);
		return;
	}
	if (type == NULL || strcmp(type, "text") != 0 ||
	    range_of(json_object_get(part, "body"), plen, len, &s, &e) < 0)
		return;
	mime_body_text(json_string_value(json_object_get(part, "encoding")),
		       json_string_value(json_object_get(json_object_get(part, "params"), "charset")),
		       msg + s, e - s, out);
	buf_append(out, "\n", 1);
}

/* BODY's text: every text leaf decoded (fts.h). */
void evm_fts_body_text(const char *msg, size_t len, size_t plen, json_t *summary, struct buf *out)
{
	size_t from = out->len;

	buf_append(out, "", 0);
	if (plen > len)
		return;
	part_text(msg, len, plen, json_object_get(summary, "part"), out, 0);
	/* a NUL octet would end the text for the casemap: a space instead */
	for (size_t i = from; i < out->len; i++) {
		if (out->data[i] == '\0')
			out->data[i] = ' ';
	}
}

/* Appends s and its NUL to out (NULL: nothing). */
static void piece(struct buf *out, const char *s)
{
	if (s != NULL)
		buf_append(out, s, strlen(s) + 1);
}

/* SUBJECT's or an address field's pieces (fts.h, THE TEXT). */
void evm_fts_summary_text(json_t *summary, int field, struct buf *out)
{
	static const struct { int f; const char *name; } addr[] = {
		{ EVM_FTS_F_FROM, "from" }, { EVM_FTS_F_TO, "to" }, { EVM_FTS_F_CC, "cc" },
		{ EVM_FTS_F_BCC, "bcc" },
	};
	json_t *h = json_object_get(summary, "headers"), *a;
	size_t i;

	buf_append(out, "", 0);
	if (field == EVM_FTS_F_SUBJECT) {
		piece(out, json_string_value(json_object_get(h, "subject")));
		return;
	}
	for (size_t k = 0; k < sizeof addr / sizeof addr[0]; k++) {
		if (addr[k].f != field)
			continue;
		/* RFC 9051 7.5.2: a group start is a mailbox without a host */
		json_array_foreach(json_object_get(json_object_get(summary, "envelope"), addr[k].name), i, a) {
			if (json_is_null(json_object_get(a, "host")))
				piece(out, json_string_value(json_object_get(a, "mailbox")));
		}
		json_array_foreach(json_object_get(h, addr[k].name), i, a) {
			piece(out, json_string_value(json_object_get(a, "name")));
			piece(out, json_string_value(json_object_get(a, "email")));
		}
	}
}

/* Inserts key (non-zero) into the set; grows at 1/2 load. */
static void set_add(struct evm_fts_doc *d, uint32_t key)
{
	size_t m;

	if ((d->n + 1) * 2 > d->cap) {
		struct evm_fts_doc g = { xcalloc(d->cap ? d->cap * 2 : 1024, sizeof *g.slot), d->cap ? d->cap * 2 : 1024, 0 };

		for (size_t i = 0; i < d->cap; i++) {
			if (d->slot[i] != 0)
				set_add(&g, d->slot[i]);
		}
		free(d->slot);
		*d = g;
	}
	m = d->cap - 1;
	for (size_t i = (key * 2654435761u) & m;; i = (i + 1) & m) {
		if (d->slot[i] == key)
			return;
		if (d->slot[i] == 0) {
			d->slot[i] = key;
			d->n++;
			return;
		}
	}
}

/* Every trigram of a casemapped text under field f. */
int evm_fts_doc_add(struct evm_fts_doc *d, int f, const char *mapped, size_t len)
{
	int cut = len > EVM_FTS_TEXT_MAX;
	const unsigned char *t = (const unsigned char *)mapped;

	if (cut)
		len = EVM_FTS_TEXT_MAX;
	for (size_t i = 0; i + 3 <= len; i++)
		set_add(d, (((uint32_t)f << 24) | ((uint32_t)t[i] << 16) | ((uint32_t)t[i + 1] << 8) | t[i + 2]) + 1);
	return cut;
}

void evm_fts_doc_free(struct evm_fts_doc *d)
{
	free(d->slot);
	memset(d, 0, sizeof *d);
}

/* Casemaps text[len] and adds its trigrams under f (NUL octets
 * included); the casemapped form is appended to keep unless NULL. */
static int add_text(struct evm_fts_doc *d, int f, const char *text, size_t len, struct buf *keep)
{
	struct buf m = BUF_INIT;
	int cut;

	fts_casemap_append(text, len, &m);
	cut = evm_fts_doc_add(d, f, m.data, m.len);
	if (keep != NULL)
		buf_append(keep, m.data, m.len);
	buf_free(&m);
	return cut;
}

struct hdr_ctx {
	struct evm_fts_doc *d;
	int cut;
	int odd_name;              /* a field name not ASCII, or with a NUL */
	struct buf line;
	struct buf *text;          /* the stored text being built, or NULL */
};

/* One "name:value" header piece into the document. */
static int hdr_add(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct hdr_ctx *h = ctx;

	for (size_t i = 0; i < nlen; i++)
		h->odd_name |= name[i] == '\0' || (unsigned char)name[i] >= 0x80;
	buf_truncate(&h->line, 0);
	buf_append(&h->line, name, nlen);
	buf_append(&h->line, ":", 1);
	buf_puts(&h->line, value);
	h->cut |= add_text(h->d, EVM_FTS_F_HEADER, h->line.data, h->line.len, h->text);
	if (h->text != NULL)
		buf_append(h->text, "", 1);   /* pieces end with a NUL (fts.h, THE TEXT STORED) */
	return 0;
}

/* Reserves a part's 4-octet length in text (NULL: none): its offset. */
static size_t part_open(struct buf *text)
{
	if (text == NULL)
		return 0;
	buf_append(text, "\0\0\0\0", 4);
	return text->len - 4;
}

/* Sets the length of the part opened at at; 1 when it is too long. */
static int part_close(struct buf *text, size_t at)
{
	size_t l;

	if (text == NULL)
		return 0;
	l = text->len - at - 4;
	for (int i = 0; i < 4; i++)
		text->data[at + (size_t)i] = (char)(l >> (8 * i) & 0xff);
	return l > 0xffffffffu;
}

/* Every field of a stored message into d, and its stored text (fts.h,
 * THE TEXT STORED) appended to text unless NULL or cut. */
int evm_fts_doc_message(struct evm_fts_doc *d, const char *msg, size_t len, size_t plen, json_t *summary,
			struct buf *text)
{
	static const int sf[] = { EVM_FTS_F_SUBJECT, EVM_FTS_F_FROM, EVM_FTS_F_TO, EVM_FTS_F_CC, EVM_FTS_F_BCC };
	struct hdr_ctx h = { d, 0, 0, BUF_INIT, text };
	struct buf t = BUF_INIT;
	size_t base = text != NULL ? text->len : 0, at;

	if (text != NULL)
		buf_append(text, "a", 1);   /* 'n' below if a field name is not ASCII */
	for (size_t k = 0; k < sizeof sf / sizeof sf[0]; k++) {
		buf_truncate(&t, 0);
		evm_fts_summary_text(summary, sf[k], &t);
		at = part_open(text);
		for (size_t i = 0; i < t.len; i += strlen(t.data + i) + 1) {
			h.cut |= add_text(d, sf[k], t.data + i, strlen(t.data + i), text);
			if (text != NULL)
				buf_append(text, "", 1);
		}
		h.cut |= part_close(text, at);
	}
	at = part_open(text);
	evm_fts_header_fields(msg, len, hdr_add, &h);
	h.cut |= part_close(text, at);
	if (text != NULL && h.odd_name)
		text->data[base] = 'n';
	buf_truncate(&t, 0);
	evm_fts_body_text(msg, len, plen, summary, &t);
	h.cut |= add_text(d, EVM_FTS_F_BODY, t.data, t.len, text);
	if (text != NULL && h.cut)
		buf_truncate(text, base);
	buf_free(&t);
	buf_free(&h.line);
	return h.cut;
}
