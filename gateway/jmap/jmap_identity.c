/* jmap_identity - Identity/get, /changes, /set (RFC 8621 6) from the
 * directory: see jmap_submission.h. */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_std.h"
#include "common/log.h"
#include "projector/directory.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const identity_props[] = {
	"id", "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature", "mayDelete", NULL,
};

void jmap_identity_id(const char *address, char out[JMAP_ACCOUNT_ID_LEN + 1])
{
	jmap_account_id(address, out);
	out[0] = 'i';
}

/* An Identity object (RFC 8621 6). */
static json_t *identity(const char *address, const char *name)
{
	char id[JMAP_ACCOUNT_ID_LEN + 1];

	jmap_identity_id(address, id);
	return json_pack("{s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:b}", "id", id, "name", name, "email", address,
			 "replyTo", "bcc", "textSignature", "", "htmlSignature", "", "mayDelete", 0);
}

/* 1 when the alias record's targets include address. */
static int targets_include(json_t *alias, const char *address)
{
	json_t *t;
	size_t i;

	json_array_foreach(json_object_get(alias, "targets"), i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), address) == 0)
			return 1;
	return 0;
}

int jmap_identities(struct jmap_mail_req *req, json_t **list_r, const char **error_r)
{
	json_t *acct = NULL, *aliases = NULL, *a;
	const char *name = "";
	size_t i;
	int r;

	*list_r = NULL;
	if ((r = directory_account_get(req->node->view, req->address, &acct, error_r)) < 0)
		return -1;
	if (r == 1 && json_is_string(json_object_get(acct, "display_name")))
		name = json_string_value(json_object_get(acct, "display_name"));
	*list_r = json_array();
	json_array_append_new(*list_r, identity(req->address, name));
	/* The tenant's aliases (sorted by address): the ones that deliver
	 * to this account are addresses it may send as (submit.h). The
	 * catch-all "@domain" names no address. */
	if (directory_aliases(req->node->view, NULL, req->tenant, &aliases, error_r) < 0) {
		json_decref(acct);
		json_decref(*list_r);
		*list_r = NULL;
		return -1;
	}
	json_array_foreach(aliases, i, a) {
		const char *addr = json_string_value(json_object_get(a, "alias"));

		if (addr != NULL && addr[0] != '@' && targets_include(a, req->address))
			json_array_append_new(*list_r, identity(addr, name));
	}
	json_decref(aliases);
	json_decref(acct);
	return 0;
}

int jmap_identity_find(struct jmap_mail_req *req, const char *id, json_t **identity_r, const char **error_r)
{
	json_t *list = NULL, *v;
	size_t i;

	*identity_r = NULL;
	if (jmap_identities(req, &list, error_r) < 0)
		return -1;
	json_array_foreach(list, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "id")), id) == 0) {
			*identity_r = json_incref(v);
			break;
		}
	}
	json_decref(list);
	return *identity_r != NULL;
}

/* The identities and their state: "h" + 16 hex digits of SHA-256 of
 * their canonical JSON, the same on every node for the same directory.
 * 0, or -1 after finishing the call with serverFail. */
static int load(struct jmap_call *call, json_t **list_r, char state[JMAP_STATE_MAX])
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	const char *error = NULL;
	char *s;

	if (jmap_identities(req, list_r, &error) < 0) {
		log_error("jmap: identities of %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	s = json_dumps(*list_r, JSON_COMPACT | JSON_SORT_KEYS);
	EVP_Digest(s, strlen(s), md, &n, EVP_sha256(), NULL);
	free(s);
	state[0] = 'h';
	for (unsigned i = 0; i < 8; i++)
		snprintf(state + 1 + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static void identity_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_get_args a;
	json_t *all = NULL, *list = json_array(), *not_found = json_array(), *v, *want;
	char state[JMAP_STATE_MAX];
	size_t i, k;

	(void)ctx;
	if (jmap_get_args_parse(call, args, identity_props, &a) < 0 || load(call, &all, state) < 0) {
		json_decref(list);
		json_decref(not_found);
		return;
	}
	json_array_foreach(all, i, v) {
		int asked = a.ids == NULL;

		json_array_foreach(a.ids, k, want)
			if (strcmp(json_string_value(want), json_string_value(json_object_get(v, "id"))) == 0)
				asked = 1;
		if (!asked)
			continue;
		if (a.properties != NULL) {
			json_t *only = json_object(), *p;

			json_array_foreach(a.properties, k, p)
				json_object_set(only, json_string_value(p), json_object_get(v, json_string_value(p)));
			json_array_append_new(list, only);
		} else {
			json_array_append(list, v);
		}
	}
	json_array_foreach(a.ids, k, want) {
		int found = 0;

		json_array_foreach(all, i, v)
			if (strcmp(json_string_value(want), json_string_value(json_object_get(v, "id"))) == 0)
				found = 1;
		if (!found)
			json_array_append(not_found, want);
	}
	json_decref(all);
	jmap_call_reply(call, jmap_get_response(a.account->id, state, list, not_found));
	jmap_get_args_free(&a);
}

/* RFC 8620 5.2: the state is a digest, so the only position we can
 * answer from is the current one; any other is cannotCalculateChanges
 * (the client then fetches the identities again). */
static void identity_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_changes_args a;
	json_t *all = NULL;
	char state[JMAP_STATE_MAX];

	(void)ctx;
	if (jmap_changes_args_parse(call, args, &a) < 0 || load(call, &all, state) < 0)
		return;
	json_decref(all);
	if (strcmp(a.since_state, state) != 0) {
		jmap_call_error(call, "cannotCalculateChanges", "identities follow the directory; fetch them again");
		return;
	}
	jmap_call_reply(call, jmap_changes_response(a.account->id, state, state, 0, json_array(), json_array(),
						    json_array()));
}

#define FORBIDDEN "identities follow the directory: the account's address and its aliases"

/* RFC 8621 6.3: the server may refuse to create, change or destroy
 * identities; ours are the directory's, changed by an administrator. */
static void identity_set(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_set_args a;
	struct jmap_set_result r;
	json_t *all = NULL, *v;
	char state[JMAP_STATE_MAX];
	const char *k;
	size_t i;

	(void)ctx;
	if (load(call, &all, state) < 0)
		return;
	json_decref(all);
	if (jmap_set_args_parse(call, args, state, &a) < 0)
		return;
	jmap_set_result_init(&r);
	json_object_foreach(a.create, k, v)
		jmap_set_not_created(&r, k, jmap_set_error("forbidden", FORBIDDEN, NULL));
	json_object_foreach(a.update, k, v)
		jmap_set_not_updated(&r, k, jmap_set_error("forbidden", FORBIDDEN, NULL));
	json_array_foreach(a.destroy, i, v)
		jmap_set_not_destroyed(&r, json_string_value(v), jmap_set_error("forbidden", FORBIDDEN, NULL));
	jmap_call_reply(call, jmap_set_response(&r, a.account->id, state, state));
	jmap_set_result_free(&r);
	jmap_set_args_free(&a);
}

void jmap_identity_register(struct jmap_api *api)
{
	jmap_method_register(api, "Identity/get", JMAP_CAP_SUBMISSION, identity_get, NULL);
	jmap_method_register(api, "Identity/changes", JMAP_CAP_SUBMISSION, identity_changes, NULL);
	jmap_method_register(api, "Identity/set", JMAP_CAP_SUBMISSION, identity_set, NULL);
}
