/* submit_send - the two halves of a submission (submit.h): local
 * recipients delivered as inbound mail, remote ones queued, one result
 * once both answered. */
#include "gateway/submit/submit.h"
#include "common/log.h"
#include "ingest/evlog.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct sending {
	unsigned pending;
	struct submit_result r;
	int want_local, want_queue;
	submit_done_cb *cb;
	void *ctx;
};

static void finish_one(struct sending *s)
{
	if (--s->pending > 0)
		return;
	s->r.ok = (!s->want_local || s->r.local_ok) && (!s->want_queue || s->r.queue_ok);
	s->cb(s->ctx, &s->r);
	free(s);
}

static void local_done(void *ctx, const struct deliver_result *results, size_t n)
{
	struct sending *s = ctx;

	for (size_t i = 0; i < n; i++) {
		s->r.local_ok |= results[i].ok != 0;
		s->r.storage_full |= strcmp(results[i].code, "452") == 0 &&
				     strcmp(results[i].enhanced, "4.3.1") == 0;
	}
	if (n > 0 && memchr(results[0].text, '\0', sizeof results[0].text) != NULL &&
	    strpbrk(results[0].text, "\r\n") == NULL) {
		s->r.local_first = results[0];
		s->r.have_local_first = 1;
	}
	finish_one(s);
}

static void queue_done(void *ctx, int status, const char *id, const char *error)
{
	struct sending *s = ctx;

	s->r.queue_ok = status == 0;
	snprintf(s->r.queue_id, sizeof s->r.queue_id, "%s", id != NULL ? id : "");
	if (status < 0) {
		log_warn("submit: not queued: %s", error ? error : "?");
		if (error != NULL && strstr(error, EVLOG_ERR_STORAGE_FULL) != NULL)
			s->r.storage_full = 1;
	}
	finish_one(s);
}

/* Both halves may answer inside their calls in tests' fakes; the last
 * reference is held until both were started. */
void submit_send(const struct submit_ops *ops, const struct submit_send_request *req,
		 submit_done_cb *cb, void *ctx)
{
	struct sending *s = xcalloc(1, sizeof *s);
	struct buf data = BUF_INIT;

	s->cb = cb;
	s->ctx = ctx;
	s->want_local = req->ntargets > 0;
	s->want_queue = req->nremote > 0;
	s->pending = 1 + (unsigned)s->want_local + (unsigned)s->want_queue;
	if (s->want_local) {
		struct deliver_request d = { 0 };

		d.actor = req->actor;
		d.single_reply = 1;
		d.mail_from = req->mail_from;
		d.received = req->received != NULL ? req->received : "";
		d.data = req->data;
		d.len = req->len;
		d.targets = req->targets;
		d.ntargets = req->ntargets;
		d.dsn = req->dsn;
		ops->deliver(ops->ctx, &d, local_done, s);
	}
	if (s->want_queue) {
		struct enqueue_request q = { 0 };

		if (req->received != NULL)
			buf_puts(&data, req->received);
		buf_append(&data, req->data, req->len);
		q.actor = req->actor;
		q.tenant = req->tenant;
		q.account = req->account;
		q.from = req->mail_from;
		q.data = data.data;
		q.len = data.len;
		q.rcpts = req->remote;
		q.nrcpts = req->nremote;
		q.ret = json_string_value(json_object_get(req->dsn, "ret"));
		q.envid = json_string_value(json_object_get(req->dsn, "envid"));
		q.smtputf8 = req->smtputf8;
		q.body8bit = req->body8bit || submit_has_8bit(req->data, req->len);
		q.requiretls = req->requiretls;
		ops->enqueue(ops->ctx, &q, queue_done, s);
		buf_free(&data);
	}
	finish_one(s);
}
