/* pop3_parser - see pop3_parser.h */
#include "gateway/pop3/pop3_parser.h"
#include "common/buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct pop3_parser {
	char line[POP3_LINE_MAX + 1];  /* the line so far (without its LF) */
	size_t len;
	int overflow;                  /* the line went past POP3_LINE_MAX */
	int sasl;                      /* the next line is a SASL response */
	char words[POP3_LINE_MAX + 1]; /* the split copy args point into */
	char rest[POP3_LINE_MAX + 1];
	struct pop3_command cmd;
};

struct pop3_parser *pop3_parser_new(void)
{
	return xcalloc(1, sizeof(struct pop3_parser));
}

void pop3_parser_free(struct pop3_parser **p)
{
	if (*p == NULL)
		return;
	explicit_bzero(*p, sizeof **p);     /* passwords went through it */
	free(*p);
	*p = NULL;
}

void pop3_parser_reset(struct pop3_parser *p)
{
	p->len = 0;
	p->overflow = 0;
	p->sasl = 0;
}

void pop3_parser_expect_sasl(struct pop3_parser *p)
{
	p->sasl = 1;
}

/* Splits the complete line (CR removed) into the command. */
static enum pop3_parse_status parse_line(struct pop3_parser *p, const char **error_r)
{
	struct pop3_command *c = &p->cmd;
	size_t n = p->len, i, klen;
	char *w;

	memset(c, 0, sizeof *c);
	if (n > 0 && p->line[n - 1] == '\r')
		n--;
	if (memchr(p->line, '\r', n) != NULL || memchr(p->line, '\0', n) != NULL) {
		*error_r = "Invalid character in line";
		return POP3_PARSE_ERROR;
	}
	memcpy(p->rest, p->line, n);
	p->rest[n] = '\0';
	if (p->sasl) {
		p->sasl = 0;
		c->rest = p->rest;
		return POP3_PARSE_LINE;
	}
	for (klen = 0; klen < n && p->line[klen] != ' '; klen++)
		;
	if (klen < 3 || klen > 4) {
		*error_r = n == 0 ? "Empty command" : "Unknown command";
		return POP3_PARSE_ERROR;
	}
	for (i = 0; i < klen; i++) {
		if (!isalpha((unsigned char)p->line[i])) {
			*error_r = "Unknown command";
			return POP3_PARSE_ERROR;
		}
		c->name[i] = (char)toupper((unsigned char)p->line[i]);
	}
	c->rest = klen < n ? p->rest + klen + 1 : p->rest + klen;
	memcpy(p->words, p->line, n);
	p->words[n] = '\0';
	w = p->words + klen;
	while (*w != '\0') {
		while (*w == ' ')
			*w++ = '\0';
		if (*w == '\0')
			break;
		if (c->nargs == POP3_ARGS_MAX) {
			*error_r = "Too many arguments";
			return POP3_PARSE_ERROR;
		}
		c->args[c->nargs++] = w;
		while (*w != '\0' && *w != ' ')
			w++;
	}
	return POP3_PARSE_COMMAND;
}

enum pop3_parse_status pop3_parser_feed(struct pop3_parser *p, const unsigned char *in, size_t len,
					size_t *consumed_r, const struct pop3_command **cmd_r,
					const char **error_r)
{
	const unsigned char *lf = memchr(in, '\n', len);
	size_t take = lf != NULL ? (size_t)(lf - in) : len;
	enum pop3_parse_status st;

	*consumed_r = lf != NULL ? take + 1 : take;
	*cmd_r = NULL;
	*error_r = NULL;
	if (!p->overflow && take > POP3_LINE_MAX - 1 - p->len)
		p->overflow = 1;     /* the line with its LF would pass the limit */
	if (!p->overflow) {
		memcpy(p->line + p->len, in, take);
		p->len += take;
	}
	if (lf == NULL)
		return POP3_PARSE_MORE;
	if (p->overflow) {
		*error_r = "Line too long";
		st = POP3_PARSE_ERROR;
		p->sasl = 0;
	} else {
		st = parse_line(p, error_r);
		if (st != POP3_PARSE_ERROR)
			*cmd_r = &p->cmd;
		else
			p->sasl = 0;
	}
	explicit_bzero(p->line, p->len);
	p->len = 0;
	p->overflow = 0;
	return st;
}
