/* jmap_submission_send - one EmailSubmission creation (RFC 8621 7.5):
 * checked (jmap_submission_check.c), the message made ready as SMTP
 * submission makes it (Bcc fields removed, Date and Message-ID added
 * when missing, DKIM signed), sent through gateway/submit (local
 * recipients stored like inbound mail, the rest queued), and only then
 * recorded with submission.record in the account's mail partition.
 *
 * The client hears of the creation only after both: the send and the
 * record were acknowledged by the log and applied here. When the send
 * fails the method fails (the client sends again: a duplicate is better
 * than a loss, as in SMTP submission); when the record fails after the
 * mail went out, the method says so (serverPartialFail). */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/smtp/smtp_rate.h"
#include "gateway/submit/submit.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One creation on its way. */
struct subm_send {
	struct jmap_call *call;
	struct jmap_mail_req *req;        /* a reference while it runs */
	jmap_submission_sent_cb *cb;
	void *ctx;
	struct jmap_subm_plan p;
	char id[EVM_ID_HEX_LEN + 1];
	int status;                       /* for a deferred end: 1 or -1 */
	int64_t send_at;
	json_t *err;
	const char *error;
};

static void send_free(struct subm_send *s)
{
	jmap_subm_plan_free(&s->p);
	json_decref(s->err);
	jmap_mail_req_unref(&s->req);
	free(s);
}

/* Ends with a SetError or a failure found before sending. */
static void end_later(evutil_socket_t fd, short what, void *ctx)
{
	struct subm_send *s = ctx;
	json_t *err = s->err;

	(void)fd;
	(void)what;
	s->err = NULL;
	s->cb(s->call, s->ctx, s->status, NULL, err, s->error);
	send_free(s);
}

/* The header block without its Bcc fields (RFC 8621 7.5: the server
 * removes them from the message it sends; the envelope still has their
 * addresses), then the body, into out. */
static void strip_bcc(const char *data, size_t len, size_t hlen, struct buf *out)
{
	int drop = 0;

	for (size_t i = 0; i < hlen;) {
		const char *eol = memchr(data + i, '\n', hlen - i);
		size_t end = eol != NULL ? (size_t)(eol - data) + 1 : hlen;

		/* A line that starts with white space continues its field. */
		if (data[i] != ' ' && data[i] != '\t')
			drop = end - i > 4 && strncasecmp(data + i, "Bcc", 3) == 0 &&
			       strspn(data + i + 3, " \t") + 3 < end - i && data[i + 3 + strspn(data + i + 3, " \t")] == ':';
		if (!drop)
			buf_append(out, data + i, end - i);
		i = end;
	}
	buf_append(out, data + hlen, len - hlen);
}

static void recorded(struct jmap_call *call, void *ctx, int status, json_t *outcome, const char *error)
{
	struct subm_send *s = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	json_t *rec = NULL;

	if (status == 0 && st != NULL && strcmp(st, "accepted") == 0) {
		rec = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", s->id, "identity_id", s->p.identity_id, "email_id",
				s->p.email_id, "thread_id", s->p.thread_id, "send_at", (json_int_t)s->send_at);
		s->cb(call, s->ctx, 0, rec, NULL, NULL);
		json_decref(rec);
	} else {
		log_error("jmap: submission %s of %s was sent but not recorded: %s", s->id, s->req->address,
			  status < 0 ? error : json_string_value(json_object_get(outcome, "reason")));
		s->cb(call, s->ctx, -2, NULL, NULL, "the message was sent but its record was not written");
	}
	send_free(s);
}

static void sent(void *ctx, const struct submit_result *r)
{
	struct subm_send *s = ctx;
	json_t *data;

	log_info("jmap: submission %s by %s from=<%s> local=%zu remote=%zu queue=%s %s", s->id, s->req->address,
		 s->p.mail_from, s->p.ntargets, json_array_size(s->p.remote), r->queue_id[0] ? r->queue_id : "-",
		 r->ok ? "sent" : "failed");
	if (!r->ok) {
		s->cb(s->call, s->ctx, r->local_ok || r->queue_ok ? -2 : -1, NULL, NULL,
		      r->storage_full ? "the log's storage is full" : "the message could not be sent");
		send_free(s);
		return;
	}
	s->send_at = evm_now_ms();
	smtp_rate_record(s->req->node->submission_rate, s->req->address, s->send_at);
	data = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:s, s:O}", "id", s->id, "identity_id", s->p.identity_id,
			 "email_id", s->p.email_id, "thread_id", s->p.thread_id, "envelope", s->p.envelope,
			 "send_at", (json_int_t)s->send_at, "queue_id", r->queue_id, "local", s->p.local);
	jmap_mail_submit(s->call, "submission.record", data, recorded, s);
}

/* The ready message to the two halves (submit.h). */
static void send_now(struct subm_send *s)
{
	struct node *node = s->req->node;
	const char *host = node->cfg->smtp_hostname[0] != '\0' ? node->cfg->smtp_hostname : node->cfg->node_id;
	struct submit_lookups l;
	struct submit_ops ops;
	struct submit_send_request req = { 0 };
	struct outbound_rcpt *rc;
	struct buf stripped = BUF_INIT, msg = BUF_INIT, received = BUF_INIT;
	size_t n = json_array_size(s->p.remote);
	char date[64], who[64];

	strip_bcc(s->p.data, s->p.len, s->p.hlen, &stripped);
	/* RFC 6409 8.2, 8.3: Message-ID and Date when missing. */
	submit_fix_message(stripped.data, stripped.len, host, &msg);
	submit_node_lookups(node, &l);
	snprintf(who, sizeof who, "jmap %s", s->id);
	if (node->cfg->dkim_sign && s->p.from_domain != NULL)
		submit_dkim_sign(&l, s->p.from_domain, &msg, who);
	submit_rfc5322_date(date, sizeof date);
	buf_printf(&received, "Received: by %s (evmail JMAP) id %s;\r\n\t%s\r\n", host, s->id, date);
	rc = xcalloc(n + 1, sizeof *rc);
	for (size_t i = 0; i < n; i++) {
		rc[i].addr = json_string_value(json_array_get(s->p.remote, i));
		rc[i].orcpt = "";
		rc[i].notify = "";
	}
	req.actor = "jmap";
	req.tenant = s->req->tenant;
	req.account = s->req->address;
	req.mail_from = s->p.mail_from;
	req.received = received.data;
	req.data = msg.data;
	req.len = msg.len;
	req.targets = s->p.targets;
	req.ntargets = s->p.ntargets;
	req.remote = rc;
	req.nremote = n;
	req.smtputf8 = s->p.smtputf8;
	submit_node_ops(node, &ops);
	submit_send(&ops, &req, sent, s);
	free(rc);
	buf_free(&stripped);
	buf_free(&msg);
	buf_free(&received);
}

void jmap_submission_send(struct jmap_call *call, json_t *obj, jmap_submission_sent_cb *cb, void *ctx)
{
	struct subm_send *s = xcalloc(1, sizeof *s);
	int r;

	s->call = call;
	s->req = jmap_mail_req(call);
	jmap_mail_req_ref(s->req);
	s->cb = cb;
	s->ctx = ctx;
	evm_random_id(s->id);
	if (!smtp_rate_allowed(s->req->node->submission_rate, s->req->address, evm_now_ms())) {
		/* limits.submission_per_hour, counted with SMTP submission's
		 * (RFC 8621 7.5: forbiddenToSend, "for some reason") */
		s->status = 1;
		s->err = jmap_set_error("forbiddenToSend", "the hourly sending limit of this account is reached",
					NULL);
		event_base_once(jmap_call_base(call), -1, EV_TIMEOUT, end_later, s, NULL);
		return;
	}
	if ((r = jmap_subm_plan(call, obj, &s->p, &s->err, &s->error)) != 0) {
		if (r < 0)
			log_error("jmap: EmailSubmission/set for %s: %s", s->req->address, s->error);
		s->status = r;
		event_base_once(jmap_call_base(call), -1, EV_TIMEOUT, end_later, s, NULL);
		return;
	}
	send_now(s);
}
