/* smtp_parser - see smtp_parser.h */
#include "gateway/smtp/smtp_parser.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct smtp_parser {
	size_t max_line;
	char *line;                /* max_line bytes */
	size_t len;
	int skipping;              /* over max_line: discarding up to the LF */
	struct smtp_command cmd;
};

static const struct {
	const char *name;
	enum smtp_verb verb;
} verbs[] = {
	{ "HELO", SMTP_HELO }, { "EHLO", SMTP_EHLO }, { "LHLO", SMTP_LHLO },
	{ "MAIL", SMTP_MAIL }, { "RCPT", SMTP_RCPT }, { "DATA", SMTP_DATA },
	{ "BDAT", SMTP_BDAT }, { "RSET", SMTP_RSET }, { "NOOP", SMTP_NOOP },
	{ "QUIT", SMTP_QUIT }, { "HELP", SMTP_HELP }, { "VRFY", SMTP_VRFY },
	{ "EXPN", SMTP_EXPN }, { "STARTTLS", SMTP_STARTTLS }, { "AUTH", SMTP_AUTH },
};

/* Known SMTP extensions or obsolete verbs we do not offer (RFC 5321 4.2.4: 502). */
static const char *const unimplemented[] = { "TURN", "ETRN", "ATRN", "SEND", "SOML", "SAML", "XCLIENT", "XFORWARD" };
/* A browser or proxy talking to port 25 (cross-protocol attacks): hang up. */
static const char *const non_smtp[] = { "GET", "POST", "HEAD", "PUT", "CONNECT", "OPTIONS", "DELETE" };

struct smtp_parser *smtp_parser_new(size_t max_line)
{
	struct smtp_parser *p = xcalloc(1, sizeof *p);

	p->max_line = max_line < 512 ? 512 : max_line;
	p->line = xmalloc(p->max_line);
	return p;
}

void smtp_parser_free(struct smtp_parser **pp)
{
	struct smtp_parser *p = *pp;

	if (p == NULL)
		return;
	free(p->line);
	free(p);
	*pp = NULL;
}

void smtp_parser_reset(struct smtp_parser *p)
{
	p->len = 0;
	p->skipping = 0;
}

const struct smtp_param *smtp_command_param(const struct smtp_command *cmd, const char *name)
{
	for (size_t i = 0; i < cmd->nparams; i++) {
		if (strcmp(cmd->params[i].name, name) == 0)
			return &cmd->params[i];
	}
	return NULL;
}

static int is_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* RFC 5321 4.1.2 Domain / address-literal, loosely (UTF-8 labels allowed for SMTPUTF8). */
static int domain_ok(const char *d)
{
	size_t n = strlen(d);

	if (n == 0)
		return 0;
	if (d[0] == '[')
		return n >= 3 && d[n - 1] == ']' && strchr(d + 1, '[') == NULL && strchr(d, ']') == d + n - 1;
	if (d[0] == '.' || d[n - 1] == '.' || strstr(d, "..") != NULL)
		return 0;
	for (; *d != '\0'; d++) {
		unsigned char c = (unsigned char)*d;
		if (!is_alnum(c) && c != '-' && c != '.' && c < 0x80)
			return 0;
	}
	return 1;
}

/* Mailbox = Local-part "@" Domain (RFC 5321 4.1.2); quotes already checked. */
static int mailbox_ok(const char *m)
{
	const char *at = strrchr(m, '@');

	if (at == NULL || at == m)
		return 0;
	if (m[0] != '"') {
		for (const char *s = m; s < at; s++) {
			if (*s == '"' || *s == '(' || *s == ')' || *s == ',' || *s == ':' ||
			    *s == ';' || *s == '<' || *s == '>' || *s == '[' || *s == ']' ||
			    *s == '\\' || *s == '@')
				return 0;
		}
		if (m[0] == '.' || at[-1] == '.')
			return 0;
	}
	return domain_ok(at + 1);
}

/* Parses "<path>" at *sp into cmd->path (in place); 0 or -1. */
static int parse_path(struct smtp_command *cmd, char **sp)
{
	char *s = *sp, *start, *out;
	int quoted = 0;

	if (*s != '<')
		return -1;
	start = out = ++s;
	for (;; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\0')
			return -1;
		if (quoted) {
			if (c == '\\') {
				if (s[1] == '\0')
					return -1;
				*out++ = *s++;
				c = (unsigned char)*s;
			} else if (c == '"') {
				quoted = 0;
			} else if (c < 0x20 || c == 0x7f) {
				return -1;
			}
		} else if (c == '>') {
			break;
		} else if (c == '"') {
			quoted = 1;
		} else if (c <= 0x20 || c == 0x7f || c == '<') {
			return -1;
		}
		if (c >= 0x80)
			cmd->path_8bit = 1;
		*out++ = (char)c;
	}
	*out = '\0';
	if ((size_t)(out - start) + 2 > SMTP_PATH_MAX)
		return -1;
	/* A-d-l source route "@a,@b:" is accepted and ignored (RFC 5321 4.1.2, C). */
	if (*start == '@') {
		char *colon = strchr(start, ':');
		if (colon == NULL)
			return -1;
		start = colon + 1;
	}
	cmd->path = start;
	*sp = s + 1;
	return 0;
}

/* " KEY[=VALUE]"* after a path (RFC 5321 4.1.2 Mail-parameters); values
 * may hold UTF-8 (RFC 6531 3.3). Keywords are upper-cased in place. */
static int parse_params(struct smtp_command *cmd, char *s, const char **reply_r)
{
	if (*s != '\0' && *s != ' ')
		goto syntax;
	for (;;) {
		struct smtp_param *prm;

		while (*s == ' ')
			s++;
		if (*s == '\0')
			return 0;
		if (cmd->nparams == SMTP_MAX_PARAMS) {
			*reply_r = "501 5.5.4 Too many parameters";
			return -1;
		}
		prm = &cmd->params[cmd->nparams++];
		prm->name = s;
		prm->value = NULL;
		if (!is_alnum((unsigned char)*s))
			goto syntax;
		for (; is_alnum((unsigned char)*s) || *s == '-'; s++) {
			if (*s >= 'a' && *s <= 'z')
				*s = (char)(*s - 'a' + 'A');
		}
		if (*s == '=') {
			*s++ = '\0';
			prm->value = s;
			for (; *s != '\0' && *s != ' '; s++) {
				unsigned char c = (unsigned char)*s;
				if (c < 0x21 || c == '=' || c == 0x7f)
					goto syntax;
			}
			if (s == prm->value)
				goto syntax;
		}
		if (*s == ' ')
			*s++ = '\0';
		else if (*s != '\0')
			goto syntax;
	}
syntax:
	*reply_r = "501 5.5.4 Invalid parameter syntax";
	return -1;
}

/* MAIL FROM:<path> / RCPT TO:<path> with parameters. */
static int parse_mail_rcpt(struct smtp_command *cmd, char *args, const char **reply_r)
{
	int mail = cmd->verb == SMTP_MAIL;
	const char *kw = mail ? "FROM:" : "TO:";
	size_t kwlen = strlen(kw);

	if (strncasecmp(args, kw, kwlen) != 0) {
		*reply_r = mail ? "501 5.5.4 Syntax: MAIL FROM:<address> [parameters]"
				: "501 5.5.4 Syntax: RCPT TO:<address> [parameters]";
		return -1;
	}
	args += kwlen;
	while (*args == ' ')
		args++;        /* "MAIL FROM: <a@b>" is common; tolerate it */
	if (parse_path(cmd, &args) < 0) {
		*reply_r = mail ? "501 5.1.7 Bad sender address syntax"
				: "501 5.1.3 Bad recipient address syntax";
		return -1;
	}
	if (mail ? (cmd->path[0] != '\0' && !mailbox_ok(cmd->path))
		 : (strcasecmp(cmd->path, "postmaster") != 0 && !mailbox_ok(cmd->path))) {
		*reply_r = mail ? "501 5.1.7 Bad sender address syntax"
				: "501 5.1.3 Bad recipient address syntax";
		return -1;
	}
	return parse_params(cmd, args, reply_r);
}

/* BDAT chunk-size [SP "LAST"] (RFC 3030 2). */
static int parse_bdat(struct smtp_command *cmd, char *args, const char **reply_r)
{
	size_t digits = 0;

	cmd->bdat_size = 0;
	for (; *args >= '0' && *args <= '9'; args++) {
		if (++digits > 18)
			goto syntax;
		cmd->bdat_size = cmd->bdat_size * 10 + (uint64_t)(*args - '0');
	}
	if (digits == 0)
		goto syntax;
	if (*args == ' ') {
		while (*args == ' ')
			args++;
		if (strcasecmp(args, "LAST") != 0)
			goto syntax;
		cmd->bdat_last = 1;
	} else if (*args != '\0') {
		goto syntax;
	}
	return 0;
syntax:
	*reply_r = "501 5.5.4 Syntax: BDAT size [LAST]";
	return -1;
}

static enum smtp_parse_status parse_line(struct smtp_parser *p, char *line, size_t len,
					 const struct smtp_command **cmd_r, const char **reply_r)
{
	struct smtp_command *cmd = &p->cmd;
	char *args, *end;
	size_t vlen, i;

	if (memchr(line, '\0', len) != NULL) {
		*reply_r = "500 5.5.2 NUL character in command";
		return SMTP_PARSE_ERROR;
	}
	if (memchr(line, '\r', len) != NULL) {
		*reply_r = "500 5.5.2 Bare CR in command (RFC 5321 2.3.8)";
		return SMTP_PARSE_ERROR;
	}
	line[len] = '\0';
	memset(cmd, 0, sizeof *cmd);
	cmd->arg = cmd->path = line + len;
	vlen = strcspn(line, " ");
	args = line + vlen;
	while (*args == ' ')
		args++;
	end = args + strlen(args);
	while (end > args && end[-1] == ' ')
		*--end = '\0';
	for (i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
		if (strlen(verbs[i].name) == vlen && strncasecmp(line, verbs[i].name, vlen) == 0)
			break;
	}
	if (i == sizeof verbs / sizeof verbs[0]) {
		for (i = 0; i < sizeof non_smtp / sizeof non_smtp[0]; i++) {
			if (strlen(non_smtp[i]) == vlen && strncmp(line, non_smtp[i], vlen) == 0) {
				*reply_r = "421 4.7.0 Non-SMTP command, closing connection";
				return SMTP_PARSE_FATAL;
			}
		}
		*reply_r = "500 5.5.1 Command unrecognized";
		for (i = 0; i < sizeof unimplemented / sizeof unimplemented[0]; i++) {
			if (strlen(unimplemented[i]) == vlen && strncasecmp(line, unimplemented[i], vlen) == 0)
				*reply_r = "502 5.5.1 Command not implemented";
		}
		return SMTP_PARSE_ERROR;
	}
	cmd->verb = verbs[i].verb;
	cmd->name = verbs[i].name;
	cmd->arg = args;
	switch (cmd->verb) {
	case SMTP_HELO:
	case SMTP_EHLO:
	case SMTP_LHLO:
		if (*args == '\0') {
			*reply_r = cmd->verb == SMTP_HELO ? "501 5.5.4 Syntax: HELO hostname" :
				   cmd->verb == SMTP_EHLO ? "501 5.5.4 Syntax: EHLO hostname" :
				   "501 5.5.4 Syntax: LHLO hostname";
			return SMTP_PARSE_ERROR;
		}
		break;
	case SMTP_MAIL:
	case SMTP_RCPT:
		if (parse_mail_rcpt(cmd, args, reply_r) < 0)
			return SMTP_PARSE_ERROR;
		break;
	case SMTP_BDAT:
		if (parse_bdat(cmd, args, reply_r) < 0)
			return SMTP_PARSE_ERROR;
		break;
	case SMTP_DATA:
	case SMTP_RSET:
	case SMTP_QUIT:
	case SMTP_STARTTLS:
		if (*args != '\0') {
			*reply_r = "501 5.5.4 Syntax error: no parameters allowed";
			return SMTP_PARSE_ERROR;
		}
		break;
	case SMTP_VRFY:
	case SMTP_EXPN:
		if (*args == '\0') {
			*reply_r = "501 5.5.4 Syntax: VRFY/EXPN string";
			return SMTP_PARSE_ERROR;
		}
		break;
	case SMTP_AUTH:            /* AUTH mechanism [initial-response] */
		if (*args == '\0') {
			*reply_r = "501 5.5.4 Syntax: AUTH mechanism [initial-response]";
			return SMTP_PARSE_ERROR;
		}
		if ((end = strchr(args, ' ')) != NULL) {
			*end++ = '\0';
			while (*end == ' ')
				end++;
			if (strchr(end, ' ') != NULL) {
				*reply_r = "501 5.5.4 Syntax: AUTH mechanism [initial-response]";
				return SMTP_PARSE_ERROR;
			}
			cmd->auth_ir = end;
		}
		break;
	case SMTP_NOOP:
	case SMTP_HELP:
		break;
	}
	*cmd_r = cmd;
	return SMTP_PARSE_COMMAND;
}

/* Collects one line into p->line: SMTP_PARSE_COMMAND when complete (its
 * length without CR LF in *len_r), MORE, or ERROR (too long). */
static enum smtp_parse_status take_line(struct smtp_parser *p, const unsigned char *in, size_t len,
					size_t *consumed_r, size_t *len_r, const char *too_long,
					const char **reply_r)
{
	const unsigned char *lf = memchr(in, '\n', len);
	size_t take = lf != NULL ? (size_t)(lf - in) : len;

	*reply_r = NULL;
	*consumed_r = lf != NULL ? take + 1 : len;
	if (!p->skipping) {
		/* Room for the line, its CR and the LF within max_line; the
		 * buffer keeps one byte for the terminating NUL. */
		if (p->len + take > p->max_line - 1) {
			p->skipping = 1;
			p->len = 0;
		} else {
			memcpy(p->line + p->len, in, take);
			p->len += take;
		}
	}
	if (lf == NULL)
		return SMTP_PARSE_MORE;
	if (p->skipping) {
		smtp_parser_reset(p);
		*reply_r = too_long;
		return SMTP_PARSE_ERROR;
	}
	len = p->len;
	p->len = 0;
	if (len > 0 && p->line[len - 1] == '\r')
		len--;
	*len_r = len;
	return SMTP_PARSE_COMMAND;
}

enum smtp_parse_status smtp_parser_feed(struct smtp_parser *p, const unsigned char *in, size_t len,
					size_t *consumed_r, const struct smtp_command **cmd_r,
					const char **reply_r)
{
	enum smtp_parse_status st;
	size_t n = 0;

	*cmd_r = NULL;
	st = take_line(p, in, len, consumed_r, &n, "500 5.5.2 Line too long", reply_r);
	if (st != SMTP_PARSE_COMMAND)
		return st;
	return parse_line(p, p->line, n, cmd_r, reply_r);
}

enum smtp_parse_status smtp_parser_feed_line(struct smtp_parser *p, const unsigned char *in, size_t len,
					     size_t *consumed_r, const char **line_r, size_t *len_r,
					     const char **reply_r)
{
	enum smtp_parse_status st;

	*line_r = NULL;
	*len_r = 0;
	st = take_line(p, in, len, consumed_r, len_r,
		       "500 5.5.6 Authentication exchange line is too long", reply_r);
	if (st == SMTP_PARSE_COMMAND) {
		p->line[*len_r] = '\0';
		*line_r = p->line;
	}
	return st;
}
