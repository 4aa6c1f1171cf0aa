/* imap_parser_private - internals shared by imap_parser*.c: the per-command
 * arena, the argument-tree builder and the parser state. Not for handlers:
 * they use imap_parser.h only. */
#ifndef EVM_IMAP_PARSER_PRIVATE_H
#define EVM_IMAP_PARSER_PRIVATE_H

#include "gateway/imap/imap_parser.h"
#include "common/buf.h"

#include <stdint.h>

/* Memory owned by one command, freed as a whole (STYLE.md: a pool per
 * request). Small allocations come from blocks; large literal buffers are
 * adopted as they are, so a 64 MiB literal is never copied. */
struct imap_arena_block;
struct imap_arena_adopted;
struct imap_arena {
	struct imap_arena_block *blocks;
	struct imap_arena_adopted *adopted;
};

void *imap_arena_alloc(struct imap_arena *a, size_t size);
char *imap_arena_strndup(struct imap_arena *a, const char *s, size_t len);
/* The arena frees ptr (malloc'ed) when it is cleared. */
void imap_arena_adopt(struct imap_arena *a, void *ptr);
void imap_arena_clear(struct imap_arena *a);

/* The argument tree under construction: one growable vector per open list
 * level (level 0 = the command's arguments). Vectors keep their capacity
 * across commands; finished lists are copied into the arena. */
struct imap_arg_level {
	struct imap_arg *v;
	size_t n, cap;
};

struct imap_arg_builder {
	struct imap_arg_level *levels;
	size_t nlevels;          /* allocated levels */
	unsigned depth;          /* open lists */
	size_t total;            /* arguments added, list elements included */
};

/* Appends an argument at the current depth; the pointer is valid until the
 * next add at that depth. */
struct imap_arg *imap_args_add(struct imap_arg_builder *b, enum imap_arg_type type);
/* Adds a LIST argument and makes it the current level. */
void imap_args_open(struct imap_arg_builder *b);
/* Closes the current list: its elements move into the arena. */
void imap_args_close(struct imap_arg_builder *b, struct imap_arena *a);
/* The top-level arguments, copied into the arena (NULL when none). */
struct imap_arg *imap_args_finish(struct imap_arg_builder *b, struct imap_arena *a, size_t *n_r);
void imap_args_clear(struct imap_arg_builder *b);
void imap_args_free(struct imap_arg_builder *b);

/* Where the parser is inside a command line. */
enum imap_pstate {
	PS_TAG,            /* reading the tag */
	PS_ARGS,           /* between tokens (name or arguments) */
	PS_CR,             /* CR seen at a line end, LF expected */
	PS_ATOM,           /* inside an atom (or the command name) */
	PS_TILDE,          /* '~' at a token start: literal8 or an atom */
	PS_BRACKET,        /* inside "[...]" of an atom */
	PS_BRACKET_QUOTED, /* inside a quoted string within "[...]" */
	PS_BRACKET_ESC,    /* after '\' in that quoted string */
	PS_QUOTED,         /* inside a quoted string */
	PS_QUOTED_ESC,     /* after '\' in a quoted string */
	PS_LIT_SIZE,       /* after '{': digits */
	PS_LIT_CLOSE,      /* after '+': '}' expected */
	PS_LIT_CR,         /* after '}': CRLF expected */
	PS_LIT_LF,         /* after '}' CR: LF expected */
	PS_LIT_DATA,       /* literal octets */
	PS_SKIP,           /* after an error: up to the line end */
	PS_SKIP_LITERAL,   /* after an error: octets of a literal */
};

/* What the command line is expected to hold next. */
enum imap_phase {
	PH_NAME,           /* command name (or the UID prefix) */
	PH_ARGS,           /* arguments */
};

/* Tracks "{n}" / "{n+}" at the end of a line being skipped, so that the
 * octets of a non-synchronising literal are skipped too (RFC 7888 4). */
enum imap_skip_lit {
	SL_NONE, SL_BRACE, SL_DIGITS, SL_PLUS, SL_CLOSE, SL_CR,
};

struct imap_parser {
	struct imap_parser_limits lim;       /* of the current command */
	struct imap_parser_limits next_lim;  /* from the next command on */
	bool fresh;              /* no octet of this command seen yet */
	bool finished;           /* COMMAND or ERROR returned: reset on next feed */

	enum imap_pstate state;
	enum imap_phase phase;
	bool need_sep;           /* a token just ended: SP, ')' or EOL next */
	size_t text_len;         /* command octets excluding literals and CR/LF */
	size_t tag_len;

	struct buf tok;          /* the atom or quoted string being read */
	size_t bracket_at;       /* tok offset just after the atom's open '[' */
	struct buf lit;          /* the literal being read */
	uint64_t lit_size;       /* announced size, then octets remaining */
	bool lit_plus, lit_binary;
	bool too_big;
	bool fatal;              /* a non-synchronising literal over max_nonsync: sticky */

	const char *error;
	enum imap_skip_lit skip_lit;
	bool skip_plus;
	uint64_t skip_size;

	size_t argc;             /* arguments started, list elements included */
	unsigned lit_digits;

	struct imap_arena arena;
	struct imap_arg_builder args;
	struct imap_command cmd;
};

/* The error text of a non-synchronising literal over max_nonsync. */
#define IMAP_NONSYNC_TOOBIG "[TOOBIG] Non-synchronizing literal over 4096 octets (LITERAL-)"

/* What handling one octet led to. */
enum imap_step {
	STEP_MORE,               /* consumed; go on */
	STEP_COMMAND,
	STEP_CONTINUE,
	STEP_ERROR,
};

/* imap_parser.c */
/* Enters PS_SKIP with msg (the first error of a command wins) and handles
 * the octet c that caused it as a skipped one. */
enum imap_step imap_parser_fail(struct imap_parser *p, const char *msg, unsigned char c);
/* A command line is complete and erroneous: report it. */
enum imap_step imap_parser_error_done(struct imap_parser *p);

/* imap_parser_line.c */
/* One octet of command text: everything but literal octets. */
enum imap_step imap_parser_text_byte(struct imap_parser *p, unsigned char c);

/* imap_parser_literal.c */
/* After '{' or "~{": reads the announcement "n}" / "n+}" then CRLF. */
void imap_parser_literal_start(struct imap_parser *p, bool binary);
enum imap_step imap_parser_literal_byte(struct imap_parser *p, unsigned char c);
/* Literal octets (PS_LIT_DATA); returns how many of data it consumed. */
size_t imap_parser_literal_data(struct imap_parser *p, const unsigned char *data, size_t len);
/* PS_SKIP: one octet of an erroneous line. */
enum imap_step imap_parser_skip_byte(struct imap_parser *p, unsigned char c);
/* PS_SKIP_LITERAL: octets of a literal announced on an erroneous line. */
size_t imap_parser_skip_data(struct imap_parser *p, size_t len);

#endif
