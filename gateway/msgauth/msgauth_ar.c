/* msgauth_ar - the Authentication-Results field (RFC 8601): ours, built
 * from the results, and the removal of copies that claim to be ours. */
#include "gateway/msgauth/msgauth.h"

#include <string.h>
#include <strings.h>

#define AR_MAX_COMMENT_DEPTH 8

/* Skips CFWS (RFC 5322 3.2.2: whitespace and nested comments) from i; len when unterminated. */
static size_t skip_cfws(const char *v, size_t len, size_t i)
{
	int depth = 0;

	while (i < len) {
		char c = v[i];
		if (depth > 0 && c == '\\' && i + 1 < len) {
			i += 2;
			continue;
		}
		if (c == '(') {
			if (++depth > AR_MAX_COMMENT_DEPTH)
				return len;
		} else if (c == ')' && depth > 0) {
			depth--;
		} else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n') {
			return i;
		}
		i++;
	}
	return len;
}

int msgauth_ar_is_ours(const char *value, size_t len, const char *id)
{
	size_t i = skip_cfws(value, len, 0), idl = strlen(id), k = 0;

	if (i >= len)
		return 0;
	if (value[i] == '"') {
		/* quoted-string: compare the unescaped content */
		for (i++; i < len && value[i] != '"'; i++) {
			if (value[i] == '\\' && i + 1 < len)
				i++;
			if (k >= idl || ((value[i] | 0x20) != (id[k] | 0x20)))
				return 0;
			k++;
		}
		return i < len && k == idl;
	}
	/* token (RFC 2045 5.1): up to CFWS, ';' or the end */
	while (i + k < len && strchr(" \t\r\n;(", value[i + k]) == NULL)
		k++;
	return k == idl && strncasecmp(value + i, id, idl) == 0;
}

void msgauth_ar_field(const char *authserv_id, const struct msgauth_result *res, struct buf *out)
{
	buf_printf(out, "Authentication-Results: %s;\r\n\tspf=%s smtp.%s=%s", authserv_id, res->spf,
		   res->spf_helo ? "helo" : "mailfrom", res->spf_domain[0] != '\0' ? res->spf_domain : "unknown");
	if (res->ndkim == 0)
		buf_printf(out, ";\r\n\tdkim=none");
	for (size_t i = 0; i < res->ndkim; i++) {
		const struct msgauth_dkim_result *d = &res->dkim[i];
		buf_printf(out, ";\r\n\tdkim=%s", d->result);
		if (d->domain[0] != '\0' && strspn(d->domain, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
						strlen(d->domain))
			buf_printf(out, " header.d=%s", d->domain);
		if (d->b[0] != '\0')
			buf_printf(out, " header.b=%s", d->b);
	}
	buf_printf(out, ";\r\n\tdmarc=%s", res->dmarc);
	if (res->from_domain[0] != '\0')
		buf_printf(out, " (p=%s) header.from=%s", res->dmarc_policy, res->from_domain);
	buf_printf(out, ";\r\n\tarc=%s\r\n", res->arc);
}

void msgauth_rewrite(const char *msg, size_t len, const char *authserv_id, const char *field,
		     struct buf *out)
{
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof *f);
	size_t body = 0, n = dkim_header_split(msg, len, f, DKIM_MAX_FIELDS, &body), pos = 0;

	buf_puts(out, field);
	for (size_t i = 0; i < n; i++) {
		const char *v;
		size_t end;

		if (f[i].name_len != 22 || strncasecmp(f[i].p, "Authentication-Results", 22) != 0)
			continue;
		v = memchr(f[i].p, ':', f[i].len) + 1;
		if (!msgauth_ar_is_ours(v, f[i].len - (size_t)(v - f[i].p), authserv_id))
			continue;
		/* drop the field with its CRLF */
		end = (size_t)(f[i].p - msg) + f[i].len;
		if (end + 2 <= len && msg[end] == '\r' && msg[end + 1] == '\n')
			end += 2;
		buf_append(out, msg + pos, (size_t)(f[i].p - msg) - pos);
		pos = end;
	}
	buf_append(out, msg + pos, len - pos);
	free(f);
}
