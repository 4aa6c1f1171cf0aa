/* smtp_reply - push parser for SMTP replies (see smtp_reply.h). */
#include "gateway/outbound/smtp_reply.h"
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct smtp_reply_parser {
	struct buf line;               /* the line being read, without LF */
	char *lines[SMTP_REPLY_LINES_MAX];
	size_t nlines;
	size_t total;                  /* bytes of the current reply so far */
	int code;
	int finished;                  /* the last feed returned a reply */
	struct buf text;
	struct smtp_reply reply;
	char error[128];               /* "" unless failed */
};

struct smtp_reply_parser *smtp_reply_parser_new(void)
{
	struct smtp_reply_parser *p = xcalloc(1, sizeof *p);

	buf_puts(&p->line, "");
	return p;
}

/* Drops the lines of the previous or partial reply. */
static void clear_reply(struct smtp_reply_parser *p)
{
	for (size_t i = 0; i < p->nlines; i++)
		free(p->lines[i]);
	p->nlines = 0;
	p->total = 0;
	p->code = 0;
	p->finished = 0;
	buf_truncate(&p->line, 0);
	buf_truncate(&p->text, 0);
	memset(&p->reply, 0, sizeof p->reply);
}

void smtp_reply_parser_reset(struct smtp_reply_parser *p)
{
	clear_reply(p);
	p->error[0] = '\0';
}

void smtp_reply_parser_free(struct smtp_reply_parser **pp)
{
	struct smtp_reply_parser *p = *pp;

	if (p == NULL)
		return;
	clear_reply(p);
	buf_free(&p->line);
	buf_free(&p->text);
	free(p);
	*pp = NULL;
}

/* Records the (final) error. */
static enum smtp_reply_status fail(struct smtp_reply_parser *p, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum smtp_reply_status fail(struct smtp_reply_parser *p, const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof p->error, fmt, ap);
	va_end(ap);
	*error_r = p->error;
	return SMTP_REPLY_ERROR;
}

/* RFC 3463 2: class "." subject "." detail, subject and detail 1-3 digits.
 * Returns the length of the code at s (followed by SP or end) or 0. */
static size_t enhanced_len(const char *s)
{
	size_t i = 1;

	if (s[0] != '2' && s[0] != '4' && s[0] != '5')
		return 0;
	for (int part = 0; part < 2; part++) {
		size_t n = 0;
		if (s[i++] != '.')
			return 0;
		while (s[i] >= '0' && s[i] <= '9' && n < 4)
			i++, n++;
		if (n == 0 || n > 3)
			return 0;
	}
	return s[i] == ' ' || s[i] == '\0' ? i : 0;
}

/* The reply is complete: enhanced code and joined text. */
static void build_reply(struct smtp_reply_parser *p)
{
	size_t n = enhanced_len(p->lines[0]);

	if (n > 0 && n < sizeof p->reply.enhanced && p->lines[0][0] - '0' == p->code / 100)
		memcpy(p->reply.enhanced, p->lines[0], n), p->reply.enhanced[n] = '\0';
	buf_truncate(&p->text, 0);
	for (size_t i = 0; i < p->nlines; i++) {
		const char *t = p->lines[i];
		if (p->reply.enhanced[0] != '\0' && (n = enhanced_len(t)) > 0)
			for (t += n; *t == ' '; t++)
				;
		if (*t == '\0')
			continue;
		if (p->text.len > 0)
			buf_puts(&p->text, " ");
		buf_puts(&p->text, t);
	}
	buf_puts(&p->text, "");
	p->reply.code = p->code;
	p->reply.text = p->text.data;
	p->reply.lines = (const char *const *)p->lines;
	p->reply.nlines = p->nlines;
	p->finished = 1;
}

/* One complete line (LF removed). Returns 1 when it ended the reply, 0 for
 * more lines, -1 on error. RFC 5321 4.2. */
static int take_line(struct smtp_reply_parser *p, const char **error_r, enum smtp_reply_status *st_r)
{
	char *l = p->line.data;
	size_t len = p->line.len;
	int code;

	if (len > 0 && l[len - 1] == '\r')
		l[--len] = '\0';
	if (memchr(l, '\r', len) != NULL)
		return *st_r = fail(p, error_r, "bare CR in reply line"), -1;
	if (len < 3 || l[0] < '2' || l[0] > '5' || l[1] < '0' || l[1] > '5' || l[2] < '0' || l[2] > '9')
		return *st_r = fail(p, error_r, "malformed reply line (no reply code)"), -1;
	if (len > 3 && l[3] != ' ' && l[3] != '-')
		return *st_r = fail(p, error_r, "malformed reply line (bad separator)"), -1;
	code = (l[0] - '0') * 100 + (l[1] - '0') * 10 + (l[2] - '0');
	if (p->nlines > 0 && code != p->code)
		return *st_r = fail(p, error_r, "inconsistent reply codes %d and %d in one reply", p->code, code), -1;
	if (p->nlines == SMTP_REPLY_LINES_MAX)
		return *st_r = fail(p, error_r, "reply has more than %d lines", SMTP_REPLY_LINES_MAX), -1;
	p->code = code;
	p->lines[p->nlines++] = xstrdup(len > 3 ? l + 4 : "");
	buf_truncate(&p->line, 0);
	if (len > 3 && l[3] == '-')
		return 0;
	build_reply(p);
	return 1;
}

enum smtp_reply_status smtp_reply_feed(struct smtp_reply_parser *p, const unsigned char *in, size_t len,
				       size_t *consumed_r, const struct smtp_reply **reply_r,
				       const char **error_r)
{
	enum smtp_reply_status st = SMTP_REPLY_MORE;

	*consumed_r = 0;
	if (p->error[0] != '\0') {
		*error_r = p->error;
		return SMTP_REPLY_ERROR;
	}
	if (p->finished)
		clear_reply(p);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = in[i];
		int r;

		*consumed_r = i + 1;
		if (++p->total > SMTP_REPLY_TOTAL_MAX)
			return fail(p, error_r, "reply longer than %d bytes", SMTP_REPLY_TOTAL_MAX);
		if (c == '\0')
			return fail(p, error_r, "NUL in reply");
		if (c != '\n') {
			if (p->line.len + 2 > SMTP_REPLY_LINE_MAX)
				return fail(p, error_r, "reply line longer than %d bytes", SMTP_REPLY_LINE_MAX);
			buf_append(&p->line, &c, 1);
			continue;
		}
		if ((r = take_line(p, error_r, &st)) < 0)
			return st;
		if (r == 1) {
			*reply_r = &p->reply;
			return SMTP_REPLY_DONE;
		}
	}
	return SMTP_REPLY_MORE;
}
