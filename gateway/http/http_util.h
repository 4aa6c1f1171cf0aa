/* http_util - small parsers every HTTP handler needs: Authorization
 * credentials (Basic, RFC 7617; Bearer, RFC 6750 2.1), percent-decoding
 * (RFC 3986 2.1) and query parameters (application/x-www-form-urlencoded,
 * WHATWG URL "urlencoded parsing": "&"-separated, "+" is a space).
 * Untrusted input: every function is bounded by its input and refuses
 * malformed escapes and NUL octets. */
#ifndef EVM_HTTP_UTIL_H
#define EVM_HTTP_UTIL_H

#include <stddef.h>

enum http_auth_scheme {
	HTTP_AUTH_NONE,            /* another scheme (not an error) */
	HTTP_AUTH_BASIC,
	HTTP_AUTH_BEARER,
};

/* Owned strings; http_credentials_clear wipes and frees them. */
struct http_credentials {
	enum http_auth_scheme scheme;
	char *user;                /* Basic */
	char *password;            /* Basic */
	char *token;               /* Bearer */
};

/* Parses an Authorization field value (RFC 9110 11.6.2): the scheme is
 * case-insensitive (11.1). Basic: base64 (strict, evm_b64_decode) of
 * user-id ":" password, the user-id without ":", no control characters
 * (RFC 7617 2). Bearer: a b64token. 0 (scheme NONE for another scheme) or
 * -1 with *error_r when Basic or Bearer is malformed; nothing to free
 * then. */
int http_credentials_parse(const char *value, struct http_credentials *cr_r, const char **error_r);
/* Wipes (OPENSSL_cleanse) and frees the strings. */
void http_credentials_clear(struct http_credentials *cr);

/* Decodes %XX escapes of in (len bytes); plus_space also turns "+" into a
 * space (query strings). *out_r is malloc'ed and NUL-terminated, *len_r
 * its length (may be NULL). -1 with *error_r for a malformed escape or
 * %00. Note that %2F decodes to "/": split a path into segments before
 * decoding each when that matters. */
int http_percent_decode(const char *in, size_t len, int plus_space, char **out_r, size_t *len_r,
			const char **error_r);

/* The first parameter name in query (without "?"), decoded: 1 with
 * *value_r (malloc'ed; "" for "name" without "="), 0 when absent, -1 with
 * *error_r when a parameter before it is malformed. NULL query: 0. */
int http_query_param(const char *query, const char *name, char **value_r, const char **error_r);

#endif
