/* smtp_forward - inbound SMTP's half of forwarding (gateway/forward/
 * forward.h): remote alias targets and SRS bounces collected at RCPT, and
 * after DATA the local delivery and the queued copies with one reply,
 * given only once the log acknowledged both. */
#include "gateway/smtp/smtp_session_private.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

int smtp_forward_rcpt(struct smtp_session *s, const char *path, char *local, size_t *nfwd_r)
{
	struct smtp_txn *t = &s->txn;
	struct forward_target *fwd = NULL;
	const char *reply = NULL;
	size_t n = 0;

	local[0] = '\0';
	*nfwd_r = 0;
	if (s->set.submission || s->set.lmtp || s->backend.forward_resolve == NULL)
		return 0;
	if (s->backend.forward_resolve(s->backend.ctx, path, &fwd, &n, local, &reply) < 0) {
		log_info("smtp[%s]: rcpt to=<%s> %s", s->id, path, reply);
		if (reply[0] == '4')
			smtp_reply(s, "%s", reply);
		else
			smtp_reply_error(s, reply);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < t->nfwd && strcmp(t->fwd[j].addr, fwd[i].addr) != 0; j++)
			;
		if (j < t->nfwd || t->nfwd >= FORWARD_MAX_TARGETS)
			continue;
		t->fwd = xrealloc(t->fwd, (t->nfwd + 1) * sizeof *t->fwd);
		t->fwd[t->nfwd++] = fwd[i];
		log_info("smtp[%s]: rcpt to=<%s> forwarded to <%s>", s->id, path, fwd[i].addr);
	}
	*nfwd_r = n;
	free(fwd);
	return 0;
}

/* The two halves in flight. */
struct fwd_wait {
	struct smtp_session *s;
	unsigned pending;
	int want_local, local_ok, queue_ok;
	char msgid[40];
};

static void finish(struct fwd_wait *w)
{
	struct smtp_session *s = w->s;
	struct smtp_txn *t = &s->txn;
	int ok;

	if (--w->pending > 0)
		return;
	ok = (!w->want_local || w->local_ok) && w->queue_ok;
	if (s->conn == NULL) {
		log_info("smtp[%s]: forwarding of %s finished after the client left (%s)", s->id, w->msgid,
			 ok ? "accepted" : "failed");
	} else {
		/* A half that failed is retried by the client: 4xx, never 250. */
		if (ok)
			smtp_reply(s, "250 2.0.0 Ok: %s delivered", w->msgid);
		else
			smtp_reply(s, "451 4.3.0 %s failed, try again later",
				   w->queue_ok ? "Delivery" : "Forwarding");
		log_info("smtp[%s]: message %s from=<%s> size=%zu rcpts=%zu accounts=%zu forwarded=%zu %s",
			 s->id, w->msgid, t->mail_from, t->msg.len, t->nrcpts, t->ntargets, t->nfwd,
			 ok ? "ok" : "failed");
		smtp_txn_reset(s);
		smtp_set_state(s, SMTP_S_READY);
		smtp_run(s);
	}
	smtp_session_unref(s);
	free(w);
}

static void local_done(void *ctx, const struct deliver_result *results, size_t n)
{
	struct fwd_wait *w = ctx;

	for (size_t i = 0; i < n; i++)
		w->local_ok |= results[i].ok != 0;
	finish(w);
}

static void queue_done(void *ctx, int status, const char *id, const char *error)
{
	struct fwd_wait *w = ctx;

	w->queue_ok = status == 0;
	if (status < 0)
		log_warn("smtp[%s]: %s not forwarded: %s", w->s->id, w->msgid, error ? error : "?");
	else
		log_info("smtp[%s]: %s forwarded, queue item %s", w->s->id, w->msgid, id ? id : "?");
	finish(w);
}

void smtp_forward_data_end(struct smtp_session *s, const char *msgid, const char *received,
			   const char *data, size_t len, int junk, const char *auth_results,
			   const char *arc_cv)
{
	struct smtp_txn *t = &s->txn;
	struct fwd_wait *w = xcalloc(1, sizeof *w);
	struct forward_send_request f = { 0 };

	w->s = s;
	w->want_local = t->ntargets > 0;
	w->pending = 2 + (unsigned)w->want_local;
	snprintf(w->msgid, sizeof w->msgid, "%s", msgid);
	smtp_set_state(s, SMTP_S_WAIT);
	smtp_session_ref(s);
	if (w->want_local) {
		struct deliver_request req = { 0 };

		req.actor = "smtp";
		req.single_reply = 1;
		req.mail_from = t->mail_from;
		req.received = received;
		req.data = data;
		req.len = len;
		req.junk = junk;
		req.targets = t->targets;
		req.ntargets = t->ntargets;
		req.dsn = t->dsn;
		s->backend.deliver(s->backend.ctx, &req, local_done, w);
	}
	f.mail_from = t->mail_from;
	f.received = received;
	f.data = data;
	f.len = len;
	f.auth_results = auth_results;
	f.arc_cv = arc_cv;
	f.targets = t->fwd;
	f.ntargets = t->nfwd;
	f.smtputf8 = t->smtputf8;
	f.body8bit = t->body8bit;
	s->backend.forward_send(s->backend.ctx, &f, queue_done, w);
	finish(w);
}
