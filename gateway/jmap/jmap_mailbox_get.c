/* jmap_mailbox_get - Mailbox/get (RFC 8621 2.1) and Mailbox/changes
 * (2.2) from the view. IMAP names are paths with '/'; a JMAP mailbox's
 * name is the part below its nearest existing ancestor, its parentId that
 * ancestor's id. */
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_std.h"
#include "common/log.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

static const char *const mailbox_props[] = {
	"id", "name", "parentId", "role", "sortOrder", "totalEmails", "unreadEmails", "totalThreads",
	"unreadThreads", "myRights", "isSubscribed", NULL,
};

/* RFC 8621 2: roles from the IANA registry (RFC 8457 special-use). */
static json_t *role_of(json_t *mbox)
{
	const char *su = json_string_value(json_object_get(mbox, "special_use"));
	const char *name = json_string_value(json_object_get(mbox, "name"));
	char role[32];
	size_t i;

	if (name != NULL && strcmp(name, "INBOX") == 0)
		return json_string("inbox");
	if (su == NULL || su[0] != '\\' || strlen(su) >= sizeof role)
		return json_null();
	for (i = 0; su[i + 1]; i++)
		role[i] = (char)(su[i + 1] >= 'A' && su[i + 1] <= 'Z' ? su[i + 1] + 32 : su[i + 1]);
	role[i] = '\0';
	return json_string(role);
}

static int has(json_t *props, const char *name)
{
	json_t *p;
	size_t i;

	if (props == NULL)
		return 1;
	json_array_foreach(props, i, p)
		if (strcmp(json_string_value(p), name) == 0)
			return 1;
	return 0;
}

/* Email and thread counts of one mailbox (RFC 8621 2): an email counts
 * once however many copies it has there; unread = neither $seen nor
 * $draft. */
struct counts {
	json_int_t emails, unread_emails, threads, unread_threads;
};

static int count_mailbox(struct jmap_mail_req *req, const char *address, const char *mailbox_id,
			 struct counts *c, const char **error_r)
{
	json_t *msgs = NULL, *emails = json_object(), *threads = json_object(), *m;
	size_t i;
	int ret = -1;

	memset(c, 0, sizeof *c);
	if (mail_messages(req->node->view, address, mailbox_id, 0, &msgs, error_r) < 0)
		goto out;
	json_array_foreach(msgs, i, m) {
		const char *eid = json_string_value(json_object_get(m, "email_id"));
		json_t *flags = json_object_get(m, "flags"), *f;
		int unread = 1, seen_thread;
		char tid[33];
		int64_t rcv;
		size_t k;
		int r;

		if (eid == NULL || json_object_get(emails, eid) != NULL)
			continue;
		json_array_foreach(flags, k, f) {
			const char *s = json_string_value(f);

			if (s != NULL && (strcmp(s, "\\Seen") == 0 || strcmp(s, "\\Draft") == 0))
				unread = 0;
		}
		json_object_set_new(emails, eid, json_true());
		c->emails++;
		c->unread_emails += unread;
		if ((r = mail_jmap_email_thread(req->node->view, address, eid, tid, &rcv, error_r)) < 0)
			goto out;
		if (r == 0)
			continue;
		seen_thread = json_object_get(threads, tid) != NULL;
		if (!seen_thread) {
			c->threads++;
			json_object_set_new(threads, tid, json_false());
		}
		/* A thread is unread when any of its emails here is. */
		if (unread && !json_is_true(json_object_get(threads, tid))) {
			c->unread_threads++;
			json_object_set_new(threads, tid, json_true());
		}
	}
	ret = 0;
out:
	json_decref(msgs);
	json_decref(emails);
	json_decref(threads);
	return ret;
}

/* The nearest existing ancestor of a path: its id into parent (or "" at
 * the top), and where the JMAP name starts in the path. */
static size_t parent_of(json_t *by_name, const char *path, char parent[33])
{
	char buf[MAIL_MAILBOX_NAME_MAX + 1];
	char *slash;

	parent[0] = '\0';
	snprintf(buf, sizeof buf, "%s", path);
	while ((slash = strrchr(buf, '/')) != NULL) {
		const char *id;

		*slash = '\0';
		if ((id = json_string_value(json_object_get(by_name, buf))) != NULL) {
			snprintf(parent, 33, "%s", id);
			return strlen(buf) + 1;
		}
	}
	return 0;
}

static json_t *rights(int inbox)
{
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "mayReadItems", 1, "mayAddItems", 1,
			 "mayRemoveItems", 1, "maySetSeen", 1, "maySetKeywords", 1, "mayCreateChild", 1,
			 "mayRename", !inbox, "mayDelete", !inbox, "maySubmit", 1);
}

/* scope: a shared account's (jmap_shared_scope), or NULL. */
static int render(struct jmap_call *call, json_t *scope, json_t *mbox, json_t *by_name, json_t *subs,
		  json_t *props, json_t **out_r, const char **error_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *id = json_string_value(json_object_get(mbox, "id"));
	const char *path = json_string_value(json_object_get(mbox, "name"));
	json_t *o = json_object(), *s;
	char parent[33];
	size_t start = parent_of(by_name, path, parent), i;
	int subscribed = 0;

	/* RFC 8621 2: a mailbox the user cannot see is left out, and the
	 * parentId of a visible child of an invisible parent is null. */
	if (scope != NULL && parent[0] && json_object_get(scope, parent) == NULL)
		parent[0] = '\0';
	json_object_set_new(o, "id", json_string(id));
	if (has(props, "name"))
		json_object_set_new(o, "name", json_string(path + start));
	if (has(props, "parentId"))
		json_object_set_new(o, "parentId", parent[0] ? json_string(parent) : json_null());
	if (has(props, "role"))
		json_object_set_new(o, "role", role_of(mbox));
	if (has(props, "sortOrder"))
		json_object_set_new(o, "sortOrder",
				    json_integer(json_integer_value(json_object_get(mbox, "sort_order"))));
	if (has(props, "totalEmails") || has(props, "unreadEmails") || has(props, "totalThreads") ||
	    has(props, "unreadThreads")) {
		struct counts c;

		if (count_mailbox(req, jmap_mail_address(call), id, &c, error_r) < 0) {
			json_decref(o);
			return -1;
		}
		if (has(props, "totalEmails"))
			json_object_set_new(o, "totalEmails", json_integer(c.emails));
		if (has(props, "unreadEmails"))
			json_object_set_new(o, "unreadEmails", json_integer(c.unread_emails));
		if (has(props, "totalThreads"))
			json_object_set_new(o, "totalThreads", json_integer(c.threads));
		if (has(props, "unreadThreads"))
			json_object_set_new(o, "unreadThreads", json_integer(c.unread_threads));
	}
	if (has(props, "myRights") && scope != NULL)
		json_object_set_new(o, "myRights",
				    jmap_shared_rights((unsigned)json_integer_value(json_object_get(scope, id))));
	else if (has(props, "myRights"))
		json_object_set_new(o, "myRights", rights(strcmp(path, "INBOX") == 0));
	/* The owner's subscriptions are not the sharee's. */
	json_array_foreach(subs, i, s)
		if (scope == NULL && strcmp(json_string_value(s), path) == 0)
			subscribed = 1;
	if (has(props, "isSubscribed"))
		json_object_set_new(o, "isSubscribed", json_boolean(subscribed));
	*out_r = o;
	return 0;
}

static void mailbox_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_get_args a;
	json_t *all = NULL, *subs = NULL, *by_name = json_object(), *by_id = json_object();
	json_t *list = json_array(), *not_found = json_array(), *scope = NULL, *m, *v;
	char state[JMAP_STATE_MAX];
	const char *error = NULL;
	size_t i;

	(void)ctx;
	if (jmap_get_args_parse(call, args, mailbox_props, &a) < 0)
		goto out_noargs;
	if (jmap_mail_state(call, MAIL_J_MAILBOX, state) < 0 || jmap_shared_scope(call, &scope) < 0)
		goto out;
	if (mail_mailboxes(req->node->view, jmap_mail_address(call), &all, &error) < 0 ||
	    mail_subscriptions(req->node->view, jmap_mail_address(call), &subs, &error) < 0)
		goto fail;
	json_array_foreach(all, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));

		json_object_set(by_name, json_string_value(json_object_get(m, "name")),
				json_object_get(m, "id"));
		if (scope == NULL || json_object_get(scope, id) != NULL)
			json_object_set(by_id, id, m);
	}
	if (a.ids == NULL) {
		json_array_foreach(all, i, m) {
			json_t *o;

			if (json_object_get(by_id, json_string_value(json_object_get(m, "id"))) == NULL)
				continue;
			if (render(call, scope, m, by_name, subs, a.properties, &o, &error) < 0)
				goto fail;
			json_array_append_new(list, o);
		}
	} else {
		json_array_foreach(a.ids, i, v) {
			json_t *o;

			if ((m = json_object_get(by_id, json_string_value(v))) == NULL) {
				json_array_append(not_found, v);
				continue;
			}
			if (render(call, scope, m, by_name, subs, a.properties, &o, &error) < 0)
				goto fail;
			json_array_append_new(list, o);
		}
	}
	jmap_call_reply(call, jmap_get_response(a.account->id, state, list, not_found));
	list = not_found = NULL;
	goto out;
fail:
	log_error("jmap: Mailbox/get for %s: %s", req->address, error ? error : "?");
	jmap_call_error(call, "serverFail", "the view cannot be read");
out:
	jmap_get_args_free(&a);
out_noargs:
	json_decref(scope);
	json_decref(all);
	json_decref(subs);
	json_decref(by_name);
	json_decref(by_id);
	json_decref(list);
	json_decref(not_found);
}

static void mailbox_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	(void)ctx;
	jmap_mail_changes(call, args, MAIL_J_MAILBOX);
}

static const char *const thread_props[] = { "id", "emailIds", NULL };

/* Thread/get (RFC 8621 3.1): ids are required in practice; a request for
 * every thread is larger than we answer. */
static void thread_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_get_args a;
	json_t *list = json_array(), *not_found = json_array(), *v, *scope = NULL;
	char state[JMAP_STATE_MAX];
	const char *error = NULL;
	size_t i;

	(void)ctx;
	if (jmap_get_args_parse(call, args, thread_props, &a) < 0)
		goto out_noargs;
	if (a.ids == NULL) {
		jmap_call_error(call, "requestTooLarge", "give the ids of the threads");
		goto out;
	}
	if (jmap_mail_state(call, MAIL_J_THREAD, state) < 0 || jmap_shared_scope(call, &scope) < 0)
		goto out;
	json_array_foreach(a.ids, i, v) {
		json_t *ids = json_array();
		const char *owner = jmap_mail_address(call);
		int r = mail_jmap_thread_emails(req->node->view, owner, json_string_value(v), ids, &error);

		/* In a shared account a thread is its emails in shared mailboxes. */
		if (r > 0 && jmap_shared_filter_emails(req->node->view, owner, scope, ids, &error) < 0)
			r = -1;
		if (r > 0 && json_array_size(ids) == 0)
			r = 0;
		if (r < 0) {
			json_decref(ids);
			log_error("jmap: Thread/get for %s: %s", req->address, error);
			jmap_call_error(call, "serverFail", "the view cannot be read");
			goto out;
		}
		if (r == 0) {
			json_decref(ids);
			json_array_append(not_found, v);
			continue;
		}
		json_array_append_new(list, json_pack("{s:O, s:o}", "id", v, "emailIds", ids));
	}
	jmap_call_reply(call, jmap_get_response(a.account->id, state, list, not_found));
	list = not_found = NULL;
out:
	json_decref(scope);
	jmap_get_args_free(&a);
out_noargs:
	json_decref(list);
	json_decref(not_found);
}

static void thread_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	(void)ctx;
	jmap_mail_changes(call, args, MAIL_J_THREAD);
}

static void email_changes(struct jmap_call *call, json_t *args, void *ctx)
{
	(void)ctx;
	jmap_mail_changes(call, args, MAIL_J_EMAIL);
}

void jmap_mailbox_register(struct jmap_api *api)
{
	jmap_method_register(api, "Mailbox/get", JMAP_CAP_MAIL, mailbox_get, NULL);
	jmap_method_register(api, "Mailbox/changes", JMAP_CAP_MAIL, mailbox_changes, NULL);
	jmap_method_register(api, "Thread/get", JMAP_CAP_MAIL, thread_get, NULL);
	jmap_method_register(api, "Thread/changes", JMAP_CAP_MAIL, thread_changes, NULL);
	jmap_method_register(api, "Email/changes", JMAP_CAP_MAIL, email_changes, NULL);
}
