/* imap_auth_ext - AUTHENTICATE mechanisms besides PLAIN (RFC 9051 6.2.2,
 * SASL-IR RFC 4959): LOGIN (draft-murchison-sasl-login: "Username:" and
 * "Password:" challenges, then the same check as LOGIN) and SCRAM-SHA-256
 * (RFC 5802, RFC 7677; imap_scram.c) against the account's stored keys.
 *
 * The exchange's state lives in s->op until the tagged answer. A "*"
 * line cancels (RFC 9051 6.2.2: BAD). A failed SCRAM exchange answers NO
 * [AUTHENTICATIONFAILED] whatever the cause (unknown user, no SCRAM keys,
 * wrong password, disabled account): nothing is disclosed. Login
 * throttling (gateway/auth_gate.h): SCRAM asks the gate at client-first
 * (a refused client gets the exchange of an unknown user) and a failed
 * proof is counted and answered after the failure delay. */
#include "gateway/imap/imap_auth_ext.h"
#include "common/base64.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_login.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_auth.h"
#include "gateway/imap/imap_scram.h"
#include "gateway/auth_gate.h"
#include "common/log.h"
#include "projector/directory.h"
#include "gateway/node.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum ext_mech { MECH_LOGIN, MECH_SCRAM };

struct auth_ext {
	enum ext_mech mech;
	char *user;                      /* LOGIN: the user name once given */
	struct imap_scram sc;
	char tenant[64];
	char account[EVM_ADDRESS_MAX + 1];
	int usable;                      /* SCRAM: the account may log in */
	int refused;                     /* SCRAM: throttled, nothing counted */
};

/* Frees the exchange state (also run by the session when it ends first). */
static void ext_free(void *op)
{
	struct auth_ext *x = op;

	if (x == NULL)
		return;
	if (x->user != NULL) {
		OPENSSL_cleanse(x->user, strlen(x->user));
		free(x->user);
	}
	imap_scram_clear(&x->sc);
	free(x);
}

/* Ends the exchange: drops the state. */
static void ext_done(struct imap_session *s)
{
	ext_free(s->op);
	s->op = NULL;
	s->op_free = NULL;
	s->line_fn = NULL;
}

/* 1 for the mechanisms this file implements. */
int imap_auth_ext_known(const char *mech)
{
	return strcasecmp(mech, "LOGIN") == 0 || strcasecmp(mech, "SCRAM-SHA-256") == 0;
}

/* A base64 line into a malloc'ed NUL-terminated string; NULL (after a delayed BAD)
 * when invalid or holding a NUL. */
static char *decode_or_bad(struct imap_session *s, const char *b64, size_t len, size_t *n_r)
{
	char *out = xmalloc(len / 4 * 3 + 1);
	size_t n = 0;

	if (len == 1 && b64[0] == '=')
		len = 0;
	if (evm_b64_decode(b64, len, (unsigned char *)out, &n) < 0 || memchr(out, '\0', n) != NULL) {
		OPENSSL_cleanse(out, len / 4 * 3 + 1);
		free(out);
		ext_done(s);
		imap_auth_malformed(s, 1, "Invalid base64");   /* counted and delayed */
		return NULL;
	}
	*n_r = n;
	return out;
}

/* Sends "+ <base64 of text>". */
static void challenge(struct imap_session *s, const char *text)
{
	char *b = evm_b64_encode((const unsigned char *)text, strlen(text));

	imap_line(s, "+ %s", b);
	free(b);
}

/* 1 when the line is the client's "*" (the command is then over). */
static int cancelled(struct imap_session *s, const char *line, size_t len)
{
	if (len != 1 || line[0] != '*')
		return 0;
	ext_done(s);
	imap_bad(s, "Authentication cancelled");
	return 1;
}

/* ---- LOGIN ---- */

/* The password: verified like LOGIN's (imap_auth.c). */
static void login_password(struct imap_session *s, const char *line, size_t len)
{
	struct auth_ext *x = s->op;
	char *pw, *user;
	size_t n;

	if (cancelled(s, line, len) || (pw = decode_or_bad(s, line, len, &n)) == NULL)
		return;
	user = x->user;
	x->user = NULL;
	ext_done(s);
	imap_auth_verify(s, user, pw);
	OPENSSL_cleanse(pw, n);
	free(pw);
	free(user);
}

/* The user name (continuation or initial response). */
static void login_user(struct imap_session *s, const char *b64, size_t len)
{
	struct auth_ext *x = s->op;
	size_t n;

	if (cancelled(s, b64, len) || (x->user = decode_or_bad(s, b64, len, &n)) == NULL)
		return;
	challenge(s, "Password:");
	s->line_fn = login_password;
}

/* ---- SCRAM-SHA-256 ---- */

/* The client's empty answer to the server-final-message (RFC 9051 6.2.2). */
static void scram_last(struct imap_session *s, const char *line, size_t len)
{
	struct auth_ext *x = s->op;
	char account[EVM_ADDRESS_MAX + 1], tenant[64];
	struct buf caps = BUF_INIT;

	if (cancelled(s, line, len))
		return;
	if (len != 0 && !(len == 1 && line[0] == '=')) {
		ext_done(s);
		imap_bad(s, "Expected an empty response");
		return;
	}
	snprintf(account, sizeof account, "%s", x->account);
	snprintf(tenant, sizeof tenant, "%s", x->tenant);
	ext_done(s);
	imap_logged_in(s, account, tenant);
	imap_capability_string(s, &caps);
	imap_ok(s, "[CAPABILITY %s] Logged in", caps.data);
	buf_free(&caps);
}

/* A failed SCRAM exchange's delay is over: answer it. */
static void scram_failure_answer(void *ctx)
{
	struct imap_session *s = ctx;

	if (s->conn != NULL && !s->closing)
		imap_no(s, "[AUTHENTICATIONFAILED] Authentication failed");
	imap_session_unref(s);
}

/* client-final-message: check the proof. */
static void scram_final(struct imap_session *s, const char *line, size_t len)
{
	struct auth_ext *x = s->op;
	char *msg, *server_final = NULL;
	const char *error = NULL;
	size_t n;
	int r;

	if (cancelled(s, line, len) || (msg = decode_or_bad(s, line, len, &n)) == NULL)
		return;
	/* asked again: other attempts may have failed since client-first */
	if (!x->refused && !auth_gate_allowed(s->peer_ip, x->account))
		x->refused = 1;
	r = imap_scram_client_final(&x->sc, msg, n, &server_final, &error);
	free(msg);
	if (r <= 0 || !x->usable || x->refused) {
		log_info("imap[%s]: SCRAM authentication failed for %s from [%s]%s%s", s->id,
			 x->sc.user, s->peer_ip, r < 0 ? ": " : "", r < 0 ? error : "");
		free(server_final);
		imap_session_ref(s);
		if (x->refused)
			auth_gate_delay(s->base, scram_failure_answer, s);
		else
			auth_gate_failed(s->base, s->peer_ip, x->account, scram_failure_answer, s);
		ext_done(s);
		return;
	}
	auth_gate_success(s->peer_ip, x->account);
	challenge(s, server_final);
	free(server_final);
	s->line_fn = scram_last;
}

/* Looks the user up: the keys of an active account, or made-up ones. */
static void scram_lookup(struct imap_session *s, struct auth_ext *x)
{
	const char *error = NULL, *state, *tenant;
	json_t *acc = NULL, *rec = NULL;

	if (s->node != NULL && s->node->view != NULL &&
	    evm_address_normalize(x->sc.user, x->account, &error) == 0 &&
	    directory_account_get(s->node->view, x->account, &acc, &error) > 0) {
		state = json_string_value(json_object_get(acc, "state"));
		tenant = json_string_value(json_object_get(acc, "tenant"));
		rec = json_object_get(acc, "scram_sha256");
		if (state != NULL && strcmp(state, "active") == 0 && tenant != NULL && rec != NULL &&
		    strlen(tenant) < sizeof x->tenant) {
			snprintf(x->tenant, sizeof x->tenant, "%s", tenant);
			x->usable = 1;
		}
	}
	imap_scram_set_keys(&x->sc, x->usable ? rec : NULL);
	if (!x->sc.known)
		x->usable = 0;
	json_decref(acc);
}

/* client-first-message (continuation or initial response). */
static void scram_first(struct imap_session *s, const char *b64, size_t len)
{
	struct auth_ext *x = s->op;
	char *msg, norm[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	size_t n;

	if (cancelled(s, b64, len) || (msg = decode_or_bad(s, b64, len, &n)) == NULL)
		return;
	if (imap_scram_client_first(&x->sc, msg, n, &error) < 0) {
		free(msg);
		ext_done(s);
		imap_auth_malformed(s, 0, "[AUTHENTICATIONFAILED] Malformed SCRAM client-first message");
		return;
	}
	free(msg);
	if (x->sc.authzid[0] != '\0' &&
	    (evm_address_normalize(x->sc.authzid, norm, &error) < 0 ||
	     strcasecmp(x->sc.authzid, x->sc.user) != 0)) {
		ext_done(s);
		imap_no(s, "[AUTHORIZATIONFAILED] Cannot act as another user");
		return;
	}
	if (evm_address_normalize(x->sc.user, x->account, &error) < 0)
		x->account[0] = '\0';
	x->refused = !auth_gate_allowed(s->peer_ip, x->account);
	if (x->refused)
		imap_scram_set_keys(&x->sc, NULL);
	else
		scram_lookup(s, x);
	challenge(s, imap_scram_server_first(&x->sc, NULL));
	s->line_fn = scram_final;
}

/* Starts AUTHENTICATE LOGIN or SCRAM-SHA-256 (TLS policy already checked):
 * with an initial response (SASL-IR) or an empty challenge. */
void imap_auth_ext_start(struct imap_session *s, const struct imap_command *cmd)
{
	const char *mech = imap_arg_str(&cmd->args[0]), *ir = NULL;
	struct auth_ext *x;

	if (cmd->nargs == 2 && (ir = imap_arg_str(&cmd->args[1])) == NULL) {
		imap_bad(s, "Invalid initial response");
		return;
	}
	x = xcalloc(1, sizeof *x);
	x->mech = strcasecmp(mech, "LOGIN") == 0 ? MECH_LOGIN : MECH_SCRAM;
	s->op = x;
	s->op_free = ext_free;
	if (ir != NULL) {
		if (x->mech == MECH_LOGIN)
			login_user(s, ir, cmd->args[1].len);
		else
			scram_first(s, ir, cmd->args[1].len);
		return;
	}
	if (x->mech == MECH_LOGIN) {
		challenge(s, "Username:");
		s->line_fn = login_user;
	} else {
		imap_line(s, "+ ");
		s->line_fn = scram_first;
	}
}
