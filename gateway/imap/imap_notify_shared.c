/* imap_notify_shared - NOTIFY (RFC 5465) on mailboxes shared with the
 * session (RFC 4314, imap_acl.h): their records join the session's
 * snapshot, and the session listens to their owners' changes as
 * imap_acl_watch does for a selected shared mailbox. */
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_acl.h"
#include "common/log.h"
#include "gateway/node.h"
#include "projector/projector.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* 1 when a group of sp can take a name under "Other Users" (RFC 5465 6:
 * "personal" and "inboxes" never do). */
static int wants_shared(const struct imap_notify_spec *sp)
{
	for (size_t i = 0; sp != NULL && i < sp->n; i++) {
		enum imap_notify_filter f = sp->groups[i].filter;

		if (sp->groups[i].events != 0 &&
		    (f == IMAP_NF_SUBSCRIBED || f == IMAP_NF_SUBTREE || f == IMAP_NF_MAILBOXES))
			return 1;
	}
	return 0;
}

bool imap_notify_shared_add(struct imap_session *s, const struct imap_notify_spec *sp, json_t *boxes,
			    const char *const *keys, size_t nkeys)
{
	json_t *list, *b, *v;
	const char *error = NULL;
	size_t i;

	if (!wants_shared(sp))
		return false;
	list = json_array();
	if (imap_acl_list_shared(s, list, &error) < 0) {
		log_warn("imap[%s]: notify: shared mailboxes: %s", s->id, error);
		json_decref(list);
		return true;
	}
	json_array_foreach(list, i, b) {
		const char *id = json_string_value(json_object_get(b, "id"));
		json_t *rec;

		/* Changes are news only to who may read them: l and r. */
		if (id == NULL || (imap_acl_box_rights(b) & (MAIL_R_LOOKUP | MAIL_R_READ)) !=
					  (MAIL_R_LOOKUP | MAIL_R_READ))
			continue;
		rec = json_object();
		for (size_t k = 0; k < nkeys; k++) {
			if ((v = json_object_get(b, keys[k])) != NULL)
				json_object_set(rec, keys[k], v);
		}
		json_object_set(rec, "owner", json_object_get(b, "owner"));
		json_object_set_new(boxes, id, rec);
	}
	json_decref(list);
	return true;
}

/* An owner's partition (or the tenant's grants to anyone) changed: as if
 * the session's own had. */
static void owner_changed(void *ctx, const char *account)
{
	struct imap_session *s = ctx;

	(void)account;
	imap_notify_changed(s);
}

void imap_notify_owners_free(struct imap_notify_owners *w)
{
	for (size_t i = 0; i < w->n; i++)
		projector_unsubscribe(&w->subs[i]);
	free(w->subs);
	json_decref(w->names);
	memset(w, 0, sizeof *w);
}

void imap_notify_owners_update(struct imap_session *s, struct imap_notify_owners *w, json_t *boxes, bool anyone)
{
	json_t *names = json_object(), *rec;
	const char *id, *owner;
	struct buf channel = BUF_INIT;
	size_t i = 0;

	json_object_foreach(boxes, id, rec) {
		if ((owner = json_string_value(json_object_get(rec, "owner"))) != NULL)
			json_object_set_new(names, owner, json_true());
	}
	/* A mailbox newly shared with anyone of the tenant (mail_acl.h). */
	if (anyone) {
		mail_acl_anyone_channel(&channel, s->tenant);
		json_object_set_new(names, channel.data, json_true());
		buf_free(&channel);
	}
	if (w->names != NULL && json_equal(names, w->names)) {
		json_decref(names);
		return;
	}
	imap_notify_owners_free(w);
	w->names = names;
	if (s->node == NULL || s->node->projector == NULL || json_object_size(names) == 0)
		return;
	w->subs = xcalloc(json_object_size(names), sizeof *w->subs);
	json_object_foreach(names, owner, rec)
		w->subs[i++] = projector_subscribe(s->node->projector, owner, owner_changed, s);
	w->n = i;
}
