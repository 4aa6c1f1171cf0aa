/* jmap_quota - Quota/get, Quota/changes, Quota/query and
 * Quota/queryChanges (RFC 9425 4) over the account's mail quota: one
 * Quota of resourceType "octets" and scope "account" for Mail, present
 * while the account has a quota (0 = unlimited: no quota to show), used =
 * the account's quota usage (projector/mail.h mail_account_usage).
 *
 * State: "used" changes with every message appended or expunged, which
 * the Mailbox state does not follow (it changes only when a mailbox
 * record does); every such change touches the Email type (an email
 * created, or its mailboxIds changed), so the Email state, a log
 * position, moves with "used". A new hardLimit (account.quota) touches
 * no JMAP type, so the state also carries the limit:
 * "<Email state>-<hardLimit>". Quota/changes therefore knows exactly
 * whether the limit changed (updatedProperties null) or only "used"
 * may have (["used"], RFC 9425 4.2). The query state is "1" while the
 * quota exists and "0" while not: nothing else changes a query's result. */
#include "gateway/jmap/jmap_blob_private.h"
#include "gateway/jmap/jmap_std.h"
#include "common/log.h"
#include "projector/mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUOTA_ID "mail-octets"

static const char *const quota_props[] = {
	"id", "resourceType", "used", "hardLimit", "scope", "name", "types", "warnLimit", "softLimit",
	"description", NULL,
};

/* The account's quota as of now. */
struct quota_now {
	int64_t email_state;
	uint64_t limit;          /* 0: none */
	json_int_t used;
	char state[JMAP_STATE_MAX];
};

/* Reads the quota; -1 after finishing the call with serverFail. */
static int quota_read(struct jmap_call *call, struct quota_now *q)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *error = NULL;
	json_t *usage = NULL;

	if (mail_jmap_state(req->node->view, req->address, MAIL_J_EMAIL, &q->email_state, &error) < 0 ||
	    mail_account_quota(req->node->view, req->address, &q->limit, &error) < 0 ||
	    mail_account_usage(req->node->view, req->address, &usage, &error) < 0) {
		log_error("jmap: quota of %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	q->used = json_integer_value(json_object_get(usage, "quota_used"));
	json_decref(usage);
	snprintf(q->state, sizeof q->state, "%" PRId64 "-%" PRIu64, q->email_state, q->limit);
	return 0;
}

/* "<Email state>-<limit>": 0, or -1 when it is none of ours. */
static int state_parse(const char *s, int64_t *email_r, uint64_t *limit_r)
{
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	*email_r = strtoll(s, &end, 10);
	if (*end != '-' || end[1] < '0' || end[1] > '9' || *email_r < 0)
		return -1;
	*limit_r = strtoull(end + 1, &end, 10);
	return *end == '\0' ? 0 : -1;
}

static int want(const json_t *props, const char *name)
{
	const json_t *p;
	size_t i;

	if (props == NULL)
		return 1;
	json_array_foreach(props, i, p)
		if (strcmp(json_string_value(p), name) == 0)
			return 1;
	return 0;
}

/* The Quota object (RFC 9425 5.1) with the asked properties. */
static json_t *quota_object(struct jmap_call *call, const struct quota_now *q, const json_t *props)
{
	json_t *all = json_pack("{s:s, s:s, s:I, s:I, s:s, s:s, s:[s], s:n, s:n, s:n}", "id", QUOTA_ID,
				"resourceType", "octets", "used", q->used, "hardLimit", (json_int_t)q->limit,
				"scope", "account", "name", jmap_mail_address(call), "types", "Mail",
				"warnLimit", "softLimit", "description");
	json_t *o = json_object(), *v;
	const char *k;

	json_object_foreach(all, k, v)
		if (want(props, k))
			json_object_set(o, k, v);
	json_decref(all);
	return o;
}

static void quota_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_get_args a;
	struct quota_now q;
	json_t *list, *not_found, *v;
	size_t i;

	(void)ctx;
	if (jmap_get_args_parse(call, args, quota_props, &a) < 0)
		return;
	if (quota_read(call, &q) < 0) {
		jmap_get_args_free(&a);
		return;
	}
	list = json_array();
	not_found = json_array();
	if (a.ids == NULL && q.limit > 0)
		json_array_append_new(list, quota_object(call, &q, a.properties));
	json_array_foreach(a.ids, i, v) {
		if (q.limit > 0 && strcmp(json_string_value(v), QUOTA_ID) == 0)
			json_array_append_new(list, quota_object(call, &q, a.properties));
		else
			json_array_append(not_found, v);
	}
	jmap_call_reply(call, jmap_get_response(a.account->id, q.state, list, not_found));
	jmap_get_args_free(&a);
}

/* Quota/changes (RFC 9425 4.2): from any state of ours, exact for the one
 * quota: created or destroyed when it appeared or went, updated when its
 * limit or (maybe) its usage changed. */
static void quota_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_changes_args a;
	struct quota_now q;
	json_t *created = json_array(), *updated = json_array(), *destroyed = json_array(), *resp;
	uint64_t since_limit;
	int64_t since_email;
	int limit_changed;

	(void)ctx;
	if (jmap_changes_args_parse(call, args, &a) < 0 || quota_read(call, &q) < 0)
		goto fail;
	if (state_parse(a.since_state, &since_email, &since_limit) < 0 || since_email > q.email_state) {
		jmap_call_error(call, "cannotCalculateChanges", NULL);
		goto fail;
	}
	limit_changed = since_limit != q.limit;
	if (since_limit == 0 && q.limit > 0)
		json_array_append_new(created, json_string(QUOTA_ID));
	else if (since_limit > 0 && q.limit == 0)
		json_array_append_new(destroyed, json_string(QUOTA_ID));
	else if (q.limit > 0 && (limit_changed || since_email != q.email_state))
		json_array_append_new(updated, json_string(QUOTA_ID));
	resp = jmap_changes_response(a.account->id, a.since_state, q.state, 0, created, updated, destroyed);
	json_object_set_new(resp, "updatedProperties",
			    json_array_size(updated) && !limit_changed ? json_pack("[s]", "used") : json_null());
	jmap_call_reply(call, resp);
	return;
fail:
	json_decref(created);
	json_decref(updated);
	json_decref(destroyed);
}

/* RFC 9425 4.3.1: the FilterCondition's properties. */
static int filter_cond(void *ctx, const json_t *cond, const char **error_r)
{
	const char *k;
	json_t *v;

	(void)ctx;
	json_object_foreach((json_t *)cond, k, v) {
		if ((strcmp(k, "name") != 0 && strcmp(k, "scope") != 0 && strcmp(k, "resourceType") != 0 &&
		     strcmp(k, "type") != 0) || !json_is_string(v)) {
			*error_r = "a Quota filter has name, scope, resourceType and type, each a string";
			return -1;
		}
	}
	return 0;
}

/* RFC 9425 4.3.2: sorted by name or used. */
static int sort_prop(void *ctx, const json_t *comparator, const char **error_r)
{
	const char *p = json_string_value(json_object_get(comparator, "property"));

	(void)ctx;
	if (p == NULL || (strcmp(p, "name") != 0 && strcmp(p, "used") != 0)) {
		*error_r = "Quotas sort by name or used";
		return -1;
	}
	return 0;
}

/* Whether the quota matches a filter (a FilterOperator or FilterCondition,
 * already checked): name contains, scope and resourceType equal, type in
 * types. */
static int matches(struct jmap_call *call, const json_t *f)
{
	const char *op = json_string_value(json_object_get(f, "operator"));
	const json_t *c;
	const char *v;
	size_t i;
	int any = 0, all = 1;

	if (f == NULL)
		return 1;
	if (op != NULL) {
		json_array_foreach(json_object_get(f, "conditions"), i, c) {
			int m = matches(call, c);

			any |= m;
			all &= m;
		}
		return strcmp(op, "AND") == 0 ? all : strcmp(op, "OR") == 0 ? any : !any;
	}
	if ((v = json_string_value(json_object_get(f, "name"))) != NULL && strstr(jmap_mail_address(call), v) == NULL)
		return 0;
	if ((v = json_string_value(json_object_get(f, "scope"))) != NULL && strcmp(v, "account") != 0)
		return 0;
	if ((v = json_string_value(json_object_get(f, "resourceType"))) != NULL && strcmp(v, "octets") != 0)
		return 0;
	if ((v = json_string_value(json_object_get(f, "type"))) != NULL && strcmp(v, "Mail") != 0)
		return 0;
	return 1;
}

static void quota_query(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_query_args a;
	struct quota_now q;
	json_t *ids, *resp;

	(void)ctx;
	if (jmap_query_args_parse(call, args, filter_cond, sort_prop, NULL, &a) < 0 || quota_read(call, &q) < 0)
		return;
	ids = json_array();
	if (q.limit > 0 && matches(call, a.filter))
		json_array_append_new(ids, json_string(QUOTA_ID));
	if (jmap_query_response(call, &a, q.limit > 0 ? "1" : "0", 1, ids, 0, &resp) == 0)
		jmap_call_reply(call, resp);
	json_decref(ids);
}

static void quota_query_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_query_changes_args a;
	struct jmap_query_changes qc;
	struct quota_now q;
	int had, has, in;

	(void)ctx;
	if (jmap_query_changes_args_parse(call, args, filter_cond, sort_prop, NULL, &a) < 0 ||
	    quota_read(call, &q) < 0)
		return;
	if (strcmp(a.since_query_state, "0") != 0 && strcmp(a.since_query_state, "1") != 0) {
		jmap_call_error(call, "cannotCalculateChanges", NULL);
		return;
	}
	had = a.since_query_state[0] == '1';
	has = q.limit > 0;
	in = has && matches(call, a.filter);
	jmap_query_changes_init(&qc, a.max_changes);
	if ((had && !has && jmap_query_changes_removed(&qc, QUOTA_ID) < 0) ||
	    (!had && in && jmap_query_changes_added(&qc, QUOTA_ID, 0) < 0)) {
		jmap_query_changes_free(&qc);
		jmap_call_error(call, "tooManyChanges", NULL);
		return;
	}
	jmap_call_reply(call, jmap_query_changes_response(&qc, a.account->id, a.since_query_state,
							  has ? "1" : "0", a.calculate_total ? in : -1));
	jmap_query_changes_free(&qc);
}

void jmap_quota_register(struct jmap_api *api)
{
	jmap_method_register(api, "Quota/get", JMAP_CAP_QUOTA, quota_get, NULL);
	jmap_method_register(api, "Quota/changes", JMAP_CAP_QUOTA, quota_changes, NULL);
	jmap_method_register(api, "Quota/query", JMAP_CAP_QUOTA, quota_query, NULL);
	jmap_method_register(api, "Quota/queryChanges", JMAP_CAP_QUOTA, quota_query_changes, NULL);
}
