/* jmap_email_copy - Email/copy (RFC 8621 4.7, RFC 8620 5.4): its
 * arguments and its response.
 *
 * RFC 8620 5.4 copies between two different accounts: fromAccountId MUST
 * differ from accountId. This node shows a user their own account only
 * (jmap_mail_account); within it, a copy is an Email/set mailboxIds
 * change. So every /copy naming the user's account twice is
 * invalidArguments, and a /copy between two accounts (which only a user
 * given another account, e.g. a shared mailbox's owner's, could make)
 * answers each email notCreated: forbidden; accounts of other users are
 * not made visible here. */
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_request.h"
#include "gateway/jmap/jmap_set_methods.h"
#include "gateway/jmap/jmap_std.h"

#include <stdio.h>
#include <string.h>

/* The create map: creation id -> {id, mailboxIds, keywords?, receivedAt?}
 * (RFC 8620 5.4, RFC 8621 4.7). */
static int check_create(struct jmap_call *call, const json_t *create)
{
	const char *k;
	json_t *obj;

	if (!json_is_object(create) || json_object_size(create) == 0)
		return jmap_arg_invalid(call, "create", "is required: a map of creation ids to Email objects");
	json_object_foreach((json_t *)create, k, obj) {
		if (!jmap_is_id(k) || !json_is_object(obj) || !json_is_string(json_object_get(obj, "id")) ||
		    !jmap_is_id(json_string_value(json_object_get(obj, "id"))))
			return jmap_arg_invalid(call, "create", "each Email names the id of the email to copy");
	}
	if (json_object_size(create) > jmap_call_settings(call)->max_objects_in_set) {
		jmap_call_error(call, "requestTooLarge", "more objects than maxObjectsInSet");
		return -1;
	}
	return 0;
}

void jmap_email_copy(struct jmap_call *call, json_t *args, void *ctx)
{
	const struct jmap_account *to, *from;
	const char *if_from = NULL, *destroy_if = NULL, *k;
	json_t *create = json_object_get(args, "create"), *obj, *not_created, *resp;
	char state[JMAP_STATE_MAX];
	int destroy_original = 0;

	(void)ctx;
	if (jmap_arg_account(call, args, "fromAccountId", JMAP_READ, &from) < 0 ||
	    jmap_arg_account(call, args, "accountId", JMAP_WRITE, &to) < 0 ||
	    jmap_arg_string(call, args, "ifFromInState", 0, &if_from) < 0 ||
	    jmap_arg_bool(call, args, "onSuccessDestroyOriginal", 0, &destroy_original) < 0 ||
	    jmap_arg_string(call, args, "destroyFromIfInState", 0, &destroy_if) < 0 ||
	    check_create(call, create) < 0)
		return;
	if (strcmp(from->id, to->id) == 0) {
		jmap_arg_invalid(call, "fromAccountId",
				 "must differ from accountId (RFC 8620 5.4); within one account, change mailboxIds "
				 "with Email/set");
		return;
	}
	/* The only store this node reads for the user is their own. */
	if (jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 || jmap_arg_if_in_state(call, args, state) < 0)
		return;
	if (if_from != NULL && strcmp(if_from, state) != 0) {
		jmap_call_error(call, "stateMismatch", "ifFromInState");
		return;
	}
	not_created = json_object();
	json_object_foreach(create, k, obj)
		json_object_set_new(not_created, k, jmap_set_error("forbidden", "copying between accounts is not supported",
								   NULL));
	resp = json_pack("{s:s, s:s, s:s, s:s, s:n, s:o}", "fromAccountId", from->id, "accountId", to->id, "oldState",
			 state, "newState", state, "created", "notCreated", not_created);
	jmap_call_reply(call, resp);
}
