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
		/* an override is said in the comment, with DMARC's reporting
		 * name for it (RFC 7489 appendix C, PolicyOverrideType) */
		buf_printf(out, " (p=%s%s) header.from=%s", res->dmarc_policy,
			   res->dmarc_override ? "; policy.override=trusted_forwarder arc=pass" : "", res->from_domain);
	buf_printf(out, ";\r\n\tarc=%s", res->arc);
	/* RFC 8617 10.1 registers ptype "header", property "oldest-pass" */
	if (strcmp(res->arc, "pass") == 0)
		buf_printf(out, " (i=%d) header.oldest-pass=%d", res->arc_instances, res->arc_oldest_pass);
	buf_puts(out, "\r\n");
}

/* v as a key-value-pair value (RFC 7208 9.1: dot-atom or quoted-string):
 * as is when every character is atext or '.', else quoted with '"' and
 * '\\' escaped and control characters dropped. */
static void kv_value(const char *v, struct buf *out)
{
	static const char atext[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
				    "!#$%&'*+-/=?^_`{|}~.";

	if (v[0] != '\0' && strspn(v, atext) == strlen(v) && v[0] != '.') {
		buf_puts(out, v);
		return;
	}
	buf_puts(out, "\"");
	for (const char *p = v; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			continue;
		if (*p == '"' || *p == '\\')
			buf_append(out, "\\", 1);
		buf_append(out, p, 1);
	}
	buf_puts(out, "\"");
}

void msgauth_received_spf(const struct msgauth_request *req, const struct msgauth_result *res, struct buf *out)
{
	const char *d = res->spf_domain;
	int plain = d[0] != '\0' && strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") ==
					   strlen(d);

	/* the comment names the domain only when it cannot break out of it */
	buf_printf(out, "Received-SPF: %s (%s: domain of %s)\r\n\tclient-ip=", res->spf, req->authserv_id,
		   plain ? d : "the sender");
	kv_value(req->peer_ip, out);
	buf_puts(out, "; envelope-from=");
	kv_value(req->mail_from, out);
	buf_puts(out, "; helo=");
	kv_value(req->helo, out);
	buf_puts(out, ";\r\n\treceiver=");
	kv_value(req->authserv_id, out);
	buf_printf(out, "; identity=%s\r\n", res->spf_helo ? "helo" : "mailfrom");
}

/* The end of the line starting at i: the offset after its CRLF (len when none). */
static size_t line_end(const char *msg, size_t len, size_t i)
{
	const char *lf;

	while ((lf = memchr(msg + i, '\n', len - i)) != NULL) {
		size_t at = (size_t)(lf - msg);
		if (at > 0 && msg[at - 1] == '\r')
			return at + 1;
		i = at + 1;   /* a bare LF is not a line end (RFC 5322 2.2) */
	}
	return len;
}

void msgauth_rewrite(const char *msg, size_t len, const char *authserv_id, const char *field,
		     struct buf *out)
{
	static const char name[] = "Authentication-Results";
	size_t i = 0, kept = 0;

	buf_puts(out, field);
	/* every header field, however many (no forged copy may hide past a
	 * count limit); the header ends at the first empty line */
	while (i < len && !(i + 1 < len && msg[i] == '\r' && msg[i + 1] == '\n')) {
		size_t start = i, end = line_end(msg, len, i), n = sizeof name - 1, k;

		while (end < len && (msg[end] == ' ' || msg[end] == '\t'))
			end = line_end(msg, len, end);      /* folded continuation lines */
		if (msg[start] != ' ' && msg[start] != '\t' && end - start > n &&
		    strncasecmp(msg + start, name, n) == 0) {
			for (k = start + n; k < end && (msg[k] == ' ' || msg[k] == '\t'); k++)
				;
			if (k < end && msg[k] == ':' && msgauth_ar_is_ours(msg + k + 1, end - k - 1, authserv_id)) {
				buf_append(out, msg + kept, start - kept);
				kept = end;
			}
		}
		i = end;
	}
	buf_append(out, msg + kept, len - kept);
}
