/* imap_parser - an incremental (push) parser for IMAP4rev2/rev1 client
 * commands (RFC 9051 section 9 grammar; RFC 3501 compatible).
 *
 * The session appends whatever bytes arrived; the parser returns
 *   IMAP_PARSE_NEED_MORE  all input consumed, command incomplete;
 *   IMAP_PARSE_CONTINUE   a synchronising literal {n} was announced and
 *                         accepted: the session must send "+ Ready\r\n"
 *                         before the client sends the literal's octets
 *                         (RFC 9051 4.3, 7.5); parsing goes on with more
 *                         input;
 *   IMAP_PARSE_COMMAND    one complete command in *cmd_r (valid until the
 *                         next feed or reset);
 *   IMAP_PARSE_ERROR      a syntax error or a limit: *error_r is the text
 *                         for "<tag> BAD <text>" (tag in cmd_r->tag when it
 *                         was read, else "*"); the parser has skipped to
 *                         the end of the offending line (and of any
 *                         non-synchronising literal announced on it), so
 *                         the next command can be parsed.
 * and how many bytes it consumed; the session keeps the rest and feeds it
 * again. Feeding a command one byte at a time gives the same result as
 * feeding it whole. The parser never reads a socket.
 *
 * Arguments are kept generic: atoms (anything up to SP, CRLF, '(' ')' or
 * '[' ... ']' sections kept inside the atom, e.g. BODY.PEEK[HEADER.FIELDS
 * (From)]<0.100> is ONE atom including its bracketed part; a '[' that the
 * line end or another '[' leaves unclosed is an ordinary ASTRING-CHAR, as
 * in the mailbox "a[b"), quoted strings
 * (unescaped), literals {n}, {n+} (LITERAL+ / LITERAL-, RFC 7888) and
 * literal8 ~{n} (BINARY, RFC 3516), NIL, and parenthesised lists (nested).
 * Command handlers interpret them. Limits (struct imap_parser_limits) are
 * enforced on line length (excluding literals), literal size, argument
 * count and list depth; a literal over the limit is refused before the
 * client sends it ("<tag> NO [TOOBIG]" for synchronising literals — the
 * session decides from IMAP_PARSE_ERROR + imap_parser_literal_too_big()). */
#ifndef EVM_IMAP_PARSER_H
#define EVM_IMAP_PARSER_H

#include <stdbool.h>
#include <stddef.h>

enum imap_arg_type {
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,     /* quoted string or literal */
	IMAP_ARG_NIL,
	IMAP_ARG_LIST,
};

struct imap_arg {
	enum imap_arg_type type;
	const char *str;     /* ATOM/STRING: NUL-terminated (literals may hold NULs: use len) */
	size_t len;
	bool literal;        /* STRING came as a literal */
	bool literal8;       /* ~{n} */
	struct imap_arg *list;   /* LIST elements */
	size_t count;
};

#define IMAP_TAG_MAX 64
#define IMAP_NAME_MAX 32

struct imap_command {
	char tag[IMAP_TAG_MAX + 1];
	char name[IMAP_NAME_MAX + 1];   /* upper-cased: "FETCH"; "UID" prefix removed */
	bool uid;                       /* "UID FETCH ..." */
	struct imap_arg *args;
	size_t nargs;
};

/* A 0 field means its default. */
struct imap_parser_limits {
	size_t max_line;       /* octets of command text excluding literals; default 65536 */
	size_t max_literal;    /* default 64 MiB; before authentication set small */
	size_t max_args;       /* total arguments incl. list elements; default 10000 */
	unsigned max_depth;    /* list nesting; default 16 */
	size_t max_nonsync;    /* octets of a non-synchronising literal {n+}; 0: up to
				* max_literal (LITERAL+); 4096 for LITERAL- (RFC 7888 4) */
};

enum imap_parse_result {
	IMAP_PARSE_NEED_MORE,
	IMAP_PARSE_CONTINUE,
	IMAP_PARSE_COMMAND,
	IMAP_PARSE_ERROR,
};

struct imap_parser;

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits);
void imap_parser_free(struct imap_parser **p);
/* Changes the limits (e.g. after authentication); applies to the next command. */
void imap_parser_set_limits(struct imap_parser *p, const struct imap_parser_limits *limits);
enum imap_parse_result imap_parser_feed(struct imap_parser *p, const char *data, size_t len,
					size_t *consumed_r, struct imap_command **cmd_r,
					const char **error_r);
/* After IMAP_PARSE_ERROR: true when the error is a literal over max_literal. */
bool imap_parser_literal_too_big(const struct imap_parser *p);
/* After IMAP_PARSE_ERROR: true when a non-synchronising literal over
 * max_nonsync was announced (RFC 7888 4: "<tag> BAD [TOOBIG]"). Its octets
 * are already on their way and are not read: the input cannot be
 * resynchronised, every later feed returns the same error without
 * consuming anything, and the caller closes the connection. */
bool imap_parser_fatal(const struct imap_parser *p);
/* After IMAP_PARSE_CONTINUE: the command being read, its tag, UID prefix
 * and name so far (name "" when the literal came before any name). */
const struct imap_command *imap_parser_pending(const struct imap_parser *p);
/* Forgets any partial command (after a command was handled, or to abort). */
void imap_parser_reset(struct imap_parser *p);
/* Bytes of the current literal still expected (for IDLE/APPEND flow and tests). */
size_t imap_parser_literal_remaining(const struct imap_parser *p);

/* Helpers for handlers. */
/* Sequence sets (RFC 9051 9: sequence-set, incl. '*'; "$" SEARCHRES is
 * not parsed here: handlers check for it first). Numbers are 1..2^32-1.
 * Ranges are normalised (lo <= hi, sorted, merged); star is the value for
 * '*'. Returns 0, or -1 on syntax error. *ranges_r malloc'ed pairs. */
struct imap_range { unsigned lo, hi; };
int imap_seqset_parse(const char *s, unsigned star, struct imap_range **ranges_r, size_t *n_r);
bool imap_seqset_contains(const struct imap_range *r, size_t n, unsigned v);

#endif
