/* imap_session_util - small helpers of the command handlers: argument
 * values, mailbox names, quoting, flag lists and UID ranges. */
#include "gateway/imap/imap_session_private.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
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
/* 1 when name[0..len) is Net-Unicode as RFC 9051 5.1 wants a mailbox name
 * (RFC 5198 2): valid UTF-8 in NFC, without control characters (U+0000 to
 * U+001F, U+007F to U+009F), LINE SEPARATOR or PARAGRAPH SEPARATOR. */
static int name_net_unicode(const char *name, size_t len)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)name;
	utf8proc_uint8_t *nfc;
	utf8proc_ssize_t n;
	char *copy;
	int ascii = 1, ok;

	for (size_t i = 0; i < len; i += (size_t)n) {
		utf8proc_int32_t cp;

		n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029)
			return 0;
		ascii &= cp < 0x80;
	}
	if (ascii)
		return 1;
	copy = xstrndup(name, len);          /* utf8proc_NFC wants a C string */
	nfc = utf8proc_NFC((const utf8proc_uint8_t *)copy);
	free(copy);
	if (nfc == NULL)
		return 0;
	ok = strlen((const char *)nfc) == len && memcmp(nfc, name, len) == 0;
	free(nfc);
	return ok;
}

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
	if (!name_net_unicode(v, len))
		return -1;
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
