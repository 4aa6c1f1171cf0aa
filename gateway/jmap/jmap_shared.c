/* jmap_shared - see jmap_shared.h: the accounts shared with a user, the
 * scope of a call in one of them. */
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_blob.h"
#include "gateway/jmap/jmap_blob_private.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/directory.h"
#include "projector/mail_acl.h"

#include <stdlib.h>
#include <string.h>

/* The rights that change something in a mailbox's messages. */
#define SHARED_WRITE_RIGHTS (MAIL_R_SEEN | MAIL_R_WRITE | MAIL_R_INSERT | MAIL_R_DELMSG | MAIL_R_EXPUNGE)

static const char *const shared_caps[] = { JMAP_CAP_MAIL, NULL };

/* 1 when owner is an account of tenant in the directory (the applier
 * only records the grant's tenant; the directory is read here, as IMAP
 * does), 0 when not, -1 on error. */
static int same_tenant(struct view *view, const char *owner, const char *tenant, const char **error_r)
{
	json_t *acc = NULL;
	int r = directory_account_get(view, owner, &acc, error_r);

	if (r > 0) {
		const char *t = json_string_value(json_object_get(acc, "tenant"));

		r = t != NULL && strcmp(t, tenant) == 0;
	}
	json_decref(acc);
	return r;
}

/* The shares of req's user: {owner: {mailbox id: rights bits}} with only
 * the mailboxes readable (r) of owners of the user's tenant. 0 or -1. */
static int shares_of(struct view *view, const char *user, const char *tenant, json_t **shares_r,
		     const char **error_r)
{
	json_t *list = NULL, *shares = json_object(), *e;
	size_t i;

	*shares_r = NULL;
	if (mail_shared_list(view, user, tenant, &list, error_r) < 0)
		goto fail;
	json_array_foreach(list, i, e) {
		const char *owner = json_string_value(json_object_get(e, "owner"));
		const char *mbox = json_string_value(json_object_get(e, "mailbox_id"));
		json_t *boxes = json_object_get(shares, owner);
		unsigned bits = 0;
		int r;

		if (mail_rights_parse(json_string_value(json_object_get(e, "rights")), &bits) < 0) {
			*error_r = "a corrupt sharee entry";
			goto fail;
		}
		if (!(bits & MAIL_R_READ) || strcmp(owner, user) == 0)
			continue;
		if (boxes == NULL) {
			if ((r = same_tenant(view, owner, tenant, error_r)) < 0)
				goto fail;
			if (r == 0)
				continue;
			boxes = json_object();
			json_object_set_new(shares, owner, boxes);
		}
		json_object_set_new(boxes, mbox, json_integer(bits));
	}
	json_decref(list);
	*shares_r = shares;
	return 0;
fail:
	json_decref(list);
	json_decref(shares);
	return -1;
}

/* Owners sorted, so the Session (and its state) is the same on every
 * node (a JSON object's iteration order is not). */
static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int jmap_mail_user_build(const struct jmap_mail_req *req, struct jmap_mail_user *u, const char **error_r)
{
	json_t *shares = NULL, *boxes;
	const char *owner, **names;
	size_t n, k = 0;

	memset(u, 0, sizeof *u);
	if (shares_of(req->node->view, req->address, req->tenant, &shares, error_r) < 0)
		return -1;
	n = json_object_size(shares);
	names = xcalloc(n + 1, sizeof *names);
	json_object_foreach(shares, owner, boxes)
		names[k++] = owner;
	qsort(names, n, sizeof *names, cmp_str);
	u->accounts = xcalloc(n + 1, sizeof *u->accounts);
	u->ids = xcalloc(n + 1, sizeof *u->ids);
	u->owners = json_array();
	jmap_mail_account(req, &u->accounts[0]);
	for (size_t i = 0; i < n; i++) {
		struct jmap_account *a = &u->accounts[i + 1];
		const char *box;
		json_t *bits;
		int writable = 0;

		json_object_foreach(json_object_get(shares, names[i]), box, bits)
			writable |= ((unsigned)json_integer_value(bits) & SHARED_WRITE_RIGHTS) != 0;
		json_array_append_new(u->owners, json_string(names[i]));
		jmap_account_id(names[i], u->ids[i + 1]);
		a->id = u->ids[i + 1];
		a->name = json_string_value(json_array_get(u->owners, i));
		a->owner = a->name;
		a->is_personal = 0;
		a->is_read_only = !writable;
		a->capabilities = shared_caps;
	}
	free(names);
	json_decref(shares);
	u->user.username = req->address;
	u->user.accounts = u->accounts;
	u->user.naccounts = n + 1;
	return 0;
}

void jmap_mail_user_clear(struct jmap_mail_user *u)
{
	free(u->accounts);
	free(u->ids);
	json_decref(u->owners);
	memset(u, 0, sizeof *u);
}

int jmap_shared_scope(struct jmap_call *call, json_t **scope_r)
{
	return jmap_shared_scope_of(call, jmap_call_target(call), "accountNotFound", scope_r);
}

int jmap_shared_scope_of(struct jmap_call *call, const struct jmap_account *a, const char *not_found,
			 json_t **scope_r)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	json_t *shares = NULL, *boxes;
	const char *error = NULL;

	*scope_r = NULL;
	if (a == NULL || a->owner == NULL)
		return 0;
	if (shares_of(req->node->view, req->address, req->tenant, &shares, &error) < 0) {
		log_error("jmap: shares of %s: %s", req->address, error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	boxes = json_object_get(shares, a->owner);
	/* RFC 8620 3.6.2: revoked since the request started; the same answer
	 * as for an account that never existed. */
	if (boxes == NULL || json_object_size(boxes) == 0) {
		json_decref(shares);
		jmap_call_error(call, not_found, NULL);
		return -1;
	}
	*scope_r = json_incref(boxes);
	json_decref(shares);
	return 0;
}

int jmap_shared_blob_read(const struct jmap_mail_req *req, const char *account_id, const char *blob_id,
			  char **data_r, size_t *len_r, char **type_r, const char **error_r)
{
	struct view *view = req->node->view;
	json_t *shares = NULL, *boxes, *locs = NULL, *l;
	const char *owner = NULL, *o;
	struct jmap_blob_ref ref;
	char id[JMAP_ACCOUNT_ID_LEN + 1];
	size_t i;
	int r = 0;

	*data_r = *type_r = NULL;
	*len_r = 0;
	if (jmap_blob_ref_parse(blob_id, &ref) < 0 || ref.upload)
		return 0;
	if (shares_of(view, req->address, req->tenant, &shares, error_r) < 0)
		return -1;
	json_object_foreach(shares, o, boxes) {
		jmap_account_id(o, id);
		if (strcmp(id, account_id) == 0)
			owner = o;
	}
	if (owner == NULL)
		goto out;
	boxes = json_object_get(shares, owner);
	locs = json_array();
	if ((r = mail_jmap_email_locations(view, owner, ref.hex, locs, error_r)) <= 0)
		goto out;
	r = 0;
	json_array_foreach(locs, i, l)
		r |= jmap_shared_allows(boxes, json_string_value(json_array_get(l, 0)), MAIL_R_READ);
	if (r)
		r = jmap_blob_read(req->node, owner, blob_id, data_r, len_r, type_r, error_r);
out:
	json_decref(locs);
	json_decref(shares);
	return r;
}

int jmap_shared_filter_emails(struct view *view, const char *owner, const json_t *scope, json_t *ids,
			      const char **error_r)
{
	size_t i = 0;

	while (scope != NULL && i < json_array_size(ids)) {
		json_t *locs = json_array(), *l;
		size_t k;
		int r = mail_jmap_email_locations(view, owner, json_string_value(json_array_get(ids, i)), locs, error_r),
		    seen = 0;

		json_array_foreach(locs, k, l)
			seen |= json_object_get(scope, json_string_value(json_array_get(l, 0))) != NULL;
		json_decref(locs);
		if (r < 0)
			return -1;
		if (seen)
			i++;
		else
			json_array_remove(ids, i);
	}
	return 0;
}

void jmap_shared_filter(const json_t *scope, json_t *mailboxes)
{
	const char *id;
	json_t *v, *tmp;

	if (scope == NULL || mailboxes == NULL)
		return;
	json_object_foreach_safe(mailboxes, tmp, id, v) {
		if (json_object_get(scope, id) == NULL)
			json_object_del(mailboxes, id);
	}
}

int jmap_shared_allows(const json_t *scope, const char *mb, unsigned bits)
{
	json_t *v;

	if (scope == NULL)
		return 1;
	if ((v = json_object_get(scope, mb)) == NULL)
		return 0;
	return ((unsigned)json_integer_value(v) & bits) == bits;
}

int jmap_shared_may_append(const json_t *scope, const json_t *mailboxes, json_t *flags, const json_t *keywords,
			   const char **type_r)
{
	/* RFC 4314 4 (APPEND): i, plus the rights of storing its flags. */
	unsigned need = MAIL_R_INSERT | mail_acl_flag_rights(flags);
	json_t *v;
	size_t i;

	if (scope == NULL)
		return 0;
	if (json_array_size(keywords) > 0)
		need |= MAIL_R_WRITE;
	json_array_foreach(mailboxes, i, v) {
		if (json_object_get(scope, json_string_value(v)) == NULL) {
			*type_r = "invalidProperties";
			return -1;
		}
	}
	json_array_foreach(mailboxes, i, v) {
		if (!jmap_shared_allows(scope, json_string_value(v), need)) {
			*type_r = "forbidden";
			return -1;
		}
	}
	return 0;
}

json_t *jmap_shared_rights(unsigned bits)
{
	/* RFC 8621 2.4's mapping of RFC 4314 rights. mayCreateChild,
	 * mayRename and mayDelete stay false whatever k and x say: the owner's
	 * projector refuses mailbox changes made as a sharee (mail_acl.h), and
	 * myRights says what the server allows. maySubmit is the owner's. */
	return json_pack("{s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b, s:b}", "mayReadItems",
			 (bits & MAIL_R_READ) != 0, "mayAddItems", (bits & MAIL_R_INSERT) != 0,
			 "mayRemoveItems", (bits & MAIL_R_DELMSG) && (bits & MAIL_R_EXPUNGE), "maySetSeen",
			 (bits & MAIL_R_SEEN) != 0, "maySetKeywords", (bits & MAIL_R_WRITE) != 0,
			 "mayCreateChild", 0, "mayRename", 0, "mayDelete", 0, "maySubmit", 0);
}

/* The methods that filter by the scope. */
static const char *const shared_methods[] = {
	"Mailbox/get", "Mailbox/changes", "Email/get", "Email/changes", "Email/set", "Email/copy", "Thread/get",
	"Email/query", "Email/queryChanges", "Thread/changes", "Email/import",
	NULL,
};

void jmap_shared_register(struct jmap_api *api)
{
	for (size_t i = 0; shared_methods[i] != NULL; i++)
		jmap_method_serves_shared(api, shared_methods[i]);
}
