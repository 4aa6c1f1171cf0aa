/* imap_parser_transcript - for the parser's tests and fuzz target only:
 * feeds input the way a session does (keeping unconsumed octets, refeeding
 * after each result) in chunks chosen by the caller, and writes every
 * result as one line of text, so that different splits of the same input
 * can be compared.
 *
 *   C tag [UID ]NAME args     a command; args: atom, NIL, "quoted",
 *                             {n}"literal", ~{n}"literal8", (list)
 *   + tag                     IMAP_PARSE_CONTINUE
 *   E tag [TOOBIG ]text       IMAP_PARSE_ERROR
 *   F tag text                IMAP_PARSE_ERROR with imap_parser_fatal():
 *                             the transcript ends there
 *   \x01! what               the parser broke its contract (\x01 appears
 *                             nowhere else: strings are escaped)
 * Strings show '"', '\' escaped and other octets outside 0x20-0x7e as \xNN. */
#ifndef EVM_IMAP_PARSER_TRANSCRIPT_H
#define EVM_IMAP_PARSER_TRANSCRIPT_H

#include "gateway/imap/imap_parser.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends s (len octets) as a quoted, escaped string. */
static inline void transcript_string(struct buf *out, const char *s, size_t len)
{
	buf_puts(out, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			buf_printf(out, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			buf_printf(out, "\\x%02X", c);
		else
			buf_append(out, &c, 1);
	}
	buf_puts(out, "\"");
}

/* Appends args; returns false when an argument breaks the header's contract. */
static inline bool transcript_args(struct buf *out, const struct imap_arg *args, size_t n)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *a = &args[i];

		if (i > 0)
			buf_puts(out, " ");
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_NIL:
			ok = ok && a->str != NULL && a->len > 0 && strlen(a->str) == a->len;
			buf_puts(out, a->type == IMAP_ARG_NIL ? "NIL" : a->str);
			break;
		case IMAP_ARG_STRING:
			ok = ok && a->str != NULL && a->str[a->len] == '\0';
			ok = ok && (a->literal8 || memchr(a->str, '\0', a->len) == NULL);
			if (a->literal)
				buf_printf(out, "%s{%zu}", a->literal8 ? "~" : "", a->len);
			transcript_string(out, a->str, a->len);
			break;
		case IMAP_ARG_LIST:
			ok = ok && (a->count == 0 || a->list != NULL);
			buf_puts(out, "(");
			ok = transcript_args(out, a->list, a->count) && ok;
			buf_puts(out, ")");
			break;
		default:
			ok = false;
		}
	}
	return ok;
}

/* Feeds len octets of in, chunk(ctx) octets at a time (0 = all), writing
 * the results to out. */
static inline void transcript_run(struct imap_parser *p, const char *in, size_t len,
			   size_t (*chunk)(void *ctx), void *ctx, struct buf *out)
{
	size_t pos = 0, avail = 0;

	while (pos < len) {
		struct imap_command *cmd = NULL;
		const char *error = NULL;
		enum imap_parse_result r;
		size_t used = 0;

		if (pos == avail) {
			size_t n = chunk != NULL ? chunk(ctx) : 0;

			avail = n == 0 || n > len - avail ? len : avail + n;
		}
		r = imap_parser_feed(p, in + pos, avail - pos, &used, &cmd, &error);
		if (used > avail - pos || (r == IMAP_PARSE_NEED_MORE && used != avail - pos) ||
		    (r != IMAP_PARSE_NEED_MORE && (used == 0 || cmd == NULL))) {
			buf_printf(out, "\x01! result %d used %zu of %zu\n", (int)r, used, avail - pos);
			return;
		}
		pos += used;
		switch (r) {
		case IMAP_PARSE_NEED_MORE:
			break;
		case IMAP_PARSE_CONTINUE:
			buf_printf(out, "+ %s\n", cmd->tag);
			break;
		case IMAP_PARSE_COMMAND:
			buf_printf(out, "C %s %s%s", cmd->tag, cmd->uid ? "UID " : "", cmd->name);
			if (cmd->nargs > 0)
				buf_puts(out, " ");
			if (!transcript_args(out, cmd->args, cmd->nargs) || cmd->tag[0] == '\0' ||
			    cmd->name[0] == '\0')
				buf_puts(out, " \x01! bad argument");
			buf_puts(out, "\n");
			break;
		case IMAP_PARSE_ERROR:
			if (imap_parser_fatal(p)) {
				buf_printf(out, "F %s %s\n", cmd->tag, error ? error : "! no text");
				return;
			}
			buf_printf(out, "E %s %s%s\n", cmd->tag,
				   imap_parser_literal_too_big(p) ? "TOOBIG " : "", error ? error : "! no text");
			break;
		}
	}
}

struct rand_chunks {
	unsigned seed;
	size_t max;
};

/* Chunks of 1..max octets. */
static inline size_t transcript_random_chunk(void *ctx)
{
	struct rand_chunks *rc = ctx;

	return (size_t)rand_r(&rc->seed) % rc->max + 1;
}

/* Chunks of one octet. */
static inline size_t transcript_one_octet(void *ctx)
{
	return 1;
}

/* The transcript of in (malloc'ed) fed with the given chunker and limits. */
static inline char *transcript(const char *in, size_t len, size_t (*chunk)(void *), void *ctx,
				 const struct imap_parser_limits *lim)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct buf out = BUF_INIT;

	transcript_run(p, in, len, chunk, ctx, &out);
	imap_parser_free(&p);
	return buf_steal(&out);
}

/* Compares, printing both transcripts on a mismatch. */
static inline bool transcript_same(const char *what, size_t idx, const char *got, const char *want)
{
	if (strcmp(got, want) == 0)
		return true;
	fprintf(stderr, "  case %zu (%s):\n  got:\n%s  want:\n%s", idx, what, got, want);
	return false;
}

#endif
