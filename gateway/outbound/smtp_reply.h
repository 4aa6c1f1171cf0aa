/* smtp_reply - a push parser for SMTP server replies (RFC 5321 4.2) and the
 * EHLO keywords they carry, for the outbound client.
 *
 * The caller feeds bytes as they arrive; the parser consumes at most one
 * complete reply per call and stops right after the line end of its last
 * line, so pipelined replies (RFC 2920) come out one at a time and bytes
 * after a reply (e.g. after "220 go ahead" to STARTTLS) stay with the caller.
 *
 * Syntax: every line is "ddd-text" (more lines follow) or "ddd text" or
 * "ddd" (last line); the first digit 2-5, the second 0-5; every line of one
 * reply has the same code. Lines end at LF; a CR right before it is
 * removed. A CR or NUL anywhere else, a line over SMTP_REPLY_LINE_MAX, more
 * than SMTP_REPLY_LINES_MAX lines or SMTP_REPLY_TOTAL_MAX bytes is an error.
 * An error is final: the stream can no longer be trusted, every later call
 * returns the same error (the client drops the connection). */
#ifndef EVM_SMTP_REPLY_H
#define EVM_SMTP_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_REPLY_LINE_MAX 2048      /* including CRLF */
#define SMTP_REPLY_LINES_MAX 200
#define SMTP_REPLY_TOTAL_MAX 65536

/* Valid until the next smtp_reply_feed(), _reset() or _free(). */
struct smtp_reply {
	int code;                  /* 250 */
	char enhanced[12];         /* RFC 3463 "2.1.0" of the first line when its class
				    * matches the code's first digit; "" otherwise */
	const char *text;          /* every line's text joined by one space, the
				    * enhanced code of each line removed; may be "" */
	const char *const *lines;  /* each line's text after "ddd-"/"ddd " (verbatim) */
	size_t nlines;
};

enum smtp_reply_status {
	SMTP_REPLY_MORE,           /* all input consumed, no complete reply yet */
	SMTP_REPLY_DONE,           /* *reply_r is set */
	SMTP_REPLY_ERROR,          /* *error_r says why; final */
};

struct smtp_reply_parser;

struct smtp_reply_parser *smtp_reply_parser_new(void);
void smtp_reply_parser_free(struct smtp_reply_parser **p);
/* Forgets a partial reply and a past error (a new connection or after TLS). */
void smtp_reply_parser_reset(struct smtp_reply_parser *p);

/* Consumes bytes of in (*consumed_r of len; stops after one reply). */
enum smtp_reply_status smtp_reply_feed(struct smtp_reply_parser *p, const unsigned char *in, size_t len,
				       size_t *consumed_r, const struct smtp_reply **reply_r,
				       const char **error_r);

/* What an EHLO reply offers (RFC 5321 4.1.1.1: keywords from line 2 on). */
struct smtp_ext {
	unsigned pipelining : 1, starttls : 1, eightbitmime : 1, smtputf8 : 1, dsn : 1,
		chunking : 1, binarymime : 1, requiretls : 1, enhancedstatuscodes : 1,
		size : 1, auth_plain : 1, auth_login : 1;
	uint64_t size_max;         /* SIZE value (RFC 1870); 0 = no limit announced */
};

/* Fills *ext_r from a 250 reply to EHLO (keywords are case-insensitive;
 * unknown ones and bad SIZE values are ignored). */
void smtp_reply_ehlo(const struct smtp_reply *r, struct smtp_ext *ext_r);

/* "550 5.1.1 text" into out: one line, control characters as "?",
 * truncated to size, always NUL-terminated. */
void smtp_reply_format(const struct smtp_reply *r, char *out, size_t size);

#endif
