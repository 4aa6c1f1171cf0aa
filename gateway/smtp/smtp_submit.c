/* smtp_submit - message submission (RFC 6409) on top of the SMTP session:
 * who may send as whom, the per-account hourly limit, the fixes an MSA
 * makes (Date, Message-ID: RFC 6409 8.2, 8.3), DKIM signatures with every
 * key of the From: domain (RFC 6376, RFC 8463: rsa and ed25519 side by
 * side), then local recipients delivered as inbound mail and remote ones
 * put in the outbound queue (gateway/outbound/enqueue.h).
 *
 * The client hears 250 only when both halves are acknowledged by the log;
 * if either failed it hears 451 4.3.0 and sends again (a duplicate is
 * better than a loss). */
#include "gateway/smtp/smtp_session_private.h"
#include "gateway/smtp/smtp_rate.h"
#include "gateway/submit/submit.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One submitted message while its two halves run (gateway/submit). */
struct smtp_submit {
	struct smtp_session *s;
	char msgid[40];
};

/* Replies to a refused MAIL and forgets the transaction. */
static int refuse_mail(struct smtp_session *s, const char *reply, int error)
{
	smtp_txn_reset(s);
	if (error)
		smtp_reply_error(s, reply);
	else
		smtp_reply(s, "%s", reply);
	return -1;
}

int smtp_submit_mail(struct smtp_session *s)
{
	const char *from = s->txn.mail_from;
	int r;

	/* Bounces come from the system, never from a user (RFC 6409 8 leaves it
	 * to policy; a forged one would reach the recipients as a DSN). */
	if (from[0] == '\0')
		return refuse_mail(s, "553 5.7.1 The null sender is not allowed in submission", 1);
	r = s->backend.sender_allowed(s->backend.ctx, s->account, from);
	if (r < 0)
		return refuse_mail(s, "451 4.3.0 Temporary lookup failure, try again later", 0);
	if (r == 0) {
		log_info("smtp[%s]: %s may not send as <%s>", s->id, s->account, from);
		return refuse_mail(s, "553 5.7.1 Sender address rejected: not owned by the authenticated user", 1);
	}
	if (!smtp_rate_allowed(s->set.rate, s->account, evm_now_ms())) {
		log_info("smtp[%s]: %s is over limits.submission_per_hour", s->id, s->account);
		return refuse_mail(s, "450 4.7.1 Too many messages in the last hour, try again later", 0);
	}
	return 0;
}

void smtp_submit_remote_rcpt(struct smtp_session *s, const char *path, json_t *dsn)
{
	struct smtp_txn *t = &s->txn;
	const char *orcpt = json_string_value(json_object_get(dsn, "orcpt"));
	const char *notify = json_string_value(json_object_get(dsn, "notify"));
	size_t i;

	for (i = 0; i < t->nremote && strcasecmp(t->remote[i].addr, path) != 0; i++)
		;
	if (i == t->nremote) {
		t->remote = xrealloc(t->remote, (t->nremote + 1) * sizeof *t->remote);
		t->remote[t->nremote].addr = xstrdup(path);
		t->remote[t->nremote].orcpt = xstrdup(orcpt != NULL ? orcpt : "");
		t->remote[t->nremote].notify = xstrdup(notify != NULL ? notify : "");
		t->nremote++;
	}
	json_decref(dsn);
	smtp_reply(s, "250 2.1.5 Ok");
}

/* Both halves answered: one reply, then the next command. */
static void submit_finish(void *ctx, const struct submit_result *r)
{
	struct smtp_submit *sub = ctx;
	struct smtp_session *s = sub->s;
	struct smtp_txn *t = &s->txn;

	s->submit = NULL;
	if (s->conn == NULL) {
		log_info("smtp[%s]: submission of %s finished after the client left (%s)", s->id,
			 sub->msgid, r->ok ? "accepted" : "failed");
	} else {
		if (r->ok) {
			smtp_rate_record(s->set.rate, s->account, evm_now_ms());
			smtp_reply(s, "250 2.0.0 Ok: queued as %s", sub->msgid);
		} else if (t->nremote == 0 && r->have_local_first && r->local_first.code[0] == '5') {
			smtp_reply(s, "%s %s %s", r->local_first.code, r->local_first.enhanced,
				   r->local_first.text);
		} else if (r->storage_full) {
			/* RFC 3463 3.4: X.3.1 mail system full. */
			smtp_reply(s, "452 4.3.1 Insufficient system storage, try again later");
		} else {
			smtp_reply(s, "451 4.3.0 Message not accepted, try again later");
		}
		log_info("smtp[%s]: submitted %s by %s from=<%s> size=%zu local=%zu remote=%zu queue=%s %s",
			 s->id, sub->msgid, s->account, t->mail_from, t->msg.len, t->ntargets, t->nremote,
			 r->queue_id[0] ? r->queue_id : "-", r->ok ? "accepted" : "failed");
		smtp_txn_reset(s);
		smtp_set_state(s, SMTP_S_READY);
		smtp_run(s);
	}
	free(sub);
	smtp_session_unref(s);
}

void smtp_submit_data_end(struct smtp_session *s, const char *msgid)
{
	struct smtp_txn *t = &s->txn;
	const char *data = t->msg.data != NULL ? t->msg.data : "";
	size_t hlen = submit_header_len(data, t->msg.len);
	struct submit_lookups lookups = { s->backend.sender_allowed, s->backend.dkim_keys, s->backend.ctx };
	struct submit_ops ops = { s->backend.deliver, s->backend.enqueue, s->backend.ctx };
	struct submit_send_request req = { 0 };
	struct outbound_rcpt *rc;
	struct buf msg = BUF_INIT;
	struct smtp_submit *sub;
	const char *reject;
	char *domain = NULL, *received, who[64];
	int temp = 0;

	if ((reject = submit_check_from(&lookups, s->account, data, hlen, &domain, &temp)) != NULL) {
		if (temp)
			smtp_reply(s, "%s", reject);
		else
			smtp_reply_error(s, reject);
		smtp_txn_reset(s);
		smtp_set_state(s, SMTP_S_READY);
		return;
	}
	/* RFC 6409 8.3, 8.2: the fields an MSA may add, on top. */
	submit_fix_message(data, t->msg.len, s->set.hostname, &msg);
	snprintf(who, sizeof who, "smtp[%s]", s->id);
	if (s->set.dkim_sign)
		submit_dkim_sign(&lookups, domain, &msg, who);
	free(domain);
	sub = xcalloc(1, sizeof *sub);
	sub->s = s;
	snprintf(sub->msgid, sizeof sub->msgid, "%s", msgid);
	s->submit = sub;
	received = smtp_received_field(s, msgid);
	smtp_set_state(s, SMTP_S_WAIT);
	smtp_session_ref(s);
	rc = xcalloc(t->nremote + 1, sizeof *rc);
	for (size_t i = 0; i < t->nremote; i++) {
		rc[i].addr = t->remote[i].addr;
		rc[i].orcpt = t->remote[i].orcpt;
		rc[i].notify = t->remote[i].notify;
	}
	req.actor = "submission";
	req.tenant = s->tenant;
	req.account = s->account;
	req.mail_from = t->mail_from;
	req.received = received;
	req.data = msg.data;
	req.len = msg.len;
	req.targets = t->targets;
	req.ntargets = t->ntargets;
	req.remote = rc;
	req.nremote = t->nremote;
	req.dsn = t->dsn;
	req.smtputf8 = t->smtputf8;
	req.body8bit = t->body8bit;
	req.requiretls = t->requiretls;
	submit_send(&ops, &req, submit_finish, sub);
	free(rc);
	free(received);
	buf_free(&msg);
}
