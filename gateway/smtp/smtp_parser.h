/* smtp_parser - a push parser for SMTP/LMTP command lines (RFC 5321 4.1,
 * RFC 2033, RFC 3030 BDAT).
 *
 * The caller feeds bytes as they arrive; the parser consumes at most one
 * command line per call and stops right after its line end, so whatever
 * follows (DATA content, a BDAT chunk, bytes pipelined after STARTTLS) stays
 * with the caller. It never touches a socket, the log or the view.
 *
 * Lines end at LF; a CR right before it is removed. A CR or NUL anywhere
 * else in the line is a syntax error. A line longer than max_line is
 * consumed up to its LF and then reported once as "500 5.5.2 Line too long"
 * (the rest of it is never interpreted as a command). */
#ifndef EVM_SMTP_PARSER_H
#define EVM_SMTP_PARSER_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_PATH_MAX 256          /* RFC 5321 4.5.3.1.3, including <> */
#define SMTP_MAX_PARAMS 10

enum smtp_verb {
	SMTP_HELO, SMTP_EHLO, SMTP_LHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BDAT,
	SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_HELP, SMTP_VRFY, SMTP_EXPN, SMTP_STARTTLS,
	SMTP_AUTH,
};

struct smtp_param {
	char *name;                /* upper-cased keyword */
	char *value;               /* NULL for a keyword without "=" */
};

/* Valid until the next smtp_parser_feed() or smtp_parser_free(). */
struct smtp_command {
	enum smtp_verb verb;
	const char *name;          /* "MAIL" */
	char *arg;                 /* HELO/EHLO/LHLO domain, VRFY/HELP/NOOP text, AUTH
				    * mechanism; "" if none */
	char *auth_ir;             /* AUTH initial response (RFC 4954 4), NULL if none */
	char *path;                /* MAIL/RCPT: inside the <>, source route removed; "" = <> */
	int path_8bit;             /* path has octets >= 0x80 (needs SMTPUTF8) */
	struct smtp_param params[SMTP_MAX_PARAMS];
	size_t nparams;
	uint64_t bdat_size;        /* BDAT */
	int bdat_last;
};

enum smtp_parse_status {
	SMTP_PARSE_MORE,           /* all input consumed, no complete line yet */
	SMTP_PARSE_COMMAND,        /* *cmd_r is set */
	SMTP_PARSE_ERROR,          /* *reply_r: a complete reply line without CRLF */
	SMTP_PARSE_FATAL,          /* like ERROR, then close (non-SMTP client: HTTP) */
};

struct smtp_parser;

/* max_line: longest command line accepted including its CRLF (>= 512). */
struct smtp_parser *smtp_parser_new(size_t max_line);
void smtp_parser_free(struct smtp_parser **p);
/* Forgets a partial line (after STARTTLS). */
void smtp_parser_reset(struct smtp_parser *p);

/* Consumes bytes of in (*consumed_r of len, stopping after one line end)
 * and returns what that produced. */
enum smtp_parse_status smtp_parser_feed(struct smtp_parser *p, const unsigned char *in, size_t len,
					size_t *consumed_r, const struct smtp_command **cmd_r,
					const char **reply_r);

/* An AUTH response line (RFC 4954 4), not a command: consumes up to one
 * line end; SMTP_PARSE_COMMAND with *line_r (NUL-terminated, CR LF
 * removed, valid until the next call) and *len_r; SMTP_PARSE_MORE; or
 * SMTP_PARSE_ERROR "500 5.5.6 Authentication exchange line is too long"
 * past max_line. */
enum smtp_parse_status smtp_parser_feed_line(struct smtp_parser *p, const unsigned char *in, size_t len,
					     size_t *consumed_r, const char **line_r, size_t *len_r,
					     const char **reply_r);

/* The value of a parameter, or NULL; *present_r tells a bare keyword. */
const struct smtp_param *smtp_command_param(const struct smtp_command *cmd, const char *name);

#endif
