/* jmap_keywords - JMAP keywords (RFC 8621 4.1.1) as the IMAP flags the
 * store keeps (projector/mail.h): "$seen" is \Seen, "$flagged" \Flagged,
 * "$answered" \Answered, "$draft" \Draft (RFC 8621 4.1.1 lists them as
 * the IMAP system flags); any other keyword is an IMAP keyword. Keywords
 * are case-insensitive and JMAP shows them in lower case. \Deleted has no
 * keyword: JMAP never sets or clears it. */
#ifndef EVM_JMAP_KEYWORDS_H
#define EVM_JMAP_KEYWORDS_H

#include <jansson.h>

#define JMAP_KEYWORD_MAX 255

/* 1 when kw is a keyword (RFC 8621 4.1.1: 1-255 printable ASCII
 * characters without ( ) { ] % * " \). */
int jmap_keyword_valid(const char *kw);
/* The IMAP flag of a valid keyword, lower-cased, into out. */
void jmap_keyword_flag(const char *kw, char out[JMAP_KEYWORD_MAX + 1]);
/* The IMAP flags of a Keywords object {kw: true}: a new array, or NULL
 * when it is not one. */
json_t *jmap_keywords_flags(const json_t *keywords);
/* Splits IMAP flags into system flags and keywords (message.append's
 * "flags" and "keywords"); both new arrays. */
void jmap_flags_split(const json_t *flags, json_t **system_r, json_t **keywords_r);
/* The other way: adds the JMAP keywords of one message record (its
 * "flags" and "keywords") to kw as {kw: true}. */
void jmap_keywords_add(json_t *kw, const json_t *msg);

#endif
