/* jmap_set_run - a /set (RFC 8620 5.3) whose objects are written as mail
 * events (Mailbox/set, Email/set): creates in the order the method gives,
 * then updates, then destroys, one object at a time. Each object is
 * planned against the view as the previous objects left it (so "#cid"
 * references to earlier creations resolve), its events run through
 * jmap_write_seq, and its outcome goes to created/updated/destroyed or to
 * the matching not* map.
 *
 * An update of an object also being destroyed is willDestroy. A write
 * that fails (not logged, or its fate unknown) stops the method: it
 * answers serverUnavailable when nothing was written yet, else
 * serverPartialFail (RFC 8620 3.6.2: the client must resync).
 *
 * The run owns the parsed arguments and frees them, and the method's
 * context through ops->free_ctx, once the call is finished. */
#ifndef EVM_JMAP_SET_RUN_H
#define EVM_JMAP_SET_RUN_H

#include <jansson.h>

#include "gateway/jmap/jmap_std.h"
#include "gateway/jmap/jmap_write_seq.h"

enum jmap_set_op {
	JMAP_OP_CREATE,
	JMAP_OP_UPDATE,
	JMAP_OP_DESTROY,
};

/* One object's writes, filled by ops->plan. */
struct jmap_set_plan {
	json_t *events;        /* [[type, data]...] (the runner frees it), or NULL: none */
	char blob_id[65];      /* with blob: stored before the events */
	char *blob;            /* malloc'ed (the runner frees it), or NULL */
	size_t blob_len;
	json_t *note;          /* the method's own data for ops->done (the runner frees it) */
};

struct jmap_setrun;

struct jmap_set_ops {
	enum mail_jtype type;  /* whose state is oldState / newState */
	/* Plans object key (a creation id, or an id with "#cid" resolved)
	 * with value (the object, the patch, or NULL to destroy): 0 with p
	 * filled, or -1 after recording the object's SetError
	 * (jmap_setrun_fail). */
	int (*plan)(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *value,
		    struct jmap_set_plan *p);
	/* Every event of the object was accepted (results: their outcomes):
	 * records its success in jmap_setrun_result(). NULL: the default
	 * (created: the plan's note; updated: null; destroyed: the id). */
	void (*done)(struct jmap_setrun *sr, enum jmap_set_op op, const char *key,
		     const struct jmap_set_plan *p, json_t *results);
	/* Optional: the SetError (new reference) of a rejected event; NULL
	 * uses jmap_wseq_set_error_type(code). */
	json_t *(*rejected)(struct jmap_setrun *sr, enum jmap_set_op op, const char *code);
	void (*free_ctx)(void *ctx);
	/* Optional: the name the response is added under (an implicit call
	 * after another method's own response, RFC 8621 7.5); NULL: the
	 * call's own name. */
	const char *response_name;
};

/* Runs the /set: a (taken over) was parsed by jmap_set_args_parse with
 * old_state; create_order lists the creation ids in the order to create
 * them (stolen; NULL: the create map's order). ctx is the method's. */
void jmap_setrun_start(struct jmap_call *call, const struct jmap_set_ops *ops, void *ctx,
		       struct jmap_set_args *a, const char *old_state, json_t *create_order);

struct jmap_call *jmap_setrun_call(const struct jmap_setrun *sr);
void *jmap_setrun_ctx(const struct jmap_setrun *sr);
const struct jmap_set_args *jmap_setrun_args(const struct jmap_setrun *sr);
struct jmap_set_result *jmap_setrun_result(struct jmap_setrun *sr);
/* Records the SetError err (stolen) of object key. */
void jmap_setrun_fail(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *err);

#endif
