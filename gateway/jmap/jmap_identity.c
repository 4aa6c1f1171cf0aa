/* jmap_identity - Identity/get and /changes (RFC 8621 6): the default
 * identities from the directory with the user's overrides, and the
 * identities the user created (see jmap_submission.h). */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_std.h"
#include "common/log.h"
#include "projector/directory.h"
#include "projector/mail.h"

#include <openssl/evp.h>

#include <ctype.h>
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

/* A default Identity object (RFC 8621 6). */
static json_t *identity(const char *address, const char *name)
{
	char id[JMAP_ACCOUNT_ID_LEN + 1];

	jmap_identity_id(address, id);
	return json_pack("{s:s, s:s, s:s, s:n, s:n, s:s, s:s, s:b}", "id", id, "name", name, "email", address,
			 "replyTo", "bcc", "textSignature", "", "htmlSignature", "", "mayDelete", 0);
}

/* The stored record's properties on obj (an override or a created one). */
static void apply_record(json_t *obj, json_t *rec)
{
	json_t *v;

	json_object_set(obj, "name", json_object_get(rec, "name"));
	json_object_set_new(obj, "replyTo", json_is_array(v = json_object_get(rec, "reply_to")) ?
						    json_incref(v) : json_null());
	json_object_set_new(obj, "bcc", json_is_array(v = json_object_get(rec, "bcc")) ? json_incref(v) : json_null());
	json_object_set(obj, "textSignature", json_object_get(rec, "text_signature"));
	json_object_set(obj, "htmlSignature", json_object_get(rec, "html_signature"));
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

/* The default identities of the account at address, in a fixed order
 * (its own, then its aliases by address); with catchall, the "@domain"
 * aliases that deliver to the account (their domains) too. Read from the
 * view only (the account's tenant from its record). 0 or -1. */
static int defaults(struct view *view, const char *address, json_t **list_r, json_t *catchall,
		    const char **error_r)
{
	json_t *acct = NULL, *aliases = NULL, *a;
	const char *name = "", *tenant;
	size_t i;
	int r;

	*list_r = NULL;
	if ((r = directory_account_get(view, address, &acct, error_r)) < 0)
		return -1;
	if (r == 1 && json_is_string(json_object_get(acct, "display_name")))
		name = json_string_value(json_object_get(acct, "display_name"));
	*list_r = json_array();
	json_array_append_new(*list_r, identity(address, name));
	/* The tenant's aliases (sorted by address): the ones that deliver
	 * to this account are addresses it may send as (submit.h). The
	 * catch-all "@domain" names no address. */
	tenant = json_string_value(json_object_get(acct, "tenant"));
	if (tenant != NULL && directory_aliases(view, NULL, tenant, &aliases, error_r) < 0) {
		json_decref(acct);
		json_decref(*list_r);
		*list_r = NULL;
		return -1;
	}
	json_array_foreach(aliases, i, a) {
		const char *addr = json_string_value(json_object_get(a, "alias"));

		if (addr == NULL || !targets_include(a, address))
			continue;
		if (addr[0] != '@')
			json_array_append_new(*list_r, identity(addr, name));
		else if (catchall != NULL)
			json_array_append_new(catchall, json_string(addr + 1));
	}
	json_decref(aliases);
	json_decref(acct);
	return 0;
}

int jmap_identity_state(struct view *view, const char *address, int64_t *state_r, const char **error_r)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	json_t *list = NULL;
	int64_t modseq = 0;
	char *text;

	if (mail_jmap_state(view, address, MAIL_J_IDENTITY, &modseq, error_r) < 0 ||
	    defaults(view, address, &list, NULL, error_r) < 0)
		return -1;
	/* The defaults as Identity/get shows them before overrides: their
	 * ids, addresses and name, in their fixed order, sorted keys. */
	text = json_dumps(list, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(list);
	if (text == NULL) {
		*error_r = "the default identities cannot be encoded";
		return -1;
	}
	EVP_Digest(text, strlen(text), md, &n, EVP_sha256(), NULL);
	free(text);
	*state_r = modseq << JMAP_IDENTITY_DIGEST_BITS |
		   (((int64_t)md[0] << 16 | (int64_t)md[1] << 8 | md[2]) & JMAP_IDENTITY_DIGEST_MASK);
	return 0;
}

int jmap_identities(struct jmap_mail_req *req, json_t **list_r, const char **error_r)
{
	json_t *stored = NULL, *rec, *obj;
	size_t i, k;

	if (defaults(req->node->view, req->address, list_r, NULL, error_r) < 0)
		return -1;
	if (mail_identities(req->node->view, req->address, &stored, error_r) < 0) {
		json_decref(*list_r);
		*list_r = NULL;
		return -1;
	}
	json_array_foreach(stored, i, rec) {
		const char *id = json_string_value(json_object_get(rec, "id"));

		if (json_is_true(json_object_get(rec, "default"))) {
			/* An override of a default identity still derived (an
			 * alias removed since leaves it unused). */
			json_array_foreach(*list_r, k, obj)
				if (strcmp(json_string_value(json_object_get(obj, "id")), id) == 0)
					apply_record(obj, rec);
			continue;
		}
		obj = json_pack("{s:s, s:O, s:b}", "id", id, "email", json_object_get(rec, "email"), "mayDelete", 1);
		apply_record(obj, rec);
		json_array_append_new(*list_r, obj);
	}
	json_decref(stored);
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

/* RFC 8621 6.3 forbiddenFrom: the account's address or an alias of it,
 * or "*@domain" when the domain's catch-all alias delivers to it. */
int jmap_identity_email_allowed(struct jmap_mail_req *req, const char *email, char norm[EVM_ADDRESS_MAX + 1],
				const char **error_r)
{
	json_t *list = NULL, *catchall = json_array(), *v;
	const char *ignored = NULL;
	size_t i;
	int ok = 0;

	if (strlen(email) > EVM_ADDRESS_MAX) {
		json_decref(catchall);
		return 0;
	}
	if (email[0] == '*' && email[1] == '@') {
		for (i = 0; email[i] != '\0'; i++)
			norm[i] = (char)tolower((unsigned char)email[i]);
		norm[i] = '\0';
	} else if (evm_address_normalize(email, norm, &ignored) < 0) {
		json_decref(catchall);
		return 0;
	}
	if (defaults(req->node->view, req->address, &list, catchall, error_r) < 0) {
		json_decref(catchall);
		return -1;
	}
	if (norm[0] == '*') {
		json_array_foreach(catchall, i, v)
			ok |= strcmp(json_string_value(v), norm + 2) == 0 && norm[2] != '\0';
	} else {
		json_array_foreach(list, i, v)
			ok |= strcmp(json_string_value(json_object_get(v, "email")), norm) == 0;
	}
	json_decref(list);
	json_decref(catchall);
	return ok;
}

/* The identities, or -1 after finishing the call with serverFail. */
static int load(struct jmap_call *call, json_t **list_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *error = NULL;

	if (jmap_identities(req, list_r, &error) < 0) {
		log_error("jmap: identities of %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	return 0;
}

static void identity_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_get_args a;
	json_t *all = NULL, *list = json_array(), *not_found = json_array(), *v, *want;
	char state[JMAP_STATE_MAX];
	size_t i, k;

	(void)ctx;
	if (jmap_get_args_parse(call, args, identity_props, &a) < 0) {
		json_decref(list);
		json_decref(not_found);
		return;
	}
	/* The state first: a change after it shows again in /changes. */
	if (jmap_mail_state(call, MAIL_J_IDENTITY, state) < 0 || load(call, &all) < 0) {
		json_decref(list);
		json_decref(not_found);
		jmap_get_args_free(&a);
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

/* RFC 8620 5.2 over the stored identities' changes; a change of the
 * derived defaults since is cannotCalculateChanges (jmap_submission.h,
 * jmap_mail_changes). */
static void identity_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	(void)ctx;
	jmap_mail_changes(call, args, MAIL_J_IDENTITY);
}

void jmap_identity_register(struct jmap_api *api)
{
	jmap_method_register(api, "Identity/get", JMAP_CAP_SUBMISSION, identity_get, NULL);
	jmap_method_register(api, "Identity/changes", JMAP_CAP_SUBMISSION, identity_changes, NULL);
	jmap_method_register(api, "Identity/set", JMAP_CAP_SUBMISSION, jmap_identity_set, NULL);
}
