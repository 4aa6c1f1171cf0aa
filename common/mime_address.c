/* mime_address - address lists (RFC 5322 3.4 with the obsolete syntax of
 * 4.4) and message-id lists (3.6.4), read leniently. */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>

enum tok_type { T_END, T_ATOM, T_QSTR, T_DLIT, T_SPECIAL };

struct tok {
	enum tok_type type;
	char c;                /* T_SPECIAL */
	size_t start, end;     /* raw span */
};

struct lex {
	const char *s;
	size_t len, i;
	struct tok peek;
	bool have_peek;
};

struct addr_out {
	json_t *env, *hdr;
};

/* Reads the next token after CFWS. */
static struct tok lex_next(struct lex *l)
{
	struct tok t = { T_END, 0, 0, 0 };
	const char *s = l->s;
	size_t i;

	if (l->have_peek) {
		l->have_peek = false;
		return l->peek;
	}
	i = l->i = mime_skip_cfws(s, l->len, l->i);
	if (i >= l->len)
		return t;
	t.start = i;
	if (strchr("<>@,;:", s[i]) != NULL) {
		t.type = T_SPECIAL;
		t.c = s[i++];
	} else if (s[i] == '"') {
		t.type = T_QSTR;
		for (i++; i < l->len && s[i] != '"'; i++)
			if (s[i] == '\\' && i + 1 < l->len)
				i++;
		if (i < l->len)
			i++;
	} else if (s[i] == '[') {
		t.type = T_DLIT;
		while (i < l->len && s[i] != ']')
			i++;
		if (i < l->len)
			i++;
	} else {
		t.type = T_ATOM;
		while (i < l->len && strchr("<>@,;:\"([ \t\r\n", s[i]) == NULL)
			i++;
		if (i == t.start)
			i++;   /* a lone ')' or similar: a one-byte atom */
	}
	t.end = l->i = i;
	return t;
}

/* Looks at the next token without consuming it. */
static struct tok lex_peek(struct lex *l)
{
	if (!l->have_peek) {
		l->peek = lex_next(l);
		l->have_peek = true;
	}
	return l->peek;
}

/* Appends a phrase word: quoted strings unquoted, words space-separated. */
static void word_append(struct buf *b, const struct lex *l, const struct tok *t)
{
	if (b->len > 0)
		buf_append(b, " ", 1);
	if (t->type == T_QSTR)
		mime_quoted(l->s, t->end, t->start, b);
	else
		buf_append(b, l->s + t->start, t->end - t->start);
}

/* Appends a local-part or domain piece raw; pieces not joined by a dot
 * (obs-local-part "a . b") are separated by a space. */
static void raw_append(struct buf *b, const struct lex *l, const struct tok *t)
{
	const char *p = l->s + t->start;

	if (b->len > 0 && b->data[b->len - 1] != '.' && *p != '.')
		buf_append(b, " ", 1);
	buf_append(b, p, t->end - t->start);
}

/* Emits one address in both forms; name/mailbox/host NULL for markers. */
static void emit(struct addr_out *o, const struct buf *name, const char *mbox, size_t mlen,
		 const char *host, size_t hlen, bool marker)
{
	json_t *jn = name != NULL && name->len > 0 ? mime_json_text(name->data, name->len) :
			json_null();

	json_array_append_new(o->env, json_pack("{s:o, s:n, s:o, s:o}", "name", jn, "adl",
		"mailbox", mbox != NULL ? mime_json_text(mbox, mlen) : json_null(),
		"host", host != NULL ? mime_json_text(host, hlen) : json_null()));
	if (!marker) {
		struct buf email = BUF_INIT;
		json_t *dn = json_null();

		if (name != NULL && name->len > 0) {
			char *d = mime_decode_header(name->data, name->len);

			if (d[0] != '\0')
				dn = json_string(d);
			free(d);
		}
		buf_append(&email, mbox, mlen);
		if (hlen > 0) {
			buf_append(&email, "@", 1);
			buf_append(&email, host, hlen);
		}
		json_array_append_new(o->hdr, json_pack("{s:o, s:o}", "name", dn, "email",
			mime_json_text(email.data == NULL ? "" : email.data, email.len)));
		buf_free(&email);
	}
}

/* Reads a domain after '@': atoms and domain literals joined by dots;
 * *end_r is where its last piece ends (unchanged when none). */
static void read_domain(struct lex *l, struct buf *dom, size_t *end_r)
{
	for (;;) {
		struct tok t = lex_peek(l);

		if (t.type != T_ATOM && t.type != T_DLIT)
			break;
		if (dom->len > 0 && dom->data[dom->len - 1] != '.' && l->s[t.start] != '.')
			break;   /* "a@b c@d": the next word starts a new address */
		lex_next(l);
		raw_append(dom, l, &t);
		*end_r = t.end;
	}
}

/* The text of the first comment in s[from, to) into name, without its
 * parentheses, quoted pairs undone, nested comments kept as written: the
 * display name of "user@domain (Real Name)" (RFC 5322 3.4 obsoletes this
 * use of comments but clients still write it; RFC 3501 7.4.2 leaves the
 * envelope name to the server, Dovecot takes the comment). */
static void comment_name(const char *s, size_t from, size_t to, struct buf *name)
{
	size_t i = from;
	unsigned depth = 0;

	while (i < to && s[i] != '(')
		i++;
	for (; i < to; i++) {
		char c = s[i];

		if (c == '\\' && i + 1 < to) {
			c = s[++i];
		} else if (c == '(') {
			if (depth++ == 0)
				continue;
		} else if (c == ')') {
			if (--depth == 0)
				break;
		}
		if (c == '\r' || c == '\n')
			continue;
		if (c == '\t')
			c = ' ';
		if (c != ' ' || (name->len > 0 && name->data[name->len - 1] != ' '))
			buf_append(name, &c, 1);
	}
	while (name->len > 0 && name->data[name->len - 1] == ' ')
		buf_truncate(name, name->len - 1);
}

/* Reads an angle-addr after '<' (obs-route "@a,@b:" skipped, RFC 5322 4.4). */
static void read_angle(struct lex *l, struct buf *local, struct buf *dom)
{
	struct tok t = lex_peek(l);

	if (t.type == T_SPECIAL && (t.c == '@' || t.c == ',')) {   /* obs-route */
		struct lex save = *l;

		while ((t = lex_next(l)).type != T_END && !(t.type == T_SPECIAL && (t.c == ':' || t.c == '>')))
			;
		if (t.type != T_SPECIAL || t.c != ':')
			*l = save;
	}
	for (;;) {
		t = lex_next(l);
		if (t.type == T_END || (t.type == T_SPECIAL && t.c == '>'))
			return;
		if (t.type == T_SPECIAL && t.c == '@') {
			size_t end = 0;

			read_domain(l, dom, &end);
		} else if (t.type != T_SPECIAL && dom->len == 0) {
			raw_append(local, l, &t);
		}
	}
}

/* Parses one address (mailbox or group member); false at the end. */
static bool parse_one(struct lex *l, struct addr_out *o, bool *in_group)
{
	struct buf phrase = BUF_INIT, local = BUF_INIT, dom = BUF_INIT;
	bool done = false, got = false;
	struct tok t;

	while (!done) {
		t = lex_next(l);
		if (t.type == T_END && phrase.len == 0 && local.len == 0) {
			buf_free(&phrase);
			buf_free(&local);
			buf_free(&dom);
			return false;
		}
		if (t.type == T_ATOM || t.type == T_QSTR || t.type == T_DLIT) {
			word_append(&phrase, l, &t);
			raw_append(&local, l, &t);
			continue;
		}
		if (t.type == T_SPECIAL && t.c == '<') {
			buf_truncate(&local, 0);
			read_angle(l, &local, &dom);
			emit(o, &phrase, local.data == NULL ? "" : local.data, local.len,
			     dom.data == NULL ? "" : dom.data, dom.len, false);
			got = true;
			t = lex_peek(l);
			while (t.type != T_END && !(t.type == T_SPECIAL && (t.c == ',' || t.c == ';'))) {
				lex_next(l);   /* junk after the address */
				t = lex_peek(l);
			}
		} else if (t.type == T_SPECIAL && t.c == '@' && local.len > 0) {
			struct buf cname = BUF_INIT;
			size_t end = t.end;
			struct tok next;

			read_domain(l, &dom, &end);
			next = lex_peek(l);
			comment_name(l->s, end, next.type == T_END ? l->len : next.start, &cname);
			emit(o, &cname, local.data, local.len, dom.data == NULL ? "" : dom.data, dom.len,
			     false);
			buf_free(&cname);
			got = true;
		} else if (t.type == T_SPECIAL && t.c == ':' && !*in_group) {
			emit(o, NULL, phrase.data == NULL ? "" : phrase.data, phrase.len, NULL, 0, true);
			*in_group = true;
			got = true;
		} else if (t.type == T_END || (t.type == T_SPECIAL && (t.c == ',' || t.c == ';'))) {
			if (!got && local.len > 0)   /* a bare local part, no domain */
				emit(o, NULL, local.data, local.len, "", 0, false);
			if (t.type == T_SPECIAL && t.c == ';' && *in_group) {
				emit(o, NULL, NULL, 0, NULL, 0, true);
				*in_group = false;
			}
			done = true;
			continue;
		} else {
			continue;   /* stray special */
		}
		buf_truncate(&phrase, 0);
		buf_truncate(&local, 0);
		buf_truncate(&dom, 0);
		if (t.type == T_SPECIAL && t.c == ':')
			done = true;
	}
	buf_free(&phrase);
	buf_free(&local);
	buf_free(&dom);
	return true;
}

/* Parses an address list into the envelope and JMAP forms. */
void mime_address_parse(const char *raw, size_t len, json_t **env_r, json_t **hdr_r)
{
	struct lex l = { raw, len, 0, { T_END, 0, 0, 0 }, false };
	struct addr_out o = { json_array(), json_array() };
	bool in_group = false;

	while (parse_one(&l, &o, &in_group))
		;
	if (in_group)   /* group without its ';' */
		emit(&o, NULL, NULL, 0, NULL, 0, true);
	*env_r = o.env;
	*hdr_r = o.hdr;
}

/* Appends id bytes with whitespace and comments left out (obs-id-left). */
static void id_append(json_t *a, const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	while (i < len) {
		size_t j = mime_skip_cfws(s, len, i);

		if (j > i) {
			i = j;
			continue;
		}
		buf_append(&b, s + i, 1);
		i++;
	}
	if (b.len > 0)
		json_array_append_new(a, mime_json_text(b.data, b.len));
	buf_free(&b);
}

/* Parses "<a@b> <c@d>" (RFC 5322 3.6.4); without any angle brackets, bare
 * words containing '@' are taken as ids. */
json_t *mime_msgid_list(const char *s, size_t len)
{
	json_t *a = json_array();
	bool angle = false;
	size_t i = 0;

	while (i < len) {
		const char *gt;

		i = mime_skip_cfws(s, len, i);
		if (i >= len)
			break;
		if (s[i] == '"') {
			struct buf junk = BUF_INIT;

			i = mime_quoted(s, len, i, &junk);
			buf_free(&junk);
		} else if (s[i] == '<') {
			if ((gt = memchr(s + i, '>', len - i)) == NULL)
				break;   /* no '>' anywhere further: no more ids */
			id_append(a, s + i + 1, (size_t)(gt - s) - i - 1);
			angle = true;
			i = (size_t)(gt - s) + 1;
		} else {
			i++;
		}
	}
	for (i = 0; !angle && i < len;) {
		size_t st = i;

		while (i < len && !mime_is_wsp(s[i]) && s[i] != ',' && s[i] != '<')
			i++;
		if (i > st && memchr(s + st, '@', i - st) != NULL)
			id_append(a, s + st, i - st);
		if (i == st)
			i++;
	}
	return a;
}
