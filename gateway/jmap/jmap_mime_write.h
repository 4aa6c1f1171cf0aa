/* jmap_mime_write - writes a MIME message (RFC 5322, RFC 2045-2047,
 * RFC 2231) for Email/set create, from header values in the JMAP parsed
 * forms (RFC 8621 4.1.2) and a tree of parts.
 *
 * Guarantees of everything written: CRLF line ends only; header fields
 * folded at 78 octets where the value has room to fold and never longer
 * than 998 octets a line (RFC 5322 2.1.1, 2.2.3); non-ASCII header text as
 * RFC 2047 encoded-words (charset utf-8, "B"), non-ASCII or long parameter
 * values as RFC 2231 extended values with continuations; bodies as
 * 7bit, quoted-printable (text) or base64; multipart boundaries checked not
 * to occur in their content (RFC 2046 5.1.1). A value that cannot be
 * written within those rules is refused (-1 with *error_r, a static
 * string): nothing half-written is used.
 *
 * The part tree (json_t), made by jmap_email_build.c:
 *   {"type": "text/plain" (lower case),
 *    "params": {"charset": "utf-8", "name": ...} (Content-Type params),
 *    "disposition": "attachment"|"inline"|... (or absent),
 *    "dparams": {"filename": ...},
 *    "fields": ["Content-ID: <x>\r\n", ...] (fields written by the
 *              functions below, added to the part's header as they are),
 *    "body": string of any octets (leaf; json_stringn_nocheck), or
 *    "parts": [part...] (multipart/...)} */
#ifndef EVM_JMAP_MIME_WRITE_H
#define EVM_JMAP_MIME_WRITE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Longest header line we write, and the folding target. */
#define JMAP_MIME_LINE_MAX 998
#define JMAP_MIME_FOLD 78

/* 1 when name is a valid field name (RFC 5322 2.2: printable ASCII but
 * ':', at most 76 octets so "Name: " leaves room for a value). */
int jmap_mime_field_name_ok(const char *name);

/* Each appends one whole field "Name: value" CRLF to out; 0, or -1 with
 * *error_r when the value cannot be written (out unchanged). */
/* Unstructured text (asText): UTF-8, encoded-words where needed. */
int jmap_mime_field_text(struct buf *out, const char *name, const char *text, const char **error_r);
/* [{name, email}...] (asAddresses). */
int jmap_mime_field_addresses(struct buf *out, const char *name, const json_t *addrs, const char **error_r);
/* [{name, addresses}...] (asGroupedAddresses, RFC 5322 3.4 groups;
 * a group whose name is null holds addresses outside any group). */
int jmap_mime_field_groups(struct buf *out, const char *name, const json_t *groups, const char **error_r);
/* ["id"...] without angle brackets (asMessageIds). */
int jmap_mime_field_msgids(struct buf *out, const char *name, const json_t *ids, const char **error_r);
/* An RFC 3339 date-time (asDate) as an RFC 5322 3.3 date with its zone. */
int jmap_mime_field_date(struct buf *out, const char *name, const char *date, const char **error_r);
/* ["url"...] (asURLs, RFC 2369 "<url>, <url>"). */
int jmap_mime_field_urls(struct buf *out, const char *name, const json_t *urls, const char **error_r);
/* A raw value (asRaw) written as it is after the colon: only CRLF + WSP
 * folds, no NUL, no line over 998 octets. */
int jmap_mime_field_raw(struct buf *out, const char *name, const char *raw, size_t len, const char **error_r);

/* A Content-Type or Content-Disposition field: value ("text/plain",
 * "attachment"; a token) and params (name -> string), each written as a
 * token, a quoted-string, or an RFC 2231 extended value (utf-8, with
 * continuations) when it is not printable ASCII or is long. */
int jmap_mime_field_params(struct buf *out, const char *name, const char *value, const json_t *params,
			   const char **error_r);

/* An RFC 3339 date-time: ms since the epoch (UTC) and the zone offset
 * in minutes. 0, or -1 when it is not one. */
int jmap_mime_parse_date(const char *s, int64_t *ms_r, int *offset_min_r);
/* The RFC 5322 3.3 date of ms (UTC) shown in zone offset_min, into out. */
void jmap_mime_format_date(int64_t ms, int offset_min, char out[40]);

/* Writes part (the tree above) with its header and body: 0, or -1 with
 * *error_r. fields (complete fields, may be NULL) go first, then
 * "MIME-Version: 1.0" when mime_version, then the part's own fields. */
int jmap_mime_write(struct buf *out, const json_t *fields, int mime_version, const json_t *part,
		    const char **error_r);

#endif
