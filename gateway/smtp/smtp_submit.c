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
#include "common/dkim.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"
#include "ingest/evlog.h"
#include "projector/queue.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The deliveries of one submitted message. */
struct smtp_submit {
	struct smtp_session *s;
	unsigned pending;
	int local_done, local_ok;        /* some local target stored it */
	struct deliver_result local_first;
	int queue_ok;
	int storage_full;                /* a half failed for the log's storage (452) */
	char msgid[40];
	char queue_id[QUEUE_ID_LEN + 1];
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

/* The header block's length (through the empty line), or len when the
 * message has no body. */
static size_t header_len(const char *data, size_t len)
{
	const char *p;

	if (len >= 2 && data[0] == '\r' && data[1] == '\n')
		return 2;
	p = memmem(data, len, "\r\n\r\n", 4);
	return p != NULL ? (size_t)(p - data) + 4 : len;
}

/* Header fields named name (case-insensitive) in the header block. */
static unsigned count_fields(const char *hdr, size_t len, const char *name)
{
	size_t nl = strlen(name);
	unsigned n = 0;

	for (size_t i = 0; i < len;) {
		const char *eol = memchr(hdr + i, '\n', len - i);
		if (len - i > nl && strncasecmp(hdr + i, name, nl) == 0) {
			size_t j = i + nl;
			while (j < len && (hdr[j] == ' ' || hdr[j] == '\t'))
				j++;
			if (j < len && hdr[j] == ':')
				n++;
		}
		if (eol == NULL)
			break;
		i = (size_t)(eol - hdr) + 1;
	}
	return n;
}

/* RFC 6409 8.1-ish: the From: field's addresses must all be ones the
 * account may use. NULL when allowed (*domain_r: the first one's domain,
 * malloc'ed), else the reply. */
static const char *check_from_header(struct smtp_session *s, const char *data, size_t hlen,
				     char **domain_r, int *temp_r)
{
	json_t *sum, *from, *a;
	const char *reply = NULL;
	size_t i;

	*domain_r = NULL;
	*temp_r = 0;
	if (count_fields(data, hlen, "From") != 1)
		return "553 5.7.1 The message needs exactly one From: header field";
	sum = mime_parse(data, hlen, NULL);
	from = json_object_get(json_object_get(sum, "headers"), "from");
	if (json_array_size(from) == 0)
		reply = "553 5.7.1 The From: header field has no address";
	json_array_foreach(from, i, a) {
		const char *email = json_string_value(json_object_get(a, "email"));
		const char *at = email != NULL ? strrchr(email, '@') : NULL;
		int r;

		if (reply != NULL)
			break;
		if (at == NULL || at[1] == '\0') {
			reply = "553 5.7.1 The From: header field has an address without a domain";
			break;
		}
		r = s->backend.sender_allowed(s->backend.ctx, s->account, email);
		if (r < 0) {
			reply = "451 4.3.0 Temporary lookup failure, try again later";
			*temp_r = 1;
		} else if (r == 0) {
			log_info("smtp[%s]: %s may not send with From: %s", s->id, s->account, email);
			reply = "553 5.7.1 From: header address not owned by the authenticated user";
		} else if (*domain_r == NULL) {
			*domain_r = xstrdup(at + 1);
			for (char *c = *domain_r; *c != '\0'; c++) {
				if (*c >= 'A' && *c <= 'Z')
					*c = (char)(*c + 32);
			}
		}
	}
	json_decref(sum);
	if (reply != NULL) {
		free(*domain_r);
		*domain_r = NULL;
	}
	return reply;
}

/* Prepends a DKIM-Signature for each key of domain to msg (RFC 8463 5:
 * several signatures, one per algorithm, verified independently). */
static void dkim_sign_all(struct smtp_session *s, const char *domain, struct buf *msg)
{
	json_t *keys = s->backend.dkim_keys(s->backend.ctx, domain), *k;
	struct buf sigs = BUF_INIT;
	int64_t now = evm_now_ms() / 1000;
	size_t i;

	json_array_foreach(keys, i, k) {
		const char *pem = json_string_value(json_object_get(k, "private_key"));
		const char *sel = json_string_value(json_object_get(k, "selector"));
		const char *error = NULL;
		EVP_PKEY *key = NULL;
		char *field = NULL;

		if (pem == NULL || sel == NULL || dkim_key_load(pem, &key, &error) < 0 ||
		    dkim_sign(msg->data, msg->len, domain, sel, key, now, &field, &error) < 0) {
			log_warn("smtp[%s]: DKIM key %s of %s not used: %s", s->id, sel ? sel : "?", domain,
				 error ? error : "incomplete record");
			EVP_PKEY_free(key);
			continue;
		}
		buf_puts(&sigs, field);
		free(field);
		EVP_PKEY_free(key);
	}
	json_decref(keys);
	if (sigs.len > 0) {
		buf_append(&sigs, msg->data, msg->len);
		buf_free(msg);
		*msg = sigs;
	}
}

/* Both halves answered: one reply, then the next command. */
static void submit_finish(struct smtp_submit *sub)
{
	struct smtp_session *s = sub->s;
	struct smtp_txn *t = &s->txn;
	int ok = (t->ntargets == 0 || sub->local_ok) && (t->nremote == 0 || sub->queue_ok);

	s->submit = NULL;
	if (s->conn == NULL) {
		log_info("smtp[%s]: submission of %s finished after the client left (%s)", s->id,
			 sub->msgid, ok ? "accepted" : "failed");
	} else {
		if (ok) {
			smtp_rate_record(s->set.rate, s->account, evm_now_ms());
			smtp_reply(s, "250 2.0.0 Ok: queued as %s", sub->msgid);
		} else if (t->nremote == 0 && sub->local_first.code[0] == '5') {
			smtp_reply(s, "%s %s %s", sub->local_first.code, sub->local_first.enhanced,
				   sub->local_first.text);
		} else if (sub->storage_full) {
			/* RFC 3463 3.4: X.3.1 mail system full. */
			smtp_reply(s, "452 4.3.1 Insufficient system storage, try again later");
		} else {
			smtp_reply(s, "451 4.3.0 Message not accepted, try again later");
		}
		log_info("smtp[%s]: submitted %s by %s from=<%s> size=%zu local=%zu remote=%zu queue=%s %s",
			 s->id, sub->msgid, s->account, t->mail_from, t->msg.len, t->ntargets, t->nremote,
			 sub->queue_id[0] ? sub->queue_id : "-", ok ? "accepted" : "failed");
		smtp_txn_reset(s);
		smtp_set_state(s, SMTP_S_READY);
		smtp_run(s);
	}
	free(sub);
	smtp_session_unref(s);
}

static void local_done(void *ctx, const struct deliver_result *results, size_t n)
{
	struct smtp_submit *sub = ctx;

	for (size_t i = 0; i < n; i++)
		sub->local_ok |= results[i].ok != 0;
	if (n > 0 && memchr(results[0].text, '\0', sizeof results[0].text) != NULL &&
	    strpbrk(results[0].text, "\r\n") == NULL)
		sub->local_first = results[0];
	for (size_t i = 0; i < n; i++)
		sub->storage_full |= strcmp(results[i].code, "452") == 0 &&
				     strcmp(results[i].enhanced, "4.3.1") == 0;
	if (--sub->pending == 0)
		submit_finish(sub);
}

static void queue_done(void *ctx, int status, const char *id, const char *error)
{
	struct smtp_submit *sub = ctx;

	sub->queue_ok = status == 0;
	snprintf(sub->queue_id, sizeof sub->queue_id, "%s", id != NULL ? id : "");
	if (status < 0) {
		log_warn("smtp[%s]: %s not queued: %s", sub->s->id, sub->msgid, error);
		if (error != NULL && strstr(error, EVLOG_ERR_STORAGE_FULL) != NULL)
			sub->storage_full = 1;
	}
	if (--sub->pending == 0)
		submit_finish(sub);
}

/* True when data has an octet >= 0x80. */
static int has_8bit(const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)data[i] >= 0x80)
			return 1;
	}
	return 0;
}

/* Hands the final message to the local delivery and the queue. */
static void dispatch(struct smtp_session *s, struct smtp_submit *sub, const struct buf *msg,
		     const char *received)
{
	struct smtp_txn *t = &s->txn;
	json_t *dsn = t->dsn;

	sub->pending = 1 + (t->ntargets > 0) + (t->nremote > 0);
	if (t->ntargets > 0) {
		struct deliver_request req = { 0 };
		req.actor = "submission";
		req.single_reply = 1;
		req.mail_from = t->mail_from;
		req.received = received;
		req.data = msg->data;
		req.len = msg->len;
		req.targets = t->targets;
		req.ntargets = t->ntargets;
		req.dsn = dsn;
		s->backend.deliver(s->backend.ctx, &req, local_done, sub);
	}
	if (t->nremote > 0) {
		struct enqueue_request req = { 0 };
		struct outbound_rcpt *rc = xcalloc(t->nremote, sizeof *rc);
		struct buf data = BUF_INIT;

		for (size_t i = 0; i < t->nremote; i++) {
			rc[i].addr = t->remote[i].addr;
			rc[i].orcpt = t->remote[i].orcpt;
			rc[i].notify = t->remote[i].notify;
		}
		buf_puts(&data, received);
		buf_append(&data, msg->data, msg->len);
		req.actor = "submission";
		req.tenant = s->tenant;
		req.account = s->account;
		req.from = t->mail_from;
		req.data = data.data;
		req.len = data.len;
		req.rcpts = rc;
		req.nrcpts = t->nremote;
		req.ret = json_string_value(json_object_get(dsn, "ret"));
		req.envid = json_string_value(json_object_get(dsn, "envid"));
		req.smtputf8 = t->smtputf8;
		req.body8bit = t->body8bit || has_8bit(msg->data, msg->len);
		req.requiretls = t->requiretls;
		s->backend.enqueue(s->backend.ctx, &req, queue_done, sub);
		buf_free(&data);
		free(rc);
	}
	if (--sub->pending == 0)
		submit_finish(sub);
}

void smtp_submit_data_end(struct smtp_session *s, const char *msgid)
{
	struct smtp_txn *t = &s->txn;
	const char *data = t->msg.data != NULL ? t->msg.data : "";
	size_t hlen = header_len(data, t->msg.len);
	struct buf msg = BUF_INIT;
	struct smtp_submit *sub;
	const char *reject;
	char *domain = NULL, *received, date[64], rid[EVM_ID_HEX_LEN + 1];
	int temp = 0;

	if ((reject = check_from_header(s, data, hlen, &domain, &temp)) != NULL) {
		if (temp)
			smtp_reply(s, "%s", reject);
		else
			smtp_reply_error(s, reject);
		smtp_txn_reset(s);
		smtp_set_state(s, SMTP_S_READY);
		return;
	}
	/* RFC 6409 8.3, 8.2: the fields an MSA may add, on top. */
	if (count_fields(data, hlen, "Message-ID") == 0) {
		evm_random_id(rid);
		buf_printf(&msg, "Message-ID: <%s@%s>\r\n", rid, s->set.hostname);
	}
	if (count_fields(data, hlen, "Date") == 0) {
		smtp_rfc5322_date(date, sizeof date);
		buf_printf(&msg, "Date: %s\r\n", date);
	}
	buf_append(&msg, data, t->msg.len);
	if (s->set.dkim_sign)
		dkim_sign_all(s, domain, &msg);
	free(domain);
	sub = xcalloc(1, sizeof *sub);
	sub->s = s;
	snprintf(sub->msgid, sizeof sub->msgid, "%s", msgid);
	s->submit = sub;
	received = smtp_received_field(s, msgid);
	smtp_set_state(s, SMTP_S_WAIT);
	smtp_session_ref(s);
	dispatch(s, sub, &msg, received);
	free(received);
	buf_free(&msg);
}
