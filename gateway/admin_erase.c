/* admin_erase - see admin_erase.h */
#include "gateway/admin_erase.h"
#include "gateway/http/http_util.h"
#include "gateway/mgmt_http.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/directory.h"
#include "projector/keyring.h"
#include "projector/keys.h"
#include "projector/mail_keys.h"

#include <stdlib.h>
#include <string.h>

#define ERASE_COMMAND_TIMEOUT_MS 30000
#define ERASE_NO_KEYRING "crypto-shredding needs crypto.master_key_file; use account remove"

/* One erasure in flight: its steps answer in order on the loop. */
struct erase {
	struct node *node;
	struct http_request *req;
	char address[EVM_ADDRESS_MAX + 1];
	char tenant[EVM_EVENT_NAME_MAX + 1];
	json_t *report;
	size_t tombstones_pending;
	size_t tombstones_failed;
	char tombstone_error[256];
};

/* A key rotation in flight. */
struct rotate {
	struct http_request *req;
	char address[EVM_ADDRESS_MAX + 1];
	json_t *previous;      /* the kid current before, or null */
};

int admin_key_submit(struct node *node, const char *tenant, const char *address,
		     command_done_cb *cb, void *ctx, const char **error_r)
{
	struct evm_event ev;
	json_t *data = NULL;

	if (keyring_new_key(node->keyring, address, &data, error_r) < 0)
		return -1;
	if (evm_event_init(&ev, "account.key", tenant, address, "admin", data, error_r) < 0)
		return -1;
	command_submit(node, &ev, EVM_TOPIC_DIRECTORY, NULL, ERASE_COMMAND_TIMEOUT_MS, cb, ctx);
	return 0;
}

/* Answers an erasure with its report (200, or 503 when a step's fate is
 * unknown: running it again finishes it) and frees it. */
static void erase_finish(struct erase *e, int code, const char *error)
{
	if (error != NULL)
		json_object_set_new(e->report, "error", json_string(error));
	log_info("admin: erase of %s: %s", e->address, error != NULL ? error : "done");
	mgmt_reply_json(e->req, code, e->report);
	free(e);
}

/* The end: 200, or 503 naming the first step that did not complete. */
static void erase_end(struct erase *e, const char *revoke_error)
{
	const char *st = json_string_value(json_object_get(json_object_get(e->report, "purge"), "status"));

	if (e->tombstones_failed > 0)
		erase_finish(e, 503, e->tombstone_error);
	else if (st == NULL || strcmp(st, "accepted") != 0)
		erase_finish(e, 503, "the mail store was not purged: run the erasure again");
	else if (revoke_error != NULL)
		erase_finish(e, 503, revoke_error);
	else
		erase_finish(e, 200, NULL);
}

/* The grants to the erased address are revoked (admin_revoke.c). */
static void erase_revoked(void *ctx, size_t revoked, const char *error)
{
	struct erase *e = ctx;

	json_object_set_new(e->report, "revoked", json_integer((json_int_t)revoked));
	erase_end(e, error);
}

/* account.purge applied (or not); then, as after account.remove, the
 * grants other accounts gave the address. */
static void erase_purged(void *ctx, int status, json_t *outcome, const char *error)
{
	struct erase *e = ctx;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	if (status < 0) {
		erase_finish(e, 503, error);
		return;
	}
	json_object_set(e->report, "purge", outcome);
	if (st != NULL && strcmp(st, "accepted") == 0 &&
	    admin_revoke_grants(e->node, e->tenant, e->address, erase_revoked, e))
		return;
	json_object_set_new(e->report, "revoked", json_integer(0));
	erase_end(e, NULL);
}

/* The account's mail store goes from every view, as after account.remove
 * (projector/mail.h); the events are no longer sealed (no key left). */
static void erase_purge(struct erase *e)
{
	const char *error = NULL;
	struct evm_event ev;

	json_object_set_new(e->report, "tombstones_written",
			    json_integer((json_int_t)(json_array_size(json_object_get(e->report, "tombstones")) -
						      e->tombstones_failed)));
	if (evm_event_init(&ev, "account.purge", e->tenant, e->address, "admin", json_object(), &error) < 0) {
		erase_finish(e, 500, error);
		return;
	}
	command_submit(e->node, &ev, EVM_TOPIC_MAIL, e->address, ERASE_COMMAND_TIMEOUT_MS, erase_purged, e);
}

/* One key record's tombstone is in the log (or not). */
static void erase_tombstone_logged(void *ctx, int status, const char *error, int32_t partition,
				   int64_t offset)
{
	struct erase *e = ctx;

	(void)partition;
	(void)offset;
	if (status < 0 && e->tombstones_failed++ == 0)
		snprintf(e->tombstone_error, sizeof e->tombstone_error,
			 "a key record was not tombstoned (%s): its wrapped key stays in the log",
			 error != NULL ? error : "append failed");
	if (--e->tombstones_pending == 0)
		erase_purge(e);
}

/* The tombstones of address's earlier erasure (akeyxa/<address> names its
 * account.erase, whose outcome lists them), or NULL: an erasure run again
 * writes them again, so one whose tombstones were lost is finished. */
static json_t *earlier_tombstones(struct node *node, const char *address)
{
	struct buf key = BUF_INIT;
	json_t *outcome = NULL, *tombs = NULL;
	const char *error = NULL;
	char *id = NULL;
	size_t len = 0;

	buf_puts(&key, KEY_AKEYXA);
	buf_puts(&key, address);
	if (view_get(node->view, key.data, key.len, &id, &len, &error) > 0 && len == EVM_ID_HEX_LEN &&
	    projector_outcome(node->projector, id, &outcome, &error) > 0 &&
	    json_is_array(json_object_get(outcome, "tombstones")))
		tombs = json_copy(json_object_get(outcome, "tombstones"));
	json_decref(outcome);
	free(id);
	buf_free(&key);
	return tombs;
}

/* account.erase applied: tombstone each account.key record (key = its
 * event id, the directory record's key, so the same partition), then
 * purge. A not-found erase (no account any more) still purges and writes
 * the tombstones of the earlier erasure again, which finishes an erasure
 * whose tombstones or purge were lost. */
static void erase_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct erase *e = ctx;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;
	const char *code = status == 0 ? json_string_value(json_object_get(outcome, "code")) : NULL;
	json_t *tombs, *id;
	size_t i;

	if (status < 0) {
		erase_finish(e, 503, error);
		return;
	}
	json_object_set(e->report, "erase", outcome);
	if (st == NULL || (strcmp(st, "accepted") != 0 && (code == NULL || strcmp(code, "not-found") != 0))) {
		erase_finish(e, 409, "account.erase was rejected");
		return;
	}
	tombs = json_object_get(outcome, "tombstones");
	json_object_set_new(e->report, "keys_destroyed",
			    json_integer((json_int_t)(json_is_array(tombs) ? json_array_size(tombs) : 0)));
	tombs = json_is_array(tombs) ? json_copy(tombs) : earlier_tombstones(e->node, e->address);
	json_object_set_new(e->report, "tombstones", tombs != NULL ? tombs : json_array());
	/* + 1 until every append is queued: a report comes later anyway,
	 * but the count must not reach 0 while queueing fails. */
	e->tombstones_pending = 1;
	json_array_foreach(json_object_get(e->report, "tombstones"), i, id) {
		const char *key = json_string_value(id), *aerr = NULL;

		if (key == NULL ||
		    evlog_append(e->node->log, EVM_TOPIC_DIRECTORY, -1, key, strlen(key), NULL, 0,
				 erase_tombstone_logged, e, &aerr) < 0) {
			if (e->tombstones_failed++ == 0)
				snprintf(e->tombstone_error, sizeof e->tombstone_error,
					 "a key record was not tombstoned (%s): its wrapped key stays in the log",
					 aerr != NULL ? aerr : "not an event id");
			continue;
		}
		e->tombstones_pending++;
	}
	if (--e->tombstones_pending == 0)
		erase_purge(e);
}

/* view_scan over akeyacct/<acct>/: the account's kids. */
static int collect_kid(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(void)val;
	(void)vlen;
	if (klen > KEYRING_KID_LEN)
		json_array_append_new(ctx, json_stringn(key + klen - KEYRING_KID_LEN, KEYRING_KID_LEN));
	return 0;
}

/* The account's kids (projector/keys.h akeyacct/), for the report. */
static json_t *account_kids(struct node *node, const char *address)
{
	struct buf prefix = BUF_INIT;
	json_t *kids = json_array();
	const char *error = NULL;

	buf_puts(&prefix, KEY_AKEYACCT);
	mail_key_escape(&prefix, address);
	buf_puts(&prefix, "/");
	if (view_scan(node->view, prefix.data, prefix.len, collect_kid, kids, &error) < 0)
		log_warn("admin: keys of %s: %s", address, error);
	buf_free(&prefix);
	return kids;
}

/* Appends account.erase. */
static void erase_submit(struct erase *e)
{
	const char *error = NULL;
	struct evm_event ev;

	/* "kids": the keys it erases, for a replay after compaction removed
	 * their account.key records (the applier may mark them erased). */
	if (evm_event_init(&ev, "account.erase", e->tenant, e->address, "admin",
			   json_pack("{s:s, s:O}", "address", e->address, "kids",
				     json_object_get(e->report, "kids")), &error) < 0) {
		erase_finish(e, 500, error);
		return;
	}
	command_submit(e->node, &ev, EVM_TOPIC_DIRECTORY, NULL, ERASE_COMMAND_TIMEOUT_MS, erase_done, e);
}

/* The first key's log time is known (0: not): into the report, then the
 * erasure. Events logged before it were not sealed. */
static void erase_keytime(void *ctx, int64_t ts)
{
	struct erase *e = ctx;

	if (ts < 0) {   /* the node is stopping: nothing was appended */
		json_decref(e->report);
		free(e);
		return;
	}
	json_object_set_new(e->report, "sealed_since", ts > 0 ? json_integer(ts) : json_null());
	erase_submit(e);
}

static void handle_erase(struct node *node, struct http_request *req, const char *address)
{
	struct erase *e;
	json_t *acc = NULL, *kids;
	const char *error = NULL, *tenant = NULL;
	int ret;

	if (node->keyring == NULL) {
		mgmt_reply_error(req, 409, ERASE_NO_KEYRING);
		return;
	}
	ret = directory_account_get(node->view, address, &acc, &error);
	if (ret < 0) {
		mgmt_reply_error(req, 500, error);
		return;
	}
	e = xcalloc(1, sizeof *e);
	e->node = node;
	e->req = req;
	snprintf(e->address, sizeof e->address, "%s", address);
	tenant = ret > 0 ? json_string_value(json_object_get(acc, "tenant")) : NULL;
	snprintf(e->tenant, sizeof e->tenant, "%s", tenant != NULL ? tenant : "");
	json_decref(acc);
	kids = account_kids(node, address);
	e->report = json_pack("{s:s, s:s, s:O, s:n}", "address", address, "tenant", e->tenant, "kids", kids,
			      "sealed_since");
	if (admin_keytime_start(node, kids, erase_keytime, e) < 0)
		erase_submit(e);
	json_decref(kids);
}

/* account.key applied (or not): answer the rotation. */
static void rotate_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct rotate *r = ctx;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	if (status < 0) {
		mgmt_reply_error(r->req, 503, error);
	} else if (st == NULL || strcmp(st, "accepted") != 0) {
		mgmt_reply_json(r->req, 409, json_pack("{s:s, s:O}", "error", "account.key was rejected",
						       "outcome", outcome));
	} else {
		mgmt_reply_json(r->req, 200, json_pack("{s:s, s:O, s:O}", "address", r->address,
						       "previous", r->previous, "key", outcome));
	}
	json_decref(r->previous);
	free(r);
}

static void handle_rotate(struct node *node, struct http_request *req, const char *address)
{
	char kid[KEYRING_KID_LEN + 1];
	json_t *acc = NULL;
	const char *error = NULL, *tenant;
	struct rotate *r;
	int ret;

	if (node->keyring == NULL) {
		mgmt_reply_error(req, 409, "content keys need crypto.master_key_file");
		return;
	}
	ret = directory_account_get(node->view, address, &acc, &error);
	if (ret <= 0) {
		mgmt_reply_error(req, ret < 0 ? 500 : 404, ret < 0 ? error : "no such account");
		return;
	}
	r = xcalloc(1, sizeof *r);
	r->req = req;
	snprintf(r->address, sizeof r->address, "%s", address);
	ret = keyring_current_kid(node->view, address, kid, &error);
	r->previous = ret > 0 ? json_string(kid) : json_null();
	tenant = json_string_value(json_object_get(acc, "tenant"));
	if (ret < 0 || admin_key_submit(node, tenant != NULL ? tenant : "", address, rotate_done, r, &error) < 0) {
		mgmt_reply_error(req, 500, error);
		json_decref(r->previous);
		free(r);
	}
	json_decref(acc);
}

void admin_erase_handle(struct node *node, struct http_request *req, const char *path)
{
	const char *slash = strrchr(path, '/'), *error = NULL;
	char address[EVM_ADDRESS_MAX + 1];
	char *raw = NULL;

	if (strcmp(http_request_method(req), "POST") != 0) {
		mgmt_reply_error(req, 405, "use POST");
		return;
	}
	if (slash == NULL || (strcmp(slash, "/key") != 0 && strcmp(slash, "/erase") != 0)) {
		mgmt_reply_error(req, 404, "no such admin path");
		return;
	}
	if (http_percent_decode(path, (size_t)(slash - path), 0, &raw, NULL, &error) < 0 ||
	    evm_address_normalize(raw, address, &error) < 0) {
		mgmt_reply_error(req, 400, error);
		free(raw);
		return;
	}
	free(raw);
	if (strcmp(slash, "/key") == 0)
		handle_rotate(node, req, address);
	else
		handle_erase(node, req, address);
}
