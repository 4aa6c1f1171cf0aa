/* smtp_commands - one handler per SMTP/LMTP verb (RFC 5321 4.1.1, RFC 2033,
 * RFC 3030, RFC 3207), dispatched from one table. */
#include "gateway/smtp/smtp_session_private.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

/* The HELO name as it may appear in Received: printable ASCII, bounded. */
static char *helo_name(const char *arg)
{
	size_t n = strlen(arg) > 255 ? 255 : strlen(arg);
	char *h = xstrndup(arg, n);

	for (char *p = h; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	}
	return h;
}

/* RFC 5321 4.1.1.1, RFC 2033 4.1: a greeting resets the transaction. */
static void cmd_hello(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (s->set.lmtp != (cmd->verb == SMTP_LHLO)) {
		smtp_reply_error(s, s->set.lmtp ? "500 5.5.1 Use LHLO in LMTP" : "500 5.5.1 Command unrecognized");
		return;
	}
	smtp_txn_reset(s);
	free(s->helo);
	s->helo = helo_name(cmd->arg);
	s->esmtp = cmd->verb != SMTP_HELO;
	smtp_set_state(s, SMTP_S_READY);
	if (!s->esmtp) {
		smtp_reply(s, "250 %s", s->set.hostname);
		return;
	}
	smtp_reply(s, "250-%s", s->set.hostname);
	smtp_reply(s, "250-PIPELINING");
	smtp_reply(s, "250-SIZE %zu", s->set.max_message);
	if (s->set.tls != NULL && !s->tls)
		smtp_reply(s, "250-STARTTLS");
	/* RFC 4954 4, RFC 8314 3.3: AUTH only where a password may travel. */
	if (s->set.submission && (s->tls || s->set.allow_plaintext_auth))
		smtp_reply(s, "250-AUTH PLAIN LOGIN SCRAM-SHA-256");
	if (s->set.submission && s->tls)
		smtp_reply(s, "250-REQUIRETLS");
	smtp_reply(s, "250-ENHANCEDSTATUSCODES");
	smtp_reply(s, "250-8BITMIME");
	smtp_reply(s, "250-SMTPUTF8");
	smtp_reply(s, "250-DSN");
	smtp_reply(s, "250 CHUNKING");
}

static void cmd_mail(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (s->state == SMTP_S_INIT) {
		smtp_reply_error(s, "503 5.5.1 Send HELO/EHLO first");
		return;
	}
	if (s->state == SMTP_S_MAIL) {
		smtp_reply_error(s, "503 5.5.1 Nested MAIL command");
		return;
	}
	/* RFC 6409 4.3 (and RFC 4954 6): submission needs an authenticated client. */
	if (s->set.submission && s->account == NULL) {
		smtp_reply_error(s, "530 5.7.0 Authentication required");
		return;
	}
	if (smtp_txn_mail(s, cmd) < 0 || (s->set.submission && smtp_submit_mail(s) < 0))
		return;
	smtp_set_state(s, SMTP_S_MAIL);
	smtp_reply(s, "250 2.1.0 Ok");
}

static void cmd_rcpt(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (s->state != SMTP_S_MAIL) {
		smtp_reply_error(s, "503 5.5.1 Need MAIL command");
		return;
	}
	smtp_txn_rcpt(s, cmd);
}

/* The DATA/BDAT precondition; NULL when a message may follow. */
static const char *txn_not_ready(const struct smtp_session *s)
{
	if (s->state != SMTP_S_MAIL)
		return "503 5.5.1 Need MAIL command";
	if (s->txn.nrcpts + s->txn.nremote == 0)
		return "554 5.5.1 No valid recipients";
	return NULL;
}

/* RFC 5321 4.1.1.4. */
static void cmd_data(struct smtp_session *s, const struct smtp_command *cmd)
{
	const char *err = txn_not_ready(s);

	if (err == NULL && s->txn.used_bdat)
		err = "503 5.5.1 DATA and BDAT cannot be mixed";
	if (err != NULL) {
		smtp_reply_error(s, err);
		return;
	}
	smtp_data_init(&s->txn.data, SMTP_DATA_DOT, &s->txn.msg, s->set.max_message, s->set.max_line);
	smtp_set_state(s, SMTP_S_DATA);
	smtp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
}

/* RFC 3030 2: the chunk is always read, even when refused, so its octets
 * are never taken for commands. */
static void cmd_bdat(struct smtp_session *s, const struct smtp_command *cmd)
{
	s->bdat_discard = txn_not_ready(s);
	if (s->bdat_discard == NULL)
		s->bdat_discard = s->txn.bdat_error;
	if (s->bdat_discard == NULL && !s->txn.used_bdat) {
		s->txn.used_bdat = 1;
		smtp_data_init(&s->txn.data, SMTP_DATA_RAW, &s->txn.msg, s->set.max_message, s->set.max_line);
	}
	s->bdat_remaining = cmd->bdat_size;
	s->bdat_last = cmd->bdat_last;
	smtp_set_state(s, SMTP_S_BDAT);
	if (s->bdat_remaining == 0)
		smtp_bdat_chunk_done(s);
}

void smtp_bdat_chunk_done(struct smtp_session *s)
{
	const char *discard = s->bdat_discard;

	s->bdat_discard = NULL;
	if (discard != NULL) {
		/* Back to where the refused chunk found us. */
		smtp_set_state(s, s->txn.mail_from != NULL ? SMTP_S_MAIL : s->helo != NULL ? SMTP_S_READY : SMTP_S_INIT);
		if (s->bdat_last && s->txn.mail_from != NULL) {
			smtp_reply_txn(s, discard);
			smtp_txn_reset(s);
			smtp_set_state(s, SMTP_S_READY);
		} else {
			smtp_reply_error(s, discard);
		}
		return;
	}
	if (s->bdat_last) {
		smtp_data_finish(&s->txn.data);
		smtp_txn_data_end(s);
		return;
	}
	smtp_set_state(s, SMTP_S_MAIL);
	if (s->txn.data.too_big) {
		s->txn.bdat_error = "552 5.3.4 Message size exceeds fixed maximum message size";
		smtp_reply(s, "%s", s->txn.bdat_error);
		return;
	}
	smtp_reply(s, "250 2.0.0 %llu octets received", (unsigned long long)s->txn.bdat_octets);
}

static void cmd_rset(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_txn_reset(s);
	if (s->state != SMTP_S_INIT)
		smtp_set_state(s, SMTP_S_READY);
	smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_noop(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "250 2.0.0 Ok");
}

static void cmd_quit(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "221 2.0.0 %s closing connection", s->set.hostname);
	smtp_close_after_flush(s, "QUIT");
}

static void cmd_help(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "214 2.0.0 Commands: %s MAIL RCPT DATA BDAT RSET NOOP QUIT HELP VRFY%s%s",
		   s->set.lmtp ? "LHLO" : "HELO EHLO", s->set.tls != NULL && !s->tls ? " STARTTLS" : "",
		   s->set.submission ? " AUTH" : "");
}

/* RFC 5321 3.5.3: never disclose whether an account exists. */
static void cmd_vrfy(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply(s, "252 2.5.0 Cannot VRFY user, but will accept message and attempt delivery");
}

static void cmd_expn(struct smtp_session *s, const struct smtp_command *cmd)
{
	smtp_reply_error(s, "502 5.5.1 EXPN not available");
}

/* RFC 3207 4. */
static void cmd_starttls(struct smtp_session *s, const struct smtp_command *cmd)
{
	if (s->set.tls == NULL) {
		smtp_reply_error(s, "502 5.5.1 STARTTLS not available");
		return;
	}
	if (s->tls) {
		smtp_reply_error(s, "503 5.5.1 TLS already active");
		return;
	}
	if (s->state == SMTP_S_MAIL) {
		smtp_reply_error(s, "503 5.5.1 STARTTLS not allowed in a mail transaction");
		return;
	}
	smtp_reply(s, "220 2.0.0 Ready to start TLS");
	smtp_starttls(s);
}

static void (*const handlers[])(struct smtp_session *, const struct smtp_command *) = {
	[SMTP_HELO] = cmd_hello, [SMTP_EHLO] = cmd_hello, [SMTP_LHLO] = cmd_hello,
	[SMTP_MAIL] = cmd_mail, [SMTP_RCPT] = cmd_rcpt, [SMTP_DATA] = cmd_data,
	[SMTP_BDAT] = cmd_bdat, [SMTP_RSET] = cmd_rset, [SMTP_NOOP] = cmd_noop,
	[SMTP_QUIT] = cmd_quit, [SMTP_HELP] = cmd_help, [SMTP_VRFY] = cmd_vrfy,
	[SMTP_EXPN] = cmd_expn, [SMTP_STARTTLS] = cmd_starttls, [SMTP_AUTH] = smtp_cmd_auth,
};

void smtp_dispatch(struct smtp_session *s, const struct smtp_command *cmd)
{
	handlers[cmd->verb](s, cmd);
}
