/* jmap_identity_set - Identity/set (RFC 8621 6.3) as identity.set and
 * identity.destroy events (projector/mail_identity.c) through the /set
 * runner: create (email: the account's address, an alias of it, or
 * "*@domain" of a catch-all alias delivering to it, else forbiddenFrom),
 * update of name, replyTo, bcc and the signatures (email is immutable; a
 * default identity's update stores the user's override of it), destroy
 * (a default identity follows the directory: forbidden). */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_set_run.h"
#include "gateway/jmap/jmap_std.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const settable[] = { "name", "email", "replyTo", "bcc", "textSignature", "htmlSignature",
					NULL };

static int listed(const char *s)
{
	for (size_t i = 0; settable[i] != NULL; i++)
		if (strcmp(settable[i], s) == 0)
			return 1;
	return 0;
}

static void invalid(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, const char *prop,
		    const char *why)
{
	jmap_setrun_fail(sr, op, key, jmap_set_error("invalidProperties", why, json_pack("[s]", prop)));
}

/* A String of at most max octets without NUL. */
static int text_ok(json_t *v, size_t max)
{
	return json_is_string(v) && json_string_length(v) <= max &&
	       strlen(json_string_value(v)) == json_string_length(v);
}

/* replyTo / bcc: null or EmailAddress[] (RFC 8621 4.1.2.3) as the event
 * carries it: 0 with *out_r (new), -1 when malformed. */
static int addrs_of(json_t *v, json_t **out_r)
{
	json_t *e, *name, *email;
	size_t i;
	const char *k;
	json_t *x;

	*out_r = NULL;
	if (json_is_null(v)) {
		*out_r = json_null();
		return 0;
	}
	if (!json_is_array(v) || json_array_size(v) > MAIL_IDENTITY_ADDRS_MAX)
		return -1;
	*out_r = json_array();
	json_array_foreach(v, i, e) {
		name = json_object_get(e, "name");
		email = json_object_get(e, "email");
		json_object_foreach(e, k, x)
			if (strcmp(k, "name") != 0 && strcmp(k, "email") != 0)
				goto bad;
		if (!json_is_object(e) || !text_ok(email, EVM_ADDRESS_MAX) ||
		    strchr(json_string_value(email), '@') == NULL ||
		    (name != NULL && !json_is_null(name) && !text_ok(name, MAIL_IDENTITY_NAME_MAX)))
			goto bad;
		json_array_append_new(*out_r, json_pack("{s:O, s:O}", "name", name != NULL ? name : json_null(),
							 "email", email));
	}
	return 0;
bad:
	json_decref(*out_r);
	*out_r = NULL;
	return -1;
}

/* The event data of an identity with obj's properties over cur's (cur:
 * the identity as Identity/get shows it, or a fresh one): 0 with *data_r,
 * or -1 after recording invalidProperties. */
static int event_data(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *obj, json_t *cur,
		      json_t **data_r)
{
	json_t *name, *text, *html, *reply = NULL, *bcc = NULL, *v;
	const char *k;

	*data_r = NULL;
	json_object_foreach(obj, k, v) {
		if (listed(k))
			continue;
		/* RFC 8620 5.3: a server-set property only with its value. */
		if (op == JMAP_OP_UPDATE && (strcmp(k, "id") == 0 || strcmp(k, "mayDelete") == 0) &&
		    json_equal(v, json_object_get(cur, k)))
			continue;
		invalid(sr, op, key, k, strcmp(k, "id") == 0 || strcmp(k, "mayDelete") == 0 ? "is set by the server" :
										       "is no property an Identity has here");
		return -1;
	}
	name = json_object_get(obj, "name") ? json_object_get(obj, "name") : json_object_get(cur, "name");
	text = json_object_get(obj, "textSignature") ? json_object_get(obj, "textSignature") :
						       json_object_get(cur, "textSignature");
	html = json_object_get(obj, "htmlSignature") ? json_object_get(obj, "htmlSignature") :
						       json_object_get(cur, "htmlSignature");
	if (!text_ok(name, MAIL_IDENTITY_NAME_MAX)) {
		invalid(sr, op, key, "name", "is not a String of at most 256 octets");
		return -1;
	}
	if (!text_ok(text, MAIL_IDENTITY_SIG_MAX) || !text_ok(html, MAIL_IDENTITY_SIG_MAX)) {
		invalid(sr, op, key, text_ok(text, MAIL_IDENTITY_SIG_MAX) ? "htmlSignature" : "textSignature",
			"is not a String of at most 64 KiB");
		return -1;
	}
	if (addrs_of(json_object_get(obj, "replyTo") ? json_object_get(obj, "replyTo") :
						       json_object_get(cur, "replyTo"), &reply) < 0) {
		invalid(sr, op, key, "replyTo", "is not null or an EmailAddress[] (at most 50)");
		return -1;
	}
	if (addrs_of(json_object_get(obj, "bcc") ? json_object_get(obj, "bcc") : json_object_get(cur, "bcc"),
		     &bcc) < 0) {
		json_decref(reply);
		invalid(sr, op, key, "bcc", "is not null or an EmailAddress[] (at most 50)");
		return -1;
	}
	*data_r = json_pack("{s:O, s:o, s:o, s:O, s:O}", "name", name, "reply_to", reply, "bcc", bcc,
			    "text_signature", text, "html_signature", html);
	return 0;
}

static json_t *ev(const char *type, json_t *data)
{
	return json_pack("[[s,o]]", type, data);
}

static int plan_create(struct jmap_setrun *sr, const char *cid, json_t *obj, struct jmap_set_plan *p)
{
	struct jmap_mail_req *req = jmap_mail_req(jmap_setrun_call(sr));
	json_t *email = json_object_get(obj, "email"), *data, *fresh;
	char norm[EVM_ADDRESS_MAX + 1], rnd[EVM_ID_HEX_LEN + 1], id[JMAP_ACCOUNT_ID_LEN + 1];
	const char *error = NULL;
	int r;

	if (!json_is_string(email)) {
		invalid(sr, JMAP_OP_CREATE, cid, "email", "is required: a String");
		return -1;
	}
	if ((r = jmap_identity_email_allowed(req, json_string_value(email), norm, &error)) <= 0) {
		if (r < 0) {
			log_error("jmap: Identity/set for %s: %s", req->address, error);
			jmap_setrun_fail(sr, JMAP_OP_CREATE, cid,
					 jmap_set_error("serverFail", "the directory cannot be read", NULL));
		} else {
			jmap_setrun_fail(sr, JMAP_OP_CREATE, cid,
					 jmap_set_error("forbiddenFrom", "the account may not send as this address",
							NULL));
		}
		return -1;
	}
	fresh = json_pack("{s:s, s:s, s:n, s:n, s:s, s:s}", "name", "", "email", norm, "replyTo", "bcc",
			  "textSignature", "", "htmlSignature", "");
	r = event_data(sr, JMAP_OP_CREATE, cid, obj, fresh, &data);
	json_decref(fresh);
	if (r < 0)
		return -1;
	/* "c" + 24 hex digits: as long as a default id (jmap_submission.h). */
	evm_random_id(rnd);
	snprintf(id, sizeof id, "c%.24s", rnd);
	json_object_set_new(data, "identity_id", json_string(id));
	json_object_set_new(data, "create", json_true());
	json_object_set_new(data, "email", json_string(norm));
	p->note = json_pack("{s:s, s:s, s:b, s:O, s:O, s:O, s:O, s:O}", "id", id, "email", norm, "mayDelete", 1,
			    "name", json_object_get(data, "name"), "replyTo", json_object_get(data, "reply_to"),
			    "bcc", json_object_get(data, "bcc"), "textSignature",
			    json_object_get(data, "text_signature"), "htmlSignature",
			    json_object_get(data, "html_signature"));
	/* RFC 8620 5.3: created holds the server-set properties and any the
	 * client left out; it gave the rest. */
	{
		const char *k;
		json_t *v;
		void *tmp;

		json_object_foreach_safe(p->note, tmp, k, v)
			if (json_object_get(obj, k) != NULL && strcmp(k, "email") != 0)
				json_object_del(p->note, k);
	}
	p->events = ev("identity.set", data);
	return 0;
}

/* The current identity id (Identity/get's object), or NULL after
 * recording the SetError. New reference. */
static json_t *current(struct jmap_setrun *sr, enum jmap_set_op op, const char *id)
{
	struct jmap_mail_req *req = jmap_mail_req(jmap_setrun_call(sr));
	const char *error = NULL;
	json_t *cur = NULL;
	int r;

	if ((r = jmap_identity_find(req, id, &cur, &error)) <= 0) {
		if (r < 0)
			log_error("jmap: Identity/set for %s: %s", req->address, error);
		jmap_setrun_fail(sr, op, id, r < 0 ? jmap_set_error("serverFail", "the view cannot be read", NULL) :
						     jmap_set_error("notFound", NULL, NULL));
		return NULL;
	}
	return cur;
}

static int plan_update(struct jmap_setrun *sr, const char *id, json_t *patch, struct jmap_set_plan *p)
{
	json_t *cur = current(sr, JMAP_OP_UPDATE, id), *data, *email = json_object_get(patch, "email");
	int r;

	if (cur == NULL)
		return -1;
	/* RFC 8621 6: email is immutable (given, it must be the same). */
	if (email != NULL && !json_equal(email, json_object_get(cur, "email"))) {
		json_decref(cur);
		invalid(sr, JMAP_OP_UPDATE, id, "email", "is immutable");
		return -1;
	}
	patch = json_copy(patch);
	json_object_del(patch, "email");
	r = event_data(sr, JMAP_OP_UPDATE, id, patch, cur, &data);
	json_decref(patch);
	if (r < 0) {
		json_decref(cur);
		return -1;
	}
	json_object_set_new(data, "identity_id", json_string(id));
	json_object_set_new(data, "create", json_false());
	json_object_set(data, "email", json_object_get(cur, "email"));
	/* A default identity's first update stores the override. */
	if (json_is_false(json_object_get(cur, "mayDelete")))
		json_object_set_new(data, "default", json_true());
	p->events = ev("identity.set", data);
	json_decref(cur);
	return 0;
}

static int plan_destroy(struct jmap_setrun *sr, const char *id, struct jmap_set_plan *p)
{
	json_t *cur = current(sr, JMAP_OP_DESTROY, id);

	if (cur == NULL)
		return -1;
	if (json_is_false(json_object_get(cur, "mayDelete"))) {
		json_decref(cur);
		jmap_setrun_fail(sr, JMAP_OP_DESTROY, id,
				 jmap_set_error("forbidden", "a default identity follows the directory", NULL));
		return -1;
	}
	json_decref(cur);
	p->events = ev("identity.destroy", json_pack("{s:s}", "identity_id", id));
	return 0;
}

static int idset_plan(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *value,
		      struct jmap_set_plan *p)
{
	return op == JMAP_OP_CREATE ? plan_create(sr, key, value, p) :
	       op == JMAP_OP_UPDATE ? plan_update(sr, key, value, p) : plan_destroy(sr, key, p);
}

/* The applier's codes (projector/mail.h identity.set). */
static json_t *idset_rejected(struct jmap_setrun *sr, enum jmap_set_op op, const char *code)
{
	(void)sr;
	(void)op;
	if (strcmp(code, "limit") == 0)
		return jmap_set_error("overQuota", "at most 100 identities are stored", NULL);
	if (strcmp(code, "not-found") == 0)
		return jmap_set_error("notFound", NULL, NULL);
	if (strcmp(code, "immutable") == 0)
		return jmap_set_error("invalidProperties", "email is immutable", json_pack("[s]", "email"));
	return NULL;
}

static const struct jmap_set_ops idset_ops = {
	.type = MAIL_J_IDENTITY,
	.plan = idset_plan,
	.rejected = idset_rejected,
	.free_ctx = free,
};

void jmap_identity_set(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_set_args a;
	char state[JMAP_STATE_MAX];

	(void)ctx;
	if (jmap_mail_state(call, MAIL_J_IDENTITY, state) < 0)
		return;
	if (jmap_set_args_parse(call, args, state, &a) < 0)
		return;
	jmap_setrun_start(call, &idset_ops, NULL, &a, state, NULL);
}
