/* jmap_args - the argument checks every standard method needs (RFC 8620
 * 5), so a method handler is a few lines of checks and then its own work.
 *
 * Each check takes the call and its arguments. It returns 0 with its
 * result, or -1 after it has FINISHED the call with the method-level error
 * RFC 8620 names (jmap_call_error): the handler must then just return.
 * A missing required argument or one of the wrong type is
 * invalidArguments, with a description naming it (RFC 8620 3.6.2). */
#ifndef EVM_JMAP_ARGS_H
#define EVM_JMAP_ARGS_H

#include <jansson.h>

#include "gateway/jmap/jmap_api.h"

/* The largest UnsignedInt and Int (RFC 8620 1.3): 2^53-1. */
#define JMAP_INT_MAX ((json_int_t)9007199254740991LL)

enum jmap_access {
	JMAP_READ,
	JMAP_WRITE,
};

/* accountId (name "accountId", or "fromAccountId" of /copy, RFC 8620
 * 5.4, whose errors are fromAccountNotFound and
 * fromAccountNotSupportedByMethod), required: one of the user's accounts, else accountNotFound;
 * an id of another user or tenant is exactly as unknown as one that never
 * existed. The account must have the method's capability, else
 * accountNotSupportedByMethod; for JMAP_WRITE it must not be read-only,
 * else accountReadOnly (RFC 8620 3.6.2). */
int jmap_arg_account(struct jmap_call *call, const json_t *args, const char *name,
		     enum jmap_access access, const struct jmap_account **acct_r);

/* A String argument; absent or null is *v_r = NULL unless required. */
int jmap_arg_string(struct jmap_call *call, const json_t *args, const char *name, int required,
		    const char **v_r);
/* An Id|null argument (RFC 8620 1.2); absent or null is *v_r = NULL. */
int jmap_arg_id(struct jmap_call *call, const json_t *args, const char *name, const char **v_r);
/* A Boolean argument; absent or null is dflt. */
int jmap_arg_bool(struct jmap_call *call, const json_t *args, const char *name, int dflt, int *v_r);
/* An Int (-2^53+1..2^53-1) argument; absent or null is dflt. */
int jmap_arg_int(struct jmap_call *call, const json_t *args, const char *name, json_int_t dflt,
		 json_int_t *v_r);
/* An UnsignedInt (0..2^53-1) argument; absent or null is dflt. */
int jmap_arg_uint(struct jmap_call *call, const json_t *args, const char *name, json_int_t dflt,
		  json_int_t *v_r);

/* An Id[]|null argument: *ids_r is NULL when absent or null, else a new
 * array where each "#cid" that names a creation of this request is replaced
 * by its id (RFC 8620 5.3); one that does not stays "#cid", so the method
 * reports it as not found. More than max items is requestTooLarge
 * (RFC 8620 5.1, 5.3). */
int jmap_arg_ids(struct jmap_call *call, const json_t *args, const char *name, size_t max,
		 json_t **ids_r);

/* A String[]|null list of property names: *props_r is NULL when absent or
 * null (all properties), else a new array. known (NULL-terminated) lists
 * the valid names: any other is invalidArguments (RFC 8620 5.1). When
 * known has "id", "id" is added if missing: it is always returned. */
int jmap_arg_properties(struct jmap_call *call, const json_t *args, const char *name,
			const char *const *known, json_t **props_r);

/* ifInState (RFC 8620 5.3): absent or null, or equal to state; a
 * different one is stateMismatch. */
int jmap_arg_if_in_state(struct jmap_call *call, const json_t *args, const char *state);

/* Finishes the call with invalidArguments, "name: what"; always -1. */
int jmap_arg_invalid(struct jmap_call *call, const char *name, const char *what);

#endif
