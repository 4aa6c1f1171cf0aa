/* dsn_send - hands a composed DSN to the sender: into the sender's INBOX
 * when the sender is one of our accounts (deliver_message, as inbound mail
 * with the null reverse path), else into the outbound queue with the null
 * sender and dsn = 1 (RFC 3461 6.2: a DSN is never bounced). See dsn.h.
 * A sender in our SRS form (forwarded mail, gateway/forward/forward.h) is
 * reversed first: the report goes straight to the original sender, whose
 * address is the only one that can take it. */
#include "gateway/outbound/dsn.h"
#include "gateway/outbound/dsn_internal.h"
#include "gateway/outbound/enqueue.h"
#include "gateway/deliver.h"
#include "gateway/forward/forward.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dsn_job {
	dsn_sent_cb *cb;
	void *ctx;
	int status;
	char error[300];
};

/* Runs a job's callback on a later loop turn and frees the job. */
static void job_finish_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dsn_job *job = arg;

	job->cb(job->ctx, job->status, job->status == 0 ? NULL : job->error);
	free(job);
}

/* Finishes a job later (never inside dsn_send). */
static void job_finish_later(struct node *node, struct dsn_job *job, int status, const char *error)
{
	job->status = status;
	snprintf(job->error, sizeof job->error, "%s", error != NULL ? error : "");
	if (event_base_once(node->base, -1, EV_TIMEOUT, job_finish_cb, job, NULL) < 0)
		log_panic("dsn: event_base_once failed");
}

/* deliver_message() answered: stored when every target is. */
static void local_done(void *ctx, const struct deliver_result *results, size_t n)
{
	struct dsn_job *job = ctx;

	for (size_t i = 0; i < n; i++) {
		if (!results[i].ok) {
			char error[300];
			snprintf(error, sizeof error, "dsn to a local sender: %s %s %s", results[i].code,
				 results[i].enhanced, results[i].text);
			job->cb(job->ctx, -1, error);
			free(job);
			return;
		}
	}
	job->cb(job->ctx, 0, NULL);
	free(job);
}

/* outbound_enqueue() answered. */
static void remote_done(void *ctx, int status, const char *id, const char *error)
{
	struct dsn_job *job = ctx;

	if (status == 0)
		log_info("dsn queued as %s", id);
	job->cb(job->ctx, status, status == 0 ? NULL : error);
	free(job);
}

/* Into the local sender's INBOX, as inbound mail from <>. */
static void send_local(struct node *node, struct dsn_job *job, const struct dsn_request *req,
		       const char *msg, size_t len, const struct deliver_target *targets, size_t n)
{
	struct deliver_request dr;
	char date[40], received[600];

	dsn_format_date(req->now_ms, date);
	snprintf(received, sizeof received,
		 "Received: by %s (evmail delivery status notification); %s\r\n",
		 req->hostname, date);
	memset(&dr, 0, sizeof dr);
	dr.actor = "dsn";
	dr.mail_from = "";
	dr.received = received;
	dr.data = msg;
	dr.len = len;
	dr.targets = targets;
	dr.ntargets = n;
	dr.single_reply = 1;
	deliver_message(node, &dr, local_done, job);
}

/* Into the outbound queue, null sender, marked as a DSN. */
static void send_remote(struct node *node, struct dsn_job *job, const struct dsn_request *req,
			const char *msg, size_t len)
{
	struct outbound_rcpt rcpt = { req->sender, "", "" };
	struct enqueue_request er;

	memset(&er, 0, sizeof er);
	er.actor = "dsn";
	er.tenant = "";
	er.account = "";
	er.from = "";
	er.data = msg;
	er.len = len;
	er.rcpts = &rcpt;
	er.nrcpts = 1;
	er.ret = "";
	er.envid = "";
	er.smtputf8 = dsn_needs_utf8(req);
	er.body8bit = dsn_has_8bit(msg, len);
	er.dsn = 1;
	outbound_enqueue(node, &er, remote_done, job);
}

void dsn_send(struct node *node, const struct dsn_request *req, dsn_sent_cb *cb, void *ctx)
{
	struct dsn_job *job = xcalloc(1, sizeof *job);
	struct dsn_request srs_req;
	char original[EVM_ADDRESS_MAX + 1];
	struct deliver_target *targets = NULL;
	enum deliver_rcpt_status st;
	const char *error;
	char *msg = NULL;
	size_t len, n = 0;

	job->cb = cb;
	job->ctx = ctx;
	if (forward_enabled() &&
	    forward_srs_reverse(req->sender, req->now_ms / 1000, original, &error) == 1) {
		srs_req = *req;
		srs_req.sender = original;
		req = &srs_req;
	}
	if (dsn_compose(req, &msg, &len, &error) < 0) {
		job_finish_later(node, job, -1, error);
		return;
	}
	st = deliver_resolve(node->view, req->sender, &targets, &n);
	switch (st) {
	case RCPT_OK:
		send_local(node, job, req, msg, len, targets, n);
		break;
	case RCPT_NOT_LOCAL:
		send_remote(node, job, req, msg, len);
		break;
	case RCPT_TEMPFAIL:
		job_finish_later(node, job, -1, "dsn: the directory view could not be read");
		break;
	default:
		/* Our domain but no such (enabled) sender: nobody can ever
		 * receive it; retrying would not change that. */
		log_warn("dsn to <%s> dropped: the sender is not a deliverable local address",
			 req->sender);
		job_finish_later(node, job, 0, NULL);
		break;
	}
	free(targets);
	free(msg);
}
