/* imap_parser - the IMAP command parser's life cycle and its feed loop
 * (see imap_parser.h). The command line grammar is in imap_parser_line.c,
 * literals and error recovery in imap_parser_literal.c, the argument tree
 * and arena in imap_parser_args.c. */
#include "gateway/imap/imap_parser_private.h"

#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_LINE 65536
#define DEFAULT_MAX_LITERAL (64u * 1024 * 1024)
#define DEFAULT_MAX_ARGS 10000
#define DEFAULT_MAX_DEPTH 16
/* A literal buffer bigger than this is not kept for the next command. */
#define LIT_KEEP_MAX 65536

/* The limits with each 0 field replaced by its default. */
static struct imap_parser_limits limits_or_default(const struct imap_parser_limits *l)
{
	struct imap_parser_limits r = { 0 };

	if (l != NULL)
		r = *l;
	if (r.max_line == 0)
		r.max_line = DEFAULT_MAX_LINE;
	if (r.max_literal == 0)
		r.max_literal = DEFAULT_MAX_LITERAL;
	if (r.max_args == 0)
		r.max_args = DEFAULT_MAX_ARGS;
	if (r.max_depth == 0)
		r.max_depth = DEFAULT_MAX_DEPTH;
	return r;
}

/* Forgets the current command and prepares for the next one. */
static void begin_command(struct imap_parser *p)
{
	p->fresh = true;
	p->finished = false;
	p->state = PS_TAG;
	p->phase = PH_NAME;
	p->need_sep = false;
	p->text_len = 0;
	buf_truncate(&p->tok, 0);
	if (p->lit.cap > LIT_KEEP_MAX)
		buf_free(&p->lit);
	buf_truncate(&p->lit, 0);
	p->lit_size = 0;
	p->too_big = false;
	p->error = NULL;
	p->skip_lit = SL_NONE;
	p->argc = 0;
	imap_arena_clear(&p->arena);
	imap_args_clear(&p->args);
	memset(&p->cmd, 0, sizeof p->cmd);
	strcpy(p->cmd.tag, "*");
}

/* A parser with the given limits (NULL: defaults). */
struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = xcalloc(1, sizeof *p);

	p->next_lim = limits_or_default(limits);
	p->lim = p->next_lim;
	begin_command(p);
	return p;
}

/* Frees the parser and everything a returned command points to. */
void imap_parser_free(struct imap_parser **pp)
{
	struct imap_parser *p = *pp;

	if (p == NULL)
		return;
	imap_arena_clear(&p->arena);
	imap_args_free(&p->args);
	buf_free(&p->tok);
	buf_free(&p->lit);
	free(p);
	*pp = NULL;
}

/* New limits, taking effect when the next command starts. */
void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits)
{
	p->next_lim = limits_or_default(limits);
}

/* Whether the last error was a literal over max_literal. */
bool imap_parser_literal_too_big(const struct imap_parser *p)
{
	return p->too_big;
}

/* Whether the input can no longer be parsed (RFC 7888 4). */
bool imap_parser_fatal(const struct imap_parser *p)
{
	return p->fatal;
}

/* Drops any partial command (not a fatal error: that input stays lost). */
const struct imap_command *imap_parser_pending(const struct imap_parser *p)
{
	return &p->cmd;
}

void imap_parser_reset(struct imap_parser *p)
{
	begin_command(p);
}

/* Octets of the literal being read (or skipped) still to come. */
size_t imap_parser_literal_remaining(const struct imap_parser *p)
{
	if (p->state == PS_LIT_DATA)
		return (size_t)p->lit_size;
	if (p->state == PS_SKIP_LITERAL)
		return (size_t)p->skip_size;
	return 0;
}

/* Records the first error and resynchronises from octet c on. */
enum imap_step imap_parser_fail(struct imap_parser *p, const char *msg, unsigned char c)
{
	if (p->error == NULL)
		p->error = msg;
	/* Inside a literal announcement (e.g. max_line reached at a digit):
	 * keep what was read so that the literal is still recognised. */
	p->skip_lit = SL_NONE;
	p->skip_size = p->lit_size;
	p->skip_plus = p->lit_plus;
	if (p->state == PS_LIT_SIZE)
		p->skip_lit = p->lit_digits > 0 ? SL_DIGITS : SL_BRACE;
	else if (p->state == PS_LIT_CLOSE)
		p->skip_lit = SL_PLUS;
	else if (p->state == PS_LIT_CR)
		p->skip_lit = SL_CLOSE;
	else if (p->state == PS_LIT_LF)
		p->skip_lit = SL_CR;
	p->state = PS_SKIP;
	return imap_parser_skip_byte(p, c);
}

/* The erroneous command's line is over: report it. */
enum imap_step imap_parser_error_done(struct imap_parser *p)
{
	p->cmd.args = NULL;
	p->cmd.nargs = 0;
	p->finished = true;
	return STEP_ERROR;
}

/* Parses octets until a result (see imap_parser.h for the contract). */
enum imap_parse_result imap_parser_feed(struct imap_parser *p, const char *data, size_t len,
					size_t *consumed_r, struct imap_command **cmd_r,
					const char **error_r)
{
	const unsigned char *in = (const unsigned char *)data;
	enum imap_step r = STEP_MORE;
	size_t i = 0;

	*cmd_r = NULL;
	*error_r = NULL;
	if (p->fatal) {
		*consumed_r = 0;
		*cmd_r = &p->cmd;
		*error_r = IMAP_NONSYNC_TOOBIG;
		return IMAP_PARSE_ERROR;
	}
	if (p->finished)
		begin_command(p);
	while (i < len && r == STEP_MORE) {
		unsigned char c;

		if (p->fresh) {
			p->lim = p->next_lim;
			p->fresh = false;
		}
		if (p->state == PS_LIT_DATA) {
			i += imap_parser_literal_data(p, in + i, len - i);
			continue;
		}
		if (p->state == PS_SKIP_LITERAL) {
			i += imap_parser_skip_data(p, len - i);
			continue;
		}
		c = in[i++];
		/* max_line counts command text: not literals, not line ends. */
		if (p->state != PS_SKIP && c != '\r' && c != '\n' && ++p->text_len > p->lim.max_line)
			r = imap_parser_fail(p, "Command line too long", c);
		else
			r = imap_parser_text_byte(p, c);
	}
	*consumed_r = i;
	switch (r) {
	case STEP_COMMAND:
		*cmd_r = &p->cmd;
		return IMAP_PARSE_COMMAND;
	case STEP_CONTINUE:
		*cmd_r = &p->cmd;
		return IMAP_PARSE_CONTINUE;
	case STEP_ERROR:
		*cmd_r = &p->cmd;
		*error_r = p->error != NULL ? p->error : "Invalid command";
		return IMAP_PARSE_ERROR;
	default:
		return IMAP_PARSE_NEED_MORE;
	}
}
