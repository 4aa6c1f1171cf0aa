/* jmap_submission_check - the checks of one EmailSubmission creation
 * (RFC 8621 7.5), before anything is sent: the properties, the identity,
 * the email and its message, the envelope (given, or made from the
 * identity and the To/Cc/Bcc header fields), the sender rules SMTP
 * submission applies (gateway/submit/submit.h) and where each recipient
 * goes (deliver_resolve: local accounts, or the outbound queue). */
#include "gateway/jmap/jmap_submission.h"
#include "gateway/jmap/jmap_blob.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/submit/submit.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/directory.h"
#include "projector/mail.h"
#include "projector/mail_submission.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The creation's own properties; the server sets the others (RFC 8621 7). */
static const char *const client_props[] = { "identityId", "emailId", "envelope", "undoStatus", NULL };

static json_t *invalid(const char *prop, const char *desc)
{
	return jmap_set_error("invalidProperties", desc, json_pack("[s]", prop));
}

static int known(const char *k)
{
	for (size_t i = 0; client_props[i] != NULL; i++)
		if (strcmp(client_props[i], k) == 0)
			return 1;
	return 0;
}

/* An Envelope Address without SMTP parameters (submissionExtensions is
 * empty, RFC 8621 7: parameters the server does not support are an
 * error): 1 with its email, 0 when it is not one. */
static int env_address(json_t *a, const char **email_r)
{
	json_t *p = json_object_get(a, "parameters");
	const char *k;
	json_t *v;

	json_object_foreach(a, k, v)
		if (strcmp(k, "email") != 0 && strcmp(k, "parameters") != 0)
			return 0;
	*email_r = json_string_value(json_object_get(a, "email"));
	return *email_r != NULL && (p == NULL || json_is_null(p) || (json_is_object(p) && json_object_size(p) == 0));
}

/* The envelope of the creation, or the default one (RFC 8621 7:
 * mailFrom the identity's email, rcptTo the deduplicated To, Cc and Bcc
 * addresses of the message). 0, or 1 with *err_r. */
static int envelope_of(json_t *given, const char *identity_email, json_t *summary, json_t **env_r, json_t **err_r)
{
	static const char *const kinds[] = { "to", "cc", "bcc" };
	json_t *rcpts, *a;
	const char *e;
	size_t i;

	if (given != NULL && !json_is_null(given)) {
		json_t *from = json_object_get(given, "mailFrom"), *to = json_object_get(given, "rcptTo");

		if (!json_is_object(given) || json_object_size(given) != 2 || !json_is_object(from) ||
		    !env_address(from, &e) || !json_is_array(to)) {
			*err_r = invalid("envelope", "an Envelope is {mailFrom, rcptTo} of {email, parameters} "
					 "(no SMTP parameters are supported)");
			return 1;
		}
		json_array_foreach(to, i, a)
			if (!json_is_object(a) || !env_address(a, &e)) {
				*err_r = invalid("envelope", "rcptTo holds {email, parameters} (no SMTP parameters "
							     "are supported)");
				return 1;
			}
		*env_r = json_pack("{s:{s:s, s:n}, s:[]}", "mailFrom", "email",
				   json_string_value(json_object_get(from, "email")), "parameters", "rcptTo");
		json_array_foreach(to, i, a)
			json_array_append_new(json_object_get(*env_r, "rcptTo"),
					      json_pack("{s:O, s:n}", "email", json_object_get(a, "email"), "parameters"));
		return 0;
	}
	rcpts = json_array();
	for (size_t k = 0; k < 3; k++) {
		json_array_foreach(json_object_get(json_object_get(summary, "headers"), kinds[k]), i, a) {
			json_t *r;
			size_t j;
			int dup = 0;

			if ((e = json_string_value(json_object_get(a, "email"))) == NULL || e[0] == '\0')
				continue;
			json_array_foreach(rcpts, j, r)
				dup |= strcasecmp(json_string_value(json_object_get(r, "email")), e) == 0;
			if (!dup)
				json_array_append_new(rcpts, json_pack("{s:s, s:n}", "email", e, "parameters"));
		}
	}
	*env_r = json_pack("{s:{s:s, s:n}, s:o}", "mailFrom", "email", identity_email, "parameters", "rcptTo", rcpts);
	return 0;
}

/* 1 when s has an octet >= 0x80. */
static int is_8bit(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 1;
	return 0;
}

/* Adds the local accounts of one resolved recipient, each account once. */
static void add_targets(struct jmap_subm_plan *p, const struct deliver_target *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t j;

		for (j = 0; j < p->ntargets && strcmp(p->targets[j].account, t[i].account) != 0; j++)
			;
		if (j < p->ntargets)
			continue;
		p->targets = xrealloc(p->targets, (p->ntargets + 1) * sizeof *p->targets);
		p->targets[p->ntargets++] = t[i];
	}
}

/* The envelope's recipients: each local (its accounts), remote, or
 * invalid (RFC 8621 7.5 invalidRecipients). 0, 1 with *err_r, -1. */
static int route(struct jmap_mail_req *req, struct jmap_subm_plan *p, json_t **err_r, const char **error_r)
{
	json_t *bad = json_array(), *a;
	size_t i;

	p->local = json_array();
	p->remote = json_array();
	json_array_foreach(json_object_get(p->envelope, "rcptTo"), i, a) {
		const char *e = json_string_value(json_object_get(a, "email")), *ignored = NULL;
		char norm[EVM_ADDRESS_MAX + 1];
		struct deliver_target *t = NULL;
		size_t n = 0;
		enum deliver_rcpt_status st;

		if (evm_address_normalize(e, norm, &ignored) < 0) {
			json_array_append_new(bad, json_string(e));
			continue;
		}
		p->smtputf8 |= is_8bit(norm);
		st = deliver_resolve(req->node->view, norm, &t, &n);
		if (st == RCPT_OK) {
			add_targets(p, t, n);
			json_array_append_new(p->local, json_string(norm));
		} else if (st == RCPT_NOT_LOCAL) {
			json_array_append_new(p->remote, json_string(norm));
		} else if (st == RCPT_TEMPFAIL) {
			free(t);
			json_decref(bad);
			*error_r = "a recipient could not be looked up";
			return -1;
		} else {
			json_array_append_new(bad, json_string(e));
		}
		free(t);
	}
	if (json_array_size(bad) > 0) {
		*err_r = jmap_set_error("invalidRecipients", "these recipients do not exist or cannot receive mail",
					NULL);
		json_object_set_new(*err_r, "invalidRecipients", bad);
		return 1;
	}
	json_decref(bad);
	return 0;
}

/* The sender: the account may send (forbiddenToSend), as the envelope's
 * mailFrom (forbiddenMailFrom) and as the From: field (forbiddenFrom),
 * the rules of SMTP submission (submit.h). 0, 1 with *err_r, -1. */
static int sender(struct jmap_mail_req *req, struct jmap_subm_plan *p, json_t **err_r, const char **error_r)
{
	struct submit_lookups l;
	json_t *acct = NULL;
	const char *ignored = NULL, *mf = json_string_value(json_object_get(json_object_get(p->envelope, "mailFrom"),
									     "email")), *reply, *st;
	int r, temp = 0;

	if ((r = directory_account_get(req->node->view, req->address, &acct, error_r)) < 0)
		return -1;
	st = json_string_value(json_object_get(acct, "state"));
	r = r == 1 && st != NULL && strcmp(st, "active") == 0;
	json_decref(acct);
	if (!r) {
		*err_r = jmap_set_error("forbiddenToSend", "the account may not send mail now", NULL);
		return 1;
	}
	submit_node_lookups(req->node, &l);
	/* The null reverse path is the system's, never a user's (as in SMTP
	 * submission). */
	if (mf == NULL || mf[0] == '\0' || evm_address_normalize(mf, p->mail_from, &ignored) < 0 ||
	    (r = l.sender_allowed(l.ctx, req->address, p->mail_from)) == 0) {
		*err_r = jmap_set_error("forbiddenMailFrom", "the account may not use this envelope sender", NULL);
		return 1;
	}
	if (r < 0) {
		*error_r = "the sender could not be looked up";
		return -1;
	}
	p->smtputf8 |= is_8bit(p->mail_from);
	if ((reply = submit_check_from(&l, req->address, p->data, p->hlen, &p->from_domain, &temp)) != NULL) {
		if (temp) {
			*error_r = "the From: field could not be checked";
			return -1;
		}
		/* The SMTP reply's text, past "553 5.7.1 ". */
		*err_r = jmap_set_error("forbiddenFrom", strlen(reply) > 10 ? reply + 10 : reply, NULL);
		return 1;
	}
	return 0;
}

/* The creation's properties, identity and email (invalidProperties). */
static int properties(struct jmap_call *call, json_t *obj, struct jmap_subm_plan *p, json_t **identity_r,
		      json_t **err_r, const char **error_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *k, *id;
	json_t *v;
	int64_t received;
	int r;

	json_object_foreach(obj, k, v)
		if (!known(k)) {
			*err_r = invalid(k, "not a property a client sets (RFC 8621 7)");
			return 1;
		}
	v = json_object_get(obj, "undoStatus");
	if (v != NULL && !(json_is_string(v) && strcmp(json_string_value(v), "final") == 0)) {
		*err_r = invalid("undoStatus", "mail is sent at once here (maxDelayedSend 0): only \"final\"");
		return 1;
	}
	if (!json_is_string(json_object_get(obj, "identityId")) ||
	    !jmap_call_resolve_id(call, json_string_value(json_object_get(obj, "identityId")), &id) ||
	    (r = jmap_identity_find(req, id, identity_r, error_r)) == 0) {
		*err_r = invalid("identityId", "not an identity of this account");
		return 1;
	}
	if (r < 0)
		return -1;
	snprintf(p->identity_id, sizeof p->identity_id, "%s", id);
	if (!json_is_string(json_object_get(obj, "emailId")) ||
	    !jmap_call_resolve_id(call, json_string_value(json_object_get(obj, "emailId")), &id) ||
	    strlen(id) != 32 ||
	    (r = mail_jmap_email_thread(req->node->view, req->address, id, p->thread_id, &received, error_r)) == 0) {
		*err_r = invalid("emailId", "not an email of this account");
		return 1;
	}
	if (r < 0)
		return -1;
	snprintf(p->email_id, sizeof p->email_id, "%s", id);
	return 0;
}

int jmap_subm_plan(struct jmap_call *call, json_t *obj, struct jmap_subm_plan *p, json_t **err_r,
		   const char **error_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const struct evm_config *cfg = req->node->cfg;
	json_t *identity = NULL, *summary = NULL;
	size_t max_rcpts = cfg->limits_recipients > 0 && cfg->limits_recipients < MAIL_SUBMISSION_RCPTS_MAX ?
				   (size_t)cfg->limits_recipients : MAIL_SUBMISSION_RCPTS_MAX;
	char blob_id[JMAP_BLOB_ID_MAX], *type = NULL;
	int r;

	memset(p, 0, sizeof *p);
	*err_r = NULL;
	if ((r = properties(call, obj, p, &identity, err_r, error_r)) != 0)
		goto out;
	snprintf(blob_id, sizeof blob_id, "m%s", p->email_id);
	if ((r = jmap_blob_read(req->node, req->address, blob_id, &p->data, &p->len, &type, error_r)) <= 0 ||
	    (r = mail_summary_get(req->node->view, req->address, p->email_id, &summary, error_r)) <= 0) {
		if (r == 0)
			*err_r = invalid("emailId", "the email's message is not readable on this node yet");
		r = r == 0 ? 1 : -1;
		goto out;
	}
	r = 1;
	if (cfg->limits_message_size > 0 && p->len > (size_t)cfg->limits_message_size) {
		*err_r = jmap_set_error("tooLarge", "the message is larger than this server sends", NULL);
		json_object_set_new(*err_r, "maxSize", json_integer(cfg->limits_message_size));
		goto out;
	}
	p->hlen = submit_header_len(p->data, p->len);
	/* RFC 5322 3.6: one From: field, at least one address in it. */
	if (submit_count_fields(p->data, p->hlen, "From") != 1 ||
	    json_array_size(json_object_get(json_object_get(summary, "headers"), "from")) == 0) {
		*err_r = jmap_set_error("invalidEmail", "the message needs exactly one From: header field",
					json_pack("[s]", "from"));
		goto out;
	}
	p->smtputf8 = submit_has_8bit(p->data, p->hlen);
	if (envelope_of(json_object_get(obj, "envelope"), json_string_value(json_object_get(identity, "email")),
			summary, &p->envelope, err_r) != 0)
		goto out;
	if (json_array_size(json_object_get(p->envelope, "rcptTo")) == 0) {
		*err_r = jmap_set_error("noRecipients", "the envelope has no recipient", NULL);
		goto out;
	}
	if (json_array_size(json_object_get(p->envelope, "rcptTo")) > max_rcpts) {
		*err_r = jmap_set_error("tooManyRecipients", "more recipients than this server sends to at once",
					NULL);
		json_object_set_new(*err_r, "maxRecipients", json_integer((json_int_t)max_rcpts));
		goto out;
	}
	if ((r = sender(req, p, err_r, error_r)) != 0 || (r = route(req, p, err_r, error_r)) != 0)
		goto out;
	r = 0;
out:
	free(type);
	json_decref(identity);
	json_decref(summary);
	return r;
}

void jmap_subm_plan_free(struct jmap_subm_plan *p)
{
	free(p->data);
	free(p->from_domain);
	free(p->targets);
	json_decref(p->envelope);
	json_decref(p->local);
	json_decref(p->remote);
	memset(p, 0, sizeof *p);
}
