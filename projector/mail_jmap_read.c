/* mail_jmap_read - the read side of projector/mail_jmap.h over the
 * committed view. */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The account in normal form: 0, or -1 when it cannot be an address. */
static int norm_account(const char *account, char out[EVM_ADDRESS_MAX + 1])
{
	const char *ignored;

	return account != NULL && evm_address_normalize(account, out, &ignored) == 0 ? 0 : -1;
}

/* An id as stored: 32 lower-case hex digits. */
static int id_valid(const char *id)
{
	return id != NULL && strlen(id) == MAIL_ID_LEN && mail_hex_valid(id, MAIL_ID_LEN);
}

int mail_jmap_state(struct view *view, const char *account, enum mail_jtype t, int64_t *state_r,
		    const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL, *end;
	struct buf key = BUF_INIT;
	long long v;
	int r;

	*state_r = 0;
	if ((unsigned)t >= MAIL_J_TYPES || norm_account(account, acct) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_JST, mail_jtype_name(t));
	r = view_get(view, key.data, key.len, &val, NULL, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	v = strtoll(val, &end, 10);
	if (*end != '\0' || v < 0) {
		free(val);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	free(val);
	*state_r = v;
	return 0;
}

struct changes {
	struct view *view;
	const char *acct;
	enum mail_jtype t;
	int64_t since;
	const char *since_id;
	size_t plen, max, sent;
	mail_jchange_cb *cb;
	void *ctx;
	int more, corrupt, stopped;
	const char **error_r;
};

/* One jseq/ entry: "<modseq 20>/<id>". */
static int changes_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct changes *c = vctx;
	const char *rest = key + c->plen;
	size_t rlen = klen - c->plen;
	char digits[21], id[MAIL_ID_LEN + 1], *rec = NULL;
	struct mail_jchange ch;
	struct buf k = BUF_INIT;
	int64_t created, updated;
	int destroyed, r;

	(void)val;
	(void)vlen;
	/* Ids are 32 hex digits, or shorter (Identity ids, mail_identity.c). */
	if (rlen < 22 || rlen > 21 + MAIL_ID_LEN || rest[20] != '/') {
		c->corrupt = 1;
		return 1;
	}
	memcpy(digits, rest, 20);
	digits[20] = '\0';
	memcpy(id, rest + 21, rlen - 21);
	id[rlen - 21] = '\0';
	ch.modseq = strtoll(digits, NULL, 10);
	if (ch.modseq < c->since ||
	    (ch.modseq == c->since && (c->since_id[0] == '\0' || strcmp(id, c->since_id) <= 0)))
		return 0;
	mail_key(&k, c->acct, MAIL_K_JOBJ, mail_jtype_name(c->t));
	buf_puts(&k, "/");
	buf_puts(&k, id);
	r = view_get(c->view, k.data, k.len, &rec, &vlen, c->error_r);
	buf_free(&k);
	if (r < 0) {
		c->stopped = -1;
		return 1;
	}
	/* The index moved on under us (a newer change of the same object is
	 * later in the scan, or it was just written): skip this entry. */
	if (r == 0 || mail_jobj_parse(rec, vlen, &created, &updated, &destroyed) < 0 ||
	    updated != ch.modseq) {
		if (r == 1 && mail_jobj_parse(rec, vlen, &created, &updated, &destroyed) < 0)
			c->corrupt = 1;
		free(rec);
		return c->corrupt;
	}
	free(rec);
	ch.created = created > c->since;
	ch.destroyed = destroyed;
	if (ch.created && ch.destroyed)
		return 0;
	if (c->sent == c->max) {
		c->more = 1;
		return 1;
	}
	ch.id = id;
	c->sent++;
	if (c->cb(c->ctx, &ch) != 0) {
		c->stopped = 1;
		return 1;
	}
	return 0;
}

int mail_jmap_changes(struct view *view, const char *account, enum mail_jtype t, int64_t since_modseq,
		      const char *since_id, size_t max, mail_jchange_cb *cb, void *ctx, int *more_r,
		      const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf prefix = BUF_INIT, start = BUF_INIT;
	struct changes c;
	int r;

	*more_r = 0;
	if ((unsigned)t >= MAIL_J_TYPES || norm_account(account, acct) < 0 || since_modseq < 0)
		return 0;
	memset(&c, 0, sizeof c);
	c.view = view;
	c.acct = acct;
	c.t = t;
	c.since = since_modseq;
	c.since_id = since_id != NULL ? since_id : "";
	c.max = max;
	c.cb = cb;
	c.ctx = ctx;
	c.error_r = error_r;
	mail_key(&prefix, acct, MAIL_K_JSEQ, mail_jtype_name(t));
	buf_puts(&prefix, "/");
	c.plen = prefix.len;
	buf_puts(&start, prefix.data);
	buf_printf(&start, "%020" PRId64, since_modseq);
	r = view_scan_from(view, prefix.data, prefix.len, start.data, start.len, changes_cb, &c, error_r);
	buf_free(&prefix);
	buf_free(&start);
	if (r < 0 || c.stopped < 0)
		return -1;
	if (c.corrupt) {
		log_error("mail: the JMAP change index of %s is corrupt", acct);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	*more_r = c.more;
	return 0;
}

struct names {
	json_t *out;
	size_t plen;
	int corrupt;
};

/* eloc/ suffix "<mailbox id>/<uid 10>" -> [mailbox id, uid]. */
static int loc_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct names *n = vctx;
	const char *rest = key + n->plen;
	char mbox[MAIL_ID_LEN + 1], uid[11];

	(void)val;
	(void)vlen;
	if (klen - n->plen != MAIL_ID_LEN + 11 || rest[MAIL_ID_LEN] != '/') {
		n->corrupt = 1;
		return 1;
	}
	memcpy(mbox, rest, MAIL_ID_LEN);
	mbox[MAIL_ID_LEN] = '\0';
	/* Keys are not NUL-terminated. */
	memcpy(uid, rest + MAIL_ID_LEN + 1, 10);
	uid[10] = '\0';
	json_array_append_new(n->out, json_pack("[s,I]", mbox, (json_int_t)strtoll(uid, NULL, 10)));
	return 0;
}

/* Scans "mail/<acct>/" kind id "/" with cb appending to out: 1 when it
 * appended something, 0 not, -1 error. */
static int scan_list(struct view *view, const char *acct, const char *kind, const char *id,
		     view_scan_cb *cb, json_t *out, const char **error_r)
{
	struct buf prefix = BUF_INIT;
	struct names n = { out, 0, 0 };
	size_t before = json_array_size(out);
	int r;

	mail_key(&prefix, acct, kind, id);
	buf_puts(&prefix, "/");
	n.plen = prefix.len;
	r = view_scan(view, prefix.data, prefix.len, cb, &n, error_r);
	buf_free(&prefix);
	if (r < 0)
		return -1;
	if (n.corrupt) {
		log_error("mail: an index entry under mail/%s/%s%s is corrupt", acct, kind, id);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	return json_array_size(out) > before ? 1 : 0;
}

int mail_jmap_email_locations(struct view *view, const char *account, const char *email_id,
			      json_t *locs, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];

	if (norm_account(account, acct) < 0 || !id_valid(email_id))
		return 0;
	return scan_list(view, acct, MAIL_K_ELOC, email_id, loc_cb, locs, error_r);
}

int mail_jmap_email_thread(struct view *view, const char *account, const char *email_id,
			   char tid[33], int64_t *received_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL;
	struct buf key = BUF_INIT;
	size_t vlen = 0;
	int r;

	if (norm_account(account, acct) < 0 || !id_valid(email_id))
		return 0;
	mail_key(&key, acct, MAIL_K_ETHR, email_id);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	r = mail_ethr_parse(val, vlen, tid, received_r);
	free(val);
	if (r < 0) {
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	return 1;
}

/* thr/ suffix "<received 20>/<email id>" -> the email id. */
static int thread_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct names *n = vctx;

	(void)val;
	(void)vlen;
	if (klen - n->plen != 21 + MAIL_ID_LEN || key[n->plen + 20] != '/') {
		n->corrupt = 1;
		return 1;
	}
	json_array_append_new(n->out, json_stringn(key + n->plen + 21, MAIL_ID_LEN));
	return 0;
}

int mail_jmap_thread_emails(struct view *view, const char *account, const char *thread_id,
			    json_t *ids, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];

	if (norm_account(account, acct) < 0 || !id_valid(thread_id))
		return 0;
	return scan_list(view, acct, MAIL_K_THR, thread_id, thread_cb, ids, error_r);
}

struct rcv_scan {
	struct mail_jrcv *v;
	size_t n, cap, plen, max;
	int64_t below;     /* a forward scan stops at this received time */
	int corrupt;
};

/* "<received 20>/<email id>" after the prefix. */
static int rcv_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct rcv_scan *r = vctx;
	const char *rest = key + r->plen;
	char digits[21];
	int64_t received;

	(void)val;
	(void)vlen;
	if (klen - r->plen != 21 + MAIL_ID_LEN || rest[20] != '/' || !mail_hex_prefix(rest + 21, MAIL_ID_LEN)) {
		r->corrupt = 1;
		return 1;
	}
	memcpy(digits, rest, 20);
	digits[20] = '\0';
	received = strtoll(digits, NULL, 10);
	if (received >= r->below)
		return 1;
	/* Past max: only the rest of the last entry's received time. */
	if (r->max > 0 && r->n >= r->max && received != r->v[r->n - 1].received)
		return 1;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->v = xrealloc(r->v, r->cap * sizeof *r->v);
	}
	r->v[r->n].received = received;
	memcpy(r->v[r->n].id, rest + 21, MAIL_ID_LEN);
	r->v[r->n].id[MAIL_ID_LEN] = '\0';
	r->n++;
	return 0;
}

/* v[n] in the opposite order. */
static void reverse(struct mail_jrcv *v, size_t n)
{
	for (size_t a = 0, b = n ? n - 1 : 0; a < b; a++, b--) {
		struct mail_jrcv t = v[a];

		v[a] = v[b];
		v[b] = t;
	}
}

/* A reverse scan gives equal received times by id descending: put each
 * such run back in ascending id order. */
static void ties_ascending(struct mail_jrcv *v, size_t n)
{
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		while (j < n && v[j].received == v[i].received)
			j++;
		for (size_t a = i, b = j - 1; a < b; a++, b--) {
			struct mail_jrcv t = v[a];

			v[a] = v[b];
			v[b] = t;
		}
		i = j;
	}
}

int mail_jmap_received(struct view *view, const char *account, const char *mailbox_id, int newest_first,
		       size_t max, struct mail_jrcv **v_r, size_t *n_r, const char **error_r)
{
	return mail_jmap_received_past(view, account, mailbox_id, newest_first, NULL, max, v_r, n_r, error_r);
}

int mail_jmap_received_past(struct view *view, const char *account, const char *mailbox_id, int newest_first,
			    const int64_t *past, size_t max, struct mail_jrcv **v_r, size_t *n_r,
			    const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct buf prefix = BUF_INIT, start = BUF_INIT;
	struct rcv_scan r = { NULL, 0, 0, 0, max, INT64_MAX, 0 };
	int ret = 0;

	*v_r = NULL;
	*n_r = 0;
	if (norm_account(account, acct) < 0 || (mailbox_id != NULL && !id_valid(mailbox_id)))
		return 0;
	if (mailbox_id == NULL) {
		mail_key(&prefix, acct, MAIL_K_ARCV, NULL);
	} else {
		mail_key(&prefix, acct, MAIL_K_MRCV, mailbox_id);
		buf_puts(&prefix, "/");
	}
	r.plen = prefix.len;
	if (past != NULL && (newest_first ? *past <= 0 : *past == INT64_MAX))
		goto done;   /* nothing is past it (times are >= 0) */
	if (past != NULL) {
		/* "<past>" sorts before every "<past>/<id>" and after the keys of
		 * earlier times; "<past + 1>" before every key of past + 1 */
		buf_append(&start, prefix.data, prefix.len);
		buf_printf(&start, "%020" PRId64, newest_first ? *past : *past + 1);
	}
	if (newest_first && max == 0) {
		/* All of it: a forward scan, turned around here, is several
		 * times faster than RocksDB's backward steps. */
		r.below = past != NULL ? *past : INT64_MAX;
		ret = view_scan(view, prefix.data, prefix.len, rcv_cb, &r, error_r);
		if (ret == 0)
			reverse(r.v, r.n);
	} else if (newest_first && past != NULL) {
		ret = view_scan_reverse_from(view, prefix.data, prefix.len, start.data, start.len, rcv_cb, &r, error_r);
	} else if (newest_first) {
		ret = view_scan_reverse(view, prefix.data, prefix.len, rcv_cb, &r, error_r);
	} else if (past != NULL) {
		ret = view_scan_from(view, prefix.data, prefix.len, start.data, start.len, rcv_cb, &r, error_r);
	} else {
		ret = view_scan(view, prefix.data, prefix.len, rcv_cb, &r, error_r);
	}
done:
	buf_free(&prefix);
	buf_free(&start);
	if (ret == 0 && r.corrupt) {
		log_error("mail: the received-time index of %s is corrupt", acct);
		*error_r = MAIL_CORRUPT;
		ret = -1;
	}
	if (ret < 0) {
		free(r.v);
		return -1;
	}
	if (newest_first)
		ties_ascending(r.v, r.n);
	*v_r = r.v;
	*n_r = r.n;
	return 0;
}
