/* fts_index - the write side of the text index: an account's
 * messages not indexed yet become segments of at most EVM_FTS_SEG_DOCS
 * documents, each written in one view batch (its document list and its
 * postings together, so a reader sees all of a segment or none). */
#include "gateway/fts/fts.h"
#include "projector/keys.h"
#include "projector/mail.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_fast64_t docs_written;   /* documents committed, for /metrics */

uint64_t evm_fts_docs_written(void)
{
	return (uint64_t)atomic_load(&docs_written);
}

/* A segment is written before its stored texts pass this many octets
 * (it holds at most EVM_FTS_SEG_DOCS documents of up to ~2 fields of
 * EVM_FTS_TEXT_MAX each otherwise). */
#define FTS_SEG_TEXT_BYTES (16u * 1024 * 1024)

struct seg {
	struct buf docs;           /* 33 octets per document (fts.h) */
	size_t ndocs;
	struct buf text;           /* the documents' stored texts, one after another */
	size_t text_end[EVM_FTS_SEG_DOCS];   /* per document, where its text ends in text */
	uint64_t *ent;             /* (trigram key << 16) | document */
	size_t n, cap;
};

/* "local/fts/<acct>/", the account escaped as in mail/<acct>/. */
void evm_fts_key_account(struct buf *k, const char *account)
{
	buf_truncate(k, 0);
	buf_puts(k, KEY_LOCAL_FTS);
	for (const char *s = account; *s != '\0'; s++) {
		if (*s == '%')
			buf_puts(k, "%25");
		else if (*s == '/')
			buf_puts(k, "%2F");
		else
			buf_append(k, s, 1);
	}
	buf_puts(k, "/");
}

/* Adds one document's trigram set to the segment (its stored text is
 * already appended to sg->text; none when partial). */
static void seg_add(struct seg *sg, const char *email_id, int partial, const struct evm_fts_doc *d)
{
	uint64_t doc = sg->ndocs++;

	sg->text_end[doc] = sg->text.len;
	buf_append(&sg->docs, email_id, 32);
	buf_append(&sg->docs, partial ? "p" : "u", 1);
	if (sg->n + d->n > sg->cap) {
		sg->cap = (sg->n + d->n) * 2;
		sg->ent = xrealloc(sg->ent, sg->cap * sizeof *sg->ent);
	}
	for (size_t i = 0; i < d->cap; i++) {
		if (d->slot[i] != 0)
			sg->ent[sg->n++] = (uint64_t)(d->slot[i] - 1) << 16 | doc;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Writes the segment as segno in one batch and empties it. */
static int seg_write(struct view *view, const struct buf *acct, uint32_t segno, struct seg *sg,
		     const char **error_r)
{
	struct view_batch *b;
	struct buf k = BUF_INIT, v = BUF_INIT;
	size_t i = 0, ndocs = sg->ndocs;

	if (sg->ndocs == 0)
		return 0;
	qsort(sg->ent, sg->n, sizeof *sg->ent, cmp_u64);
	b = view_batch_begin(view);
	while (i < sg->n) {
		uint32_t key = (uint32_t)(sg->ent[i] >> 16);

		buf_truncate(&v, 0);
		for (; i < sg->n && (uint32_t)(sg->ent[i] >> 16) == key; i++) {
			unsigned char le[2] = { (unsigned char)(sg->ent[i] & 0xff), (unsigned char)(sg->ent[i] >> 8 & 0xff) };

			buf_append(&v, le, 2);
		}
		buf_truncate(&k, 0);
		buf_append(&k, acct->data, acct->len);
		buf_printf(&k, "p/%c%06x/%010u", (char)(key >> 24), key & 0xffffff, segno);
		view_batch_put(b, k.data, k.len, v.data, v.len);
	}
	for (size_t d = 0; d < ndocs; d++) {   /* THE TEXT STORED */
		size_t from = d > 0 ? sg->text_end[d - 1] : 0, at;
		char id[33];

		if (sg->docs.data[d * 33 + 32] != 'u')
			continue;
		if (evm_fts_text_split(sg->text.data + from, sg->text_end[d] - from, &at) < 0)
			continue;   /* cannot happen; without d/ the message is scanned */
		memcpy(id, sg->docs.data + d * 33, 32);
		id[32] = '\0';
		evm_fts_key_text(&k, acct, id);
		view_batch_put(b, k.data, k.len, sg->text.data + from, at);
		evm_fts_key_body(&k, acct, id);
		view_batch_put(b, k.data, k.len, sg->text.data + from + at, sg->text_end[d] - from - at);
	}
	buf_truncate(&k, 0);
	buf_append(&k, acct->data, acct->len);
	buf_printf(&k, "seg/%010u", segno);
	view_batch_put(b, k.data, k.len, sg->docs.data, sg->docs.len);
	buf_free(&k);
	buf_free(&v);
	buf_truncate(&sg->docs, 0);
	buf_truncate(&sg->text, 0);
	sg->ndocs = 0;
	sg->n = 0;
	if (view_batch_commit(&b, error_r) < 0)
		return -1;
	atomic_fetch_add(&docs_written, ndocs);
	return 0;
}

struct run {
	struct view *view;
	const char *account;
	struct evm_fts *f;
	json_t *seen;              /* email ids taken in this run */
	json_t *live;              /* every email id of the account's messages */
	struct buf acct;
	struct seg sg;
	uint32_t segno;
};

/* Indexes one message unless its email id is indexed (with its text, or
 * partially) or its blob is not complete here. 0, or -1 with *error_r. */
static int index_message(struct run *r, const char *mailbox_id, json_t *msg, const char **error_r)
{
	const char *id = json_string_value(json_object_get(msg, "email_id"));
	const char *prefix = json_string_value(json_object_get(msg, "prefix"));
	json_t *summary = NULL;
	struct evm_fts_doc d = { 0 };
	char *data = NULL;
	size_t len = 0;
	size_t from = r->sg.text.len;
	int got, cut, state;

	if (id == NULL || strlen(id) != 32 || json_object_get(r->seen, id) != NULL)
		return 0;
	json_object_set_new(r->live, id, json_true());
	if ((state = evm_fts_doc_state(r->f, id)) == 'u' || state == 'p')
		return 0;   /* 't', '1': indexed by an older version, again now */
	got = mail_message_body(r->view, r->account, mailbox_id,
				(uint32_t)json_integer_value(json_object_get(msg, "uid")), &data, &len, error_r);
	if (got <= 0)
		return got;
	if ((got = mail_summary_get(r->view, r->account, id, &summary, error_r)) <= 0) {
		free(data);
		return got;
	}
	cut = evm_fts_doc_message(&d, data, len, prefix ? strlen(prefix) : 0, summary, &r->sg.text);
	if (cut)
		buf_truncate(&r->sg.text, from);
	seg_add(&r->sg, id, cut, &d);
	json_object_set_new(r->seen, id, json_true());
	evm_fts_doc_free(&d);
	json_decref(summary);
	free(data);
	if (r->sg.ndocs >= EVM_FTS_SEG_DOCS || r->sg.text.len >= FTS_SEG_TEXT_BYTES)
		return seg_write(r->view, &r->acct, r->segno++, &r->sg, error_r);
	return 0;
}

/* view_scan_cb: deletes each key in the batch ctx. */
static int drop_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	view_batch_delete(ctx, key, klen);
	return 0;
}

/* The account has no mail store (never had one, or account.purge took
 * it): its index goes. account.purge drops it too, but a segment this
 * thread was writing meanwhile may land after that. 0 or -1. */
static int drop_index(struct view *view, const char *account, const char **error_r)
{
	struct buf k = BUF_INIT;
	struct view_batch *b = view_batch_begin(view);
	int ret;

	evm_fts_key_account(&k, account);
	ret = view_scan(view, k.data, k.len, drop_cb, b, error_r);
	buf_free(&k);
	if (ret < 0 || view_batch_count(b) == 0) {
		view_batch_abort(&b);
		return ret;
	}
	return view_batch_commit(&b, error_r);
}

/* Every mailbox's messages (fts.h, WHEN). */
int evm_fts_index_account(struct view *view, const char *account, const char **error_r)
{
	struct run r = { view, account, NULL, json_object(), json_object(), BUF_INIT,
			 { .docs = BUF_INIT, .text = BUF_INIT }, 0 };
	json_t *boxes = NULL, *box, *usage = NULL;
	size_t i;
	int ret = -1, have;

	if ((have = mail_account_usage(view, account, &usage, error_r)) < 0)
		goto out;
	json_decref(usage);
	if (have == 0) {
		ret = drop_index(view, account, error_r);
		goto out;
	}
	if (evm_fts_open(view, account, &r.f, error_r) < 0 ||
	    mail_mailboxes(view, account, &boxes, error_r) < 0)
		goto out;
	r.segno = evm_fts_next_seg(r.f);
	evm_fts_key_account(&r.acct, account);
	json_array_foreach(boxes, i, box) {
		const char *mid = json_string_value(json_object_get(box, "id"));
		json_t *msgs = NULL, *m;
		size_t j;

		if (mid == NULL || mail_messages(view, account, mid, 0, &msgs, error_r) < 0)
			goto out;
		json_array_foreach(msgs, j, m) {
			if (index_message(&r, mid, m, error_r) < 0) {
				json_decref(msgs);
				goto out;
			}
		}
		json_decref(msgs);
	}
	if ((ret = seg_write(view, &r.acct, r.segno, &r.sg, error_r)) == 0)
		ret = evm_fts_gc(view, &r.acct, r.live, error_r);
out:
	json_decref(boxes);
	json_decref(r.seen);
	json_decref(r.live);
	evm_fts_close(&r.f);
	buf_free(&r.acct);
	buf_free(&r.sg.docs);
	buf_free(&r.sg.text);
	free(r.sg.ent);
	return ret;
}
