/* jmap_std - the standard methods' arguments and responses (RFC 8620 5):
 * /get (5.1), /changes (5.2), /set (5.3), /query (5.5) and /queryChanges
 * (5.6), so the Mail methods only fill in what is theirs.
 *
 * The *_args_parse functions follow jmap_args.h: 0 with the struct filled
 * (free it with the matching *_free), or -1 after they FINISHED the call
 * with the method-level error; the handler then just returns. Response
 * builders return a new reference to the arguments object, ready for
 * jmap_call_reply(). */
#ifndef EVM_JMAP_STD_H
#define EVM_JMAP_STD_H

#include <jansson.h>

#include "gateway/jmap/jmap_args.h"

/* ---- /get (RFC 8620 5.1) ---- */

struct jmap_get_args {
	const struct jmap_account *account;
	json_t *ids;           /* resolved Ids, or NULL: every object */
	json_t *properties;    /* with "id", or NULL: every property */
};

/* accountId, ids (more than maxObjectsInGet: requestTooLarge), properties
 * checked against known. */
int jmap_get_args_parse(struct jmap_call *call, const json_t *args, const char *const *known,
			struct jmap_get_args *a);
void jmap_get_args_free(struct jmap_get_args *a);
/* {accountId, state, list, notFound}; list and not_found are stolen. */
json_t *jmap_get_response(const char *account_id, const char *state, json_t *list, json_t *not_found);

/* ---- /changes (RFC 8620 5.2) ---- */

struct jmap_changes_args {
	const struct jmap_account *account;
	const char *since_state;   /* borrowed from the arguments */
	json_int_t max_changes;    /* 0: the client gave none */
};

/* accountId, sinceState (required), maxChanges (> 0 when given). The
 * method answers cannotCalculateChanges itself when sinceState is too old
 * or unknown. */
int jmap_changes_args_parse(struct jmap_call *call, const json_t *args, struct jmap_changes_args *a);
/* {accountId, oldState, newState, hasMoreChanges, created, updated,
 * destroyed}; the three arrays are stolen. */
json_t *jmap_changes_response(const char *account_id, const char *old_state, const char *new_state,
			      int has_more, json_t *created, json_t *updated, json_t *destroyed);

/* ---- /set (RFC 8620 5.3) ---- */

struct jmap_set_args {
	const struct jmap_account *account;  /* writable */
	json_t *create;        /* borrowed: creation id -> object, or NULL */
	json_t *update;        /* borrowed: id or "#cid" -> PatchObject, or NULL */
	json_t *destroy;       /* resolved ids (new array), or NULL */
};

/* accountId (writable), ifInState against state (stateMismatch), create,
 * update and destroy of the right shapes, and at most maxObjectsInSet of
 * them together (requestTooLarge). */
int jmap_set_args_parse(struct jmap_call *call, const json_t *args, const char *state,
			struct jmap_set_args *a);
void jmap_set_args_free(struct jmap_set_args *a);

/* The outcome of a /set, object by object. */
struct jmap_set_result {
	json_t *created, *updated, *destroyed;
	json_t *not_created, *not_updated, *not_destroyed;
};

void jmap_set_result_init(struct jmap_set_result *r);
void jmap_set_result_free(struct jmap_set_result *r);
/* obj (stolen) was created for creation id cid; its "id" property is the
 * new id, recorded in the request's createdIds (RFC 8620 3.3). */
void jmap_set_created(struct jmap_set_result *r, struct jmap_call *call, const char *cid, json_t *obj);
/* id was updated; changed (stolen) holds the properties the server changed
 * beyond the patch, or NULL for none (null in the response). */
void jmap_set_updated(struct jmap_set_result *r, const char *id, json_t *changed);
void jmap_set_destroyed(struct jmap_set_result *r, const char *id);
/* A SetError (RFC 8620 5.3): type, description (may be NULL); properties
 * (stolen, may be NULL) goes with invalidProperties. New reference. */
json_t *jmap_set_error(const char *type, const char *description, json_t *properties);
/* The object cid / id failed with err (stolen, from jmap_set_error). */
void jmap_set_not_created(struct jmap_set_result *r, const char *cid, json_t *err);
void jmap_set_not_updated(struct jmap_set_result *r, const char *id, json_t *err);
void jmap_set_not_destroyed(struct jmap_set_result *r, const char *id, json_t *err);
/* {accountId, oldState, newState, created, updated, destroyed, notCreated,
 * notUpdated, notDestroyed}, each map null when empty; empties r. */
json_t *jmap_set_response(struct jmap_set_result *r, const char *account_id, const char *old_state,
			  const char *new_state);

/* ---- /query (RFC 8620 5.5) and /queryChanges (5.6) ---- */

/* Checks one FilterCondition: 0, or -1 with *error_r when the method cannot
 * process it (unsupportedFilter). */
typedef int jmap_filter_cond_fn(void *ctx, const json_t *cond, const char **error_r);
/* Checks one Comparator's property (and any extra members, like RFC 8621's
 * "keyword"): 0, or -1 with *error_r (unsupportedSort). */
typedef int jmap_sort_prop_fn(void *ctx, const json_t *comparator, const char **error_r);

/* Evaluates a checked filter (RFC 8620 5.5): FilterOperators AND / OR /
 * NOT over their conditions, each FilterCondition through cond (1 when
 * the object matches it). 1 or 0. */
typedef int jmap_filter_cond_match_fn(const void *obj, const json_t *cond);
int jmap_filter_match(const json_t *filter, jmap_filter_cond_match_fn *cond, const void *obj);

struct jmap_query_args {
	const struct jmap_account *account;
	json_t *filter;           /* borrowed, or NULL */
	json_t *sort;             /* borrowed array of Comparators, or NULL */
	json_int_t position;
	const char *anchor;       /* borrowed Id, or NULL */
	json_int_t anchor_offset;
	json_int_t limit;         /* -1: no limit given */
	int calculate_total;
};

/* accountId, filter (FilterOperators of AND/OR/NOT nested at most
 * max_depth deep; each FilterCondition through cond), sort (each
 * Comparator {property, isAscending, collation} through prop; a collation
 * the server does not list is unsupportedSort), position, anchor,
 * anchorOffset, limit (not negative), calculateTotal. */
int jmap_query_args_parse(struct jmap_call *call, const json_t *args, jmap_filter_cond_fn *cond,
			  jmap_sort_prop_fn *prop, void *ctx, struct jmap_query_args *a);
/* The response for the complete ordered result ids (borrowed): the window
 * of position or anchor/anchorOffset and limit, capped at server_limit (0:
 * none; a cap is reported as "limit"). 0 with *resp_r, or -1 after it
 * finished the call with anchorNotFound. */
int jmap_query_response(struct jmap_call *call, const struct jmap_query_args *a,
			const char *query_state, int can_calculate_changes, const json_t *all_ids,
			size_t server_limit, json_t **resp_r);

struct jmap_query_changes_args {
	const struct jmap_account *account;
	json_t *filter;
	json_t *sort;
	const char *since_query_state;  /* required */
	json_int_t max_changes;         /* 0: none given */
	const char *up_to_id;           /* or NULL */
	int calculate_total;
};

/* As jmap_query_args_parse, with sinceQueryState, maxChanges, upToId. */
int jmap_query_changes_args_parse(struct jmap_call *call, const json_t *args,
				  jmap_filter_cond_fn *cond, jmap_sort_prop_fn *prop, void *ctx,
				  struct jmap_query_changes_args *a);

/* The changes of a query, item by item (RFC 8620 5.6). */
struct jmap_query_changes {
	json_t *removed;          /* Id[] */
	json_t *added;            /* AddedItem[]: {id, index} */
	json_int_t max_changes;   /* 0: no maximum */
};

void jmap_query_changes_init(struct jmap_query_changes *qc, json_int_t max_changes);
void jmap_query_changes_free(struct jmap_query_changes *qc);
/* Adds one change: 0, or -1 when that is more than maxChanges; the method
 * then answers tooManyChanges. */
int jmap_query_changes_removed(struct jmap_query_changes *qc, const char *id);
int jmap_query_changes_added(struct jmap_query_changes *qc, const char *id, json_int_t index);
/* {accountId, oldQueryState, newQueryState, total (when total >= 0),
 * removed, added}; empties qc. */
json_t *jmap_query_changes_response(struct jmap_query_changes *qc, const char *account_id,
				    const char *old_state, const char *new_state, json_int_t total);

#endif
