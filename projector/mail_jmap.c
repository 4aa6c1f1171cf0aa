/* mail_jmap - the write side of projector/mail_jmap.h: change tracking per
 * JMAP type, the email -> copies index and thread assignment, called by
 * the mail appliers in the batch of the event they apply. */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[MAIL_J_TYPES] = { "mailbox", "email", "thread", "vacation", "submission",
							     "identity" };

const char *mail_jtype_name(enum mail_jtype t)
{
	return (unsigned)t < MAIL_J_TYPES ? type_names[t] : "?";
}

/* "mail/<acct>/" kind "<type>/" (+ id). */
static void jkey(struct mail_acct *a, const char *kind, enum mail_jtype t, const char *id)
{
	mail_key(&a->key, a->address, kind, type_names[t]);
	buf_puts(&a->key, "/");
	if (id != NULL)
		buf_puts(&a->key, id);
}

static void jseq_key(struct mail_acct *a, enum mail_jtype t, int64_t modseq, const char *id)
{
	jkey(a, MAIL_K_JSEQ, t, NULL);
	buf_printf(&a->key, "%020" PRId64 "/%s", modseq, id);
}

int mail_jobj_parse(const char *val, size_t vlen, int64_t *created_r, int64_t *updated_r,
		    int *destroyed_r)
{
	char tmp[64], tail[4] = "";
	long long c, u;
	int n;

	if (vlen == 0 || vlen >= sizeof tmp)
		return -1;
	memcpy(tmp, val, vlen);
	tmp[vlen] = '\0';
	n = sscanf(tmp, "%lld %lld%3s", &c, &u, tail);
	/* created 0: an object older than the index (mail_jmap_touch_existing). */
	if (n < 2 || c < 0 || u < c || u < 1 || (n == 3 && strcmp(tail, "d") != 0))
		return -1;
	*created_r = c;
	*updated_r = u;
	*destroyed_r = n == 3;
	return 0;
}

void mail_jmap_created(struct mail_acct *a, enum mail_jtype t, const char *id)
{
	char rec[64];

	snprintf(rec, sizeof rec, "%" PRId64 " %" PRId64, a->modseq, a->modseq);
	jkey(a, MAIL_K_JOBJ, t, id);
	mail_batch_put_str(a->ctx->batch, &a->key, rec);
	jseq_key(a, t, a->modseq, id);
	mail_batch_put_str(a->ctx->batch, &a->key, "");
	mail_key(&a->key, a->address, MAIL_K_JST, type_names[t]);
	mail_batch_put_int(a->ctx->batch, &a->key, a->modseq);
}

static int touch(struct mail_acct *a, enum mail_jtype t, const char *id, int destroy, int existed,
		 const char **error_r);

int mail_jmap_touch(struct mail_acct *a, enum mail_jtype t, const char *id, int destroy,
		    const char **error_r)
{
	return touch(a, t, id, destroy, 0, error_r);
}

int mail_jmap_touch_existing(struct mail_acct *a, enum mail_jtype t, const char *id, const char **error_r)
{
	return touch(a, t, id, 0, 1, error_r);
}

/* existed: an object unknown to the index is not new (created 0). */
static int touch(struct mail_acct *a, enum mail_jtype t, const char *id, int destroy, int existed,
		 const char **error_r)
{
	struct view_batch *b = a->ctx->batch;
	int64_t created = 0, updated = 0;
	int destroyed = 0, r;
	char *val = NULL, rec[64], ts[24];
	size_t vlen = 0;

	jkey(a, MAIL_K_JOBJ, t, id);
	if ((r = view_batch_get(b, a->key.data, a->key.len, &val, &vlen, error_r)) < 0)
		return -1;
	if (r == 1 && mail_jobj_parse(val, vlen, &created, &updated, &destroyed) < 0) {
		free(val);
		log_error("mail: JMAP change record %s is corrupt", a->key.data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	free(val);
	if (r == 1 && destroyed && destroy)
		return 0;
	/* Touched already by this event (an append touches its email as a
	 * message and as one more reference): every key below would be
	 * written again with the same value. */
	if (r == 1 && !destroyed && !destroy && updated == a->modseq)
		return 0;
	/* Unknown, or destroyed and written again (the same content came
	 * back): created now. */
	if (r == 0 || destroyed)
		created = r == 0 && existed ? 0 : a->modseq;
	snprintf(rec, sizeof rec, "%" PRId64 " %" PRId64 "%s", created, a->modseq, destroy ? " d" : "");
	jkey(a, MAIL_K_JOBJ, t, id);
	mail_batch_put_str(b, &a->key, rec);
	if (r == 1 && updated != a->modseq) {
		jseq_key(a, t, updated, id);
		mail_batch_delete(b, &a->key);
	}
	/* A destroyed object's entry holds the time of its destruction, for
	 * pruning (mail_prune.c). */
	snprintf(ts, sizeof ts, "%" PRId64, a->ctx->ev->ts);
	jseq_key(a, t, a->modseq, id);
	mail_batch_put_str(b, &a->key, destroy ? ts : "");
	mail_key(&a->key, a->address, MAIL_K_JST, type_names[t]);
	mail_batch_put_int(b, &a->key, a->modseq);
	return mail_prune_jmap(a, t, destroy, error_r);
}

void mail_jmap_loc(struct mail_acct *a, const char *email_id, const char *mailbox_id, uint32_t uid,
		   int put)
{
	mail_key(&a->key, a->address, MAIL_K_ELOC, email_id);
	buf_printf(&a->key, "/%s/%010" PRIu32, mailbox_id, uid);
	if (put)
		mail_batch_put_str(a->ctx->batch, &a->key, "");
	else
		mail_batch_delete(a->ctx->batch, &a->key);
}

int mail_ethr_parse(const char *val, size_t vlen, char tid[MAIL_ID_LEN + 1], int64_t *received_r)
{
	char *end;
	long long rcv;

	if (vlen < MAIL_ID_LEN + 2 || val[MAIL_ID_LEN] != ' ' || !mail_hex_prefix(val, MAIL_ID_LEN))
		return -1;
	rcv = strtoll(val + MAIL_ID_LEN + 1, &end, 10);
	if (end != val + vlen || rcv < 0)
		return -1;
	memcpy(tid, val, MAIL_ID_LEN);
	tid[MAIL_ID_LEN] = '\0';
	*received_r = rcv;
	return 0;
}

/* The thread of an indexed email: 1 found (tid set), 0 not, -1 error. */
static int thread_of(struct mail_acct *a, const char *email_id, char tid[MAIL_ID_LEN + 1],
		     int64_t *received_r, const char **error_r)
{
	char *val = NULL;
	size_t vlen = 0;
	int r;

	mail_key(&a->key, a->address, MAIL_K_ETHR, email_id);
	if ((r = view_batch_get(a->ctx->batch, a->key.data, a->key.len, &val, &vlen, error_r)) <= 0)
		return r;
	r = mail_ethr_parse(val, vlen, tid, received_r);
	free(val);
	if (r < 0) {
		log_error("mail: thread record %s is corrupt", a->key.data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	return 1;
}

struct first_email {
	size_t plen;
	char id[MAIL_ID_LEN + 1];
};

static int first_email_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct first_email *f = vctx;

	(void)val;
	(void)vlen;
	if (klen - f->plen != MAIL_ID_LEN || !mail_hex_prefix(key + f->plen, MAIL_ID_LEN))
		return 0;
	memcpy(f->id, key + f->plen, MAIL_ID_LEN);
	f->id[MAIL_ID_LEN] = '\0';
	return 1;
}

/* The thread of the first email indexed under Message-ID msgid: 1, 0, -1. */
static int thread_by_msgid(struct mail_acct *a, const char *msgid, char tid[MAIL_ID_LEN + 1],
			   const char **error_r)
{
	struct first_email f = { 0, "" };
	int64_t received;

	if (msgid == NULL || msgid[0] == '\0' || strlen(msgid) > MAIL_MSGID_LEN_MAX)
		return 0;
	mail_key(&a->key, a->address, MAIL_K_MID, NULL);
	mail_key_escape(&a->key, msgid);
	buf_puts(&a->key, "/");
	f.plen = a->key.len;
	if (view_batch_scan(a->ctx->batch, a->key.data, a->key.len, first_email_cb, &f, error_r) < 0)
		return -1;
	if (f.id[0] == '\0')
		return 0;
	return thread_of(a, f.id, tid, &received, error_r);
}

/* RFC 8621 3 leaves threading to the server; see mail_jmap.h. */
static int find_thread(struct mail_acct *a, json_t *summary, char tid[MAIL_ID_LEN + 1],
		       const char **error_r)
{
	json_t *hdrs = json_object_get(summary, "headers");
	json_t *irt = json_object_get(hdrs, "in_reply_to"), *refs = json_object_get(hdrs, "references");
	size_t i, n;
	int r;

	for (i = 0; i < json_array_size(irt) && i < MAIL_MSGID_INDEX_MAX; i++)
		if ((r = thread_by_msgid(a, json_string_value(json_array_get(irt, i)), tid, error_r)) != 0)
			return r;
	n = json_array_size(refs);
	for (i = 0; i < n && i < MAIL_MSGID_INDEX_MAX; i++)
		if ((r = thread_by_msgid(a, json_string_value(json_array_get(refs, n - 1 - i)), tid,
					 error_r)) != 0)
			return r;
	return 0;
}

/* arcv/<received>/<email> (mailbox_id NULL) or mrcv/<mailbox>/<received>/<email>. */
static void rcv_key(struct mail_acct *a, const char *mailbox_id, int64_t received, const char *email_id)
{
	if (mailbox_id == NULL) {
		mail_key(&a->key, a->address, MAIL_K_ARCV, NULL);
	} else {
		mail_key(&a->key, a->address, MAIL_K_MRCV, mailbox_id);
		buf_puts(&a->key, "/");
	}
	buf_printf(&a->key, "%020" PRId64 "/%s", received, email_id);
}

static void thr_key(struct mail_acct *a, const char *tid, int64_t received, const char *email_id)
{
	mail_key(&a->key, a->address, MAIL_K_THR, tid);
	buf_printf(&a->key, "/%020" PRId64 "/%s", received, email_id);
}

int mail_jmap_email_new(struct mail_acct *a, const char *email_id, json_t *summary, int64_t received,
			const char **error_r)
{
	char tid[MAIL_ID_LEN + 1], rec[MAIL_ID_LEN + 32];
	int r;

	if ((r = find_thread(a, summary, tid, error_r)) < 0)
		return -1;
	if (r == 0)
		memcpy(tid, email_id, MAIL_ID_LEN + 1);
	if (received < 0)
		received = 0;
	snprintf(rec, sizeof rec, "%s %" PRId64, tid, received);
	mail_key(&a->key, a->address, MAIL_K_ETHR, email_id);
	mail_batch_put_str(a->ctx->batch, &a->key, rec);
	thr_key(a, tid, received, email_id);
	mail_batch_put_str(a->ctx->batch, &a->key, "");
	rcv_key(a, NULL, received, email_id);
	mail_batch_put_str(a->ctx->batch, &a->key, "");
	return mail_jmap_touch(a, MAIL_J_THREAD, tid, 0, error_r);
}

static int any_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	*(int *)vctx = 1;
	return 1;
}

int mail_jmap_email_gone(struct mail_acct *a, const char *email_id, const char **error_r)
{
	char tid[MAIL_ID_LEN + 1];
	int64_t received;
	int r, left = 0;

	if ((r = thread_of(a, email_id, tid, &received, error_r)) <= 0)
		return r;
	mail_key(&a->key, a->address, MAIL_K_ETHR, email_id);
	mail_batch_delete(a->ctx->batch, &a->key);
	thr_key(a, tid, received, email_id);
	mail_batch_delete(a->ctx->batch, &a->key);
	rcv_key(a, NULL, received, email_id);
	mail_batch_delete(a->ctx->batch, &a->key);
	mail_key(&a->key, a->address, MAIL_K_THR, tid);
	buf_puts(&a->key, "/");
	if (view_batch_scan(a->ctx->batch, a->key.data, a->key.len, any_cb, &left, error_r) < 0)
		return -1;
	return mail_jmap_touch(a, MAIL_J_THREAD, tid, !left, error_r);
}

int mail_jmap_email_placed(struct mail_acct *a, const char *email_id, const char *mailbox_id, int added,
			   const char **error_r)
{
	char tid[MAIL_ID_LEN + 1];
	int64_t received;
	int r, left = 0;

	if ((r = thread_of(a, email_id, tid, &received, error_r)) <= 0)
		return r;
	if (!added) {
		/* Another copy of the email in that mailbox keeps the entry. */
		mail_key(&a->key, a->address, MAIL_K_ELOC, email_id);
		buf_printf(&a->key, "/%s/", mailbox_id);
		if (view_batch_scan(a->ctx->batch, a->key.data, a->key.len, any_cb, &left, error_r) < 0)
			return -1;
		if (left)
			return 0;
	}
	rcv_key(a, mailbox_id, received, email_id);
	if (added)
		mail_batch_put_str(a->ctx->batch, &a->key, "");
	else
		mail_batch_delete(a->ctx->batch, &a->key);
	return 0;
}
