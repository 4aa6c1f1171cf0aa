/* http_parser_private - the parser's state, shared by http_parser.c (lines,
 * request line, the state machine) and http_parser_fields.c (field lines,
 * framing, chunk lines). Only those two files include it. */
#ifndef EVM_HTTP_PARSER_PRIVATE_H
#define EVM_HTTP_PARSER_PRIVATE_H

#include "gateway/http/http_parser.h"
#include "common/buf.h"

#define HTTP_MAX_EMPTY_LINES 4     /* ignored before a request line */

enum http_pstate {
	HP_START,                  /* before the request line */
	HP_FIELDS,                 /* header field lines */
	HP_BODY,                   /* Content-Length bytes left in remaining */
	HP_CHUNK_SIZE,             /* a chunk size line */
	HP_CHUNK_DATA,             /* remaining bytes of the current chunk */
	HP_CHUNK_CR,               /* the CR after chunk data */
	HP_CHUNK_LF,               /* the LF after chunk data */
	HP_TRAILER,                /* trailer field lines */
	HP_DONE,
	HP_ERROR,
};

struct http_parser {
	struct http_parser_settings set;
	enum http_pstate st;
	struct buf line;           /* the line being collected, CR included, LF not */
	unsigned empty_lines;
	size_t section_bytes;      /* header or trailer section so far */
	unsigned section_fields;   /* trailer fields so far */
	struct http_head *head;
	uint64_t remaining;
	uint64_t body_total;
	int status;
	const char *reason;
};

/* Enters the error state; returns HTTP_PARSE_ERROR. */
enum http_parse_status http_parser_fail(struct http_parser *p, int status, const char *reason);
/* One header field line (CRLF removed): checked and stored. 0 or -1
 * (failed). */
int http_parser_field(struct http_parser *p, const char *line, size_t len);
/* One trailer field line: checked and discarded. 0 or -1 (failed). */
int http_parser_trailer(struct http_parser *p, const char *line, size_t len);
/* The header section ended: Host, framing, Connection, Expect, Upgrade
 * (RFC 9112 3.2, 6.3, 9.3; RFC 9110 10.1.1). 0 or -1 (failed). */
int http_parser_head_done(struct http_parser *p);
/* A chunk size line (CRLF removed, RFC 9112 7.1): *size_r. 0 or -1 (failed). */
int http_parser_chunk_line(struct http_parser *p, const char *line, size_t len, uint64_t *size_r);

#endif
