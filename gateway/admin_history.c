/* admin_history - the audit trail of an account, straight from the log:
 *
 *   GET /admin/history/ADDRESS[?since=MS][&limit=N]
 *       {"account", "partition", "events": [{"offset", "ts", "type",
 *        "actor", "as" (a sharee's write, mail_acl.h), "status"
 *        ("accepted" | "rejected" | "not-applied": no outcome on this node),
 *        "code", "reason" (rejections), "duplicate" (a repeat the projector
 *        skipped), "detail" {the event's mailbox, name, uids, action, flags,
 *        blob ...}, "result" {uid, mailbox_id, dst, expunged ...}}],
 *        "truncated": bool}
 *
 * Events of the account's mail partition (admin_logscan.h) whose envelope
 * ts >= since, oldest first (newest last); at most limit (default 10000,
 * the newest are kept and "truncated" says some older ones were dropped).
 * The actor is the envelope's ("imap:<session>", "jmap", "smtp", "admin",
 * "admin:restore" ...). */
#include "gateway/admin_logscan.h"
#include "gateway/mgmt_http.h"
#include "gateway/http/http_util.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_LIMIT_DEFAULT 10000
#define HISTORY_LIMIT_MAX 1000000

/* Data fields worth showing (never message bodies or secrets: urlauth
 * keys and push verification codes stay out). */
static const char *const history_detail[] = {
	"mailbox_id", "mailbox", "name", "to_mailbox_id", "uids", "action", "flags", "keywords",
	"blob_id", "blob_size", "special_use", "identifier", "rights", "quota", "id", "identity_id",
};
static const char *const history_result[] = {
	"mailbox_id", "uid", "email_id", "dst", "expunged", "modified", "provisioned",
};

struct history {
	struct node *node;
	struct http_request *req;      /* NULL once the client went away */
	char account[EVM_ADDRESS_MAX + 1];
	int64_t since;
	size_t limit;
	json_t **ring;                 /* the newest limit events, oldest at head */
	size_t head, count;
	int truncated;
	int32_t partition;
};

/* The named members of from that are present, as a new object. */
static json_t *pick(const json_t *from, const char *const *names, size_t n)
{
	json_t *out = json_object();

	for (size_t i = 0; i < n; i++) {
		json_t *v = json_object_get(from, names[i]);
		if (v != NULL)
			json_object_set(out, names[i], v);
	}
	return out;
}

/* Worker thread: one event into the list. */
static int on_event(void *ctx, const struct evlog_record *rec, const struct evm_event *ev,
		    const json_t *outcome, int duplicate, const char **error_r)
{
	struct history *h = ctx;
	const char *status = json_string_value(json_object_get(outcome, "status"));
	json_t *e, *as = json_object_get(ev->data, "as");

	(void)error_r;
	h->partition = rec->partition;
	if (ev->ts < h->since)
		return 0;
	e = json_pack("{s:I, s:I, s:s, s:s, s:s, s:o}", "offset", (json_int_t)rec->offset, "ts",
		      (json_int_t)ev->ts, "type", ev->type, "actor", ev->actor, "status",
		      status ? status : "not-applied", "detail",
		      pick(ev->data, history_detail, sizeof history_detail / sizeof history_detail[0]));
	if (json_is_string(as))
		json_object_set(e, "as", as);
	if (status != NULL && strcmp(status, "rejected") == 0) {
		json_object_set(e, "code", json_object_get(outcome, "code"));
		json_object_set(e, "reason", json_object_get(outcome, "reason"));
	} else if (status != NULL) {
		json_object_set_new(e, "result", pick(outcome, history_result,
						      sizeof history_result / sizeof history_result[0]));
	}
	if (duplicate)
		json_object_set_new(e, "duplicate", json_true());
	if (h->count == h->limit) {   /* full: the oldest goes */
		json_decref(h->ring[h->head]);
		h->ring[h->head] = e;
		h->head = (h->head + 1) % h->limit;
		h->truncated = 1;
	} else {
		h->ring[(h->head + h->count++) % h->limit] = e;
	}
	return 0;
}

/* Frees the job and the events it holds. */
static void history_free(struct history *h)
{
	for (size_t i = 0; i < h->count; i++)
		json_decref(h->ring[(h->head + i) % h->limit]);
	free(h->ring);
	free(h);
}

/* The events, oldest first (new array). */
static json_t *history_events(const struct history *h)
{
	json_t *out = json_array();

	for (size_t i = 0; i < h->count; i++)
		json_array_append(out, h->ring[(h->head + i) % h->limit]);
	return out;
}

/* The client went away: the scan finishes, nobody is answered. */
static void on_cancel(void *ctx, struct http_request *req)
{
	struct history *h = ctx;

	(void)req;
	h->req = NULL;
}

/* Loop: the partition was read; answer. */
static void on_done(void *ctx, int status, const char *error)
{
	struct history *h = ctx;

	if (h->req != NULL) {
		http_request_on_cancel(h->req, NULL, NULL);
		if (status < 0)
			mgmt_reply_error(h->req, 503, error);
		else
			mgmt_reply_json(h->req, 200, json_pack("{s:s, s:i, s:o, s:b}", "account", h->account,
								"partition", (int)h->partition, "events",
								history_events(h), "truncated", h->truncated));
	}
	history_free(h);
}

/* A non-negative integer query parameter: 0 (absent leaves *v_r), -1 bad. */
static int query_int(struct http_request *req, const char *name, long long max, long long *v_r)
{
	const char *error = NULL;
	char *v = NULL, *end;
	long long n;
	int ret = http_query_param(http_request_query(req), name, &v, &error);

	if (ret <= 0)
		return ret;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < 0 || n > max)
		ret = -1;
	else
		*v_r = n;
	free(v);
	return ret < 0 ? -1 : 0;
}

/* GET /admin/history/ADDRESS: checks the request, starts the scan. */
void admin_history_handle(struct node *node, struct http_request *req, const char *path)
{
	struct history *h = xcalloc(1, sizeof *h);
	const char *error = NULL;
	long long since = 0, limit = HISTORY_LIMIT_DEFAULT;
	char *addr = NULL;

	if (http_percent_decode(path, strlen(path), 0, &addr, NULL, &error) < 0 ||
	    strchr(addr, '/') != NULL || evm_address_normalize(addr, h->account, &error) < 0) {
		mgmt_reply_error(req, 404, "no such account address");
		goto fail;
	}
	if (query_int(req, "since", INT64_MAX, &since) < 0 ||
	    query_int(req, "limit", HISTORY_LIMIT_MAX, &limit) < 0 || limit == 0) {
		mgmt_reply_error(req, 400, "since: milliseconds since the epoch; limit: 1 to 1000000");
		goto fail;
	}
	h->node = node;
	h->req = req;
	h->since = since;
	h->limit = (size_t)limit;
	h->ring = xcalloc(h->limit, sizeof *h->ring);
	if (admin_logscan_start(node, h->account, on_event, on_done, h, &error) < 0) {
		mgmt_reply_error(req, strncmp(error, "busy", 4) == 0 ? 409 : 503, error);
		goto fail;
	}
	http_request_on_cancel(req, on_cancel, h);
	free(addr);
	return;
fail:
	free(addr);
	history_free(h);
}
