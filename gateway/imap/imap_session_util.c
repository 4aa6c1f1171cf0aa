/* imap_session_util - small helpers of the command handlers: argument
 * values, mailbox names, quoting, flag lists and UID ranges. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
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

/* A flag as the store wants it: system flags in canonical case. */
static const char *flag_name(const char *f)
{
	static const char *const sys[] = { "\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft" };

	if (f[0] != '\\')
		return f;
	for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
		if (strcasecmp(f, sys[i]) == 0)
			return sys[i];
	}
	return NULL;
}

/* Appends the flags of one argument (a flag or a list) to arr; -1 invalid. */
int imap_flag_list(const struct imap_arg *a, json_t *arr)
{
	if (a->type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < a->count; i++) {
			if (a->list[i].type != IMAP_ARG_ATOM || imap_flag_list(&a->list[i], arr) < 0)
				return -1;
		}
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM || a->str[0] == '\0')
		return -1;
	/* RFC 9051 9 / RFC 3501 9: flag (STORE, APPEND) does not include
	 * \Recent, which only the server sets (as Dovecot, BAD). */
	if (flag_name(a->str) == NULL)
		return -1;
	for (const char *p = a->str + (a->str[0] == '\\'); *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return -1;
	}
	json_array_append_new(arr, json_string(flag_name(a->str)));
	return 0;
}

/* RFC 7162 7: mod-sequence-value = 1*DIGIT, a positive 63-bit integer;
 * mod-sequence-valzer also allows 0. */
int imap_modseq_arg(const struct imap_arg *a, int allow_zero, uint64_t *v_r)
{
	uint64_t v = 0;
	const char *p;

	if (a->type != IMAP_ARG_ATOM || a->str[0] == '\0' || strlen(a->str) > 19)
		return -1;
	for (p = a->str; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > (uint64_t)INT64_MAX || (v == 0 && !allow_zero))
		return -1;
	*v_r = v;
	return 0;
}

void imap_fetch_open(const struct imap_session *s, struct buf *out, size_t seq, uint32_t uid)
{
	if (s->uidonly)
		buf_printf(out, "* %u UIDFETCH (", uid);
	else
		buf_printf(out, "* %zu FETCH (", seq);
}
