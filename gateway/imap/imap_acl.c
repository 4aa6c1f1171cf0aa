/* imap_acl - shared mailboxes in a session: the "Other Users" namespace,
 * rights, listing, routing writes to the owner (imap_acl.h). */
#include "gateway/imap/imap_acl.h"
#include "common/log.h"
#include "gateway/command.h"
#include "projector/directory.h"
#include "projector/mail.h"
#include "projector/projector.h"
#include "gateway/imap/imap_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OTHER_PREFIX IMAP_OTHER_USERS "/"

int imap_acl_is_other(const char *name)
{
	size_t n = strlen(IMAP_OTHER_USERS);

	return strncmp(name, IMAP_OTHER_USERS, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

/* 1 when owner is an account of the session's tenant (the directory is
 * read here, at the gateway; the applier only records the tenant). */
static int same_tenant(struct imap_session *s, const char *owner, const char **error_r)
{
	json_t *acc = NULL;
	int r = directory_account_get(s->node->view, owner, &acc, error_r);

	if (r > 0) {
		const char *tenant = json_string_value(json_object_get(acc, "tenant"));

		r = tenant != NULL && strcmp(tenant, s->tenant) == 0;
	}
	json_decref(acc);
	return r;
}

/* The owner's record of mailbox_id with the session's view of it: name
 * "Other Users/<owner>/<name>", owner, myrights. 1, 0 (no rights, gone),
 * -1. */
static int shared_box(struct imap_session *s, const char *owner, json_t *box, json_t **box_r,
		      const char **error_r)
{
	const char *id = json_string_value(json_object_get(box, "id"));
	unsigned bits = 0;
	struct buf name = BUF_INIT;

	if (id == NULL || mail_acl_rights(s->node->view, owner, id, s->account, &bits, error_r) < 0)
		return -1;
	if (bits == 0)
		return 0;
	buf_printf(&name, "%s%s/%s", OTHER_PREFIX, owner, json_string_value(json_object_get(box, "name")));
	json_object_set_new(box, "name", json_string(name.data));
	json_object_set_new(box, "owner", json_string(owner));
	json_object_set_new(box, "myrights", json_integer(bits));
	json_object_del(box, "subscribed");   /* the owner's; LIST sets the session's */
	buf_free(&name);
	*box_r = json_incref(box);
	return 1;
}

int imap_acl_lookup(struct imap_session *s, const char *name, json_t **box_r, const char **error_r)
{
	char owner[EVM_ADDRESS_MAX + 1];
	const char *rest, *slash, *ignored;
	json_t *box = NULL;
	int r;

	*box_r = NULL;
	if (!imap_acl_is_other(name)) {
		if ((r = mail_mailbox_by_name(s->node->view, s->account, name, &box, error_r)) <= 0)
			return r;
		json_object_set_new(box, "owner", json_string(s->account));
		json_object_set_new(box, "myrights", json_integer(MAIL_R_EVERY));
		*box_r = box;
		return 1;
	}
	rest = name + strlen(OTHER_PREFIX);
	if (name[strlen(IMAP_OTHER_USERS)] == '\0' || (slash = strchr(rest, '/')) == NULL ||
	    (size_t)(slash - rest) > EVM_ADDRESS_MAX || slash[1] == '\0')
		return 0;
	memcpy(owner, rest, (size_t)(slash - rest));
	owner[slash - rest] = '\0';
	/* Only the normal form names an owner; never the session itself. */
	{
		char norm[EVM_ADDRESS_MAX + 1];

		if (evm_address_normalize(owner, norm, &ignored) < 0 || strcmp(norm, owner) != 0 ||
		    strcmp(owner, s->account) == 0)
			return 0;
	}
	if ((r = same_tenant(s, owner, error_r)) <= 0)
		return r;
	if ((r = mail_mailbox_by_name(s->node->view, owner, slash + 1, &box, error_r)) <= 0)
		return r;
	r = shared_box(s, owner, box, box_r, error_r);
	json_decref(box);
	return r;
}

int imap_acl_find(struct imap_session *s, const char *name, unsigned need, const char *nocode,
		  json_t **box_r)
{
	const char *error = NULL;
	int r = imap_acl_lookup(s, name, box_r, &error);

	if (r < 0) {
		imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
		return 0;
	}
	if (r == 0) {
		imap_no(s, "[%s] No such mailbox", nocode);
		return 0;
	}
	if ((imap_acl_box_rights(*box_r) & need) != need) {
		json_decref(*box_r);
		*box_r = NULL;
		imap_no(s, "[NOPERM] You lack the rights for this on that mailbox");
		return 0;
	}
	return 1;
}

unsigned imap_acl_box_rights(json_t *box)
{
	json_t *v = json_object_get(box, "myrights");

	return v == NULL ? MAIL_R_EVERY : (unsigned)json_integer_value(v);
}

const char *imap_acl_box_owner(struct imap_session *s, json_t *box)
{
	const char *o = json_string_value(json_object_get(box, "owner"));

	return o != NULL ? o : s->account;
}

int imap_acl_list_shared(struct imap_session *s, json_t *boxes, const char **error_r)
{
	json_t *list = NULL, *subs = NULL, *e, *box, *v;
	size_t i, j;
	int ret = -1, r;

	if (mail_shared_list(s->node->view, s->account, s->tenant, &list, error_r) < 0)
		return -1;
	if (json_array_size(list) > 0 && mail_subscriptions(s->node->view, s->account, &subs, error_r) < 0)
		goto out;
	json_array_foreach(list, i, e) {
		const char *owner = json_string_value(json_object_get(e, "owner"));
		json_t *shown = NULL;

		if ((r = same_tenant(s, owner, error_r)) < 0)
			goto out;
		if (r == 0)
			continue;
		if ((r = mail_mailbox_get(s->node->view, owner, json_string_value(json_object_get(e, "mailbox_id")),
					  &box, error_r)) < 0)
			goto out;
		if (r == 0)
			continue;
		r = shared_box(s, owner, box, &shown, error_r);
		json_decref(box);
		if (r < 0)
			goto out;
		/* RFC 4314 4: LIST shows a mailbox only with the l right. */
		if (r > 0 && (imap_acl_box_rights(shown) & MAIL_R_LOOKUP)) {
			json_array_foreach(subs, j, v) {
				if (strcmp(json_string_value(v), json_string_value(json_object_get(shown, "name"))) == 0)
					json_object_set_new(shown, "subscribed", json_true());
			}
			json_array_append(boxes, shown);
		}
		json_decref(shown);
	}
	ret = 0;
out:
	json_decref(list);
	json_decref(subs);
	return ret;
}

unsigned imap_acl_flag_rights(json_t *flags)
{
	return mail_acl_flag_rights(flags);
}

void imap_acl_filter_flags(unsigned rights, json_t *flags, json_t *keywords)
{
	size_t i = 0;

	/* RFC 4314 4 (APPEND): flags the user may not set are not stored. */
	while (i < json_array_size(flags)) {
		json_t *one = json_pack("[O]", json_array_get(flags, i));
		unsigned need = imap_acl_flag_rights(one);

		json_decref(one);
		if ((rights & need) != need)
			json_array_remove(flags, i);
		else
			i++;
	}
	if (!(rights & MAIL_R_WRITE))
		json_array_clear(keywords);
}

int imap_acl_may(struct imap_session *s, unsigned need)
{
	return s->mbox != NULL && (s->mbox->rights & need) == need;
}

int imap_acl_route(struct imap_session *s, json_t *data, char owner[EVM_ADDRESS_MAX + 1])
{
	const char *id = json_string_value(json_object_get(data, "mailbox_id")), *error = NULL;
	json_t *box = NULL, *list = NULL, *e;
	size_t i;
	int r, found = 0;

	if (id == NULL || s->node == NULL)
		return 0;
	if (s->mbox != NULL && strcmp(s->mbox->id, id) == 0) {
		snprintf(owner, EVM_ADDRESS_MAX + 1, "%s", s->mbox->owner);
		return strcmp(owner, s->account) != 0;
	}
	r = mail_mailbox_get(s->node->view, s->account, id, &box, &error);
	json_decref(box);
	if (r != 0)
		return 0;   /* the session's own, or a read error: the applier decides */
	if (mail_shared_list(s->node->view, s->account, s->tenant, &list, &error) < 0)
		return 0;
	json_array_foreach(list, i, e) {
		if (strcmp(json_string_value(json_object_get(e, "mailbox_id")), id) == 0) {
			snprintf(owner, EVM_ADDRESS_MAX + 1, "%s",
				 json_string_value(json_object_get(e, "owner")));
			found = 1;
			break;
		}
	}
	json_decref(list);
	return found;
}

struct acl_write_op {
	struct imap_session *s;
	imap_write_cb *cb;
};

static void submit_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct acl_write_op *op = ctx;
	struct imap_session *s = op->s;

	if (s->conn != NULL && !s->closing) {
		s->changed = 1;
		op->cb(s, status, outcome, error);
	}
	free(op);
	imap_session_unref(s);
}

void imap_acl_submit(struct imap_session *s, const char *owner, const char *type, json_t *data,
		     imap_write_cb *cb)
{
	struct acl_write_op *op = xcalloc(1, sizeof *op);
	struct evm_event ev;
	const char *error = NULL;

	json_object_set_new(data, "as", json_string(s->account));
	if (evm_event_init(&ev, type, s->tenant, owner, s->actor, data, &error) < 0) {
		log_error("imap[%s]: cannot build %s: %s", s->id, type, error);
		free(op);
		imap_no(s, "[SERVERBUG] Cannot build the command");
		return;
	}
	op->s = s;
	op->cb = cb;
	imap_session_ref(s);
	command_submit(s->node, &ev, EVM_TOPIC_MAIL, owner, IMAP_COMMAND_TIMEOUT_MS, submit_done, op);
}

/* The owner's partition changed: like the session's own changes. */
static void owner_changed(void *ctx, const char *account)
{
	struct imap_session *s = ctx;

	s->changed = 1;
	if (s->idling && s->mbox != NULL && s->conn != NULL && !s->closing)
		imap_report(s, 1);   /* through s->hooks: imap_mailbox.c is above */
}

void imap_acl_watch(struct imap_session *s, struct imap_mbox *mb)
{
	if (strcmp(mb->owner, s->account) != 0 && s->node != NULL && s->node->projector != NULL)
		mb->owner_sub = projector_subscribe(s->node->projector, mb->owner, owner_changed, s);
}
