/* smtp_reply_ehlo - EHLO keywords of a reply, and a reply as one line. */
#include "gateway/outbound/smtp_reply.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Length of the token at s (up to SP or end). */
static size_t token_len(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && s[n] != ' ')
		n++;
	return n;
}

static int token_is(const char *s, size_t n, const char *word)
{
	return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/* SASL mechanisms after AUTH (or the old "AUTH=" form). */
static void auth_mechs(const char *s, struct smtp_ext *ext)
{
	while (*s != '\0') {
		size_t n;
		while (*s == ' ' || *s == '=')
			s++;
		n = token_len(s);
		if (token_is(s, n, "PLAIN"))
			ext->auth_plain = 1;
		else if (token_is(s, n, "LOGIN"))
			ext->auth_login = 1;
		s += n;
	}
}

/* RFC 1870 4: "SIZE" [SP 1*DIGIT]; a value that overflows is ignored. */
static void size_value(const char *s, struct smtp_ext *ext)
{
	uint64_t v = 0;

	while (*s == ' ')
		s++;
	if (*s == '\0') {
		ext->size = 1;
		return;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s != '\0' && *s != ' ')
		return;
	ext->size = 1;
	ext->size_max = v;
}

void smtp_reply_ehlo(const struct smtp_reply *r, struct smtp_ext *ext_r)
{
	memset(ext_r, 0, sizeof *ext_r);
	for (size_t i = 1; i < r->nlines; i++) {
		const char *l = r->lines[i], *eq = strchr(l, '=');
		size_t n = token_len(l);

		if (token_is(l, n, "PIPELINING"))
			ext_r->pipelining = 1;
		else if (token_is(l, n, "STARTTLS"))
			ext_r->starttls = 1;
		else if (token_is(l, n, "8BITMIME"))
			ext_r->eightbitmime = 1;
		else if (token_is(l, n, "SMTPUTF8"))
			ext_r->smtputf8 = 1;
		else if (token_is(l, n, "DSN"))
			ext_r->dsn = 1;
		else if (token_is(l, n, "CHUNKING"))
			ext_r->chunking = 1;
		else if (token_is(l, n, "BINARYMIME"))
			ext_r->binarymime = 1;
		else if (token_is(l, n, "REQUIRETLS"))
			ext_r->requiretls = 1;
		else if (token_is(l, n, "ENHANCEDSTATUSCODES"))
			ext_r->enhancedstatuscodes = 1;
		else if (token_is(l, n, "SIZE"))
			size_value(l + n, ext_r);
		else if (token_is(l, n, "AUTH"))
			auth_mechs(l + n, ext_r);
		else if (eq != NULL && eq < l + n && token_is(l, (size_t)(eq - l), "AUTH"))
			auth_mechs(eq, ext_r);
	}
}

void smtp_reply_format(const struct smtp_reply *r, char *out, size_t size)
{
	size_t n;

	if (size == 0)
		return;
	snprintf(out, size, "%03d%s%s%s%s", r->code, r->enhanced[0] != '\0' ? " " : "", r->enhanced,
		 r->text[0] != '\0' ? " " : "", r->text);
	/* Control characters would garble a one-line report. */
	for (n = 0; out[n] != '\0'; n++)
		if ((unsigned char)out[n] < 0x20 || out[n] == 0x7f)
			out[n] = '?';
}
