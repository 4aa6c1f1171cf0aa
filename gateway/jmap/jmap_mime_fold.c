/* jmap_mime_fold - see jmap_mime_fold.h. */
#include "gateway/jmap/jmap_mime_fold.h"
#include "gateway/jmap/jmap_mime_write.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

/* Longest token we write: with the folding space it fits a line. */
#define TOKEN_MAX (JMAP_MIME_LINE_MAX - 2)
/* RFC 2047 2: an encoded-word is at most 75 octets; 45 octets of UTF-8
 * are 60 of base64, plus "=?utf-8?B?" and "?=". */
#define EW_CHUNK 45

int jmap_mime_field_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 76)
		return 0;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x21 || *p > 0x7e || *p == ':')
			return 0;
	return 1;
}

void jmap_fold_begin(struct jmap_fold *f, struct buf *out, const char *name)
{
	f->out = out;
	f->start = out->len;
	f->error = NULL;
	f->ntok = 0;
	buf_printf(out, "%s:", name);
	f->col = strlen(name) + 1;
	if (!jmap_mime_field_name_ok(name))
		f->error = "not a valid header field name";
}

/* Adds " token", folding before it when the line would pass 78 octets
 * (never before the first token: that would leave an empty first line). */
void jmap_fold_tok(struct jmap_fold *f, const char *t, size_t len)
{
	if (f->error != NULL)
		return;
	if (len > TOKEN_MAX) {
		f->error = "a word of the value is too long for a header line";
		return;
	}
	if (f->ntok > 0 && f->col + 1 + len > JMAP_MIME_FOLD) {
		buf_puts(f->out, "\r\n");
		f->col = 0;
	} else if (f->col + 1 + len > JMAP_MIME_LINE_MAX) {
		f->error = "a word of the value is too long for a header line";
		return;
	}
	buf_puts(f->out, " ");
	buf_append(f->out, t, len);
	f->col += 1 + len;
	f->ntok++;
}

/* Appends s to the last token (a separator that must not be folded off). */
void jmap_fold_stick(struct jmap_fold *f, const char *s)
{
	buf_puts(f->out, s);
	f->col += strlen(s);
}

int jmap_fold_end(struct jmap_fold *f, const char **error_r)
{
	if (f->error != NULL) {
		buf_truncate(f->out, f->start);
		*error_r = f->error;
		return -1;
	}
	buf_puts(f->out, "\r\n");
	return 0;
}

/* RFC 2047 encoded-words ("B", utf-8) for s[len], as tokens; chunks end on
 * UTF-8 character boundaries. */
void jmap_fold_encoded(struct jmap_fold *f, const char *s, size_t len)
{
	size_t i = 0;

	if (len == 0) {
		jmap_fold_tok(f, "=?utf-8?B?" "?=", 12);
		return;
	}
	while (i < len) {
		unsigned char b64[EW_CHUNK * 2];
		char word[EW_CHUNK * 2 + 16];
		size_t n = len - i < EW_CHUNK ? len - i : EW_CHUNK;
		int m;

		while (n > 1 && i + n < len && ((unsigned char)s[i + n] & 0xC0) == 0x80)
			n--;
		m = EVP_EncodeBlock(b64, (const unsigned char *)s + i, (int)n);
		snprintf(word, sizeof word, "=?utf-8?B?%.*s?=", m, (const char *)b64);
		jmap_fold_tok(f, word, strlen(word));
		i += n;
	}
}

