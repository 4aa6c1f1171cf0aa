/* imap_session_write - the write path of a session: one mail event per
 * command through gateway/command.h, answered after the projector's
 * outcome; rejections mapped to RFC 5530 response codes. */
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_acl.h"
#include "gateway/command.h"
#include "common/log.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>

struct imap_write_op {
	struct imap_session *s;
	imap_write_cb *cb;
	/* imap_submit_after: the command's outcome is kept until the other
	 * record is applied too (pending counts both). */
	int pending;
	int status;
	json_t *outcome;
	char *error;
	/* the routed (shared mailbox) case: submitted once the record is applied */
	char *type;
	json_t *data;
};

/* Answers the session with the command's outcome and frees op. */
static void op_answer(struct imap_write_op *op, int status, json_t *outcome, const char *error)
{
	struct imap_session *s = op->s;

	if (s->conn != NULL && !s->closing) {
		s->changed = 1;
		op->cb(s, status, outcome, error);
	}
	json_decref(op->outcome);
	free(op->error);
	free(op->type);
	json_decref(op->data);
	free(op);
	imap_session_unref(s);
}

static void submit_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct imap_write_op *op = ctx;

	if (op->pending == 0 || --op->pending == 0) {
		op_answer(op, status, outcome, error);
		return;
	}
	/* the other record is not applied yet: keep the outcome */
	op->status = status;
	op->outcome = json_incref(outcome);
	op->error = error != NULL ? xstrdup(error) : NULL;
}

/* The other record of imap_submit_after is applied (0) or the wait gave
 * up (-1: answered anyway, as the command itself succeeded or failed). */
static void other_applied(void *ctx, int status)
{
	struct imap_write_op *op = ctx;

	if (status < 0)
		log_warn("imap[%s]: a record the command needs is logged but not applied here in time",
			 op->s->id);
	if (--op->pending == 0)
		op_answer(op, op->status, op->outcome, op->error);
}

void imap_submit(struct imap_session *s, const char *type, json_t *data, imap_write_cb *cb)
{
	struct imap_write_op *op;
	struct evm_event ev;
	const char *error = NULL;
	char owner[EVM_ADDRESS_MAX + 1];

	/* A shared mailbox's writes go to its owner's partition (imap_acl.c). */
	if (imap_acl_route(s, data, owner)) {
		imap_acl_submit(s, owner, type, data, cb);
		return;
	}
	op = xcalloc(1, sizeof *op);
	if (evm_event_init(&ev, type, s->tenant, s->account, s->actor, data, &error) < 0) {
		log_error("imap[%s]: cannot build %s: %s", s->id, type, error);
		free(op);
		imap_no(s, "[SERVERBUG] Cannot build the command");
		return;
	}
	op->s = s;
	op->cb = cb;
	imap_session_ref(s);
	command_submit(s->node, &ev, EVM_TOPIC_MAIL, s->account, IMAP_COMMAND_TIMEOUT_MS, submit_done, op);
}

/* Routed (shared mailbox) case of imap_submit_after: the record is
 * applied, now the command goes to the owner's partition (imap_acl.c). */
static void routed_ready(void *ctx, int status)
{
	struct imap_write_op *op = ctx;
	struct imap_session *s = op->s;

	if (status < 0)
		log_warn("imap[%s]: a record the command needs is logged but not applied here in time",
			 s->id);
	if (s->conn != NULL && !s->closing) {
		imap_submit(s, op->type, op->data, op->cb);
		op->data = NULL;   /* imap_submit took it */
	} else {
		json_decref(op->data);
		op->data = NULL;
	}
	free(op->type);
	free(op);
	imap_session_unref(s);
}

void imap_submit_after(struct imap_session *s, const char *type, json_t *data, enum evm_topic_id topic,
		       int32_t partition, int64_t offset, imap_write_cb *cb)
{
	struct imap_write_op *op;
	struct evm_event ev;
	const char *error = NULL;
	char owner[EVM_ADDRESS_MAX + 1];

	op = xcalloc(1, sizeof *op);
	op->s = s;
	op->cb = cb;
	imap_session_ref(s);
	if (imap_acl_route(s, data, owner)) {
		/* imap_acl_submit takes no context: wait first, then submit */
		op->type = xstrdup(type);
		op->data = data;
		projector_wait(s->node->projector, topic, partition, offset, IMAP_COMMAND_TIMEOUT_MS,
			       routed_ready, op, NULL);
		return;
	}
	if (evm_event_init(&ev, type, s->tenant, s->account, s->actor, data, &error) < 0) {
		log_error("imap[%s]: cannot build %s: %s", s->id, type, error);
		imap_no(s, "[SERVERBUG] Cannot build the command");
		free(op);
		imap_session_unref(s);
		return;
	}
	/* Both at once: the command's log round trip and apply overlap the
	 * wait for the other record; the answer needs both. */
	op->pending = 2;
	projector_wait(s->node->projector, topic, partition, offset, IMAP_COMMAND_TIMEOUT_MS,
		       other_applied, op, NULL);
	command_submit(s->node, &ev, EVM_TOPIC_MAIL, s->account, IMAP_COMMAND_TIMEOUT_MS, submit_done, op);
}

const char *imap_unavailable_why(struct imap_session *s, const char *error)
{
	if (node_storage_full(s->node, error))
		return ": the server's disk is full";
	return "";
}

int imap_outcome_ok(struct imap_session *s, int status, json_t *outcome, const char *error,
		    const char *what)
{
	const char *st, *code, *reason, *rc = "CANNOT";

	if (status < 0) {
		log_warn("imap[%s]: %s failed: %s", s->id, what, error ? error : "?");
		imap_no(s, "[UNAVAILABLE] %s failed%s, try again later", what, imap_unavailable_why(s, error));
		return 0;
	}
	st = json_string_value(json_object_get(outcome, "status"));
	if (st != NULL && strcmp(st, "accepted") == 0)
		return 1;
	code = json_string_value(json_object_get(outcome, "code"));
	reason = json_string_value(json_object_get(outcome, "reason"));
	if (code == NULL)
		code = "";
	if (strcmp(code, "exists") == 0) {
		rc = "ALREADYEXISTS";
	} else if (strcmp(code, "not-found") == 0) {
		/* The mailbox went away between the lookup and the log (a DELETE
		 * won the race, maybe through another node). For a destination,
		 * RFC 9051 6.3.12 / 6.4.7 require TRYCREATE. The projector's
		 * reason names internal mailbox ids: not for the client. */
		bool dest = strcmp(what, "APPEND") == 0 || strcmp(what, "COPY") == 0 ||
			    strcmp(what, "MOVE") == 0;
		imap_no(s, "[%s] %s failed: the mailbox does not exist", dest ? "TRYCREATE" : "NONEXISTENT",
			what);
		return 0;
	} else if (strcmp(code, "quota") == 0)
		rc = "OVERQUOTA";
	else if (strcmp(code, "not-empty") == 0)
		rc = "HASCHILDREN";
	imap_no(s, "[%s] %s failed: %s", rc, what, reason ? reason : code);
	return 0;
}

/* The outcome of a write whose success is "<command> completed". */
void imap_done_simple(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *what = s->cur != NULL ? s->cur->name : "command";

	if (imap_outcome_ok(s, status, outcome, error, what))
		imap_ok(s, "%s completed", what);
}
