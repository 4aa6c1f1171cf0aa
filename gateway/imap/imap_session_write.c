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
};

static void submit_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct imap_write_op *op = ctx;
	struct imap_session *s = op->s;

	if (s->bev != NULL && !s->closing) {
		s->changed = 1;
		op->cb(s, status, outcome, error);
	}
	free(op);
	imap_session_unref(s);
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
