/* jmap_mailbox_set - Mailbox/set (RFC 8621 2.5) as the events IMAP uses
 * (projector/mail.h): create = mailbox.create of the path parent/name
 * (role -> special use, isSubscribed -> mailbox.subscribe), update =
 * mailbox.rename for a new name or parent and mailbox.subscribe, destroy
 * = mailbox.delete (whose applier removes the mailbox's messages in the
 * same event, so onDestroyRemoveEmails needs no expunge before it: a
 * rejected delete leaves every message where it was).
 *
 * role and sortOrder (RFC 8621 2): on create, the role is mailbox.create's
 * special use and a sortOrder other than 0 a mailbox.update after it; on
 * update, both are one mailbox.update (role null clears the special use).
 * No two mailboxes have one role (RFC 8621 2: the applier decides when
 * two writers race); INBOX keeps "inbox". */
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_mailbox_tree.h"
#include "gateway/jmap/jmap_set_methods.h"
#include "gateway/jmap/jmap_set_run.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8621 1.3.1 maxSizeMailboxName, as jmap_mail.c advertises. */
#define MAILBOX_NAME_MAX 255

static const char *const settable[] = { "name", "parentId", "role", "sortOrder", "isSubscribed", NULL };
static const char *const server_set[] = { "id", "totalEmails", "unreadEmails", "totalThreads",
					  "unreadThreads", "myRights", NULL };

struct mbset {
	int remove_emails;      /* onDestroyRemoveEmails */
};

static int listed(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

static void invalid(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, const char *prop,
		    const char *why)
{
	jmap_setrun_fail(sr, op, key, jmap_set_error("invalidProperties", why, json_pack("[s]", prop)));
}

/* RFC 8621 2.1 name: not empty, at most maxSizeMailboxName octets, no
 * control characters; '/' is our hierarchy separator, so not in a name. */
static const char *name_problem(const char *name)
{
	if (name[0] == '\0')
		return "the name is empty";
	if (strlen(name) > MAILBOX_NAME_MAX)
		return "the name is longer than maxSizeMailboxName";
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return "the name has a control character";
		if (*p == '/')
			return "'/' separates the levels of the hierarchy: use parentId";
	}
	return NULL;
}

/* The path of name below parent (NULL: the top); -1 when too long. */
static int make_path(const struct jmap_mbox *parent, const char *name, char out[MAIL_MAILBOX_NAME_MAX + 1])
{
	int n = parent != NULL ? snprintf(out, MAIL_MAILBOX_NAME_MAX + 1, "%s/%s", parent->path, name) :
				 snprintf(out, MAIL_MAILBOX_NAME_MAX + 1, "%s", name);

	return n < 0 || n > MAIL_MAILBOX_NAME_MAX ? -1 : 0;
}

/* The parentId value v ("#cid" resolved): 0 with *parent_r (NULL for
 * null), -1 when it names no mailbox. */
static int parent_arg(struct jmap_setrun *sr, const struct jmap_mbox_tree *t, json_t *v,
		      const struct jmap_mbox **parent_r)
{
	const char *id;

	*parent_r = NULL;
	if (json_is_null(v))
		return 0;
	if (!json_is_string(v) || !jmap_call_resolve_id(jmap_setrun_call(sr), json_string_value(v), &id))
		return -1;
	*parent_r = jmap_mbox_by_id(t, id);
	return *parent_r != NULL ? 0 : -1;
}

static json_t *ev(const char *type, json_t *data)
{
	return json_pack("[s,o]", type, data);
}

static json_t *already_exists(const struct jmap_mbox *m)
{
	json_t *e = jmap_set_error("alreadyExists", "a mailbox of that name exists there", NULL);

	json_object_set_new(e, "existingId", json_string(m->id));
	return e;
}

/* Checks the properties common to create and update; 0, or -1 after
 * recording invalidProperties. */
static int check_props(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *obj,
		       const struct jmap_mbox *cur)
{
	const char *k;
	json_t *v, *sort = json_object_get(obj, "sortOrder"), *sub = json_object_get(obj, "isSubscribed");

	json_object_foreach(obj, k, v) {
		if (listed(settable, k))
			continue;
		/* RFC 8620 5.3: a server-set property may only be given with
		 * its current value; we check that for the id alone. */
		if (op == JMAP_OP_UPDATE && strcmp(k, "id") == 0 && json_is_string(v) &&
		    strcmp(json_string_value(v), cur->id) == 0)
			continue;
		invalid(sr, op, key, k, listed(server_set, k) ? "is set by the server" :
				 strchr(k, '/') != NULL ? "is no property of a Mailbox" : "is unknown");
		return -1;
	}
	/* RFC 8621 2 sortOrder: UnsignedInt; the store keeps 32 bits. */
	if (sort != NULL && !(json_is_integer(sort) && json_integer_value(sort) >= 0 &&
			      json_integer_value(sort) <= UINT32_MAX)) {
		invalid(sr, op, key, "sortOrder", "is not an UnsignedInt below 2^32");
		return -1;
	}
	if (sub != NULL && !json_is_boolean(sub)) {
		invalid(sr, op, key, "isSubscribed", "is not a Boolean");
		return -1;
	}
	v = json_object_get(obj, "name");
	if (v != NULL && (!json_is_string(v) || (op == JMAP_OP_CREATE && name_problem(json_string_value(v))) ||
			  (op == JMAP_OP_UPDATE && strcmp(json_string_value(v), cur->name) != 0 &&
			   name_problem(json_string_value(v))))) {
		invalid(sr, op, key, "name", json_is_string(v) ? name_problem(json_string_value(v)) :
								"is not a String");
		return -1;
	}
	return 0;
}

static int plan_create(struct jmap_setrun *sr, const char *cid, json_t *obj, struct jmap_set_plan *p,
		       const struct jmap_mbox_tree *t)
{
	json_t *role = json_object_get(obj, "role"), *name = json_object_get(obj, "name");
	const struct jmap_mbox *parent = NULL, *other;
	char path[MAIL_MAILBOX_NAME_MAX + 1], id[EVM_ID_HEX_LEN + 1];
	const char *su = "";

	if (check_props(sr, JMAP_OP_CREATE, cid, obj, NULL) < 0)
		return -1;
	if (name == NULL) {
		invalid(sr, JMAP_OP_CREATE, cid, "name", "is required");
		return -1;
	}
	if (json_object_get(obj, "parentId") != NULL &&
	    parent_arg(sr, t, json_object_get(obj, "parentId"), &parent) < 0) {
		invalid(sr, JMAP_OP_CREATE, cid, "parentId", "names no mailbox");
		return -1;
	}
	if (role != NULL && !json_is_null(role)) {
		if (!json_is_string(role) || (su = jmap_role_special_use(json_string_value(role))) == NULL) {
			invalid(sr, JMAP_OP_CREATE, cid, "role", "is not a role a mailbox can be given here");
			return -1;
		}
		/* RFC 8621 2.1: no two mailboxes have the same role. */
		if (jmap_mbox_by_role(t, json_string_value(role)) != NULL) {
			invalid(sr, JMAP_OP_CREATE, cid, "role", "another mailbox has that role");
			return -1;
		}
	}
	if (make_path(parent, json_string_value(name), path) < 0) {
		invalid(sr, JMAP_OP_CREATE, cid, "name", "the name with its parents is too long");
		return -1;
	}
	if ((other = jmap_mbox_by_path(t, path)) != NULL) {
		jmap_setrun_fail(sr, JMAP_OP_CREATE, cid, already_exists(other));
		return -1;
	}
	evm_random_id(id);
	p->events = json_array();
	json_array_append_new(p->events, ev("mailbox.create", json_pack("{s:s, s:s, s:s}", "mailbox_id", id,
									 "name", path, "special_use", su)));
	if (json_is_true(json_object_get(obj, "isSubscribed")))
		json_array_append_new(p->events, ev("mailbox.subscribe", json_pack("{s:s, s:b}", "name", path,
										    "subscribed", 1)));
	if (json_integer_value(json_object_get(obj, "sortOrder")) > 0)
		json_array_append_new(p->events, ev("mailbox.update", json_pack("{s:s, s:I}", "mailbox_id", id,
										 "sort_order",
										 json_integer_value(json_object_get(obj, "sortOrder")))));
	/* The server-set properties and the defaults of the omitted ones. */
	p->note = json_pack("{s:s, s:i, s:i, s:i, s:i}", "id", id, "totalEmails", 0, "unreadEmails", 0,
			    "totalThreads", 0, "unreadThreads", 0);
	json_object_set_new(p->note, "myRights",
			    json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "mayReadItems", 1,
				      "mayAddItems", 1, "mayRemoveItems", 1, "maySetSeen", 1, "maySetKeywords", 1,
				      "mayCreateChild", 1, "mayRename", 1, "mayDelete", 1, "maySubmit", 1));
	if (json_object_get(obj, "parentId") == NULL)
		json_object_set_new(p->note, "parentId", json_null());
	if (role == NULL)
		json_object_set_new(p->note, "role", json_null());
	if (json_object_get(obj, "sortOrder") == NULL)
		json_object_set_new(p->note, "sortOrder", json_integer(0));
	if (json_object_get(obj, "isSubscribed") == NULL)
		json_object_set_new(p->note, "isSubscribed", json_false());
	return 0;
}

/* The role of an update (role: NULL when not in the patch): 0 with *su_r
 * the special use to store (NULL: no change), or -1 after recording
 * invalidProperties. */
static int role_update(struct jmap_setrun *sr, const struct jmap_mbox_tree *t, const struct jmap_mbox *m,
		       json_t *role, const char **su_r)
{
	const struct jmap_mbox *other;
	const char *want;

	*su_r = NULL;
	if (role == NULL)
		return 0;
	if (!json_is_null(role) && !json_is_string(role)) {
		invalid(sr, JMAP_OP_UPDATE, m->id, "role", "is not a String or null");
		return -1;
	}
	want = json_is_null(role) ? "" : json_string_value(role);
	if (strcmp(want, m->role) == 0)
		return 0;
	if (strcmp(m->path, "INBOX") == 0) {
		invalid(sr, JMAP_OP_UPDATE, m->id, "role", "the inbox keeps the role inbox");
		return -1;
	}
	if (want[0] != '\0' && (*su_r = jmap_role_special_use(want)) == NULL) {
		invalid(sr, JMAP_OP_UPDATE, m->id, "role", "is not a role a mailbox can be given here");
		return -1;
	}
	/* RFC 8621 2.1: no two mailboxes have the same role. */
	if (want[0] != '\0' && (other = jmap_mbox_by_role(t, want)) != NULL && other != m) {
		invalid(sr, JMAP_OP_UPDATE, m->id, "role", "another mailbox has that role");
		return -1;
	}
	if (want[0] == '\0')
		*su_r = "";
	return 0;
}

static int plan_update(struct jmap_setrun *sr, const char *id, json_t *patch, struct jmap_set_plan *p,
		       const struct jmap_mbox_tree *t)
{
	const struct jmap_mbox *m = jmap_mbox_by_id(t, id), *parent, *other;
	json_t *role = json_object_get(patch, "role"), *name = json_object_get(patch, "name");
	json_t *sub = json_object_get(patch, "isSubscribed"), *sort = json_object_get(patch, "sortOrder");
	char path[MAIL_MAILBOX_NAME_MAX + 1];
	const char *su = NULL;
	int subscribed;

	if (m == NULL) {
		jmap_setrun_fail(sr, JMAP_OP_UPDATE, id, jmap_set_error("notFound", NULL, NULL));
		return -1;
	}
	if (check_props(sr, JMAP_OP_UPDATE, id, patch, m) < 0)
		return -1;
	parent = m->parent >= 0 ? &t->m[m->parent] : NULL;
	if (json_object_get(patch, "parentId") != NULL) {
		if (parent_arg(sr, t, json_object_get(patch, "parentId"), &parent) < 0) {
			invalid(sr, JMAP_OP_UPDATE, id, "parentId", "names no mailbox");
			return -1;
		}
		if (parent == m || (parent != NULL && jmap_mbox_is_ancestor(t, m, parent))) {
			invalid(sr, JMAP_OP_UPDATE, id, "parentId", "a mailbox cannot move below itself");
			return -1;
		}
	}
	if (role_update(sr, t, m, role, &su) < 0)
		return -1;
	if (make_path(parent, name != NULL ? json_string_value(name) : m->name, path) < 0) {
		invalid(sr, JMAP_OP_UPDATE, id, "name", "the name with its parents is too long");
		return -1;
	}
	p->events = json_array();
	subscribed = sub != NULL ? json_is_true(sub) : m->subscribed;
	if (strcmp(path, m->path) != 0) {
		if (strcmp(m->path, "INBOX") == 0) {
			jmap_setrun_fail(sr, JMAP_OP_UPDATE, id,
					 jmap_set_error("forbidden", "the inbox cannot be renamed or moved", NULL));
			return -1;
		}
		if ((other = jmap_mbox_by_path(t, path)) != NULL) {
			jmap_setrun_fail(sr, JMAP_OP_UPDATE, id, already_exists(other));
			return -1;
		}
		json_array_append_new(p->events, ev("mailbox.rename", json_pack("{s:s, s:s}", "mailbox_id", m->id,
										 "name", path)));
		/* Subscriptions are by name: the subscription moves with it. */
		if (m->subscribed)
			json_array_append_new(p->events, ev("mailbox.subscribe", json_pack("{s:s, s:b}", "name",
											    m->path, "subscribed", 0)));
		if (subscribed)
			json_array_append_new(p->events, ev("mailbox.subscribe", json_pack("{s:s, s:b}", "name",
											    path, "subscribed", 1)));
	} else if (subscribed != m->subscribed) {
		json_array_append_new(p->events, ev("mailbox.subscribe", json_pack("{s:s, s:b}", "name", path,
										    "subscribed", subscribed)));
	}
	if (su != NULL || (sort != NULL && json_integer_value(sort) != m->sort_order)) {
		json_t *d = json_pack("{s:s}", "mailbox_id", m->id);

		if (su != NULL)
			json_object_set_new(d, "special_use", json_string(su));
		if (sort != NULL && json_integer_value(sort) != m->sort_order)
			json_object_set_new(d, "sort_order", json_integer(json_integer_value(sort)));
		json_array_append_new(p->events, ev("mailbox.update", d));
	}
	return 0;
}

static int plan_destroy(struct jmap_setrun *sr, const char *id, struct jmap_set_plan *p,
			const struct jmap_mbox_tree *t)
{
	const struct mbset *ms = jmap_setrun_ctx(sr);
	const struct jmap_mbox *m = jmap_mbox_by_id(t, id);

	if (m == NULL) {
		jmap_setrun_fail(sr, JMAP_OP_DESTROY, id, jmap_set_error("notFound", NULL, NULL));
		return -1;
	}
	if (strcmp(m->path, "INBOX") == 0) {
		jmap_setrun_fail(sr, JMAP_OP_DESTROY, id,
				 jmap_set_error("forbidden", "the inbox cannot be destroyed", NULL));
		return -1;
	}
	/* RFC 8621 2.5: mailboxHasChild, then mailboxHasEmail. */
	if (jmap_mbox_has_child(t, m)) {
		jmap_setrun_fail(sr, JMAP_OP_DESTROY, id, jmap_set_error("mailboxHasChild", NULL, NULL));
		return -1;
	}
	if (m->messages > 0 && !ms->remove_emails) {
		jmap_setrun_fail(sr, JMAP_OP_DESTROY, id, jmap_set_error("mailboxHasEmail", NULL, NULL));
		return -1;
	}
	p->events = json_pack("[o]", ev("mailbox.delete", json_pack("{s:s}", "mailbox_id", m->id)));
	/* isSubscribed is the mailbox's own property in JMAP: it goes with it. */
	if (m->subscribed)
		json_array_append_new(p->events, ev("mailbox.subscribe", json_pack("{s:s, s:b}", "name", m->path,
										    "subscribed", 0)));
	return 0;
}

static int mbset_plan(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, json_t *value,
		      struct jmap_set_plan *p)
{
	struct jmap_mail_req *req = jmap_mail_req(jmap_setrun_call(sr));
	struct jmap_mbox_tree t;
	const char *error = NULL;
	int r;

	if (jmap_mbox_tree_load(req->node->view, req->address, &t, &error) < 0) {
		log_error("jmap: Mailbox/set for %s: %s", req->address, error);
		jmap_setrun_fail(sr, op, key, jmap_set_error("serverFail", "the view cannot be read", NULL));
		return -1;
	}
	r = op == JMAP_OP_CREATE ? plan_create(sr, key, value, p, &t) :
	    op == JMAP_OP_UPDATE ? plan_update(sr, key, value, p, &t) : plan_destroy(sr, key, p, &t);
	jmap_mbox_tree_free(&t);
	return r;
}

/* "not-empty" is mailbox.delete's only rejection of that code. */
static json_t *mbset_rejected(struct jmap_setrun *sr, enum jmap_set_op op, const char *code)
{
	(void)sr;
	if (op == JMAP_OP_DESTROY && strcmp(code, "not-empty") == 0)
		return jmap_set_error("mailboxHasChild", NULL, NULL);
	if (strcmp(code, "exists") == 0)
		return jmap_set_error("alreadyExists", "a mailbox of that name exists there", NULL);
	return NULL;
}

static const struct jmap_set_ops mbset_ops = {
	.type = MAIL_J_MAILBOX,
	.plan = mbset_plan,
	.rejected = mbset_rejected,
	.free_ctx = free,
};

/* RFC 8620 5.3 / RFC 8621 2.5: a create whose parentId is "#cid" of
 * another create in this call runs after it. Creations in the order given,
 * each after the one it names; a cycle or an unknown reference keeps its
 * place at the end (it then fails: the parent is not there). */
static json_t *create_order(json_t *create)
{
	json_t *order = json_array(), *done = json_object(), *obj;
	const char *k;
	size_t before;

	do {
		before = json_array_size(order);
		json_object_foreach(create, k, obj) {
			const char *pid = json_string_value(json_object_get(obj, "parentId"));

			if (json_object_get(done, k) != NULL)
				continue;
			if (pid != NULL && pid[0] == '#' && json_object_get(create, pid + 1) != NULL &&
			    json_object_get(done, pid + 1) == NULL)
				continue;
			json_array_append_new(order, json_string(k));
			json_object_set_new(done, k, json_true());
		}
	} while (json_array_size(order) > before);
	json_object_foreach(create, k, obj) {
		if (json_object_get(done, k) == NULL)
			json_array_append_new(order, json_string(k));
	}
	json_decref(done);
	return order;
}

void jmap_mailbox_set(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_set_args a;
	struct mbset *ms;
	char state[JMAP_STATE_MAX];
	int remove = 0;

	(void)ctx;
	if (jmap_mail_state(call, MAIL_J_MAILBOX, state) < 0)
		return;
	if (jmap_set_args_parse(call, args, state, &a) < 0)
		return;
	if (jmap_arg_bool(call, args, "onDestroyRemoveEmails", 0, &remove) < 0) {
		jmap_set_args_free(&a);
		return;
	}
	ms = xcalloc(1, sizeof *ms);
	ms->remove_emails = remove;
	jmap_setrun_start(call, &mbset_ops, ms, &a, state, create_order(a.create));
}
