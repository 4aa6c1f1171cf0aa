/* mail_submission - the appliers of submission.record and
 * submission.destroy, and the read API (projector/mail_submission.h). */
#include "projector/mail_submission.h"
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* A JMAP Id (RFC 8620 1.2): 1..255 octets of A-Za-z0-9-_. */
static int jmap_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MAIL_SUBMISSION_IDENTITY_MAX)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/* An Envelope Address {email, parameters: object|null} (RFC 8621 7). */
static int address_valid(const json_t *a)
{
	const json_t *e = json_object_get(a, "email"), *p = json_object_get(a, "parameters");
	char norm[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;

	return json_is_object(a) && json_is_string(e) && json_string_length(e) <= EVM_ADDRESS_MAX &&
	       (json_string_length(e) == 0 || evm_address_normalize(json_string_value(e), norm, &error) == 0) &&
	       (p == NULL || json_is_null(p) || json_is_object(p));
}

/* {mailFrom, rcptTo: 1..MAIL_SUBMISSION_RCPTS_MAX addresses}. */
static int envelope_valid(const json_t *env)
{
	const json_t *rcpts = json_object_get(env, "rcptTo"), *r;
	size_t i;

	if (!json_is_object(env) || !address_valid(json_object_get(env, "mailFrom")) || !json_is_array(rcpts) ||
	    json_array_size(rcpts) == 0 || json_array_size(rcpts) > MAIL_SUBMISSION_RCPTS_MAX)
		return 0;
	json_array_foreach(rcpts, i, r)
		if (!address_valid(r) || json_string_length(json_object_get(r, "email")) == 0)
			return 0;
	return 1;
}

/* local: at most MAIL_SUBMISSION_RCPTS_MAX addresses. */
static int local_valid(const json_t *local)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(local) || json_array_size(local) > MAIL_SUBMISSION_RCPTS_MAX)
		return 0;
	json_array_foreach(local, i, v)
		if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > EVM_ADDRESS_MAX)
			return 0;
	return 1;
}

/* A 32-hex field of the event, or NULL after recording the rejection. */
static const char *hex_id(struct apply_ctx *ctx, const char *field)
{
	const char *error = NULL, *s = evm_data_str(ctx->ev, field, MAIL_ID_LEN, &error);

	if (s == NULL || strlen(s) != MAIL_ID_LEN || !mail_hex_valid(s, MAIL_ID_LEN)) {
		apply_reject(ctx, "invalid", "%s: not 32 lower-case hex digits", field);
		return NULL;
	}
	return s;
}

/* 1 when the key exists in the batch's view, 0 not, -1 error. */
static int batch_has(struct view_batch *b, const struct buf *key, const char **error_r)
{
	char *val = NULL;
	int r = view_batch_get(b, key->data, key->len, &val, NULL, error_r);

	free(val);
	return r;
}

enum apply_status mail_apply_submission_record(struct apply_ctx *ctx, const char **error_r)
{
	const struct evm_event *ev = ctx->ev;
	const char *id, *identity, *email_id, *thread_id, *queue_id, *error = NULL;
	json_t *env = json_object_get(ev->data, "envelope"), *local = json_object_get(ev->data, "local"), *rec;
	struct mail_acct a;
	enum apply_status st;
	int64_t send_at;
	int r;

	if ((id = hex_id(ctx, "id")) == NULL || (email_id = hex_id(ctx, "email_id")) == NULL ||
	    (thread_id = hex_id(ctx, "thread_id")) == NULL)
		return APPLY_REJECTED;
	if ((identity = evm_data_str(ev, "identity_id", MAIL_SUBMISSION_IDENTITY_MAX, &error)) == NULL ||
	    !jmap_id_valid(identity))
		return apply_reject(ctx, "invalid", "identity_id: not a JMAP Id");
	if ((queue_id = evm_data_str(ev, "queue_id", MAIL_ID_LEN, &error)) == NULL ||
	    (queue_id[0] != '\0' && (strlen(queue_id) != MAIL_ID_LEN || !mail_hex_valid(queue_id, MAIL_ID_LEN))))
		return apply_reject(ctx, "invalid", "queue_id: \"\" or 32 lower-case hex digits expected");
	if (evm_data_int(ev, "send_at", 0, MAIL_DATE_MAX, &send_at, &error) < 0)
		return apply_reject(ctx, "invalid", "send_at: %s", error);
	if (!envelope_valid(env))
		return apply_reject(ctx, "invalid", "envelope: {mailFrom, rcptTo: 1..%d addresses} expected",
				    MAIL_SUBMISSION_RCPTS_MAX);
	if (!local_valid(local))
		return apply_reject(ctx, "invalid", "local: at most %d addresses expected", MAIL_SUBMISSION_RCPTS_MAX);
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED) {
		mail_acct_close(&a);
		return st;
	}
	mail_key(&a.key, a.address, MAIL_K_ESUB, id);
	if ((r = batch_has(ctx->batch, &a.key, error_r)) != 0) {
		mail_acct_close(&a);
		return r < 0 ? APPLY_FAILED : apply_reject(ctx, "exists", "submission %s is recorded already", id);
	}
	mail_acct_begin_write(&a);
	rec = json_pack("{s:s, s:s, s:s, s:s, s:O, s:I, s:s, s:O}", "id", id, "identity_id", identity, "email_id",
			email_id, "thread_id", thread_id, "envelope", env, "send_at", (json_int_t)send_at,
			"queue_id", queue_id, "local", local);
	mail_key(&a.key, a.address, MAIL_K_ESUB, id);
	mail_batch_put_json(ctx->batch, &a.key, rec);
	json_decref(rec);
	st = mail_jmap_touch(&a, MAIL_J_SUBMISSION, id, 0, error_r) < 0 ? APPLY_FAILED : APPLY_ACCEPTED;
	if (st == APPLY_ACCEPTED)
		mail_result(ctx, "id", json_string(id));
	mail_acct_close(&a);
	return st;
}

enum apply_status mail_apply_submission_destroy(struct apply_ctx *ctx, const char **error_r)
{
	const char *id;
	struct mail_acct a;
	enum apply_status st;
	int r;

	if ((id = hex_id(ctx, "id")) == NULL)
		return APPLY_REJECTED;
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED) {
		mail_acct_close(&a);
		return st;
	}
	mail_key(&a.key, a.address, MAIL_K_ESUB, id);
	if ((r = batch_has(ctx->batch, &a.key, error_r)) != 1) {
		mail_acct_close(&a);
		return r < 0 ? APPLY_FAILED : apply_reject(ctx, "not-found", "no submission %s", id);
	}
	mail_acct_begin_write(&a);
	mail_key(&a.key, a.address, MAIL_K_ESUB, id);
	mail_batch_delete(ctx->batch, &a.key);
	st = mail_jmap_touch(&a, MAIL_J_SUBMISSION, id, 1, error_r) < 0 ? APPLY_FAILED : APPLY_ACCEPTED;
	mail_acct_close(&a);
	return st;
}

/* A stored record has the members every reader relies on. */
static int record_ok(const json_t *rec)
{
	return json_is_object(rec) && json_is_string(json_object_get(rec, "id")) &&
	       json_is_string(json_object_get(rec, "identity_id")) &&
	       json_is_string(json_object_get(rec, "email_id")) && json_is_string(json_object_get(rec, "thread_id")) &&
	       json_is_object(json_object_get(rec, "envelope")) && json_is_integer(json_object_get(rec, "send_at")) &&
	       json_is_string(json_object_get(rec, "queue_id")) && json_is_array(json_object_get(rec, "local"));
}

int mail_submission_get(struct view *view, const char *account, const char *id, json_t **sub_r,
			const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL;
	struct buf key = BUF_INIT;
	const char *ignored;
	size_t vlen = 0;
	int r;

	*sub_r = NULL;
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0 || id == NULL ||
	    strlen(id) != MAIL_ID_LEN || !mail_hex_valid(id, MAIL_ID_LEN))
		return 0;
	mail_key(&key, acct, MAIL_K_ESUB, id);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	if (r <= 0) {
		buf_free(&key);
		return r;
	}
	*sub_r = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (!record_ok(*sub_r)) {
		log_error("mail: %s in the view is not a submission record", key.data);
		json_decref(*sub_r);
		*sub_r = NULL;
		buf_free(&key);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	buf_free(&key);
	return 1;
}

struct sub_scan {
	json_t *list;
	int corrupt;
};

static int scan_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct sub_scan *s = ctx;
	json_t *rec = evm_json_loadb(val, vlen, 0, NULL);

	(void)key;
	(void)klen;
	if (!record_ok(rec)) {
		json_decref(rec);
		s->corrupt = 1;
		return 1;
	}
	json_array_append_new(s->list, rec);
	return 0;
}

int mail_submissions(struct view *view, const char *account, json_t **list_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct sub_scan s = { json_array(), 0 };
	struct buf prefix = BUF_INIT;
	const char *ignored;
	int r = 0;

	*list_r = s.list;
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0)
		return 0;
	mail_key(&prefix, acct, MAIL_K_ESUB, NULL);
	if (view_scan(view, prefix.data, prefix.len, scan_cb, &s, error_r) < 0) {
		r = -1;
	} else if (s.corrupt) {
		log_error("mail: a submission record under %s is corrupt", prefix.data);
		*error_r = MAIL_CORRUPT;
		r = -1;
	}
	buf_free(&prefix);
	return r;
}
