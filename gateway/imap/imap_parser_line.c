/* imap_parser_line - the IMAP command line grammar, one octet at a time:
 * tag, command name (and the UID prefix), atoms with their [sections],
 * quoted strings and lists (RFC 9051 9; RFC 3501 9). */
#include "gateway/imap/imap_parser_private.h"

#include <string.h>
#include <strings.h>

/* CTL (RFC 9051 9: %x00-1F / %x7F) or 8-bit. */
static bool is_ctl_or_8bit(unsigned char c)
{
	return c < 0x20 || c >= 0x7f;
}

/* tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 9). */
static bool is_tag_char(unsigned char c)
{
	return !is_ctl_or_8bit(c) && c != ' ' && strchr("(){%*\"\\+", c) == NULL;
}

/* ATOM-CHAR, plus what atoms may hold where the parser cannot know the
 * context: list-wildcards '%' '*' (LIST), '\' (flags such as \Seen) and
 * ']' (ASTRING-CHAR). '[' opens a section kept inside the atom. */
static bool is_atom_char(unsigned char c)
{
	return !is_ctl_or_8bit(c) && c != ' ' && strchr("(){\"", c) == NULL;
}

/* A command name: strict ATOM-CHARs, no section. */
static bool name_valid(const char *s, size_t len)
{
	if (len == 0 || len > IMAP_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_atom_char((unsigned char)s[i]) || strchr("%*\\[]", s[i]) != NULL)
			return false;
	}
	return true;
}

/* Counts one more argument against max_args. */
static bool arg_allowed(struct imap_parser *p)
{
	return ++p->argc <= p->lim.max_args;
}

/* LF at the end of a line outside any token: the command is complete. */
static enum imap_step end_of_line(struct imap_parser *p, unsigned char c)
{
	if (p->phase == PH_NAME)
		return imap_parser_fail(p, p->cmd.uid ? "Missing command after UID" : "Missing command", c);
	if (p->args.depth > 0)
		return imap_parser_fail(p, "Missing ')'", c);
	p->cmd.args = imap_args_finish(&p->args, &p->arena, &p->cmd.nargs);
	p->finished = true;
	return STEP_COMMAND;
}

/* The tag ends at its SP (or, wrongly, at the line end). */
static enum imap_step tag_byte(struct imap_parser *p, unsigned char c)
{
	if (is_tag_char(c)) {
		if (p->tok.len == IMAP_TAG_MAX)
			return imap_parser_fail(p, "Tag too long", c);
		buf_append(&p->tok, &c, 1);
		return STEP_MORE;
	}
	if (p->tok.len == 0)
		return imap_parser_fail(p, c == ' ' || c == '\r' || c == '\n' ? "Missing tag" : "Invalid tag", c);
	if (c != ' ' && c != '\r' && c != '\n')
		return imap_parser_fail(p, "Invalid tag", c);
	memcpy(p->cmd.tag, p->tok.data, p->tok.len + 1);
	buf_truncate(&p->tok, 0);
	p->state = PS_ARGS;
	if (c != ' ')
		return imap_parser_fail(p, "Missing command", c);
	return STEP_MORE;
}

/* A complete atom: the command name, the UID prefix, NIL or an ATOM. */
static bool atom_finish(struct imap_parser *p)
{
	const char *s = p->tok.data;
	size_t len = p->tok.len;

	bool ok = true;

	p->state = PS_ARGS;
	p->need_sep = true;
	if (p->phase == PH_ARGS) {
		struct imap_arg *arg = imap_args_add(&p->args, strcasecmp(s, "NIL") == 0 ? IMAP_ARG_NIL : IMAP_ARG_ATOM);

		arg->str = imap_arena_strndup(&p->arena, s, len);
		arg->len = len;
	} else if (!name_valid(s, len)) {
		ok = false;
	} else if (!p->cmd.uid && strcasecmp(s, "UID") == 0) {
		p->cmd.uid = true;
	} else {
		for (size_t i = 0; i <= len; i++)
			p->cmd.name[i] = (s[i] >= 'a' && s[i] <= 'z') ? (char)(s[i] - 'a' + 'A') : s[i];
		p->phase = PH_ARGS;
	}
	buf_truncate(&p->tok, 0);
	return ok;
}

static enum imap_step args_byte(struct imap_parser *p, unsigned char c);

/* Inside an atom; '[' starts a section that may hold SP, lists and quoted
 * strings (BODY[HEADER.FIELDS (From)]<0.100>, RFC 9051 6.4.5). */
static enum imap_step atom_byte(struct imap_parser *p, unsigned char c)
{
	if (is_atom_char(c)) {
		buf_append(&p->tok, &c, 1);
		if (c == '[') {
			p->state = PS_BRACKET;
			p->bracket_at = p->tok.len;
		}
		return STEP_MORE;
	}
	if (!atom_finish(p))
		return imap_parser_fail(p, "Invalid command name", c);
	return args_byte(p, c);
}

/* The line ends, or a second '[' comes, inside an unclosed "[": it was no
 * section but an ASTRING-CHAR ('[' is an ATOM-CHAR, RFC 9051 9), as in
 * the mailbox "a[b" or "RENAME a[b c[d]". The atom ends at the first
 * octet after the '[' that no atom may hold; what followed it is read
 * again as ordinary arguments, then c. That text holds no CR, LF, '{' or
 * '[' (each ends or refuses a section), so it cannot complete the command
 * nor leave a section open: the loop runs once, and as the next section
 * can only start at c or later, every octet is read again at most once. */
static enum imap_step bracket_unclosed(struct imap_parser *p, unsigned char c)
{
	while (p->state == PS_BRACKET) {
		struct buf tail = BUF_INIT;
		size_t k = p->bracket_at;

		while (k < p->tok.len && is_atom_char((unsigned char)p->tok.data[k]))
			k++;
		buf_append(&tail, p->tok.data + k, p->tok.len - k);
		buf_truncate(&p->tok, k);
		if (!atom_finish(p)) {
			buf_free(&tail);
			return imap_parser_fail(p, "Invalid command name", c);
		}
		for (size_t i = 0; i < tail.len && p->state != PS_SKIP; i++)
			imap_parser_text_byte(p, (unsigned char)tail.data[i]);
		buf_free(&tail);
	}
	return imap_parser_text_byte(p, c);
}

/* Inside the "[...]" section of an atom (raw, handlers parse it). */
static enum imap_step bracket_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case PS_BRACKET:
		if (c == '{' || (is_ctl_or_8bit(c) && c != '\r' && c != '\n'))
			return imap_parser_fail(p, "Invalid characters in section", c);
		if (c == '\r' || c == '\n' || c == '[')
			return bracket_unclosed(p, c);
		if (c == ']')
			p->state = PS_ATOM;
		else if (c == '"')
			p->state = PS_BRACKET_QUOTED;
		break;
	case PS_BRACKET_QUOTED:
		if (c == '\0' || c == '\r' || c == '\n')
			return imap_parser_fail(p, "Invalid characters in quoted string", c);
		if (c == '"')
			p->state = PS_BRACKET;
		else if (c == '\\')
			p->state = PS_BRACKET_ESC;
		break;
	default:
		if (c != '"' && c != '\\')
			return imap_parser_fail(p, "Invalid escape in quoted string", c);
		p->state = PS_BRACKET_QUOTED;
		break;
	}
	buf_append(&p->tok, &c, 1);
	return STEP_MORE;
}

/* Inside a quoted string: only \" and \\ escapes; no CR, LF or NUL;
 * 8-bit (UTF-8) allowed (RFC 9051 9: quoted; RFC 6855 3). */
static enum imap_step quoted_byte(struct imap_parser *p, unsigned char c)
{
	if (p->state == PS_QUOTED_ESC) {
		if (c != '"' && c != '\\')
			return imap_parser_fail(p, "Invalid escape in quoted string", c);
		p->state = PS_QUOTED;
	} else if (c == '\\') {
		p->state = PS_QUOTED_ESC;
		return STEP_MORE;
	} else if (c == '"') {
		struct imap_arg *arg = imap_args_add(&p->args, IMAP_ARG_STRING);

		arg->len = p->tok.len;
		arg->str = imap_arena_strndup(&p->arena, p->tok.len > 0 ? p->tok.data : "", p->tok.len);
		buf_truncate(&p->tok, 0);
		p->state = PS_ARGS;
		p->need_sep = true;
		return STEP_MORE;
	} else if (c == '\0' || c == '\r' || c == '\n') {
		return imap_parser_fail(p, "Invalid characters in quoted string", c);
	}
	buf_append(&p->tok, &c, 1);
	return STEP_MORE;
}

/* Between tokens: separators, list brackets, the line end, token starts. */
static enum imap_step args_byte(struct imap_parser *p, unsigned char c)
{
	p->state = PS_ARGS;
	if (c == ' ') {
		p->need_sep = false;   /* extra SPs are harmless: accepted */
		return STEP_MORE;
	}
	if (c == '\r') {
		p->state = PS_CR;
		return STEP_MORE;
	}
	if (c == '\n')
		return end_of_line(p, c);
	if (p->phase == PH_NAME) {
		if (!is_atom_char(c))
			return imap_parser_fail(p, "Invalid command name", c);
		p->state = PS_ATOM;
		return atom_byte(p, c);
	}
	if (c == ')') {
		if (p->args.depth == 0)
			return imap_parser_fail(p, "Unexpected ')'", c);
		imap_args_close(&p->args, &p->arena);
		p->need_sep = true;
		return STEP_MORE;
	}
	if (!is_atom_char(c) && c != '(' && c != '"' && c != '{')
		return imap_parser_fail(p, "Invalid characters in argument", c);
	if (p->need_sep)
		return imap_parser_fail(p, "Missing space between arguments", c);
	if (!arg_allowed(p))
		return imap_parser_fail(p, "Too many arguments", c);
	switch (c) {
	case '(':
		if (p->args.depth >= p->lim.max_depth)
			return imap_parser_fail(p, "Lists nested too deeply", c);
		imap_args_open(&p->args);
		return STEP_MORE;
	case '"':
		p->state = PS_QUOTED;
		return STEP_MORE;
	case '{':
		imap_parser_literal_start(p, false);
		return STEP_MORE;
	case '~':
		p->state = PS_TILDE;
		return STEP_MORE;
	default:
		p->state = PS_ATOM;
		return atom_byte(p, c);
	}
}

/* One octet of command text (not literal data). */
enum imap_step imap_parser_text_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case PS_TAG:
		return tag_byte(p, c);
	case PS_ARGS:
		return args_byte(p, c);
	case PS_CR:
		if (c != '\n')
			return imap_parser_fail(p, "CR not followed by LF", c);
		return end_of_line(p, c);
	case PS_ATOM:
		return atom_byte(p, c);
	case PS_TILDE:
		if (c == '{') {
			imap_parser_literal_start(p, true);
			return STEP_MORE;
		}
		buf_append(&p->tok, "~", 1);
		p->state = PS_ATOM;
		return atom_byte(p, c);
	case PS_BRACKET:
	case PS_BRACKET_QUOTED:
	case PS_BRACKET_ESC:
		return bracket_byte(p, c);
	case PS_QUOTED:
	case PS_QUOTED_ESC:
		return quoted_byte(p, c);
	case PS_LIT_SIZE:
	case PS_LIT_CLOSE:
	case PS_LIT_CR:
	case PS_LIT_LF:
		return imap_parser_literal_byte(p, c);
	case PS_SKIP:
		return imap_parser_skip_byte(p, c);
	default:
		return imap_parser_fail(p, "Internal parser error", c);
	}
}
