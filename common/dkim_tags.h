/* dkim_tags - a push parser for DKIM tag lists (RFC 6376 3.2), the syntax
 * of DKIM-Signature, DKIM key records (RFC 6376 3.6.1), ARC-Seal and
 * ARC-Message-Signature (RFC 8617 4.1) and DMARC-like records.
 *
 * The caller feeds the field value in any pieces (dkim_tags_feed) and then
 * calls dkim_tags_finish. FWS around names, '=' and values is dropped;
 * whitespace inside a value is kept as it came. A duplicate tag, a bad tag
 * name, a control character or a limit exceeded is an error (RFC 6376 3.2:
 * "Tags with duplicate names MUST NOT occur"); after an error the parser
 * ignores the rest. Values are malloc'ed and owned by the struct. */
#ifndef EVM_DKIM_TAGS_H
#define EVM_DKIM_TAGS_H

#include <stddef.h>

#define DKIM_TAGS_MAX 32          /* tags in one list */
#define DKIM_TAG_NAME_MAX 32      /* octets of a tag name */
#define DKIM_TAG_VALUE_MAX 16384  /* octets of one value (an 8192-bit key in base64 fits) */

struct dkim_tag {
	char name[DKIM_TAG_NAME_MAX + 1];
	char *value;
};

struct dkim_tags {
	struct dkim_tag tag[DKIM_TAGS_MAX];
	size_t n;
	/* parser state */
	int state;
	size_t name_len;
	char name[DKIM_TAG_NAME_MAX + 1];
	char *value;
	size_t value_len;
	const char *error;            /* set once; the list is invalid */
};

void dkim_tags_init(struct dkim_tags *t);
/* Consumes len octets; -1 once the list is invalid (t->error). */
int dkim_tags_feed(struct dkim_tags *t, const char *p, size_t len);
/* The end of the list: 0, or -1 with the reason. */
int dkim_tags_finish(struct dkim_tags *t, const char **error_r);
/* Parses a whole value: init, feed, finish (free with dkim_tags_free). */
int dkim_tags_parse(struct dkim_tags *t, const char *p, size_t len, const char **error_r);
/* The value of name (case-sensitive, RFC 6376 3.2), NULL when absent. */
const char *dkim_tags_get(const struct dkim_tags *t, const char *name);
void dkim_tags_free(struct dkim_tags *t);

#endif
