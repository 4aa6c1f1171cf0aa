/* jmap_std_query - /query (RFC 8620 5.5) and /queryChanges (5.6)
 * arguments: filter and sort checks, and the window of a query result;
 * see jmap_std.h. */
#include "gateway/jmap/jmap_std.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char query_msg[200];

/* Finishes the call with type and description; always -1. */
static int fail(struct jmap_call *call, const char *type, const char *description)
{
	snprintf(query_msg, sizeof query_msg, "%s", description);
	jmap_call_error(call, type, query_msg);
	return -1;
}

/* A FilterOperator {operator, conditions} or a FilterCondition (anything
 * else), depth levels deep (RFC 8620 5.5). */
static int check_filter(struct jmap_call *call, const json_t *f, unsigned depth,
			jmap_filter_cond_fn *cond, void *ctx)
{
	const json_t *op = json_object_get(f, "operator"), *conds, *c;
	const char *error = "the filter cannot be processed";
	size_t i;

	if (!json_is_object(f))
		return jmap_arg_invalid(call, "filter", "holds a value that is not an object");
	if (op == NULL) {
		if (cond != NULL && cond(ctx, f, &error) < 0)
			return fail(call, "unsupportedFilter", error);
		return 0;
	}
	conds = json_object_get(f, "conditions");
	if (!json_is_string(op) || (strcmp(json_string_value(op), "AND") != 0 &&
				    strcmp(json_string_value(op), "OR") != 0 &&
				    strcmp(json_string_value(op), "NOT") != 0))
		return jmap_arg_invalid(call, "filter", "operator is not AND, OR or NOT");
	if (!json_is_array(conds))
		return jmap_arg_invalid(call, "filter", "conditions is not an array");
	if (depth >= jmap_call_settings(call)->max_depth)
		return jmap_arg_invalid(call, "filter", "nested too deeply");
	json_array_foreach(conds, i, c) {
		if (check_filter(call, c, depth + 1, cond, ctx) < 0)
			return -1;
	}
	return 0;
}

/* 1 when the server lists collation (the core capability's
 * collationAlgorithms, RFC 8620 2). */
static int known_collation(const struct jmap_settings *s, const char *collation)
{
	for (size_t i = 0; s->collation_algorithms != NULL && s->collation_algorithms[i] != NULL; i++) {
		if (strcmp(s->collation_algorithms[i], collation) == 0)
			return 1;
	}
	return 0;
}

/* sort: Comparator[]|null (RFC 8620 5.5). */
static int check_sort(struct jmap_call *call, const json_t *sort, jmap_sort_prop_fn *prop, void *ctx)
{
	const char *error = "the sort cannot be processed";
	const json_t *c, *asc, *coll;
	size_t i;

	if (!json_is_array(sort))
		return jmap_arg_invalid(call, "sort", "is not an array of Comparators");
	json_array_foreach(sort, i, c) {
		asc = json_object_get(c, "isAscending");
		coll = json_object_get(c, "collation");
		if (!json_is_object(c) || !json_is_string(json_object_get(c, "property")) ||
		    (asc != NULL && !json_is_boolean(asc)) || (coll != NULL && !json_is_string(coll)))
			return jmap_arg_invalid(call, "sort", "holds a value that is not a Comparator");
		if (coll != NULL && !known_collation(jmap_call_settings(call), json_string_value(coll))) {
			snprintf(query_msg, sizeof query_msg, "unknown collation \"%.80s\"",
				 json_string_value(coll));
			jmap_call_error(call, "unsupportedSort", query_msg);
			return -1;
		}
		if (prop != NULL && prop(ctx, c, &error) < 0)
			return fail(call, "unsupportedSort", error);
	}
	return 0;
}

/* accountId, filter and sort, shared by /query and /queryChanges. */
static int parse_common(struct jmap_call *call, const json_t *args, jmap_filter_cond_fn *cond,
			jmap_sort_prop_fn *prop, void *ctx, const struct jmap_account **acct_r,
			json_t **filter_r, json_t **sort_r)
{
	json_t *filter = json_object_get(args, "filter"), *sort = json_object_get(args, "sort");

	if (jmap_arg_account(call, args, "accountId", JMAP_READ, acct_r) < 0)
		return -1;
	*filter_r = json_is_null(filter) ? NULL : filter;
	*sort_r = json_is_null(sort) ? NULL : sort;
	if (*filter_r != NULL && check_filter(call, *filter_r, 0, cond, ctx) < 0)
		return -1;
	if (*sort_r != NULL && check_sort(call, *sort_r, prop, ctx) < 0)
		return -1;
	return 0;
}

int jmap_query_args_parse(struct jmap_call *call, const json_t *args, jmap_filter_cond_fn *cond,
			  jmap_sort_prop_fn *prop, void *ctx, struct jmap_query_args *a)
{
	memset(a, 0, sizeof *a);
	if (parse_common(call, args, cond, prop, ctx, &a->account, &a->filter, &a->sort) < 0 ||
	    jmap_arg_int(call, args, "position", 0, &a->position) < 0 ||
	    jmap_arg_id(call, args, "anchor", &a->anchor) < 0 ||
	    jmap_arg_int(call, args, "anchorOffset", 0, &a->anchor_offset) < 0 ||
	    jmap_arg_uint(call, args, "limit", -1, &a->limit) < 0 ||
	    jmap_arg_bool(call, args, "calculateTotal", 0, &a->calculate_total) < 0)
		return -1;
	return 0;
}

int jmap_query_changes_args_parse(struct jmap_call *call, const json_t *args,
				  jmap_filter_cond_fn *cond, jmap_sort_prop_fn *prop, void *ctx,
				  struct jmap_query_changes_args *a)
{
	memset(a, 0, sizeof *a);
	if (parse_common(call, args, cond, prop, ctx, &a->account, &a->filter, &a->sort) < 0 ||
	    jmap_arg_string(call, args, "sinceQueryState", 1, &a->since_query_state) < 0 ||
	    jmap_arg_uint(call, args, "maxChanges", 0, &a->max_changes) < 0 ||
	    jmap_arg_id(call, args, "upToId", &a->up_to_id) < 0 ||
	    jmap_arg_bool(call, args, "calculateTotal", 0, &a->calculate_total) < 0)
		return -1;
	return 0;
}

/* The index of id in ids, or -1. */
static json_int_t index_of(const json_t *ids, const char *id)
{
	const json_t *v;
	size_t i;

	json_array_foreach(ids, i, v) {
		if (strcmp(json_string_value(v), id) == 0)
			return (json_int_t)i;
	}
	return -1;
}

int jmap_query_response(struct jmap_call *call, const struct jmap_query_args *a,
			const char *query_state, int can_calculate_changes, const json_t *all_ids,
			size_t server_limit, json_t **resp_r)
{
	json_int_t total = (json_int_t)json_array_size(all_ids), start, end, limit = a->limit;
	json_t *ids = json_array(), *resp;
	int capped = 0;

	if (a->anchor != NULL) {
		/* RFC 8620 5.5: the anchor's index plus anchorOffset, clamped at
		 * 0, replaces position; an anchor not in the results fails. */
		start = index_of(all_ids, a->anchor);
		if (start < 0) {
			json_decref(ids);
			jmap_call_error(call, "anchorNotFound", NULL);
			return -1;
		}
		start += a->anchor_offset;
	} else {
		/* A negative position counts from the end. */
		start = a->position < 0 ? total + a->position : a->position;
	}
	if (start < 0)
		start = 0;
	if (server_limit > 0 && (limit < 0 || limit > (json_int_t)server_limit)) {
		limit = (json_int_t)server_limit;
		capped = 1;
	}
	end = limit < 0 || limit > total - start ? total : start + limit;
	for (json_int_t i = start; i < end; i++)
		json_array_append(ids, json_array_get(all_ids, (size_t)i));
	resp = json_pack("{s:s, s:s, s:b, s:I, s:o}", "accountId", a->account->id, "queryState",
			 query_state, "canCalculateChanges", can_calculate_changes, "position",
			 (json_int_t)start, "ids", ids);
	if (a->calculate_total)
		json_object_set_new(resp, "total", json_integer(total));
	if (capped)
		json_object_set_new(resp, "limit", json_integer(limit));
	*resp_r = resp;
	return 0;
}

int jmap_filter_match(const json_t *filter, jmap_filter_cond_match_fn *cond, const void *obj)
{
	const char *op = json_string_value(json_object_get(filter, "operator"));
	const json_t *c;
	size_t i;

	if (op == NULL)
		return cond(obj, filter);
	json_array_foreach(json_object_get(filter, "conditions"), i, c) {
		int r = jmap_filter_match(c, cond, obj);

		if (strcmp(op, "AND") == 0 && !r)
			return 0;
		if (strcmp(op, "OR") == 0 && r)
			return 1;
		if (strcmp(op, "NOT") == 0 && r)
			return 0;
	}
	return strcmp(op, "OR") != 0;
}
