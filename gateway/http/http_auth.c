/* http_auth - Basic against the directory (the IMAP LOGIN path, so
 * throttled by the client's address like every login: gateway/auth_gate.h)
 * and the admin Bearer token; see http_server.h. */
#include "gateway/http/http_server_private.h"
#include "gateway/http/http_util.h"
#include "gateway/auth_gate.h"
#include "gateway/auth_password.h"
#include "common/buf.h"
#include "common/log.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

struct auth_call {
	struct http_request *req;
	http_auth_cb *cb;
	void *ctx;
};

/* auth_password_verify answered. */
static void on_verified(void *arg, int ok, const char *account, const char *tenant)
{
	struct auth_call *a = arg;

	a->cb(a->ctx, a->req, ok, account, tenant);
	free(a);
}

/* No usable credentials: refused (on the next loop turn, or after the
 * failure delay). */
static void refuse(void *arg)
{
	struct auth_call *a = arg;

	a->cb(a->ctx, a->req, 0, "", "");
	free(a);
}

/* No Authorization at all: refused on the next loop turn. */
static void on_refused(evutil_socket_t fd, short what, void *arg)
{
	refuse(arg);
}

void http_auth_basic(struct http_request *req, http_auth_cb *cb, void *ctx)
{
	struct auth_call *a = xcalloc(1, sizeof *a);
	const char *value = http_request_header(req, "authorization"), *error = NULL;
	struct http_credentials cr = { 0 };
	struct timeval now = { 0, 0 };

	a->req = req;
	a->cb = cb;
	a->ctx = ctx;
	if (value != NULL && http_credentials_parse(value, &cr, &error) == 0 && cr.scheme == HTTP_AUTH_BASIC) {
		auth_password_verify(req->base, req->view, req->peer_ip, cr.user, cr.password, on_verified, a);
		http_credentials_clear(&cr);
		return;
	}
	http_credentials_clear(&cr);
	if (error != NULL)
		log_info("http: [%s] %s", req->peer_ip, error);
	if (value != NULL) {
		/* credentials that are not Basic, or malformed: a failed attempt
		 * (a client asking without any is only challenged, below) */
		if (auth_gate_allowed(req->peer_ip, ""))
			auth_gate_failed(req->base, req->peer_ip, "", refuse, a);
		else
			auth_gate_delay(req->base, refuse, a);
		return;
	}
	if (event_base_once(req->base, -1, EV_TIMEOUT, on_refused, a, &now) < 0)
		log_panic("http: cannot schedule an authentication answer");
}

int http_auth_bearer(const struct http_request *req, const char *token)
{
	const char *value = http_request_header(req, "authorization"), *error;
	struct http_credentials cr;
	int ok;

	if (token == NULL || token[0] == '\0' || value == NULL ||
	    http_credentials_parse(value, &cr, &error) < 0)
		return 0;
	ok = cr.scheme == HTTP_AUTH_BEARER && strlen(cr.token) == strlen(token) &&
	     CRYPTO_memcmp(cr.token, token, strlen(token)) == 0;
	http_credentials_clear(&cr);
	return ok;
}

void http_respond_unauthorized(struct http_request *req, const char *realm)
{
	struct http_response resp;
	const char *error;
	char value[256];

	/* RFC 7617 2.1; realm is ours (no quotes or backslashes in it) */
	if (strpbrk(realm, "\"\\") != NULL ||
	    snprintf(value, sizeof value, "Basic realm=\"%s\", charset=\"UTF-8\"", realm) >= (int)sizeof value)
		log_panic("http: bad realm %s", realm);
	http_response_init(&resp, 401);
	if (http_response_field(&resp, "WWW-Authenticate", value, &error) < 0 ||
	    http_response_field(&resp, "Content-Type", "text/plain; charset=utf-8", &error) < 0)
		log_panic("http: %s", error);
	http_respond(req, &resp, "Unauthorized\n", 13);
	http_response_clear(&resp);
}
