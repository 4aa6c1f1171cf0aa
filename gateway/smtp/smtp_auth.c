/* smtp_auth - SMTP AUTH (RFC 4954) in submission mode: PLAIN (RFC 4616,
 * with an initial response or after "334 "), LOGIN ("Username:" and
 * "Password:" challenges) and SCRAM-SHA-256 (RFC 5802, RFC 7677, the same
 * state machine as IMAP: gateway/imap/imap_scram.h).
 *
 * Passwords are checked through the backend (auth_password.h: worker
 * threads, a dummy hash for unknown users), so every failure looks the
 * same: 535 5.7.8, counted toward limits.smtp_errors. Login throttling
 * (gateway/auth_gate.h): a password failure comes after the failure
 * delay; SCRAM asks the gate at client-first (a refused client gets the
 * exchange of an unknown user, so it fails) and reports the outcome; a
 * malformed response (bad base64, a PLAIN or LOGIN answer with misplaced
 * NULs, an unparsable client-first) counts as a failure of the client
 * and is answered after the same delay (auth_gate_malformed). A response line is
 * at most limits.smtp_line_length (smtp_parser_feed_line); "*" cancels
 * with 501 5.0.0 (RFC 4954 4). Without TLS AUTH is refused with 538 5.7.11
 * unless submission.allow_plaintext_auth (RFC 4954 4, RFC 8314 3.3). */
#include "gateway/smtp/smtp_session_private.h"
#include "common/base64.h"
#include "gateway/imap/imap_scram.h"
#include "gateway/auth_gate.h"
#include "common/log.h"
#include "common/scram.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum auth_mech { MECH_PLAIN, MECH_LOGIN, MECH_SCRAM };
enum auth_step { STEP_FIRST, STEP_PASSWORD, STEP_SCRAM_FINAL, STEP_SCRAM_LAST };

struct smtp_auth {
	enum auth_mech mech;
	enum auth_step step;
	char *user;                      /* LOGIN: the user name once given */
	struct imap_scram sc;
	char account[EVM_ADDRESS_MAX + 1];
	char tenant[64];
	int usable;                      /* SCRAM: the account may log in */
	int refused;                     /* SCRAM: throttled, no check counted */
	const char *malformed;           /* the reply to a malformed response, once delayed */
};

static const char *mech_name(enum auth_mech m)
{
	return m == MECH_PLAIN ? "PLAIN" : m == MECH_LOGIN ? "LOGIN" : "SCRAM-SHA-256";
}

void smtp_auth_free(struct smtp_session *s)
{
	struct smtp_auth *a = s->auth;

	if (a == NULL)
		return;
	if (a->user != NULL) {
		OPENSSL_cleanse(a->user, strlen(a->user));
		free(a->user);
	}
	imap_scram_clear(&a->sc);
	free(a);
	s->auth = NULL;
}

/* Ends the exchange with a reply; failures count toward the error limit. */
static void auth_end(struct smtp_session *s, const char *reply, int error)
{
	smtp_auth_free(s);
	if (s->state == SMTP_S_AUTH)
		smtp_set_state(s, SMTP_S_READY);
	if (error)
		smtp_reply_error(s, reply);
	else
		smtp_reply(s, "%s", reply);
}

/* Authenticated: the session sends as account from now on. */
static void auth_success(struct smtp_session *s, const char *mech, const char *account,
			 const char *tenant)
{
	free(s->account);
	s->account = xstrdup(account);
	snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
	log_info("smtp[%s]: authenticated %s as %s from [%s]", s->id, mech, account, s->peer_ip);
	auth_end(s, "235 2.7.0 Authentication successful", 0);
}

static void auth_failed(struct smtp_session *s, const char *mech, const char *user)
{
	log_info("smtp[%s]: %s authentication failed for %s from [%s]", s->id, mech,
		 user[0] != '\0' ? user : "(invalid name)", s->peer_ip);
	auth_end(s, "535 5.7.8 Authentication credentials invalid", 1);
}

/* The delay of a malformed response is over: its reply. */
static void malformed_answer(void *ctx)
{
	struct smtp_session *s = ctx;

	if (s->conn != NULL && s->state != SMTP_S_CLOSING) {
		smtp_set_state(s, SMTP_S_READY);
		auth_end(s, s->auth != NULL && s->auth->malformed != NULL ? s->auth->malformed
						: "535 5.7.8 Authentication credentials invalid", 1);
		smtp_run(s);
	}
	smtp_session_unref(s);
}

/* A malformed response: counted against the client and answered with
 * reply (a constant) after the failure delay; input waits meanwhile. */
static void malformed(struct smtp_session *s, const char *mech, const char *reply)
{
	log_info("smtp[%s]: malformed %s response from [%s]", s->id, mech, s->peer_ip);
	if (s->auth != NULL)
		s->auth->malformed = reply;
	smtp_set_state(s, SMTP_S_WAIT);
	smtp_session_ref(s);
	auth_gate_malformed(s->base, s->peer_ip, malformed_answer, s);
}

/* Base64 into a malloc'ed NUL-terminated buffer; NULL (after a delayed
 * 501) when invalid. "=" is the empty response (RFC 4954 4). */
static char *decode_or_fail(struct smtp_session *s, const char *b64, size_t len, size_t *n_r)
{
	char *out = xmalloc(len / 4 * 3 + 1);
	size_t n = 0;

	if (len == 1 && b64[0] == '=')
		len = 0;
	if (evm_b64_decode(b64, len, (unsigned char *)out, &n) < 0) {
		free(out);
		malformed(s, s->auth != NULL ? mech_name(s->auth->mech) : "AUTH",
			  "501 5.5.2 Cannot decode the response (invalid base64)");
		return NULL;
	}
	out[n] = '\0';
	*n_r = n;
	return out;
}

/* "334 <base64 of text>". */
static void challenge(struct smtp_session *s, const char *text, size_t len)
{
	char *b = evm_b64_encode((const unsigned char *)text, len);

	smtp_reply(s, "334 %s", b);
	free(b);
	smtp_set_state(s, SMTP_S_AUTH);
}

/* The password check is done (backend callback, on the loop). */
static void password_checked(void *ctx, int ok, const char *account, const char *tenant)
{
	struct smtp_session *s = ctx;
	enum auth_mech mech = s->auth != NULL ? s->auth->mech : MECH_PLAIN;

	if (s->conn != NULL && s->state != SMTP_S_CLOSING) {
		smtp_set_state(s, SMTP_S_READY);
		if (ok)
			auth_success(s, mech_name(mech), account, tenant);
		else
			auth_failed(s, mech_name(mech), account);
		smtp_run(s);
	}
	smtp_session_unref(s);
}

/* Hands user and password to the backend; input waits meanwhile. */
static void verify(struct smtp_session *s, const char *user, const char *password)
{
	smtp_set_state(s, SMTP_S_WAIT);
	smtp_session_ref(s);
	s->backend.auth_password(s->backend.ctx, s->peer_ip, user, password, password_checked, s);
}

/* A failed SCRAM exchange's delay is over: answer it. */
static void scram_failure_answer(void *ctx)
{
	struct smtp_session *s = ctx;

	if (s->conn != NULL && s->state != SMTP_S_CLOSING) {
		smtp_set_state(s, SMTP_S_READY);
		auth_failed(s, "SCRAM-SHA-256", s->auth != NULL ? s->auth->sc.user : "");
		smtp_run(s);
	}
	smtp_session_unref(s);
}

/* SCRAM failed at the proof: counted (unless refused) and answered after
 * the failure delay; input waits meanwhile. */
static void scram_failed(struct smtp_session *s)
{
	struct smtp_auth *a = s->auth;

	smtp_set_state(s, SMTP_S_WAIT);
	smtp_session_ref(s);
	if (a->refused)
		auth_gate_delay(s->base, scram_failure_answer, s);
	else
		auth_gate_failed(s->base, s->peer_ip, a->account, scram_failure_answer, s);
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static void plain_response(struct smtp_session *s, const char *b64, size_t len)
{
	char *dec, *authcid, *pass;
	size_t n = 0, l1, l2;

	if ((dec = decode_or_fail(s, b64, len, &n)) == NULL)
		return;
	l1 = strnlen(dec, n);
	authcid = l1 < n ? dec + l1 + 1 : NULL;
	l2 = authcid != NULL ? strnlen(authcid, n - l1 - 1) : 0;
	pass = authcid != NULL && l1 + 1 + l2 < n ? authcid + l2 + 1 : NULL;
	if (authcid == NULL || pass == NULL || strlen(pass) != n - l1 - l2 - 2 || l2 == 0 ||
	    (l1 > 0 && strcasecmp(dec, authcid) != 0)) {
		OPENSSL_cleanse(dec, n);
		free(dec);
		malformed(s, "PLAIN", "535 5.7.8 Authentication credentials invalid");
		return;
	}
	verify(s, authcid, pass);
	OPENSSL_cleanse(dec, n);
	free(dec);
}

/* LOGIN: the user name, then the password. */
static void login_response(struct smtp_session *s, const char *b64, size_t len)
{
	struct smtp_auth *a = s->auth;
	char *dec, *user;
	size_t n = 0;

	if ((dec = decode_or_fail(s, b64, len, &n)) == NULL)
		return;
	if (memchr(dec, '\0', n) != NULL) {
		OPENSSL_cleanse(dec, n);
		free(dec);
		malformed(s, "LOGIN", "535 5.7.8 Authentication credentials invalid");
		return;
	}
	if (a->step == STEP_FIRST) {
		a->user = dec;
		a->step = STEP_PASSWORD;
		challenge(s, "Password:", 9);
		return;
	}
	user = a->user;
	a->user = NULL;
	verify(s, user, dec);
	OPENSSL_cleanse(user, strlen(user));
	free(user);
	OPENSSL_cleanse(dec, n);
	free(dec);
}

/* SCRAM: client-first, then client-final, then the empty last response. */
static void scram_response(struct smtp_session *s, const char *b64, size_t len)
{
	struct smtp_auth *a = s->auth;
	const char *error = NULL;
	char *msg, *server_final = NULL;
	json_t *rec = NULL;
	size_t n = 0;
	int r;

	if (a->step == STEP_SCRAM_LAST) {
		if (len != 0 && !(len == 1 && b64[0] == '=')) {
			auth_end(s, "501 5.5.2 Expected an empty response", 1);
			return;
		}
		auth_success(s, "SCRAM-SHA-256", a->account, a->tenant);
		return;
	}
	if ((msg = decode_or_fail(s, b64, len, &n)) == NULL)
		return;
	if (n > IMAP_SCRAM_MSG_MAX) {
		free(msg);
		auth_end(s, "500 5.5.6 Authentication exchange line is too long", 1);
		return;
	}
	if (a->step == STEP_FIRST) {
		if (imap_scram_client_first(&a->sc, msg, n, &error) < 0 ||
		    (a->sc.authzid[0] != '\0' && strcasecmp(a->sc.authzid, a->sc.user) != 0)) {
			free(msg);
			malformed(s, "SCRAM-SHA-256", "535 5.7.8 Authentication credentials invalid");
			return;
		}
		free(msg);
		if (evm_address_normalize(a->sc.user, a->account, &error) < 0)
			a->account[0] = '\0';
		a->refused = !auth_gate_allowed(s->peer_ip, a->account);
		if (!a->refused && a->account[0] != '\0' &&
		    s->backend.scram_lookup(s->backend.ctx, a->account, &rec, a->tenant) > 0)
			a->usable = 1;
		imap_scram_set_keys(&a->sc, a->usable ? rec : NULL);
		json_decref(rec);
		if (!a->sc.known)
			a->usable = 0;
		a->step = STEP_SCRAM_FINAL;
		msg = (char *)imap_scram_server_first(&a->sc, NULL);
		challenge(s, msg, strlen(msg));
		return;
	}
	/* asked again: other attempts may have failed since client-first */
	if (!a->refused && !auth_gate_allowed(s->peer_ip, a->account))
		a->refused = 1;
	r = imap_scram_client_final(&a->sc, msg, n, &server_final, &error);
	free(msg);
	if (r <= 0 || !a->usable || a->refused) {
		free(server_final);
		scram_failed(s);
		return;
	}
	auth_gate_success(s->peer_ip, a->account);
	a->step = STEP_SCRAM_LAST;
	challenge(s, server_final, strlen(server_final));
	free(server_final);
}

void smtp_auth_line(struct smtp_session *s, const char *line, size_t len)
{
	if (s->auth == NULL) {
		smtp_set_state(s, SMTP_S_READY);
		return;
	}
	if (len == 1 && line[0] == '*') {
		auth_end(s, "501 5.0.0 Authentication cancelled", 1);
		return;
	}
	switch (s->auth->mech) {
	case MECH_PLAIN:
		plain_response(s, line, len);
		break;
	case MECH_LOGIN:
		login_response(s, line, len);
		break;
	case MECH_SCRAM:
		scram_response(s, line, len);
		break;
	}
}

/* 1 when AUTH may run now; else replies. */
static int auth_allowed(struct smtp_session *s)
{
	if (!s->set.submission) {
		smtp_reply_error(s, "502 5.5.1 Command not implemented");
		return 0;
	}
	if (s->state == SMTP_S_INIT || !s->esmtp) {
		smtp_reply_error(s, "503 5.5.1 Send EHLO first");
		return 0;
	}
	if (s->account != NULL) {
		smtp_reply_error(s, "503 5.5.1 Already authenticated");
		return 0;
	}
	if (s->state == SMTP_S_MAIL) {
		smtp_reply_error(s, "503 5.5.1 AUTH not allowed in a mail transaction");
		return 0;
	}
	if (!s->tls && !s->set.allow_plaintext_auth) {
		smtp_reply_error(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return 0;
	}
	return 1;
}

void smtp_cmd_auth(struct smtp_session *s, const struct smtp_command *cmd)
{
	struct smtp_auth *a;
	enum auth_mech mech;

	if (!auth_allowed(s))
		return;
	if (strcasecmp(cmd->arg, "PLAIN") == 0)
		mech = MECH_PLAIN;
	else if (strcasecmp(cmd->arg, "LOGIN") == 0)
		mech = MECH_LOGIN;
	else if (strcasecmp(cmd->arg, "SCRAM-SHA-256") == 0)
		mech = MECH_SCRAM;
	else {
		smtp_reply_error(s, "504 5.5.4 Unrecognized authentication type");
		return;
	}
	a = xcalloc(1, sizeof *a);
	a->mech = mech;
	s->auth = a;
	if (cmd->auth_ir != NULL) {
		/* The initial response (RFC 4954 4); as a line it may be "=". */
		char *ir = xstrdup(cmd->auth_ir);
		smtp_auth_line(s, ir, strlen(ir));
		OPENSSL_cleanse(ir, strlen(ir));
		free(ir);
		return;
	}
	if (mech == MECH_LOGIN)
		challenge(s, "Username:", 9);
	else
		challenge(s, "", 0);
}
