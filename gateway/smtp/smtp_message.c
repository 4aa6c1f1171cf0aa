/* smtp_message - the end of a message: the content checks, the Received:
 * field (RFC 5321 4.4), the delivery and its replies (RFC 2033 4.2). */
#include "gateway/smtp/smtp_session_private.h"
#include "gateway/submit/submit.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* RFC 3848 / RFC 6531 3.7.3 with-protocol names ("A": authenticated). */
static const char *with_protocol(const struct smtp_session *s)
{
	int a = s->account != NULL;

	if (s->set.lmtp)
		return s->tls ? "LMTPS" : "LMTP";
	if (s->txn.smtputf8)
		return s->tls ? (a ? "UTF8SMTPSA" : "UTF8SMTPS") : (a ? "UTF8SMTPA" : "UTF8SMTP");
	if (!s->esmtp)
		return "SMTP";
	return s->tls ? (a ? "ESMTPSA" : "ESMTPS") : (a ? "ESMTPA" : "ESMTP");
}

/* Received: from <helo> ([ip]) by <host> with <proto> id <id> [for <rcpt>]; <date>
 * The client's address is not looked up in DNS (TCP-info is the literal). */
char *smtp_received_field(const struct smtp_session *s, const char *msgid)
{
	struct buf b = BUF_INIT;
	char date[64];

	submit_rfc5322_date(date, sizeof date);
	buf_printf(&b, "Received: from %s ([%s%s])\r\n\tby %s with %s id %s",
		   s->helo != NULL ? s->helo : "unknown", strchr(s->peer_ip, ':') != NULL ? "IPv6:" : "",
		   s->peer_ip, s->set.hostname, with_protocol(s), msgid);
	/* Only for a single recipient in all: the field travels with every copy,
	 * local and queued, and must not reveal the other (Bcc) recipients. */
	if (s->txn.nrcpts == 1 && s->txn.nremote == 0 && strlen(s->txn.rcpts[0].path) < 300)
		buf_printf(&b, "\r\n\tfor <%s>", s->txn.rcpts[0].path);
	buf_printf(&b, ";\r\n\t%s\r\n", date);
	return buf_steal(&b);
}

static int severity(const struct deliver_result *r)
{
	return r->ok ? 2 : r->code[0] == '5' ? 5 : 4;
}

/* A backend result as a reply line, defensively: a malformed code becomes 451. */
static void reply_result(struct smtp_session *s, const struct deliver_result *r, const char *msgid)
{
	if (r->ok) {
		smtp_reply(s, "250 2.0.0 Ok: %s delivered", msgid);
	} else if ((r->code[0] == '4' || r->code[0] == '5') && r->code[1] >= '0' && r->code[1] <= '9' &&
		   r->code[2] >= '0' && r->code[2] <= '9' && r->code[3] == '\0' && r->enhanced[0] == r->code[0] &&
		   memchr(r->text, '\0', sizeof r->text) != NULL && strpbrk(r->text, "\r\n") == NULL) {
		smtp_reply(s, "%s %s %s", r->code, r->enhanced, r->text[0] != '\0' ? r->text : "Delivery failed");
	} else {
		smtp_reply(s, "451 4.3.0 Delivery failed, try again later");
	}
}

static void delivered(void *ctx, const struct deliver_result *results, size_t n)
{
	struct smtp_session *s = ctx;
	struct smtp_txn *t = &s->txn;
	static const struct deliver_result tempfail = { 0, "451", "4.3.0", "Delivery failed, try again later" };
	char msgid[40];
	size_t ok = 0;

	snprintf(msgid, sizeof msgid, "%s.%u", s->id, s->messages);
	if (s->conn == NULL) {
		log_info("smtp[%s]: delivery of %s finished after the client left", s->id, msgid);
		smtp_session_unref(s);
		return;
	}
	if (n != t->ntargets)
		results = NULL;
	for (size_t i = 0; results != NULL && i < n; i++)
		ok += results[i].ok != 0;
	if (s->set.lmtp) {
		/* One reply per accepted RCPT, in order; the worst of its targets. */
		for (size_t i = 0; i < t->nrcpts; i++) {
			const struct deliver_result *worst = NULL;
			for (size_t j = 0; results != NULL && j < t->rcpts[i].ntargets; j++) {
				const struct deliver_result *r = &results[t->rcpts[i].targets[j]];
				if (worst == NULL || severity(r) > severity(worst))
					worst = r;
			}
			reply_result(s, worst != NULL ? worst : &tempfail, msgid);
		}
	} else if (ok > 0) {
		/* SMTP has one reply: stored for at least one account is a success. */
		if (ok < n)
			log_warn("smtp[%s]: %s stored for %zu of %zu accounts", s->id, msgid, ok, n);
		smtp_reply(s, "250 2.0.0 Ok: %s delivered", msgid);
	} else {
		reply_result(s, results != NULL && n > 0 ? &results[0] : &tempfail, msgid);
	}
	log_info("%s[%s]: message %s from=<%s> size=%zu rcpts=%zu accounts=%zu stored=%zu",
		 s->set.lmtp ? "lmtp" : "smtp", s->id, msgid, t->mail_from, t->msg.len, t->nrcpts, t->ntargets, ok);
	smtp_txn_reset(s);
	smtp_set_state(s, SMTP_S_READY);
	smtp_run(s);
	smtp_session_unref(s);
}

/* RFC 5321 6.3: a message that has passed this many relays is looping
 * (Postfix's hopcount_limit); counted on the Received fields it arrived
 * with. */
#define SMTP_MAX_HOPS 50

static int too_many_hops(const struct smtp_txn *t)
{
	const char *data = t->msg.data != NULL ? t->msg.data : "";

	return submit_count_fields(data, submit_header_len(data, t->msg.len), "Received") >= SMTP_MAX_HOPS;
}

/* Hands the message (data, len) to the backend's delivery, and to
 * forwarding when remote alias targets were collected at RCPT;
 * auth_results/arc_cv from the sender authentication (NULL without). */
static void deliver_now(struct smtp_session *s, const char *data, size_t len, int junk,
			const char *auth_results, const char *arc_cv)
{
	struct smtp_txn *t = &s->txn;
	struct deliver_request req;
	char msgid[40], *received;

	snprintf(msgid, sizeof msgid, "%s.%u", s->id, s->messages);
	received = smtp_received_field(s, msgid);
	if (t->nfwd > 0) {
		smtp_forward_data_end(s, msgid, received, data, len, junk, auth_results, arc_cv);
		free(received);
		return;
	}
	memset(&req, 0, sizeof req);
	req.actor = s->set.lmtp ? "lmtp" : "smtp";
	req.single_reply = !s->set.lmtp;
	req.mail_from = t->mail_from;
	req.received = received;
	req.data = data;
	req.len = len;
	req.targets = t->targets;
	req.ntargets = t->ntargets;
	req.dsn = t->dsn;
	req.junk = junk;
	smtp_set_state(s, SMTP_S_WAIT);
	smtp_session_ref(s);
	s->backend.deliver(s->backend.ctx, &req, delivered, s);
	free(received);
}

/* The sender authentication's verdict: 550 5.7.1 (DMARC reject), or the
 * rewritten message delivered (into Junk for quarantine). */
static void authenticated(void *ctx, const struct msgauth_verdict *v)
{
	struct smtp_session *s = ctx;

	if (s->conn == NULL) {
		smtp_session_unref(s);
		return;
	}
	log_info("smtp[%s]: message %s.%u from=<%s>: %s", s->id, s->id, s->messages, s->txn.mail_from,
		 v->summary);
	if (v->reject) {
		/* RFC 7489 6.7 / 7.3: refused at the end of DATA */
		smtp_reply_txn(s, "550 5.7.1 Rejected by the DMARC policy of the From domain");
		smtp_txn_reset(s);
		smtp_set_state(s, SMTP_S_READY);
		smtp_run(s);
	} else {
		deliver_now(s, v->data, v->len, v->junk, v->results, v->arc);
	}
	smtp_session_unref(s);
}

void smtp_txn_data_end(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;
	const char *reject = NULL;
	char msgid[40];

	s->messages++;
	if (t->data.too_big)
		reject = "552 5.3.4 Message size exceeds fixed maximum message size";
	else if (t->data.bare_crlf)
		reject = "550 5.6.11 message contains bare CR or LF (RFC 5321 2.3.8)";
	else if (t->data.line_too_long)
		reject = "554 5.6.0 Message contains a line longer than allowed";
	else if (!s->set.submission && too_many_hops(t))
		reject = "554 5.4.6 Too many hops (mail loop?)";
	if (reject != NULL) {
		log_info("%s[%s]: message rejected: %s", s->set.lmtp ? "lmtp" : "smtp", s->id, reject);
		smtp_reply_txn(s, reject);
		smtp_txn_reset(s);
		smtp_set_state(s, SMTP_S_READY);
		return;
	}
	snprintf(msgid, sizeof msgid, "%s.%u", s->id, s->messages);
	if (s->set.submission) {
		smtp_submit_data_end(s, msgid);
		return;
	}
	if (!s->set.lmtp && s->backend.msgauth != NULL) {
		/* RFC 7489 / RFC 8601: checked before the blob is written, since
		 * the stored message gets our Authentication-Results. */
		smtp_set_state(s, SMTP_S_WAIT);
		smtp_session_ref(s);
		s->backend.msgauth(s->backend.ctx, s->peer_ip, s->helo != NULL ? s->helo : "", t->mail_from,
				   t->msg.data != NULL ? t->msg.data : "", t->msg.len, authenticated, s);
		return;
	}
	deliver_now(s, t->msg.data != NULL ? t->msg.data : "", t->msg.len, 0, NULL, NULL);
}
