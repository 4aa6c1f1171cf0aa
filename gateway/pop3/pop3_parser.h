/* pop3_parser - a push parser for POP3 command lines (RFC 1939 3, RFC 2449
 * 4) and SASL response lines (RFC 5034 4).
 *
 * The caller feeds bytes as they arrive; the parser consumes at most one
 * line per call and stops right after its LF, so bytes pipelined after STLS
 * stay with the caller. It never touches a socket, the log or the view.
 *
 * Limits: a line is at most POP3_LINE_MAX octets with its CRLF (RFC 2449 4
 * says 255 for commands; 512 leaves room for AUTH initial responses); a
 * longer line is consumed up to its LF and reported once as an error. A
 * keyword is 3 or 4 letters (upper-cased here); at most POP3_ARGS_MAX
 * arguments separated by spaces. A CR or NUL inside a line is an error.
 * A CR right before the LF is removed. */
#ifndef EVM_POP3_PARSER_H
#define EVM_POP3_PARSER_H

#include <stddef.h>

#define POP3_LINE_MAX 512
#define POP3_ARGS_MAX 4

/* Valid until the next pop3_parser_feed() or pop3_parser_free(). */
struct pop3_command {
	char name[5];                  /* upper-cased keyword; "" for a SASL line */
	char *args[POP3_ARGS_MAX];
	size_t nargs;
	/* Everything after the keyword and one space, verbatim ("" if none):
	 * RFC 1939 7 lets PASS take spaces inside the password. For a SASL
	 * line: the whole line. */
	char *rest;
};

enum pop3_parse_status {
	POP3_PARSE_MORE,               /* all input consumed, no complete line yet */
	POP3_PARSE_COMMAND,            /* *cmd_r is a command */
	POP3_PARSE_LINE,               /* *cmd_r->rest is a SASL response line */
	POP3_PARSE_ERROR,              /* *error_r: text for "-ERR <text>" */
};

struct pop3_parser;

struct pop3_parser *pop3_parser_new(void);
void pop3_parser_free(struct pop3_parser **p);
/* Forgets a partial line and the SASL mode (after STLS). */
void pop3_parser_reset(struct pop3_parser *p);
/* The next line is a SASL response (POP3_PARSE_LINE), not a command. */
void pop3_parser_expect_sasl(struct pop3_parser *p);

/* Consumes bytes of in (*consumed_r of len, stopping after one LF) and
 * returns what that produced. */
enum pop3_parse_status pop3_parser_feed(struct pop3_parser *p, const unsigned char *in, size_t len,
					size_t *consumed_r, const struct pop3_command **cmd_r,
					const char **error_r);

#endif
