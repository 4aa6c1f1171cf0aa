/* fts_doctext - the stored text of an indexed document (fts.h, THE TEXT
 * STORED): its key, its parsing and the substring test that confirms a
 * candidate without reading and decoding the message again. */
#include "gateway/fts/fts.h"

#include <stdlib.h>
#include <string.h>

/* "local/fts/<acct>/d/<email id>". */
void evm_fts_key_text(struct buf *k, const struct buf *acct, const char *email_id)
{
	buf_truncate(k, 0);
	buf_append(k, acct->data, acct->len);
	buf_puts(k, "d/");
	buf_puts(k, email_id);
}

/* "local/fts/<acct>/b/<email id>". */
void evm_fts_key_body(struct buf *k, const struct buf *acct, const char *email_id)
{
	buf_truncate(k, 0);
	buf_append(k, acct->data, acct->len);
	buf_puts(k, "b/");
	buf_puts(k, email_id);
}

/* A 4-octet little-endian length at u. */
static size_t le32(const unsigned char *u)
{
	return (size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16 | (size_t)u[3] << 24;
}

/* The names octet and the six length-prefixed parts: their parts into
 * t unless NULL, and where they end. 0, or -1 when malformed. */
static int parts_of(const char *val, size_t vlen, struct evm_fts_text *t, size_t *at_r)
{
	size_t at = 1;

	if (val == NULL || vlen < 1 || (val[0] != 'a' && val[0] != 'n'))
		return -1;
	for (size_t i = 0; i < 6; i++) {
		size_t l;

		if (vlen - at < 4)
			return -1;
		l = le32((const unsigned char *)val + at);
		at += 4;
		if (l > vlen - at || (l > 0 && val[at + l - 1] != '\0'))
			return -1;   /* pieces end with a NUL */
		if (t != NULL) {
			t->part[i] = val + at;
			t->plen[i] = l;
		}
		at += l;
	}
	*at_r = at;
	return 0;
}

int evm_fts_text_split(const char *val, size_t vlen, size_t *at_r)
{
	return parts_of(val, vlen, NULL, at_r);
}

/* The fields, then the body, pointing into val (not taken). */
int evm_fts_text_view(const char *val, size_t vlen, struct evm_fts_text *t)
{
	size_t at;

	memset(t, 0, sizeof *t);
	if (parts_of(val, vlen, t, &at) < 0) {
		memset(t, 0, sizeof *t);
		return -1;
	}
	t->names_ascii = val[0] == 'a';
	t->body = val + at;
	t->blen = vlen - at;
	return 0;
}

/* The same, taking val. */
int evm_fts_text_parse(char *val, size_t vlen, struct evm_fts_text *t)
{
	if (evm_fts_text_view(val, vlen, t) < 0) {
		free(val);
		return -1;
	}
	t->val = val;
	return 0;
}

/* RFC 9051 6.4.4 substring match on one casemapped part. */
int evm_fts_text_find(const struct evm_fts_text *t, int part, const char *mapped)
{
	const char *p = part != 0 ? strchr(EVM_FTS_TEXT_PARTS, part) : NULL;
	size_t nl = strlen(mapped), i;

	if (nl == 0)
		return p == NULL || part == EVM_FTS_F_HEADER || t->plen[p - EVM_FTS_TEXT_PARTS] > 0;
	if (p == NULL)
		return memmem(t->body, t->blen, mapped, nl) != NULL;
	i = (size_t)(p - EVM_FTS_TEXT_PARTS);
	return memmem(t->part[i], t->plen[i], mapped, nl) != NULL;
}

/* RFC 9051 6.4.4 HEADER: the needle in the value of a piece "NAME:value"
 * whose name is the field's, compared in ASCII upper case (the casemap
 * of an ASCII name, fts.h THE TEXT STORED). */
int evm_fts_text_header(const struct evm_fts_text *t, const char *name, const char *mapped)
{
	const char *h = t->part[5], *end = h + t->plen[5];
	size_t nl = strlen(name), ml = strlen(mapped);

	if (!t->names_ascii)
		return -1;
	if (nl == 0 || strchr(name, ':') != NULL)
		return 0;   /* no field name is empty or holds a ':' */
	for (const char *pc = h; pc < end; pc += strlen(pc) + 1) {
		size_t pl = strlen(pc), k;

		if (pl <= nl || pc[nl] != ':')
			continue;
		for (k = 0; k < nl; k++) {
			unsigned char c = (unsigned char)name[k];

			if ((unsigned char)pc[k] != (c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c))
				break;
		}
		if (k == nl && (ml == 0 || memmem(pc + nl + 1, pl - nl - 1, mapped, ml) != NULL))
			return 1;
	}
	return 0;
}

void evm_fts_text_clear(struct evm_fts_text *t)
{
	free(t->val);
	free(t->bval);
	memset(t, 0, sizeof *t);
}
