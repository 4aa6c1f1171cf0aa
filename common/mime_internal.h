/* mime_internal - declarations shared by the common/mime_*.c files.
 * Not an API: everything here may change with the parser. */
#ifndef EVM_MIME_INTERNAL_H
#define EVM_MIME_INTERNAL_H

#include "common/buf.h"
#include "common/mime.h"

#include <stdbool.h>
#include <stdint.h>

#define MIME_PREVIEW_BUF_MAX (64 * 1024)  /* raw body bytes kept for the preview */
#define MIME_PREVIEW_CHARS 256
#define MIME_BOUNDARY_MAX 250             /* longer boundaries are unusable */
#define MIME_PARAMS_MAX 100               /* parameters looked at per header */
#define MIME_SECTIONS_MAX 100             /* RFC 2231 continuation sections */

static inline bool mime_is_wsp(int c) { return c == ' ' || c == '\t'; }
static inline int mime_lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* --- mime_charset.c --- */
bool mime_utf8_valid(const char *s, size_t len);
void mime_utf8_put(struct buf *b, uint32_t cp);
/* Appends header text as UTF-8: kept when valid UTF-8, else read as
 * Windows-1252; NUL becomes U+FFFD. */
void mime_text_append(struct buf *b, const char *s, size_t len);
/* Appends text in charset as UTF-8; unknown charset -> mime_text_append. */
void mime_charset_append(struct buf *b, const char *charset, const char *s, size_t len);
/* A JSON string of arbitrary header bytes (see mime_text_append). */
json_t *mime_json_text(const char *s, size_t len);
/* A JSON string of a C string, or JSON null for NULL. */
json_t *mime_json_str_or_null(const char *s);

/* --- mime_transfer.c --- */
/* Lenient base64 (RFC 2045 6.8): non-alphabet bytes skipped, stops at '='. */
void mime_base64_decode(const char *in, size_t len, struct buf *out);
/* Strict base64 for encoded words; -1 on a byte outside the alphabet. */
int mime_base64_decode_strict(const char *in, size_t len, struct buf *out);
/* Quoted-printable (RFC 2045 6.7), lenient: a bad '=' is kept. */
void mime_qp_decode(const char *in, size_t len, struct buf *out);
/* RFC 2047 4.2 "Q": '_' is space; -1 on a bad '=' escape. */
int mime_q_decode(const char *in, size_t len, struct buf *out);
int mime_hex(int c);

/* --- mime_header.c --- */
enum mime_field {
	MF_DATE, MF_SUBJECT, MF_FROM, MF_SENDER, MF_REPLY_TO, MF_TO, MF_CC, MF_BCC,
	MF_IN_REPLY_TO, MF_MESSAGE_ID, MF_REFERENCES, MF_CONTENT_TYPE, MF_CTE,
	MF_DISPOSITION, MF_CONTENT_ID, MF_DESCRIPTION, MF_LANGUAGE, MF_LOCATION,
	MF_MD5, MF_COUNT
};
struct mime_fields {
	char *value[MF_COUNT];   /* unfolded, trimmed, NUL-terminated; NULL if absent */
	size_t len[MF_COUNT];
};
/* Finds the first occurrence of each known field in a header block. */
void mime_fields_scan(const char *block, size_t len, struct mime_fields *f);
void mime_fields_free(struct mime_fields *f);
/* Whether a header line starts "name:" (RFC 5322 2.2, obs WSP before ':'). */
bool mime_is_field_line(const char *line, size_t len);
/* Skips CFWS (RFC 5322 3.2.2), nested comments included. */
size_t mime_skip_cfws(const char *s, size_t len, size_t i);
/* Skips a quoted string starting at s[i] == '"'; unquoted value to out. */
size_t mime_quoted(const char *s, size_t len, size_t i, struct buf *out);

/* --- mime_params.c --- */
struct mime_ctype {
	char *type, *subtype;    /* lower case */
	json_t *params;          /* object */
	char *boundary;          /* raw, NULL if none */
};
/* RFC 2045 5.1; -1 when unparseable (nothing allocated). */
int mime_content_type_parse(const char *value, size_t len, struct mime_ctype *ct_r);
void mime_ctype_free(struct mime_ctype *ct);
/* RFC 2183 Content-Disposition -> {"type", "params"}; NULL if unparseable. */
json_t *mime_disposition_parse(const char *value, size_t len);
/* RFC 3282 Content-Language -> [tags] or NULL. */
json_t *mime_language_parse(const char *value, size_t len);
/* Transfer encoding token, lower case, "7bit" when absent or bad. */
char *mime_encoding_parse(const char *value, size_t len);

/* --- mime_address.c --- */
/* RFC 5322 3.4 address list -> envelope form and JMAP form. */
void mime_address_parse(const char *raw, size_t len, json_t **env_r, json_t **hdr_r);
/* RFC 5322 3.6.4 msg-id list -> ["id"...] without angle brackets. */
json_t *mime_msgid_list(const char *raw, size_t len);

/* --- mime_date.c --- */
/* RFC 5322 3.3 date-time (with obsolete forms) -> ms since the epoch. */
int mime_date_parse(const char *s, size_t len, int64_t *ms_r);

/* --- mime_preview.c --- */
/* Preview text from the start of a text body (raw transfer-encoded bytes). */
char *mime_preview_make(const char *body, size_t len, const char *encoding,
			const char *charset, bool html);

/* --- mime_summary.c --- */
json_t *mime_envelope_json(const struct mime_fields *f);
json_t *mime_headers_json(const struct mime_fields *f);

/* --- mime_part.c --- */
struct mime_part {
	struct mime_part *parent, *first_child, *last_child, *next;
	struct mime_part *message;   /* message/rfc822: the embedded root */
	json_t *envelope;            /* message roots */
	char *type, *subtype, *encoding;
	json_t *params, *disposition, *language;
	char *id, *description, *md5, *location;
	char *boundary;              /* active multipart boundary (raw) */
	size_t boundary_len;
	uint64_t hstart, hend, bstart, bend, lines, nl_at_bstart;
	unsigned depth;
	bool message_root, in_message, digest_child, header_done, boundary_closed;
};
struct mime_part *mime_part_new(struct mime_part *parent, uint64_t hstart, unsigned depth);
void mime_part_free(struct mime_part *part);
/* Fills the part's Content-* fields (and envelope for message roots). */
void mime_part_set_fields(struct mime_part *part, const struct mime_fields *f);
json_t *mime_part_json(const struct mime_part *part);
bool mime_part_has_attachment(const struct mime_part *part);
/* 1: may give the preview as text/plain, 2: as text/html, 0: no. */
int mime_part_preview_kind(const struct mime_part *part);

/* --- mime_parser.c / mime_structure.c --- */
#define MIME_PFX_MAX (MIME_BOUNDARY_MAX + 8)   /* line bytes kept for matching */

enum mime_state { MIME_ST_HEADER, MIME_ST_BODY };

/* A line just ended, as the structure code sees it. */
struct mime_line {
	uint64_t ls, term, end;       /* start, terminator start, next line start */
	uint64_t nl_before;           /* LFs before ls */
	uint64_t prev_term;           /* the previous line's terminator start */
	size_t prev_clen;             /* the previous line's content length */
	bool has_prev;
};

struct mime_parser {
	struct mime_limits lim;
	struct mime_part *root;
	struct mime_part **stack;     /* open parts, root first */
	size_t nstack, capstack;
	enum mime_state state;
	uint64_t offset, nl_total;    /* bytes and LFs consumed */
	unsigned nparts;
	bool truncated, opaque, finished, any_boundary;
	unsigned char last_byte;
	/* the current line */
	uint64_t line_start;
	size_t line_len, pfx_len;
	bool last_cr, cand, tail_ws;
	char pfx[MIME_PFX_MAX];
	uint64_t prev_term;
	size_t prev_clen;
	bool has_prev;
	struct buf hdr;               /* the current header block */
	/* preview sources: [1] text/plain, [2] text/html */
	struct mime_part *pv_part[3];
	struct buf pv_buf[3];
	json_t *headers, *result;
};

void mime_parser_bytes(struct mime_parser *p, const char *d, size_t n);
void mime_finish_header(struct mime_parser *p, uint64_t hend, uint64_t nl_at_bstart,
			bool allow_children);
void mime_boundary_line(struct mime_parser *p, size_t level, bool close, const struct mime_line *li);
void mime_header_line(struct mime_parser *p, const struct mime_line *li, const char *content,
		      size_t clen);
void mime_close_top(struct mime_parser *p, const struct mime_line *li);

#endif
