/* imap_session_util - small helpers of the command handlers: argument
 * values, mailbox names, quoting, flag lists and UID ranges. */
#include "gateway/imap/imap_session_private.h"
#include "projector/mail.h"

#include <string.h>
#include <strings.h>

/* An astring's value: NIL is the string "NIL" as typed (RFC 9051 9:
 * astring = 1*ASTRING-CHAR / string; only nstring reads NIL as null). */
const char *imap_arg_str(const struct imap_arg *a)
{
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_STRING && a->type != IMAP_ARG_NIL)
		return NULL;
	return a->str;
}

/* RFC 9051 5.1: mailbox names are UTF-8 here (RFC 9051 5.1.3 modified
 * UTF-7 is not converted), '/' separates levels, "INBOX" is
 * case-insensitive. */
int imap_mailbox_arg(const struct imap_arg *a, char *out, size_t size)
{
	const char *v = imap_arg_str(a);
	size_t len;

	if (v == NULL || a->len != strlen(v))
		return -1;
	len = strlen(v);
	while (len > 1 && v[len - 1] == '/')
		len--;
	if (len == 0 || len > MAIL_MAILBOX_NAME_MAX || len >= size)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return -1;
	}
	memcpy(out, v, len);
	out[len] = '\0';
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
		memcpy(out, "INBOX", 5);
	return 0;
}

void imap_quote(struct buf *out, const char *s)
{
	size_t len = strlen(s);
	int plain = 1;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == 0)
			plain = 0;
	}
	if (!plain) {
		buf_printf(out, "{%zu}\r\n%s", len, s);
		return;
	}
	buf_puts(out, "\"");
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"' || s[i] == '\\')
			buf_puts(out, "\\");
		buf_append(out, &s[i], 1);
	}
	buf_puts(out, "\"");
}

void imap_ranges_string(json_t *ranges, struct buf *out)
{
	json_t *r;
	size_t i;

	json_array_foreach(ranges, i, r) {
		json_int_t lo = json_integer_value(json_array_get(r, 0));
		json_int_t hi = json_integer_value(json_array_get(r, 1));

		if (i > 0)
			buf_puts(out, ",");
		if (lo == hi)
			buf_printf(out, "%" JSON_INTEGER_FORMAT, lo);
		else
			buf_printf(out, "%" JSON_INTEGER_FORMAT ":%" JSON_INTEGER_FORMAT, lo, hi);
	}
}
