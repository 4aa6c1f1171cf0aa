/* imap_cmd_multiappend - APPEND of several messages (MULTIAPPEND, RFC 3502)
 * and of messages built by CATENATE (RFC 4469). All or none (RFC 3502
 * 6.3.11): every body is stored as a blob first, then the messages are
 * appended one event at a time; when one is rejected the ones already
 * appended are expunged (message.expunge) before the tagged NO. The OK
 * carries [APPENDUID uidvalidity uid-set] (RFC 4315). The state lives in
 * s->op until the tagged answer. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_cmd_append.h"
#include "gateway/imap/imap_catenate.h"
#include "gateway/imap/imap_acl.h"
#include "gateway/deliver_blob.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/mime.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_MESSAGES 100
#define MAX_TOTAL_FACTOR 4    /* all bodies together <= 4 x APPENDLIMIT (CATENATE URLs) */

struct amsg {
	char blob_id[DELIVER_BLOB_ID_LEN + 1];
	size_t size;
	int64_t date;
	json_t *flags, *keywords, *summary;
};

struct mappend {
	char mailbox_id[33];
	char owner[EVM_ADDRESS_MAX + 1];   /* the mailbox's account: the bodies' owner */
	struct amsg *m;
	size_t n, next, stored;
	int store_failed;
	json_int_t uidvalidity;
	json_t *uids;          /* [[uid, uid]...] appended so far */
	char *fail;            /* the NO text, answered after the rollback */
};

/* Frees the state (also when the session ends first). */
static void mappend_free(void *p)
{
	struct mappend *a = p;

	for (size_t i = 0; i < a->n; i++) {
		json_decref(a->m[i].flags);
		json_decref(a->m[i].keywords);
		json_decref(a->m[i].summary);
	}
	free(a->m);
	json_decref(a->uids);
	free(a->fail);
	free(a);
}

/* Drops s->op (the command is over). */
static void mappend_end(struct imap_session *s)
{
	void *op = s->op;

	s->op = NULL;
	s->op_free = NULL;
	mappend_free(op);
}

/* 1 when cmd needs this file: CATENATE, or more than one message literal. */
static int is_multi(const struct imap_command *cmd)
{
	size_t lits = 0;

	for (size_t i = 1; i < cmd->nargs; i++) {
		const struct imap_arg *a = &cmd->args[i];
		if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "CATENATE") == 0)
			return 1;
		if (a->type == IMAP_ARG_STRING && a->literal)
			lits++;
	}
	return lits > 1;
}

static void append_next(struct imap_session *s);

/* The rollback is done: the NO saved earlier. */
static void rollback_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct mappend *a = s->op;
	char *fail = a->fail;

	a->fail = NULL;
	if (status < 0)
		log_warn("imap[%s]: MULTIAPPEND rollback failed: %s", s->id, error ? error : "?");
	mappend_end(s);
	imap_no(s, "%s", fail);
	free(fail);
}

/* RFC 5530 code of a rejected append's outcome. */
static const char *reject_code(json_t *outcome)
{
	const char *code = json_string_value(json_object_get(outcome, "code"));

	if (code != NULL && strcmp(code, "quota") == 0)
		return "OVERQUOTA";
	if (code != NULL && strcmp(code, "not-found") == 0)
		return "TRYCREATE";
	return "CANNOT";
}

/* One message.append outcome: the next one, the OK, or the rollback. */
static void append_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct mappend *a = s->op;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	struct buf b = BUF_INIT;

	if (status == 0 && st != NULL && strcmp(st, "accepted") == 0) {
		json_int_t uid = json_integer_value(json_object_get(outcome, "uid"));
		json_t *last = json_array_get(a->uids, json_array_size(a->uids) - 1);

		a->uidvalidity = json_integer_value(json_object_get(outcome, "uidvalidity"));
		if (last != NULL && json_integer_value(json_array_get(last, 1)) + 1 == uid)
			json_array_set_new(last, 1, json_integer(uid));   /* "1:2", not "1,2" */
		else
			json_array_append_new(a->uids, json_pack("[I, I]", uid, uid));
		a->next++;
		append_next(s);
		return;
	}
	if (status < 0)
		buf_printf(&b, "[UNAVAILABLE] APPEND failed, try again later");
	else
		buf_printf(&b, "[%s] APPEND of message %zu failed: %s", reject_code(outcome), a->next + 1,
			   json_string_value(json_object_get(outcome, "reason")) ?
			   json_string_value(json_object_get(outcome, "reason")) : "rejected");
	a->fail = buf_steal(&b);
	if (json_array_size(a->uids) == 0) {
		rollback_done(s, 0, NULL, NULL);
		return;
	}
	imap_submit(s, "message.expunge", json_pack("{s:s, s:O}", "mailbox_id", a->mailbox_id, "uids", a->uids),
		    rollback_done);
}

/* Appends message a->next, or answers OK after the last. */
static void append_next(struct imap_session *s)
{
	struct mappend *a = s->op;
	struct amsg *m;

	if (a->next == a->n) {
		struct buf set = BUF_INIT;

		imap_ranges_string(a->uids, &set);
		imap_ok(s, "[APPENDUID %" JSON_INTEGER_FORMAT " %s] APPEND completed", a->uidvalidity, set.data);
		buf_free(&set);
		mappend_end(s);
		return;
	}
	m = &a->m[a->next];
	imap_submit(s, "message.append",
		    json_pack("{s:s, s:s, s:I, s:s, s:O, s:O, s:I, s:O}", "mailbox_id", a->mailbox_id, "blob_id",
			      m->blob_id, "blob_size", (json_int_t)m->size, "prefix", "", "flags", m->flags,
			      "keywords", m->keywords, "internal_date", (json_int_t)m->date, "summary",
			      m->summary),
		    append_done);
}

/* One blob is durable; after the last one the appends start. */
static void blob_stored(void *ctx, int status, const char *error, int32_t partition, int64_t last_offset)
{
	struct imap_session *s = ctx;
	struct mappend *a = s->op;

	if (a != NULL && s->op_free == mappend_free) {
		if (status < 0) {
			log_warn("imap[%s]: APPEND blob not stored: %s", s->id, error);
			a->store_failed = 1;
		}
		if (++a->stored == a->n && s->conn != NULL && !s->closing) {
			if (a->store_failed) {
				mappend_end(s);
				imap_no(s, "[UNAVAILABLE] Cannot store the messages, try again later");
			} else {
				append_next(s);
			}
		}
	}
	imap_session_unref(s);
}

/* Parses message i's [flags] [date] (literal | CATENATE (...)) from args[*k];
 * the body into body. 0, or -1 after answering. */
static int parse_message(struct imap_session *s, const struct imap_command *cmd, size_t *k, struct amsg *m,
			 struct buf *body)
{
	const struct imap_arg *args = cmd->args;
	json_t *all = json_array(), *v;
	size_t i;

	m->flags = json_array();
	m->keywords = json_array();
	m->date = evm_now_ms();
	if (*k < cmd->nargs && args[*k].type == IMAP_ARG_LIST) {
		if (imap_flag_list(&args[*k], all) < 0)
			goto bad;
		(*k)++;
	}
	/* A date-time before the message: a quoted string, or a literal that
	 * parses as one and is followed by the message. */
	if (*k + 1 < cmd->nargs && args[*k].type == IMAP_ARG_STRING &&
	    (args[*k + 1].type == IMAP_ARG_STRING || args[*k + 1].type == IMAP_ARG_ATOM)) {
		if (imap_date_time_parse(args[*k].str, &m->date) == 0)
			(*k)++;
		else if (!args[*k].literal)
			goto bad;
	}
	json_array_foreach(all, i, v)
		json_array_append(json_string_value(v)[0] == '\\' ? m->flags : m->keywords, v);
	json_decref(all);
	if (*k + 1 < cmd->nargs && args[*k].type == IMAP_ARG_ATOM && strcasecmp(args[*k].str, "CATENATE") == 0) {
		if (imap_catenate(s, &args[*k + 1], body) < 0)
			return -1;
		*k += 2;
	} else if (*k < cmd->nargs && args[*k].type == IMAP_ARG_STRING && args[*k].literal) {
		buf_append(body, args[*k].str, args[*k].len);
		(*k)++;
	} else {
		imap_bad(s, "Invalid APPEND arguments");
		return -1;
	}
	if (body->len == 0) {
		imap_no(s, "[CANNOT] Empty message");
		return -1;
	}
	if (body->len > s->set.max_literal) {
		imap_no(s, "[TOOBIG] Message larger than APPENDLIMIT");
		return -1;
	}
	return 0;
bad:
	json_decref(all);
	imap_bad(s, "Invalid APPEND arguments");
	return -1;
}

int imap_append_multi(struct imap_session *s, const struct imap_command *cmd)
{
	char name[MAIL_MAILBOX_NAME_MAX + 1];
	struct buf *bodies;
	struct mappend *a;
	json_t *box = NULL;
	size_t k = 1, total = 0;

	if (!is_multi(cmd))
		return 0;
	if (cmd->nargs < 2 || imap_mailbox_arg_s(s, &cmd->args[0], name, sizeof name) < 0) {
		imap_bad(s, "APPEND needs a mailbox name and a message");
		return 1;
	}
	/* Own or shared (RFC 4314 4: i; flags are checked by the owner's applier). */
	if (!imap_acl_find(s, name, MAIL_R_INSERT, "TRYCREATE", &box))
		return 1;
	a = xcalloc(1, sizeof *a);
	a->m = xcalloc(MAX_MESSAGES, sizeof *a->m);
	a->uids = json_array();
	snprintf(a->mailbox_id, sizeof a->mailbox_id, "%s", json_string_value(json_object_get(box, "id")));
	snprintf(a->owner, sizeof a->owner, "%s", imap_acl_box_owner(s, box));
	json_decref(box);
	bodies = xcalloc(MAX_MESSAGES, sizeof *bodies);
	while (k < cmd->nargs) {
		if (a->n == MAX_MESSAGES) {
			imap_no(s, "[LIMIT] At most %d messages in one APPEND", MAX_MESSAGES);
			goto fail;
		}
		a->n++;
		if (parse_message(s, cmd, &k, &a->m[a->n - 1], &bodies[a->n - 1]) < 0)
			goto fail;
		total += bodies[a->n - 1].len;
		if (total / MAX_TOTAL_FACTOR > s->set.max_literal) {
			imap_no(s, "[TOOBIG] The messages are too large together");
			goto fail;
		}
	}
	for (size_t i = 0; i < a->n; i++) {
		a->m[i].size = bodies[i].len;
		deliver_blob_id(bodies[i].data, bodies[i].len, a->m[i].blob_id);
		a->m[i].summary = mime_parse(bodies[i].data, bodies[i].len, NULL);
	}
	s->op = a;
	s->op_free = mappend_free;
	/* The log copies the payloads: the bodies may go after each call. */
	for (size_t i = 0; i < a->n; i++) {
		imap_session_ref(s);
		deliver_blob_store(s->node, s->actor, a->owner, a->m[i].blob_id, bodies[i].data, bodies[i].len,
				   blob_stored, s);
		buf_free(&bodies[i]);
	}
	free(bodies);
	return 1;
fail:
	for (size_t i = 0; i < MAX_MESSAGES; i++)
		buf_free(&bodies[i]);
	free(bodies);
	mappend_free(a);
	return 1;
}
