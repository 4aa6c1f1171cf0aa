/* mime_forms - the header fields of a header block as JMAP asks for them
 * (RFC 8621 4.1.2, 4.1.3): the list of fields with their raw values, and
 * the parsed forms Raw, Text, Addresses, GroupedAddresses, MessageIds,
 * Date and URLs of one raw value.
 *
 * A raw value is what follows the field name's colon up to (excluding)
 * the field's final CRLF, folding kept (RFC 8621 4.1.2.1). Results are new
 * JSON references with valid UTF-8 strings (bytes that are not UTF-8 are
 * read as Windows-1252, as everywhere in common/mime.h). Parsing never
 * fails: a value a form cannot read gives that form's null (4.1.2). */
#ifndef EVM_MIME_FORMS_H
#define EVM_MIME_FORMS_H

#include <jansson.h>
#include <stddef.h>

enum mime_form {
	MIME_FORM_RAW,
	MIME_FORM_TEXT,
	MIME_FORM_ADDRESSES,
	MIME_FORM_GROUPED_ADDRESSES,
	MIME_FORM_MESSAGE_IDS,
	MIME_FORM_DATE,
	MIME_FORM_URLS,
};

/* Fields in a header block kept at most (more are left out of the list). */
#define MIME_FORMS_FIELDS_MAX 1000

/* "asRaw", "asText", ... (RFC 8621 4.1.3 property syntax) -> form; 0, or
 * -1 when unknown. */
int mime_form_parse(const char *suffix, enum mime_form *form_r);

/* Whether RFC 8621 4.1.2 allows form for the field name (case-insensitive):
 * Addresses/GroupedAddresses for address fields and fields RFC 5322 and
 * RFC 2369 do not define, MessageIds for Message-ID/In-Reply-To/
 * References/Resent-Message-ID and undefined fields, Date for Date/
 * Resent-Date and undefined fields, URLs for List-* (RFC 2369) and
 * undefined fields, Text for Subject/Comments/Keywords/List-Id and
 * undefined fields; Raw for every field. 1 or 0. */
int mime_form_allowed(const char *name, enum mime_form form);

/* The fields of a header block (block[len], the blank line optional), in
 * order: [{"name": as written, "value": raw}...] (RFC 8621 4.1.3
 * "headers"). */
json_t *mime_header_fields(const char *block, size_t len);

/* One raw value in a form: Raw/Text -> string; Addresses -> [{name,
 * email}]; GroupedAddresses -> [{name, addresses}]; MessageIds -> [ids]
 * or null; Date -> an RFC 3339 UTCDate "YYYY-MM-DDTHH:MM:SSZ" (the
 * field's zone offset applied, not kept), or null; URLs -> [urls] or null. */
json_t *mime_header_form(const char *raw, size_t len, enum mime_form form);

#endif
