/* mail_purge - account.purge: a removed account's mail store goes from the
 * view (mail.h, issue #13 item 3).
 *
 * account.purge {} (envelope account: the address) deletes every key under
 * mail/<acct>/ except shared/ (the sharee index there is written by the
 * OWNERS' partitions: deleting it here would make the outcome depend on
 * how this partition interleaves with theirs); drops the account's
 * references to bodies as a last expunge would (blobref/ n to 0, drop = the
 * event's ts: the body collector takes them after its grace), and ends
 * its JMAP uploads' holds on bodies at the event's ts; removes the
 * sharee index entries this partition wrote under other accounts
 * (mail/<sharee>/shared/<acct>/<mailbox id>, one per acl/ grant, and
 * mailany/<tenant>/<acct>/<mailbox id> of a grant to anyone); and
 * drops the node-local text index (local/fts/<acct>/, not in the digest).
 * It reads and writes only what the account's partition owns, so it is
 * deterministic, and idempotent: a second purge finds nothing. */
#include "projector/blob_internal.h"
#include "projector/mail_internal.h"
#include "projector/mail_acl.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* What one scan of mail/<acct>/ found. */
struct purge_scan {
	size_t plen;              /* strlen("mail/<acct>/") */
	struct buf *keys;         /* every key to delete */
	size_t nkeys, cap;
	json_t *blobs;            /* blob id of each live message, in key order */
	json_t *shares;           /* [mailbox id, sharee (escaped)] of each grant */
	json_t *uploads;          /* blob id of each JMAP upload record (upl/) */
	int corrupt;
};

/* Remembers one key to delete. */
static void scan_keep(struct purge_scan *s, const char *key, size_t klen)
{
	if (s->nkeys == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->keys = xrealloc(s->keys, s->cap * sizeof *s->keys);
	}
	s->keys[s->nkeys] = (struct buf)BUF_INIT;
	buf_append(&s->keys[s->nkeys++], key, klen);
}

/* A msg/ record: the body it references. */
static void scan_msg(struct purge_scan *s, const char *val, size_t vlen)
{
	json_t *msg = evm_json_loadb(val, vlen, 0, NULL);
	const char *blob_id = json_string_value(json_object_get(msg, "blob_id"));

	if (blob_id == NULL)
		s->corrupt = 1;
	else
		json_array_append_new(s->blobs, json_string(blob_id));
	json_decref(msg);
}

/* An acl/ key "<mailbox id>/<who>": the grant's sharee index entry. */
static void scan_acl(struct purge_scan *s, const char *rest, size_t len)
{
	const char *slash = memchr(rest, '/', len);

	if (slash == NULL || slash - rest != MAIL_ID_LEN || slash + 1 == rest + len) {
		s->corrupt = 1;
		return;
	}
	json_array_append_new(s->shares, json_pack("[s%, s%]", rest, (size_t)MAIL_ID_LEN, slash + 1,
						   len - MAIL_ID_LEN - 1));
}

/* view_scan_cb over mail/<acct>/. */
static int scan_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct purge_scan *s = ctx;
	const char *rest = key + s->plen;
	size_t len = klen - s->plen;

#define HAS(kind) (len > sizeof kind - 1 && memcmp(rest, kind, sizeof kind - 1) == 0)
	if (HAS(MAIL_K_SHARED))
		return 0;
	if (HAS(MAIL_K_MSG))
		scan_msg(s, val, vlen);
	else if (HAS(MAIL_K_ACL))
		scan_acl(s, rest + strlen(MAIL_K_ACL), len - strlen(MAIL_K_ACL));
	else if (HAS(MAIL_K_UPL) && len == strlen(MAIL_K_UPL) + MAIL_BLOB_ID_LEN)
		json_array_append_new(s->uploads, json_stringn(rest + strlen(MAIL_K_UPL), MAIL_BLOB_ID_LEN));
#undef HAS
	scan_keep(s, key, klen);
	return s->corrupt;
}

/* view_scan_cb collecting every key (the text index). */
static int collect_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	scan_keep(ctx, key, klen);
	return 0;
}

/* The inverse of mail_key_escape (%25 and %2F) into out. */
static void unescape(const char *s, struct buf *out)
{
	buf_truncate(out, 0);
	for (; *s != '\0'; s++) {
		if (strncmp(s, "%25", 3) == 0) {
			buf_puts(out, "%");
			s += 2;
		} else if (strncmp(s, "%2F", 3) == 0) {
			buf_puts(out, "/");
			s += 2;
		} else {
			buf_append(out, s, 1);
		}
	}
}

/* Removes the sharee index entries of the account's grants and tells
 * the sharees. */
static void drop_shares(struct apply_ctx *ctx, const char *account, json_t *shares)
{
	struct buf key = BUF_INIT, who = BUF_INIT;
	json_t *g;
	size_t i;

	json_array_foreach(shares, i, g) {
		const char *mailbox_id = json_string_value(json_array_get(g, 0));
		const char *sharee = json_string_value(json_array_get(g, 1));

		/* "anyone" has the tenant's index; a negative entry none
		 * (projector/mail_acl.h). */
		if (strcmp(sharee, MAIL_ACL_ANYONE) == 0) {
			mail_acl_anyone_key(&key, ctx->ev->tenant != NULL ? ctx->ev->tenant : "", account,
					    mailbox_id);
			mail_batch_delete(ctx->batch, &key);
			mail_acl_anyone_channel(&who, ctx->ev->tenant);
			apply_changed(ctx, who.data);
			continue;
		}
		if (sharee[0] == '-')
			continue;
		buf_truncate(&key, 0);
		buf_printf(&key, "%s%s/%s", KEY_MAIL, sharee, MAIL_K_SHARED);
		mail_key_escape(&key, account);
		buf_printf(&key, "/%s", mailbox_id);
		mail_batch_delete(ctx->batch, &key);
		unescape(sharee, &who);
		apply_changed(ctx, who.data);
	}
	buf_free(&key);
	buf_free(&who);
}

/* account.purge {} (see the top of this file). result: {keys: keys deleted
 * under mail/<acct>/, messages: live messages whose body references were
 * dropped, shares: sharee index entries removed}. */
enum apply_status mail_apply_purge(struct apply_ctx *ctx, const char **error_r)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *account = ctx->ev->account, *error = NULL;
	struct purge_scan s = { 0 };
	struct buf prefix = BUF_INIT;
	enum apply_status st = APPLY_FAILED;
	size_t i, nmail;
	json_t *b;

	if (account == NULL || evm_address_normalize(account, norm, &error) < 0 || strcmp(norm, account) != 0)
		return apply_reject(ctx, "invalid", "event account is not an address in normal form");
	if (json_object_size(ctx->ev->data) != 0)
		return apply_reject(ctx, "invalid", "account.purge takes no data");
	s.blobs = json_array();
	s.shares = json_array();
	s.uploads = json_array();
	mail_key_account(&prefix, account);
	s.plen = prefix.len;
	if (view_batch_scan(ctx->batch, prefix.data, prefix.len, scan_cb, &s, error_r) < 0)
		goto out;
	if (s.corrupt) {
		log_error("mail: purge of %s met a malformed msg/ or acl/ record", account);
		*error_r = MAIL_CORRUPT;
		goto out;
	}
	nmail = s.nkeys;
	buf_truncate(&prefix, 0);
	buf_puts(&prefix, KEY_LOCAL_FTS);
	mail_key_escape(&prefix, account);
	buf_puts(&prefix, "/");
	if (view_batch_scan(ctx->batch, prefix.data, prefix.len, collect_cb, &s, error_r) < 0)
		goto out;
	for (i = 0; i < s.nkeys; i++)
		view_batch_delete(ctx->batch, s.keys[i].data, s.keys[i].len);
	/* Exactly what the last expunge of each message does to its body. */
	json_array_foreach(s.blobs, i, b) {
		if (blob_ref_account(ctx, json_string_value(b), account, -1, error_r) < 0)
			goto out;
	}
	/* A JMAP upload's hold on its body ends with the account (an erased
	 * account's uploads must not outlive it by blob.upload_ttl_s). */
	json_array_foreach(s.uploads, i, b) {
		if (blob_ref_upload_release(ctx, json_string_value(b), account, error_r) < 0)
			goto out;
	}
	drop_shares(ctx, account, s.shares);
	apply_changed(ctx, account);
	mail_result(ctx, "keys", json_integer((json_int_t)nmail));
	mail_result(ctx, "messages", json_integer((json_int_t)json_array_size(s.blobs)));
	mail_result(ctx, "shares", json_integer((json_int_t)json_array_size(s.shares)));
	st = APPLY_ACCEPTED;
out:
	for (i = 0; i < s.nkeys; i++)
		buf_free(&s.keys[i]);
	free(s.keys);
	json_decref(s.blobs);
	json_decref(s.shares);
	json_decref(s.uploads);
	buf_free(&prefix);
	return st;
}
