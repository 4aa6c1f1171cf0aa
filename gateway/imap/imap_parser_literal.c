/* imap_parser_literal - literals ({n}, {n+}, ~{n}) and the resynchronisation
 * after an error, for the IMAP command parser (see imap_parser.h). */
#include "gateway/imap/imap_parser_private.h"

#include <stdint.h>
#include <string.h>

/* Literals up to this size are copied into the arena and their buffer is
 * reused; bigger ones are handed to the arena as they are. */
#define LITERAL_COPY_MAX 1024
/* number64 (RFC 9051 9): at most 2^63-1. */
#define NUMBER64_MAX ((uint64_t)INT64_MAX)

/* After '{' or "~{" (RFC 9051 9: literal; RFC 3516 4.2: literal8). */
void imap_parser_literal_start(struct imap_parser *p, bool binary)
{
	p->state = PS_LIT_SIZE;
	p->lit_binary = binary;
	p->lit_plus = false;
	p->lit_size = 0;
	p->lit_digits = 0;
}

/* Stores the literal just read as a STRING argument. */
static void literal_finish(struct imap_parser *p)
{
	struct imap_arg *arg = imap_args_add(&p->args, IMAP_ARG_STRING);

	arg->literal = true;
	arg->literal8 = p->lit_binary;
	arg->len = p->lit.len;
	if (p->lit.len <= LITERAL_COPY_MAX) {
		arg->str = imap_arena_strndup(&p->arena, p->lit.len > 0 ? p->lit.data : "", p->lit.len);
		buf_truncate(&p->lit, 0);
	} else {
		char *s = buf_steal(&p->lit);

		imap_arena_adopt(&p->arena, s);
		arg->str = s;
	}
	p->need_sep = true;
	p->state = PS_ARGS;
}

/* Skips n literal octets of an erroneous command, then the rest of its line. */
static void skip_literal(struct imap_parser *p, uint64_t n)
{
	p->skip_lit = SL_NONE;
	p->skip_size = n;
	p->state = n > 0 ? PS_SKIP_LITERAL : PS_SKIP;
}

/* RFC 7888 4 (LITERAL-): a non-synchronising literal over 4096 octets is
 * rejected with a tagged BAD [TOOBIG]; its octets are not read (the
 * session closes the connection): true when n is one. */
static bool nonsync_over(struct imap_parser *p, bool plus, uint64_t n)
{
	if (!plus || p->lim.max_nonsync == 0 || n <= p->lim.max_nonsync)
		return false;
	p->fatal = true;
	p->error = IMAP_NONSYNC_TOOBIG;
	return true;
}

/* The announcement ended with its CRLF: accept the literal or refuse it.
 * A synchronising literal over the limit is refused before the client sends
 * it; a non-synchronising one is already on its way and is skipped
 * (RFC 7888 4), unless it is over max_nonsync. */
static enum imap_step literal_announced(struct imap_parser *p)
{
	if (nonsync_over(p, p->lit_plus, p->lit_size))
		return imap_parser_error_done(p);
	if (p->lit_size > p->lim.max_literal) {
		p->too_big = true;
		if (p->error == NULL)
			p->error = "Literal too big";
		if (!p->lit_plus)
			return imap_parser_error_done(p);
		skip_literal(p, p->lit_size);
		return STEP_MORE;
	}
	p->state = PS_LIT_DATA;
	buf_truncate(&p->lit, 0);
	buf_reserve(&p->lit, (size_t)p->lit_size);
	if (p->lit_size == 0)
		literal_finish(p);
	/* RFC 9051 7.5: the client waits for "+" before sending the octets. */
	return p->lit_plus ? STEP_MORE : STEP_CONTINUE;
}

/* One octet of a literal announcement: number64 ["+"] "}" CRLF. */
enum imap_step imap_parser_literal_byte(struct imap_parser *p, unsigned char c)
{
	switch (p->state) {
	case PS_LIT_SIZE:
		if (c >= '0' && c <= '9') {
			if (p->lit_size > (NUMBER64_MAX - (c - '0')) / 10)
				return imap_parser_fail(p, "Invalid literal size", c);
			p->lit_size = p->lit_size * 10 + (c - '0');
			p->lit_digits++;
			return STEP_MORE;
		}
		if (p->lit_digits > 0 && (c == '+' || c == '}')) {
			p->lit_plus = c == '+';
			p->state = c == '+' ? PS_LIT_CLOSE : PS_LIT_CR;
			return STEP_MORE;
		}
		return imap_parser_fail(p, "Invalid literal size", c);
	case PS_LIT_CLOSE:
		if (c != '}')
			return imap_parser_fail(p, "Invalid literal size", c);
		p->state = PS_LIT_CR;
		return STEP_MORE;
	case PS_LIT_CR:
		if (c == '\r') {
			p->state = PS_LIT_LF;
			return STEP_MORE;
		}
		if (c == '\n')
			return literal_announced(p);
		return imap_parser_fail(p, "Missing CRLF after literal size", c);
	case PS_LIT_LF:
		if (c == '\n')
			return literal_announced(p);
		return imap_parser_fail(p, "Missing CRLF after literal size", c);
	default:
		return imap_parser_fail(p, "Internal parser error", c);
	}
}

/* Literal octets: CHAR8 (no NUL) for a literal, any OCTET for literal8. */
size_t imap_parser_literal_data(struct imap_parser *p, const unsigned char *data, size_t len)
{
	size_t n = p->lit_size < len ? (size_t)p->lit_size : len;
	const unsigned char *nul = p->lit_binary ? NULL : memchr(data, '\0', n);

	if (nul != NULL) {
		n = (size_t)(nul - data) + 1;
		p->lit_size -= n;
		if (p->error == NULL)
			p->error = "NUL in literal (use literal8)";
		skip_literal(p, p->lit_size);
		return n;
	}
	buf_append(&p->lit, data, n);
	p->lit_size -= n;
	if (p->lit_size == 0)
		literal_finish(p);
	return n;
}

/* One octet of an erroneous line: watches for a literal announced at its
 * end so that the literal's octets are not taken for a command. */
enum imap_step imap_parser_skip_byte(struct imap_parser *p, unsigned char c)
{
	if (c == '\n') {
		if ((p->skip_lit == SL_CLOSE || p->skip_lit == SL_CR) && p->skip_plus) {
			if (nonsync_over(p, true, p->skip_size))
				return imap_parser_error_done(p);
			skip_literal(p, p->skip_size);
			return STEP_MORE;
		}
		/* A synchronising literal: the client waits for "+", never sent. */
		return imap_parser_error_done(p);
	}
	if (c == '{') {
		p->skip_lit = SL_BRACE;
		p->skip_size = 0;
		p->skip_plus = false;
	} else if (c >= '0' && c <= '9' && (p->skip_lit == SL_BRACE || p->skip_lit == SL_DIGITS)) {
		if (p->skip_size > (NUMBER64_MAX - (c - '0')) / 10) {
			p->skip_lit = SL_NONE;
		} else {
			p->skip_size = p->skip_size * 10 + (c - '0');
			p->skip_lit = SL_DIGITS;
		}
	} else if (c == '+' && p->skip_lit == SL_DIGITS) {
		p->skip_lit = SL_PLUS;
		p->skip_plus = true;
	} else if (c == '}' && (p->skip_lit == SL_DIGITS || p->skip_lit == SL_PLUS)) {
		p->skip_lit = SL_CLOSE;
	} else if (c == '\r' && p->skip_lit == SL_CLOSE) {
		p->skip_lit = SL_CR;
	} else {
		p->skip_lit = SL_NONE;
	}
	return STEP_MORE;
}

/* Octets of a literal being skipped. */
size_t imap_parser_skip_data(struct imap_parser *p, size_t len)
{
	size_t n = p->skip_size < len ? (size_t)p->skip_size : len;

	p->skip_size -= n;
	if (p->skip_size == 0) {
		p->skip_lit = SL_NONE;
		p->state = PS_SKIP;
	}
	return n;
}
