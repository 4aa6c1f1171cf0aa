/* pop3_auth - AUTHORIZATION: USER/PASS (RFC 1939 7) and AUTH PLAIN (RFC
 * 4616) / LOGIN (RFC 5034), answered from the shared password check
 * (gateway/auth_password.h: worker threads, FIFO, dummy hash for unknown
 * users). Every failure says "-ERR [AUTH]" whatever the cause (RFC 3206,
 * no user enumeration); a malformed SASL response is a failure of the
 * client, counted and delayed (gateway/auth_gate.h auth_gate_malformed).
 * APOP is not offered. */
#include "gateway/pop3/pop3_session_private.h"
#include "common/base64.h"
#include "gateway/auth_gate.h"
#include "gateway/auth_password.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/scram.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int pop3_auth_allowed(const struct pop3_session *s)
{
	return s->tls || s->set.allow_plaintext_auth;
}

/* RFC 2595 4 style refusal before STLS; 1 when refused. */
static int plaintext_refused(struct pop3_session *s)
{
	if (pop3_auth_allowed(s))
		return 0;
	pop3_err(s, "[AUTH] Plaintext authentication is disallowed, use STLS first");
	return 1;
}

/* The check is done: enter TRANSACTION with the maildrop, or refuse. */
static void verified(void *ctx, int ok, const char *account, const char *tenant)
{
	struct pop3_session *s = ctx;
	const char *error = NULL;

	if (s->conn != NULL && !s->closing) {
		if (!ok) {
			log_info("pop3[%s]: authentication failed for %s from [%s]", s->id,
				 account[0] ? account : "(invalid name)", s->peer_ip);
			pop3_err(s, "[AUTH] Authentication failed");
		} else {
			snprintf(s->account, sizeof s->account, "%s", account);
			snprintf(s->tenant, sizeof s->tenant, "%s", tenant);
			if (pop3_maildrop_load(s, &error) < 0) {
				/* RFC 1939 7: stay in AUTHORIZATION. */
				log_warn("pop3[%s]: cannot open the maildrop of %s: %s", s->id, account, error);
				s->account[0] = '\0';
				pop3_err(s, "[SYS/TEMP] Cannot open the maildrop, try again later");
			} else {
				size_t total = 0;

				for (size_t i = 0; i < s->nmsgs; i++)
					total += s->msgs[i].size;
				s->state = POP3_S_TRANS;
				pop3_set_timeouts(s);
				log_info("pop3[%s]: login %s from [%s], %zu messages", s->id, s->account,
					 s->peer_ip, s->nmsgs);
				pop3_ok(s, "Logged in, maildrop has %zu messages (%zu octets)", s->nmsgs, total);
			}
		}
	}
	pop3_resume(s);
	pop3_session_unref(s);
}

static void verify(struct pop3_session *s, const char *user, const char *password)
{
	s->busy = 1;
	pop3_session_ref(s);
	auth_password_verify(s->base, s->node != NULL ? s->node->view : NULL, s->peer_ip, user, password,
			     verified, s);
}

/* A malformed response's delayed answer. */
struct malformed_answer {
	struct pop3_session *s;
	const char *text;
};

static void malformed_answered(void *ctx)
{
	struct malformed_answer *m = ctx;
	struct pop3_session *s = m->s;

	if (s->conn != NULL && !s->closing)
		pop3_err(s, "%s", m->text);
	free(m);
	pop3_resume(s);
	pop3_session_unref(s);
}

/* Counts a malformed response against the client; -ERR text (a constant)
 * after the failure delay, input held meanwhile as during a check. */
static void malformed(struct pop3_session *s, const char *text)
{
	struct malformed_answer *m = xcalloc(1, sizeof *m);

	log_info("pop3[%s]: malformed authentication from [%s]: %s", s->id, s->peer_ip, text);
	s->busy = 1;
	pop3_session_ref(s);
	m->s = s;
	m->text = text;
	auth_gate_malformed(s->base, s->peer_ip, malformed_answered, m);
}

void pop3_cmd_user(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (plaintext_refused(s))
		return;
	if (cmd->nargs != 1 || strlen(cmd->args[0]) > EVM_ADDRESS_MAX) {
		pop3_err(s, "USER needs one name");
		return;
	}
	snprintf(s->user, sizeof s->user, "%s", cmd->args[0]);
	pop3_ok(s, "Send PASS");
}

/* RFC 1939 7: the whole rest of the line is the password (spaces too). */
void pop3_cmd_pass(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (plaintext_refused(s))
		return;
	if (s->user[0] == '\0') {
		pop3_err(s, "USER first");
		return;
	}
	verify(s, s->user, cmd->rest);
	s->user[0] = '\0';
}

/* Base64 (RFC 4648) into a malloc'ed NUL-terminated buffer; -1 if invalid. */
static int b64_decode(const char *in, char **out_r, size_t *len_r)
{
	size_t len = strlen(in);
	char *out = xmalloc(len / 4 * 3 + 1);

	if (evm_b64_decode(in, len, (unsigned char *)out, len_r) < 0) {
		free(out);
		return -1;
	}
	*out_r = out;
	return 0;
}

static void wipe(char *p, size_t n)
{
	explicit_bzero(p, n);
	free(p);
}

/* RFC 4616: [authzid] NUL authcid NUL passwd. */
static void auth_plain(struct pop3_session *s, const char *b64)
{
	char *dec = NULL, *authcid, *pass;
	size_t n = 0, l1, l2;

	if (strcmp(b64, "=") == 0)
		b64 = "";
	if (b64_decode(b64, &dec, &n) < 0) {
		malformed(s, "[AUTH] Invalid base64");
		return;
	}
	l1 = strnlen(dec, n);
	authcid = l1 < n ? dec + l1 + 1 : NULL;
	l2 = authcid != NULL ? strnlen(authcid, n - l1 - 1) : 0;
	pass = authcid != NULL && l1 + 1 + l2 < n ? authcid + l2 + 1 : NULL;
	if (authcid == NULL || pass == NULL || strlen(pass) != n - l1 - l2 - 2) {
		wipe(dec, n);
		malformed(s, "[AUTH] Malformed PLAIN response");
		return;
	}
	if (l1 > 0 && strcasecmp(dec, authcid) != 0) {
		wipe(dec, n);
		pop3_err(s, "[AUTH] Cannot act as another user");
		return;
	}
	verify(s, authcid, pass);
	wipe(dec, n);
}

/* RFC 5034 4: AUTH mechanism [initial-response]; "AUTH" alone lists the
 * mechanisms (as the older RFC 1734 clients expect). */
void pop3_cmd_auth(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (cmd->nargs == 0) {
		pop3_write(s, "+OK\r\nPLAIN\r\nLOGIN\r\n.\r\n", 22);
		return;
	}
	if (cmd->nargs > 2) {
		pop3_err(s, "AUTH takes a mechanism and an initial response");
		return;
	}
	if (strcasecmp(cmd->args[0], "PLAIN") != 0 && strcasecmp(cmd->args[0], "LOGIN") != 0) {
		pop3_err(s, "Unsupported authentication mechanism");
		return;
	}
	if (plaintext_refused(s))
		return;
	if (strcasecmp(cmd->args[0], "PLAIN") == 0) {
		if (cmd->nargs == 2) {
			auth_plain(s, cmd->args[1]);
			return;
		}
		s->sasl = POP3_SASL_PLAIN;
		pop3_write(s, "+ \r\n", 4);
	} else if (cmd->nargs == 2) {
		/* LOGIN with the user name as the initial response */
		s->sasl = POP3_SASL_LOGIN_USER;
		pop3_sasl_line(s, cmd->args[1]);
		return;
	} else {
		s->sasl = POP3_SASL_LOGIN_USER;
		pop3_write(s, "+ VXNlcm5hbWU6\r\n", 16);    /* "Username:" */
	}
	pop3_parser_expect_sasl(s->parser);
}

/* A SASL response line (RFC 5034 4: "*" cancels). */
void pop3_sasl_line(struct pop3_session *s, const char *line)
{
	enum pop3_sasl step = s->sasl;
	char *dec = NULL;
	size_t n = 0;

	s->sasl = POP3_SASL_NONE;
	if (strcmp(line, "*") == 0) {
		pop3_err(s, "[AUTH] Authentication cancelled");
		return;
	}
	if (step == POP3_SASL_PLAIN) {
		auth_plain(s, line);
		return;
	}
	if (b64_decode(line, &dec, &n) < 0 || strlen(dec) != n ||
	    (step == POP3_SASL_LOGIN_USER && (n == 0 || n > EVM_ADDRESS_MAX))) {
		if (dec != NULL)
			wipe(dec, n);
		malformed(s, "[AUTH] Invalid LOGIN response");
		return;
	}
	if (step == POP3_SASL_LOGIN_USER) {
		snprintf(s->user, sizeof s->user, "%s", dec);
		wipe(dec, n);
		s->sasl = POP3_SASL_LOGIN_PASS;
		pop3_write(s, "+ UGFzc3dvcmQ6\r\n", 16);    /* "Password:" */
		pop3_parser_expect_sasl(s->parser);
		return;
	}
	verify(s, s->user, dec);
	s->user[0] = '\0';
	wipe(dec, n);
}
