/* jmap_session - see jmap_session.h */
#include "gateway/jmap/jmap_session.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char session_msg[200];

/* -1 with a message naming the URL and the variable it lacks. */
static int check_template(const char *what, const char *url, const char *const *vars,
			  const char **error_r)
{
	if (url == NULL) {
		snprintf(session_msg, sizeof session_msg, "%s is not set", what);
		*error_r = session_msg;
		return -1;
	}
	for (size_t i = 0; vars[i] != NULL; i++) {
		if (strstr(url, vars[i]) == NULL) {
			snprintf(session_msg, sizeof session_msg, "%s lacks %s (RFC 8620 2)", what, vars[i]);
			*error_r = session_msg;
			return -1;
		}
	}
	return 0;
}

/* The templates carry the variables RFC 8620 2 says they MUST. */
static int check_urls(const struct jmap_session_urls *u, const char **error_r)
{
	static const char *const none[] = { NULL };
	static const char *const download[] = { "{accountId}", "{blobId}", "{type}", "{name}", NULL };
	static const char *const upload[] = { "{accountId}", NULL };
	static const char *const events[] = { "{types}", "{closeafter}", "{ping}", NULL };

	if (check_template("apiUrl", u->api, none, error_r) < 0 ||
	    check_template("downloadUrl", u->download, download, error_r) < 0 ||
	    check_template("uploadUrl", u->upload, upload, error_r) < 0 ||
	    check_template("eventSourceUrl", u->event_source, events, error_r) < 0)
		return -1;
	return 0;
}

/* One Account object (RFC 8620 2, "accounts"). */
static json_t *account_object(const struct jmap_api *api, const struct jmap_account *a,
			      const char **error_r)
{
	json_t *caps = json_object(), *acct;
	const json_t *c;

	for (size_t i = 0; a->capabilities != NULL && a->capabilities[i] != NULL; i++) {
		c = jmap_api_account_capability(api, a->capabilities[i]);
		if (c == NULL) {
			snprintf(session_msg, sizeof session_msg, "account %s lists unknown capability %s",
				 a->id, a->capabilities[i]);
			*error_r = session_msg;
			json_decref(caps);
			return NULL;
		}
		json_object_set_new(caps, a->capabilities[i], json_deep_copy(c));
	}
	acct = json_pack("{s:s, s:b, s:b, s:o}", "name", a->name != NULL ? a->name : a->id,
			 "isPersonal", a->is_personal, "isReadOnly", a->is_read_only,
			 "accountCapabilities", caps);
	if (acct == NULL)
		*error_r = "an account name is not UTF-8";
	return acct;
}

/* primaryAccounts: capability URI -> account id (see jmap_session.h). */
static json_t *primary_accounts(const struct jmap_user *user)
{
	json_t *primary = json_object();

	for (int personal = 1; personal >= 0; personal--) {
		for (size_t i = 0; i < user->naccounts; i++) {
			const struct jmap_account *a = &user->accounts[i];

			if ((a->is_personal != 0) != personal)
				continue;
			for (size_t k = 0; a->capabilities != NULL && a->capabilities[k] != NULL; k++) {
				if (json_object_get(primary, a->capabilities[k]) == NULL)
					json_object_set_new(primary, a->capabilities[k], json_string(a->id));
			}
		}
	}
	return primary;
}

/* The session without its state. */
static json_t *session_body(const struct jmap_api *api, const struct jmap_user *user,
			    const struct jmap_session_urls *urls, const char **error_r)
{
	json_t *accounts = json_object(), *acct, *body;

	if (check_urls(urls, error_r) < 0)
		goto fail;
	for (size_t i = 0; i < user->naccounts; i++) {
		const struct jmap_account *a = &user->accounts[i];

		if (!jmap_is_id(a->id) || json_object_get(accounts, a->id) != NULL) {
			snprintf(session_msg, sizeof session_msg, "account id \"%.60s\" is not a unique Id",
				 a->id);
			*error_r = session_msg;
			goto fail;
		}
		if ((acct = account_object(api, &user->accounts[i], error_r)) == NULL)
			goto fail;
		json_object_set_new(accounts, a->id, acct);
	}
	body = json_pack("{s:O, s:o, s:o, s:s, s:s, s:s, s:s, s:s}",
			 "capabilities", jmap_api_capabilities(api), "accounts", accounts,
			 "primaryAccounts", primary_accounts(user), "username",
			 user->username != NULL ? user->username : "", "apiUrl", urls->api,
			 "downloadUrl", urls->download, "uploadUrl", urls->upload,
			 "eventSourceUrl", urls->event_source);
	if (body == NULL)
		*error_r = "the username or a URL is not UTF-8";
	return body;
fail:
	json_decref(accounts);
	return NULL;
}

/* The first 8 octets of SHA-256 over the canonical JSON, in hex. */
static void state_of(const json_t *body, char state[JMAP_SESSION_STATE_SIZE])
{
	char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (text == NULL || EVP_Digest(text, strlen(text), md, &mdlen, EVP_sha256(), NULL) != 1)
		abort();  /* out of memory, like xmalloc */
	for (int i = 0; i < 8; i++)
		snprintf(state + 2 * i, 3, "%02x", md[i]);
	free(text);
}

int jmap_session_build(const struct jmap_api *api, const struct jmap_user *user,
		       const struct jmap_session_urls *urls, json_t **session_r, const char **error_r)
{
	char state[JMAP_SESSION_STATE_SIZE];
	json_t *body = session_body(api, user, urls, error_r);

	if (body == NULL)
		return -1;
	state_of(body, state);
	json_object_set_new(body, "state", json_string(state));
	*session_r = body;
	return 0;
}

int jmap_session_state(const struct jmap_api *api, const struct jmap_user *user,
		       const struct jmap_session_urls *urls, char state[JMAP_SESSION_STATE_SIZE],
		       const char **error_r)
{
	json_t *body = session_body(api, user, urls, error_r);

	if (body == NULL)
		return -1;
	state_of(body, state);
	json_decref(body);
	return 0;
}
