/* http_util - see http_util.h */
#include "gateway/http/http_util.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/scram.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTTP_CREDENTIALS_MAX 4096  /* decoded Basic user:password */

/* The scheme word and, after 1*SP, the rest; NULL when value is empty. */
static const char *split_scheme(const char *value, size_t *scheme_len_r)
{
	size_t n = strcspn(value, " ");
	const char *rest = value + n;

	if (n == 0)
		return NULL;
	while (*rest == ' ')
		rest++;
	*scheme_len_r = n;
	return rest;
}

/* Basic (RFC 7617 2). 0 or -1. */
static int parse_basic(const char *b64, struct http_credentials *cr, const char **error_r)
{
	size_t len = strlen(b64), out_len;
	unsigned char *out;
	char *colon;

	if (len == 0 || len > HTTP_CREDENTIALS_MAX / 3 * 4 + 4) {
		*error_r = len == 0 ? "empty Basic credentials" : "Basic credentials too long";
		return -1;
	}
	out = xmalloc(len / 4 * 3 + 1);
	if (evm_b64_decode(b64, len, out, &out_len) < 0) {
		free(out);
		*error_r = "Basic credentials are not base64";
		return -1;
	}
	out[out_len] = '\0';
	for (size_t i = 0; i < out_len; i++)
		if (out[i] < 0x20 || out[i] == 0x7f) {
			OPENSSL_cleanse(out, out_len);
			free(out);
			*error_r = "control character in Basic credentials";
			return -1;
		}
	colon = strchr((char *)out, ':');
	if (colon == NULL) {
		OPENSSL_cleanse(out, out_len);
		free(out);
		*error_r = "Basic credentials without ':'";
		return -1;
	}
	*colon = '\0';
	cr->scheme = HTTP_AUTH_BASIC;
	cr->user = xstrdup((char *)out);
	cr->password = xstrdup(colon + 1);
	OPENSSL_cleanse(out, out_len);
	free(out);
	return 0;
}

/* b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=" (RFC 6750 2.1). */
static int is_b64token(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~+/");

	return n > 0 && s[n + strspn(s + n, "=")] == '\0';
}

int http_credentials_parse(const char *value, struct http_credentials *cr_r, const char **error_r)
{
	size_t slen = 0;
	const char *rest = split_scheme(value, &slen);

	memset(cr_r, 0, sizeof *cr_r);
	cr_r->scheme = HTTP_AUTH_NONE;
	if (rest == NULL)
		return 0;
	if (slen == 5 && strncasecmp(value, "Basic", 5) == 0)
		return parse_basic(rest, cr_r, error_r);
	if (slen == 6 && strncasecmp(value, "Bearer", 6) == 0) {
		if (!is_b64token(rest)) {
			*error_r = "malformed Bearer token";
			return -1;
		}
		cr_r->scheme = HTTP_AUTH_BEARER;
		cr_r->token = xstrdup(rest);
	}
	return 0;
}

/* Wipes and frees one string. */
static void wipe(char **s)
{
	if (*s == NULL)
		return;
	OPENSSL_cleanse(*s, strlen(*s));
	free(*s);
	*s = NULL;
}

void http_credentials_clear(struct http_credentials *cr)
{
	wipe(&cr->user);
	wipe(&cr->password);
	wipe(&cr->token);
	cr->scheme = HTTP_AUTH_NONE;
}

/* A hex digit's value, -1 if c is not one. */
static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int http_percent_decode(const char *in, size_t len, int plus_space, char **out_r, size_t *len_r,
			const char **error_r)
{
	char *out = xmalloc(len + 1);
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		int hi, lo;

		if (in[i] == '\0') {
			free(out);
			*error_r = "NUL in URL";
			return -1;
		}
		if (in[i] == '+' && plus_space) {
			out[o++] = ' ';
			continue;
		}
		if (in[i] != '%') {
			out[o++] = in[i];
			continue;
		}
		if (len - i < 3 || (hi = hexval(in[i + 1])) < 0 || (lo = hexval(in[i + 2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			free(out);
			*error_r = len - i >= 3 && in[i + 1] == '0' && in[i + 2] == '0' ? "%00 in URL"
											 : "malformed percent-encoding";
			return -1;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	*out_r = out;
	if (len_r != NULL)
		*len_r = o;
	return 0;
}

int http_query_param(const char *query, const char *name, char **value_r, const char **error_r)
{
	const char *s = query;

	*value_r = NULL;
	while (s != NULL && *s != '\0') {
		const char *amp = strchr(s, '&'), *end = amp != NULL ? amp : s + strlen(s);
		const char *eq = memchr(s, '=', (size_t)(end - s)), *nend = eq != NULL ? eq : end;
		char *key;
		int match;

		if (nend > s) {
			if (http_percent_decode(s, (size_t)(nend - s), 1, &key, NULL, error_r) < 0)
				return -1;
			match = strcmp(key, name) == 0;
			free(key);
			if (match) {
				if (eq == NULL) {
					*value_r = xstrdup("");
					return 1;
				}
				return http_percent_decode(eq + 1, (size_t)(end - eq - 1), 1, value_r, NULL,
							   error_r) < 0 ? -1 : 1;
			}
		}
		s = amp != NULL ? amp + 1 : NULL;
	}
	return 0;
}
