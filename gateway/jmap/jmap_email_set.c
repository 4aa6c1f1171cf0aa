/* jmap_email_set - Email/set (RFC 8621 4.6) as the events IMAP uses
 * (projector/mail.h), so IMAP sees every change as its own:
 *   keywords, whole or "keywords/<kw>"   message.store on every copy
 *                                        (set / add / remove);
 *   mailboxIds, whole or "mailboxIds/<id>" message.copy into each added
 *                                        mailbox, message.expunge of the
 *                                        copies in each removed one; one
 *                                        in and one out is message.move;
 *   destroy                              message.expunge of every copy;
 *   create                               jmap_email_create.c.
 * Keywords change first, so copies made after carry them. An email is
 * its content (one email id): its copies are where eloc/ says
 * (projector/mail_jmap.h). Every other property is immutable: setting it
 * is invalidProperties.
 *
 * In an account shared by ACL (jmap_shared.h) only the copies in the
 * shared mailboxes exist, and each change needs its RFC 4314 rights on
 * every mailbox it touches (forbidden otherwise), checked here and again
 * by the owner's projector ("as", projector/mail_acl.h): keywords s for
 * $seen and w for any other (a whole keywords object is a "set" store:
 * s, w and t); adding to a mailbox i; removing from one and destroy t
 * and e; creating i on each mailbox and the keywords' rights
 * (jmap_shared_may_append). */
#include "gateway/jmap/jmap_email_create.h"
#include "gateway/jmap/jmap_email_patch.h"
#include "gateway/jmap/jmap_email_set_private.h"
#include "gateway/jmap/jmap_keywords.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_set_methods.h"
#include "gateway/jmap/jmap_set_run.h"
#include "gateway/jmap/jmap_shared.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail.h"
#include "projector/mail_acl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *ev(const char *type, json_t *data)
{
	return json_pack("[s,o]", type, data);
}

/* UIDs as [[lo, hi]...] ranges. */
static json_t *ranges(const json_t *uids)
{
	json_t *out = json_array();
	size_t i = 0, n = json_array_size(uids);

	while (i < n) {
		json_int_t lo = json_integer_value(json_array_get(uids, i)), hi = lo;

		while (i + 1 < n && json_integer_value(json_array_get(uids, i + 1)) == hi + 1)
			hi = json_integer_value(json_array_get(uids, ++i));
		json_array_append_new(out, json_pack("[I,I]", lo, hi));
		i++;
	}
	return out;
}

/* The copies of an email in the run's account, only those in its shared
 * mailboxes in a shared one: mailbox id -> [uid...] (in UID order). 1, 0
 * when it has none (unknown), -1 on a view error. */
static int copies_of(struct jmap_setrun *sr, const char *email_id, json_t **by_mbox_r, const char **error_r)
{
	struct jmap_call *call = jmap_setrun_call(sr);
	const json_t *scope = jmap_eset_scope(sr);
	json_t *locs = json_array(), *l, *by = json_object();
	size_t i;
	int r = mail_jmap_email_locations(jmap_mail_req(call)->node->view, jmap_mail_address(call), email_id, locs,
					  error_r);

	json_array_foreach(locs, i, l) {
		const char *mb = json_string_value(json_array_get(l, 0));

		if (scope != NULL && json_object_get(scope, mb) == NULL)
			continue;
		if (json_object_get(by, mb) == NULL)
			json_object_set_new(by, mb, json_array());
		json_array_append(json_object_get(by, mb), json_array_get(l, 1));
	}
	json_decref(locs);
	*by_mbox_r = by;
	return r < 0 ? -1 : json_object_size(by) > 0;
}

static void fail(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, const char *type,
		 const char *desc, const char *prop)
{
	jmap_setrun_fail(sr, op, key, jmap_set_error(type, desc, prop != NULL ? json_pack("[s]", prop) : NULL));
}

static int has_str(const json_t *arr, const char *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), s) == 0)
			return 1;
	return 0;
}

/* Keyword events on the current copies. A whole Keywords object is a
 * "set" that keeps each copy's \Deleted (JMAP has no keyword for it). */
static int keyword_events(struct jmap_call *call, const struct jmap_email_patch *e, json_t *copies, json_t *events,
			  const char **error_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *mb;
	json_t *uids, *u;
	size_t i;

	json_object_foreach(copies, mb, uids) {
		if (e->kw_whole != NULL) {
			json_t *plain = json_array(), *deleted = json_array(), *msg;

			json_array_foreach(uids, i, u) {
				int r = mail_message_get(req->node->view, jmap_mail_address(call), mb,
							 (uint32_t)json_integer_value(u), &msg, error_r);

				if (r < 0) {
					json_decref(plain);
					json_decref(deleted);
					return -1;
				}
				json_array_append(r > 0 && has_str(json_object_get(msg, "flags"), "\\Deleted") ? deleted : plain, u);
				json_decref(msg);
			}
			if (json_array_size(plain) > 0)
				json_array_append_new(events, ev("message.store", json_pack("{s:s, s:o, s:s, s:O}", "mailbox_id",
											 mb, "uids", ranges(plain), "action", "set", "flags", e->kw_whole)));
			if (json_array_size(deleted) > 0) {
				json_t *f = json_deep_copy(e->kw_whole);

				json_array_append_new(f, json_string("\\Deleted"));
				json_array_append_new(events, ev("message.store", json_pack("{s:s, s:o, s:s, s:o}", "mailbox_id",
											 mb, "uids", ranges(deleted), "action", "set", "flags", f)));
			}
			json_decref(plain);
			json_decref(deleted);
			continue;
		}
		if (json_array_size(e->kw_add) > 0)
			json_array_append_new(events, ev("message.store", json_pack("{s:s, s:o, s:s, s:O}", "mailbox_id", mb,
										 "uids", ranges(uids), "action", "add", "flags", e->kw_add)));
		if (json_array_size(e->kw_remove) > 0)
			json_array_append_new(events, ev("message.store", json_pack("{s:s, s:o, s:s, s:O}", "mailbox_id", mb,
										 "uids", ranges(uids), "action", "remove", "flags", e->kw_remove)));
	}
	return 0;
}

/* The copy new copies are made from (they take its flags): one without
 * \Deleted (which JMAP cannot see, so must not spread), in a mailbox it
 * stays in when there is one. 0, or -1 on a view error. */
static int source_copy(struct jmap_call *call, json_t *copies, json_t *target, const char **mb_r,
		       json_int_t *uid_r, const char **error_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	int best = -1;
	const char *mb;
	json_t *uids, *u, *msg;
	size_t i;

	json_object_foreach(copies, mb, uids) {
		json_array_foreach(uids, i, u) {
			int r = mail_message_get(req->node->view, jmap_mail_address(call), mb,
						 (uint32_t)json_integer_value(u), &msg, error_r);
			int score;

			if (r < 0)
				return -1;
			score = (r > 0 && !has_str(json_object_get(msg, "flags"), "\\Deleted") ? 2 : 0) + has_str(target, mb);
			json_decref(msg);
			if (score > best) {
				best = score;
				*mb_r = mb;
				*uid_r = json_integer_value(u);
			}
		}
	}
	return 0;
}

/* Copies into added mailboxes, then expunges from removed ones; one in
 * and one out is a move (RFC 6851 semantics, one event). 0, -1 after
 * recording the SetError, -2 on a view error (*error_r). */
static int mailbox_events(struct jmap_setrun *sr, const char *id, const struct jmap_email_patch *e, json_t *copies,
			  json_t *events, const char **error_r)
{
	struct jmap_call *call = jmap_setrun_call(sr);
	json_t *target = json_array(), *added = json_array(), *removed = json_array(), *v;
	const char *mb, *src_mb = NULL;
	json_int_t src_uid = 0;
	json_t *uids;
	size_t i;

	if (e->mb_whole != NULL) {
		json_array_extend(target, e->mb_whole);
	} else {
		json_object_foreach(copies, mb, uids)
			if (!has_str(e->mb_remove, mb))
				json_array_append_new(target, json_string(mb));
		json_array_foreach(e->mb_add, i, v)
			if (!has_str(target, json_string_value(v)))
				json_array_append(target, v);
	}
	/* RFC 8621 4.1.1: an email is in at least one mailbox. */
	if (json_array_size(target) == 0) {
		fail(sr, JMAP_OP_UPDATE, id, "invalidProperties", "an email must stay in at least one mailbox",
		     "mailboxIds");
		json_decref(target);
		json_decref(added);
		json_decref(removed);
		return -1;
	}
	json_array_foreach(target, i, v)
		if (json_object_get(copies, json_string_value(v)) == NULL && !has_str(added, json_string_value(v)))
			json_array_append(added, v);
	json_object_foreach(copies, mb, uids)
		if (!has_str(target, mb))
			json_array_append_new(removed, json_string(mb));
	if (jmap_eset_rights_refused(sr, id, added, removed)) {
		json_decref(target);
		json_decref(added);
		json_decref(removed);
		return -1;
	}
	if (json_array_size(added) == 1 && json_array_size(removed) == 1) {
		const char *from = json_string_value(json_array_get(removed, 0));
		json_t *from_uids = json_object_get(copies, from);
		json_int_t uid = json_integer_value(json_array_get(from_uids, 0));

		json_array_append_new(events, ev("message.move", json_pack("{s:s, s:[[I,I]], s:O}", "mailbox_id", from,
									     "uids", uid, uid, "to_mailbox_id",
									     json_array_get(added, 0))));
		if (json_array_size(from_uids) > 1) {
			json_t *rest = json_array();

			for (i = 1; i < json_array_size(from_uids); i++)
				json_array_append(rest, json_array_get(from_uids, i));
			json_array_append_new(events, ev("message.expunge", json_pack("{s:s, s:o}", "mailbox_id", from,
										     "uids", ranges(rest))));
			json_decref(rest);
		}
	} else {
		if (json_array_size(added) > 0 && source_copy(call, copies, target, &src_mb, &src_uid, error_r) < 0) {
			json_decref(target);
			json_decref(added);
			json_decref(removed);
			return -2;
		}
		json_array_foreach(added, i, v)
			json_array_append_new(events, ev("message.copy", json_pack("{s:s, s:[[I,I]], s:O}", "mailbox_id", src_mb,
										     "uids", src_uid, src_uid, "to_mailbox_id", v)));
		json_array_foreach(removed, i, v)
			json_array_append_new(events, ev("message.expunge", json_pack("{s:O, s:o}", "mailbox_id", v, "uids",
										     ranges(json_object_get(copies, json_string_value(v))))));
	}
	json_decref(target);
	json_decref(added);
	json_decref(removed);
	return 0;
}

static int plan_update(struct jmap_setrun *sr, const char *id, json_t *patch, struct jmap_set_plan *p)
{
	struct jmap_call *call = jmap_setrun_call(sr);
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_email_patch e;
	json_t *copies = NULL;
	const char *error = NULL;
	int r, ret = -1;

	if ((r = copies_of(sr, id, &copies, &error)) <= 0) {
		json_decref(copies);
		if (r < 0)
			log_error("jmap: Email/set for %s: %s", req->address, error);
		fail(sr, JMAP_OP_UPDATE, id, r < 0 ? "serverFail" : "notFound", NULL, NULL);
		return -1;
	}
	if (jmap_email_patch_parse(sr, id, patch, &e) < 0)
		goto out;
	if (!jmap_eset_allowed(sr, JMAP_OP_UPDATE, id, copies, jmap_eset_keyword_rights(&e)))
		goto out;
	p->events = json_array();
	if (keyword_events(call, &e, copies, p->events, &error) < 0) {
		log_error("jmap: Email/set for %s: %s", req->address, error);
		fail(sr, JMAP_OP_UPDATE, id, "serverFail", NULL, NULL);
		goto out;
	}
	if (e.mb_whole != NULL || json_array_size(e.mb_add) + json_array_size(e.mb_remove) > 0) {
		if ((r = mailbox_events(sr, id, &e, copies, p->events, &error)) == -2) {
			log_error("jmap: Email/set for %s: %s", req->address, error);
			fail(sr, JMAP_OP_UPDATE, id, "serverFail", NULL, NULL);
		}
		if (r < 0)
			goto out;
	}
	ret = 0;
out:
	jmap_email_patch_free(&e);
	json_decref(copies);
	return ret;
}

static int plan_destroy(struct jmap_setrun *sr, const char *id, struct jmap_set_plan *p)
{
	struct jmap_mail_req *req = jmap_mail_req(jmap_setrun_call(sr));
	json_t *copies = NULL, *uids;
	const char *error = NULL, *mb;
	int r;

	if ((r = copies_of(sr, id, &copies, &error)) <= 0) {
		json_decref(copies);
		if (r < 0)
			log_error("jmap: Email/set for %s: %s", req->address, error);
		fail(sr, JMAP_OP_DESTROY, id, r < 0 ? "serverFail" : "notFound", NULL, NULL);
		return -1;
	}
	/* Only the shared copies go; each needs t and e. */
	if (!jmap_eset_allowed(sr, JMAP_OP_DESTROY, id, copies, MAIL_R_DELMSG | MAIL_R_EXPUNGE)) {
		json_decref(copies);
		return -1;
	}
	p->events = json_array();
	json_object_foreach(copies, mb, uids)
		json_array_append_new(p->events, ev("message.expunge", json_pack("{s:s, s:o}", "mailbox_id", mb, "uids",
										  ranges(uids))));
	json_decref(copies);
	return 0;
}

static int eset_plan(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *value,
		     struct jmap_set_plan *p)
{
	if (op == JMAP_OP_CREATE)
		return jmap_email_create_plan(sr, key, value, p);
	return op == JMAP_OP_UPDATE ? plan_update(sr, key, value, p) : plan_destroy(sr, key, p);
}

static void eset_done(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, const struct jmap_set_plan *p,
		      json_t *results)
{
	if (op == JMAP_OP_CREATE)
		jmap_email_create_done(sr, key, p, results);
	else if (op == JMAP_OP_UPDATE)
		jmap_set_updated(jmap_setrun_result(sr), key, NULL);
	else
		jmap_set_destroyed(jmap_setrun_result(sr), key);
}

/* The store's refusals as RFC 8621 4.6 names them. */
static json_t *eset_rejected(struct jmap_setrun *sr, enum jmap_set_op op, const char *code)
{
	(void)sr;
	if (strcmp(code, "quota") == 0)
		return jmap_set_error("overQuota", NULL, NULL);
	if (strcmp(code, "not-found") == 0)
		return op == JMAP_OP_DESTROY ? jmap_set_error("notFound", NULL, NULL) :
		       jmap_set_error("invalidProperties", "a mailbox is gone", json_pack("[s]", "mailboxIds"));
	if (strcmp(code, "conflict") == 0)
		return jmap_set_error("overQuota", "the mailbox holds as many messages as it can", NULL);
	return NULL;
}

static const struct jmap_set_ops eset_ops = {
	.type = MAIL_J_EMAIL,
	.plan = eset_plan,
	.done = eset_done,
	.rejected = eset_rejected,
	.free_ctx = jmap_eset_ctx_free,
};

void jmap_email_set(struct jmap_call *call, json_t *args, void *ctx)
{
	const struct jmap_account *acct;
	struct jmap_set_args a;
	struct eset_ctx *c;
	json_t *scope = NULL;
	char state[JMAP_STATE_MAX];

	(void)ctx;
	/* The account first: the state and the scope are the target's. */
	if (jmap_arg_account(call, args, "accountId", JMAP_WRITE, &acct) < 0 ||
	    jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 || jmap_shared_scope(call, &scope) < 0)
		return;
	if (jmap_set_args_parse(call, args, state, &a) < 0) {
		json_decref(scope);
		return;
	}
	c = xcalloc(1, sizeof *c);
	c->scope = scope;
	jmap_setrun_start(call, &eset_ops, c, &a, state, NULL);
}

/* Email/set's ops, answering under "Email/set" after another method. */
static const struct jmap_set_ops eset_implicit_ops = {
	.type = MAIL_J_EMAIL,
	.plan = eset_plan,
	.done = eset_done,
	.rejected = eset_rejected,
	.free_ctx = jmap_eset_ctx_free,
	.response_name = "Email/set",
};

void jmap_email_set_implicit(struct jmap_call *call, const struct jmap_account *account, json_t *update,
			     json_t *destroy)
{
	struct jmap_set_args a = { .account = account, .create = NULL, .update = update, .destroy = destroy };
	struct eset_ctx *c;
	json_t *scope = NULL;
	char state[JMAP_STATE_MAX];

	if (jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 || jmap_shared_scope(call, &scope) < 0) {
		json_decref(update);
		json_decref(destroy);
		return;
	}
	/* The run frees destroy with the arguments, update (borrowed by
	 * them) with its context. */
	c = xcalloc(1, sizeof *c);
	c->scope = scope;
	c->update = update;
	jmap_setrun_start(call, &eset_implicit_ops, c, &a, state, NULL);
}

void jmap_mail_set_register(struct jmap_api *api)
{
	jmap_method_register(api, "Mailbox/set", JMAP_CAP_MAIL, jmap_mailbox_set, NULL);
	jmap_method_register(api, "Mailbox/query", JMAP_CAP_MAIL, jmap_mailbox_query, NULL);
	jmap_method_register(api, "Mailbox/queryChanges", JMAP_CAP_MAIL, jmap_mailbox_query_changes, NULL);
	jmap_method_register(api, "Email/set", JMAP_CAP_MAIL, jmap_email_set, NULL);
	jmap_method_register(api, "Email/copy", JMAP_CAP_MAIL, jmap_email_copy, NULL);
}

