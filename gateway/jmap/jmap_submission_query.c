/* jmap_submission_query - EmailSubmission/query and /queryChanges
 * (RFC 8621 7.3, 7.4) over the account's submission records
 * (projector/mail_submission.h): filters identityIds, emailIds,
 * threadIds, undoStatus, before, after; sorts emailId, threadId, sentAt,
 * ties broken by id so every node gives one order. The query state is
 * the EmailSubmission state. */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_std.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail_submission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The most changes queryChanges scans before it gives up. */
#define QUERY_CHANGES_SCAN_MAX 100000

static void fail(struct jmap_call *call, const char *what, const char *error)
{
	log_error("jmap: %s for %s: %s", what, jmap_mail_address(call), error);
	jmap_call_error(call, "serverFail", "the view cannot be read");
}

static int filter_cond(void *ctx, const json_t *cond, const char **error_r)
{
	const char *k;
	json_t *v;
	int64_t ms;

	(void)ctx;
	json_object_foreach((json_t *)cond, k, v) {
		int ok;

		if (strcmp(k, "identityIds") == 0 || strcmp(k, "emailIds") == 0 || strcmp(k, "threadIds") == 0) {
			json_t *id;
			size_t i;

			ok = json_is_array(v);
			json_array_foreach(v, i, id)
				ok &= json_is_string(id);
		} else if (strcmp(k, "undoStatus") == 0) {
			ok = json_is_string(v);
		} else if (strcmp(k, "before") == 0 || strcmp(k, "after") == 0) {
			ok = json_is_string(v) && jmap_utcdate_parse(json_string_value(v), &ms) == 0;
		} else {
			*error_r = "an EmailSubmission filter has identityIds, emailIds, threadIds, undoStatus, "
				   "before and after";
			return -1;
		}
		if (!ok) {
			*error_r = "an EmailSubmission filter condition has a value of the wrong type";
			return -1;
		}
	}
	return 0;
}

static int sort_prop(void *ctx, const json_t *c, const char **error_r)
{
	const char *p = json_string_value(json_object_get(c, "property"));

	(void)ctx;
	if (strcmp(p, "emailId") != 0 && strcmp(p, "threadId") != 0 && strcmp(p, "sentAt") != 0) {
		*error_r = "EmailSubmissions sort by emailId, threadId and sentAt";
		return -1;
	}
	return 0;
}

static int has_str(const json_t *arr, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

static int cond_match(const void *obj, const json_t *cond)
{
	json_t *rec = (json_t *)obj;
	int64_t sent = json_integer_value(json_object_get(rec, "send_at")), ms = 0;
	json_t *v;

	if ((v = json_object_get(cond, "identityIds")) != NULL &&
	    !has_str(v, json_string_value(json_object_get(rec, "identity_id"))))
		return 0;
	if ((v = json_object_get(cond, "emailIds")) != NULL && !has_str(v, json_string_value(json_object_get(rec, "email_id"))))
		return 0;
	if ((v = json_object_get(cond, "threadIds")) != NULL &&
	    !has_str(v, json_string_value(json_object_get(rec, "thread_id"))))
		return 0;
	if ((v = json_object_get(cond, "undoStatus")) != NULL && strcmp(json_string_value(v), "final") != 0)
		return 0;
	/* RFC 8621 7.3: sendAt before "before", on or after "after". */
	if ((v = json_object_get(cond, "before")) != NULL && jmap_utcdate_parse(json_string_value(v), &ms) == 0 &&
	    !(sent < ms))
		return 0;
	if ((v = json_object_get(cond, "after")) != NULL && jmap_utcdate_parse(json_string_value(v), &ms) == 0 &&
	    !(sent >= ms))
		return 0;
	return 1;
}

static _Thread_local json_t *sort_by;

/* By the comparators, then by id so every node gives one order. */
static int cmp_rec(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y, *c;
	size_t i;

	json_array_foreach(sort_by, i, c) {
		const char *p = json_string_value(json_object_get(c, "property"));
		json_t *asc = json_object_get(c, "isAscending");
		int r;

		if (strcmp(p, "sentAt") == 0) {
			int64_t sa = json_integer_value(json_object_get(a, "send_at"));
			int64_t sb = json_integer_value(json_object_get(b, "send_at"));

			r = sa < sb ? -1 : sa > sb;
		} else {
			const char *m = strcmp(p, "emailId") == 0 ? "email_id" : "thread_id";

			r = strcmp(json_string_value(json_object_get(a, m)), json_string_value(json_object_get(b, m)));
		}
		if (r != 0)
			return asc == NULL || json_is_true(asc) ? r : -r;
	}
	return strcmp(json_string_value(json_object_get(a, "id")), json_string_value(json_object_get(b, "id")));
}

/* The ids the query selects, in order: 0 with *ids_r, or -1. */
static int run_query(struct jmap_mail_req *req, json_t *filter, json_t *sort, json_t **ids_r, const char **error_r)
{
	json_t *recs = NULL, **sel, *v;
	size_t i, n = 0;

	if (mail_submissions(req->node->view, req->address, &recs, error_r) < 0) {
		json_decref(recs);
		return -1;
	}
	sel = xcalloc(json_array_size(recs) + 1, sizeof *sel);
	json_array_foreach(recs, i, v)
		if (filter == NULL || jmap_filter_match(filter, cond_match, v))
			sel[n++] = v;
	sort_by = sort;
	qsort(sel, n, sizeof *sel, cmp_rec);
	sort_by = NULL;
	*ids_r = json_array();
	for (i = 0; i < n; i++)
		json_array_append(*ids_r, json_object_get(sel[i], "id"));
	free(sel);
	json_decref(recs);
	return 0;
}

void jmap_submission_query(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_query_args a;
	char state[JMAP_STATE_MAX];
	const char *error = NULL;
	json_t *ids = NULL, *resp;

	(void)ctx;
	if (jmap_query_args_parse(call, args, filter_cond, sort_prop, NULL, &a) < 0 ||
	    jmap_mail_state(call, MAIL_J_SUBMISSION, state) < 0)
		return;
	if (run_query(req, a.filter, a.sort, &ids, &error) < 0) {
		fail(call, "EmailSubmission/query", error);
		return;
	}
	if (jmap_query_response(call, &a, state, 1, ids, 0, &resp) == 0)
		jmap_call_reply(call, resp);
	json_decref(ids);
}

struct changed {
	json_t *ids;         /* id -> true when created after the state */
	size_t n;
	int64_t last_modseq;
	char last_id[33];
};

static int changed_cb(void *ctx, const struct mail_jchange *c)
{
	struct changed *ch = ctx;

	json_object_set_new(ch->ids, c->id, json_boolean(c->created && !c->destroyed));
	ch->n++;
	ch->last_modseq = c->modseq;
	snprintf(ch->last_id, sizeof ch->last_id, "%s", c->id);
	return 0;
}

/* RFC 8620 5.6. A record never changes once written: it is created or
 * destroyed, and every property a filter or sort reads is immutable, so
 * the changes of the query are exactly the submissions created or
 * destroyed since. cannotCalculateChanges only for a state that is not
 * ours, ahead of this view or before the change horizon, or when more
 * changes happened since than QUERY_CHANGES_SCAN_MAX. */
void jmap_submission_query_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_query_changes_args a;
	struct jmap_query_changes qc;
	struct changed ch = { NULL, 0, 0, "" };
	char state[JMAP_STATE_MAX], since_id[33];
	const char *error = NULL, *k;
	int64_t since;
	json_t *ids = NULL, *v;
	size_t i;
	int r = 0, more = 1;

	(void)ctx;
	if (jmap_query_changes_args_parse(call, args, filter_cond, sort_prop, NULL, &a) < 0 ||
	    jmap_mail_state(call, MAIL_J_SUBMISSION, state) < 0)
		return;
	if (jmap_state_parse(a.since_query_state, &since, since_id) < 0 || since > strtoll(state, NULL, 10) ||
	    (r = jmap_changes_pruned(call, MAIL_J_SUBMISSION, since)) != 0) {
		if (r >= 0)
			jmap_call_error(call, "cannotCalculateChanges", NULL);
		return;
	}
	ch.ids = json_object();
	ch.last_modseq = since;
	snprintf(ch.last_id, sizeof ch.last_id, "%s", since_id);
	while (more && r == 0) {
		if (ch.n >= QUERY_CHANGES_SCAN_MAX)
			r = 1;
		else if (mail_jmap_changes(req->node->view, req->address, MAIL_J_SUBMISSION, ch.last_modseq, ch.last_id,
					   1000, changed_cb, &ch, &more, &error) < 0)
			r = -1;
	}
	if (r == 0 && run_query(req, a.filter, a.sort, &ids, &error) < 0)
		r = -1;
	if (r != 0) {
		if (r > 0)
			jmap_call_error(call, "cannotCalculateChanges", "too many changes since that state");
		else
			fail(call, "EmailSubmission/queryChanges", error);
		json_decref(ch.ids);
		return;
	}
	jmap_query_changes_init(&qc, a.max_changes);
	json_object_foreach(ch.ids, k, v) {
		if (!json_is_true(v) && (r = jmap_query_changes_removed(&qc, k)) < 0)
			break;
	}
	json_array_foreach(ids, i, v) {
		if (r == 0 && json_object_get(ch.ids, json_string_value(v)) != NULL)
			r = jmap_query_changes_added(&qc, json_string_value(v), (json_int_t)i);
	}
	if (r < 0)
		jmap_call_error(call, "tooManyChanges", NULL);
	else
		jmap_call_reply(call, jmap_query_changes_response(&qc, a.account->id, a.since_query_state, state,
								  a.calculate_total ? (json_int_t)json_array_size(ids) : -1));
	jmap_query_changes_free(&qc);
	json_decref(ids);
	json_decref(ch.ids);
}
