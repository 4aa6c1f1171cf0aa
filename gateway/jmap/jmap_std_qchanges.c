/* jmap_std_qchanges - the changes of a query (RFC 8620 5.6) and the
 * /queryChanges response; see jmap_std.h. */
#include "gateway/jmap/jmap_std.h"

void jmap_query_changes_init(struct jmap_query_changes *qc, json_int_t max_changes)
{
	qc->removed = json_array();
	qc->added = json_array();
	qc->max_changes = max_changes;
}

void jmap_query_changes_free(struct jmap_query_changes *qc)
{
	json_decref(qc->removed);
	json_decref(qc->added);
	qc->removed = qc->added = NULL;
}

/* 0 while one more change fits under maxChanges: each item of removed and
 * of added counts as one change (RFC 8620 5.6, tooManyChanges). */
static int room(const struct jmap_query_changes *qc)
{
	size_t n = json_array_size(qc->removed) + json_array_size(qc->added);

	return qc->max_changes > 0 && (json_int_t)n >= qc->max_changes ? -1 : 0;
}

int jmap_query_changes_removed(struct jmap_query_changes *qc, const char *id)
{
	if (room(qc) < 0)
		return -1;
	json_array_append_new(qc->removed, json_string(id));
	return 0;
}

int jmap_query_changes_added(struct jmap_query_changes *qc, const char *id, json_int_t index)
{
	if (room(qc) < 0)
		return -1;
	json_array_append_new(qc->added, json_pack("{s:s, s:I}", "id", id, "index", index));
	return 0;
}

json_t *jmap_query_changes_response(struct jmap_query_changes *qc, const char *account_id,
				    const char *old_state, const char *new_state, json_int_t total)
{
	json_t *resp = json_pack("{s:s, s:s, s:s, s:o, s:o}", "accountId", account_id,
				 "oldQueryState", old_state, "newQueryState", new_state, "removed",
				 qc->removed, "added", qc->added);

	qc->removed = qc->added = NULL;
	if (total >= 0)
		json_object_set_new(resp, "total", json_integer(total));
	return resp;
}
