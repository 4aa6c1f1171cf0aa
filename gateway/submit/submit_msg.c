/* submit_msg - the message checks and fixes of submission (submit.h):
 * the From: field, Message-ID and Date, DKIM signatures. */
#include "gateway/submit/submit.h"
#include "common/dkim.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

size_t submit_header_len(const char *data, size_t len)
{
	const char *p;

	if (len >= 2 && data[0] == '\r' && data[1] == '\n')
		return 2;
	p = memmem(data, len, "\r\n\r\n", 4);
	return p != NULL ? (size_t)(p - data) + 4 : len;
}

unsigned submit_count_fields(const char *hdr, size_t len, const char *name)
{
	size_t nl = strlen(name);
	unsigned n = 0;

	for (size_t i = 0; i < len;) {
		const char *eol = memchr(hdr + i, '\n', len - i);

		if (len - i > nl && strncasecmp(hdr + i, name, nl) == 0) {
			size_t j = i + nl;

			while (j < len && (hdr[j] == ' ' || hdr[j] == '\t'))
				j++;
			if (j < len && hdr[j] == ':')
				n++;
		}
		if (eol == NULL)
			break;
		i = (size_t)(eol - hdr) + 1;
	}
	return n;
}

const char *submit_check_from(const struct submit_lookups *l, const char *account, const char *hdr,
			      size_t hlen, char **domain_r, int *temp_r)
{
	json_t *sum, *from, *a;
	const char *reply = NULL;
	size_t i;

	*domain_r = NULL;
	*temp_r = 0;
	if (submit_count_fields(hdr, hlen, "From") != 1)
		return "553 5.7.1 The message needs exactly one From: header field";
	sum = mime_parse(hdr, hlen, NULL);
	from = json_object_get(json_object_get(sum, "headers"), "from");
	if (json_array_size(from) == 0)
		reply = "553 5.7.1 The From: header field has no address";
	json_array_foreach(from, i, a) {
		const char *email = json_string_value(json_object_get(a, "email"));
		const char *at = email != NULL ? strrchr(email, '@') : NULL;
		int r;

		if (reply != NULL)
			break;
		if (at == NULL || at[1] == '\0') {
			reply = "553 5.7.1 The From: header field has an address without a domain";
			break;
		}
		r = l->sender_allowed(l->ctx, account, email);
		if (r < 0) {
			reply = "451 4.3.0 Temporary lookup failure, try again later";
			*temp_r = 1;
		} else if (r == 0) {
			log_info("submit: %s may not send with From: %s", account, email);
			reply = "553 5.7.1 From: header address not owned by the authenticated user";
		} else if (*domain_r == NULL) {
			*domain_r = xstrdup(at + 1);
			for (char *c = *domain_r; *c != '\0'; c++)
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c + 32);
		}
	}
	json_decref(sum);
	if (reply != NULL) {
		free(*domain_r);
		*domain_r = NULL;
	}
	return reply;
}

void submit_rfc5322_date(char *out, size_t size)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	snprintf(out, size, "%s, %d %s %d %02d:%02d:%02d +0000", days[tm.tm_wday], tm.tm_mday,
		 months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

void submit_fix_message(const char *data, size_t len, const char *hostname, struct buf *out)
{
	size_t hlen = submit_header_len(data, len);
	char rid[EVM_ID_HEX_LEN + 1], date[64];

	if (submit_count_fields(data, hlen, "Message-ID") == 0) {
		evm_random_id(rid);
		buf_printf(out, "Message-ID: <%s@%s>\r\n", rid, hostname);
	}
	if (submit_count_fields(data, hlen, "Date") == 0) {
		submit_rfc5322_date(date, sizeof date);
		buf_printf(out, "Date: %s\r\n", date);
	}
	buf_append(out, data, len);
}

void submit_dkim_sign(const struct submit_lookups *l, const char *domain, struct buf *msg,
		      const char *who)
{
	json_t *keys = l->dkim_keys(l->ctx, domain), *k;
	struct buf sigs = BUF_INIT;
	int64_t now = evm_now_ms() / 1000;
	size_t i;

	json_array_foreach(keys, i, k) {
		const char *pem = json_string_value(json_object_get(k, "private_key"));
		const char *sel = json_string_value(json_object_get(k, "selector"));
		const char *error = NULL;
		EVP_PKEY *key = NULL;
		char *field = NULL;

		if (pem == NULL || sel == NULL || dkim_key_load(pem, &key, &error) < 0 ||
		    dkim_sign(msg->data, msg->len, domain, sel, key, now, &field, &error) < 0) {
			log_warn("%s: DKIM key %s of %s not used: %s", who, sel ? sel : "?", domain,
				 error ? error : "incomplete record");
			EVP_PKEY_free(key);
			continue;
		}
		buf_puts(&sigs, field);
		free(field);
		EVP_PKEY_free(key);
	}
	json_decref(keys);
	if (sigs.len > 0) {
		buf_append(&sigs, msg->data, msg->len);
		buf_free(msg);
		*msg = sigs;
	}
}

int submit_has_8bit(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)data[i] >= 0x80)
			return 1;
	return 0;
}
