/* jmap_mailbox_tree - see jmap_mailbox_tree.h. */
#include "gateway/jmap/jmap_mailbox_tree.h"
#include "common/buf.h"
#include "projector/mail.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *role, *special_use;
} roles[] = {
	{ "drafts", "\\Drafts" }, { "sent", "\\Sent" },         { "junk", "\\Junk" },
	{ "trash", "\\Trash" },   { "archive", "\\Archive" },   { "all", "\\All" },
	{ "flagged", "\\Flagged" },
};

const char *jmap_role_special_use(const char *role)
{
	for (size_t i = 0; role != NULL && i < sizeof roles / sizeof roles[0]; i++) {
		if (strcmp(role, roles[i].role) == 0)
			return roles[i].special_use;
	}
	return NULL;
}

/* The role of a stored mailbox: INBOX's, or its special use's. */
static void role_of(const char *path, const char *su, char role[JMAP_ROLE_MAX])
{
	role[0] = '\0';
	if (strcmp(path, "INBOX") == 0) {
		snprintf(role, JMAP_ROLE_MAX, "inbox");
		return;
	}
	for (size_t i = 0; su != NULL && i < sizeof roles / sizeof roles[0]; i++) {
		if (strcmp(su, roles[i].special_use) == 0) {
			snprintf(role, JMAP_ROLE_MAX, "%s", roles[i].role);
			return;
		}
	}
}

static int by_path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct jmap_mbox *)a)->path, ((const struct jmap_mbox *)b)->path);
}

const struct jmap_mbox *jmap_mbox_by_path(const struct jmap_mbox_tree *t, const char *path)
{
	struct jmap_mbox key;

	key.path = (char *)path;
	return bsearch(&key, t->m, t->n, sizeof *t->m, by_path_cmp);
}

const struct jmap_mbox *jmap_mbox_by_id(const struct jmap_mbox_tree *t, const char *id)
{
	for (size_t i = 0; id != NULL && i < t->n; i++) {
		if (strcmp(t->m[i].id, id) == 0)
			return &t->m[i];
	}
	return NULL;
}

const struct jmap_mbox *jmap_mbox_by_role(const struct jmap_mbox_tree *t, const char *role)
{
	for (size_t i = 0; role != NULL && i < t->n; i++) {
		if (strcmp(t->m[i].role, role) == 0)
			return &t->m[i];
	}
	return NULL;
}

int jmap_mbox_is_ancestor(const struct jmap_mbox_tree *t, const struct jmap_mbox *a,
			  const struct jmap_mbox *b)
{
	int p = b->parent;

	while (p >= 0) {
		if (&t->m[p] == a)
			return 1;
		p = t->m[p].parent;
	}
	return 0;
}

int jmap_mbox_has_child(const struct jmap_mbox_tree *t, const struct jmap_mbox *b)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->m[i].parent >= 0 && &t->m[t->m[i].parent] == b)
			return 1;
	}
	return 0;
}

/* The nearest existing ancestor of every mailbox: its parent and name. */
static void link_parents(struct jmap_mbox_tree *t)
{
	char buf[MAIL_MAILBOX_NAME_MAX + 1];

	for (size_t i = 0; i < t->n; i++) {
		struct jmap_mbox *m = &t->m[i];
		const struct jmap_mbox *p = NULL;
		char *slash;

		m->parent = -1;
		m->name = m->path;
		snprintf(buf, sizeof buf, "%s", m->path);
		while (p == NULL && (slash = strrchr(buf, '/')) != NULL) {
			*slash = '\0';
			p = jmap_mbox_by_path(t, buf);
		}
		if (p != NULL) {
			m->parent = (int)(p - t->m);
			snprintf(m->parent_id, sizeof m->parent_id, "%s", p->id);
			m->name = m->path + strlen(p->path) + 1;
		}
	}
}

int jmap_mbox_tree_load(struct view *view, const char *account, struct jmap_mbox_tree *t,
			const char **error_r)
{
	json_t *all = NULL, *subs = NULL, *mb, *s;
	size_t i, k;

	memset(t, 0, sizeof *t);
	if (mail_mailboxes(view, account, &all, error_r) < 0)
		return -1;
	if (mail_subscriptions(view, account, &subs, error_r) < 0) {
		json_decref(all);
		return -1;
	}
	t->m = xcalloc(json_array_size(all) + 1, sizeof *t->m);
	json_array_foreach(all, i, mb) {
		const char *id = json_string_value(json_object_get(mb, "id"));
		const char *path = json_string_value(json_object_get(mb, "name"));
		struct jmap_mbox *m = &t->m[t->n];

		if (id == NULL || path == NULL || strlen(id) != 32)
			continue;
		snprintf(m->id, sizeof m->id, "%s", id);
		m->path = xstrdup(path);
		role_of(path, json_string_value(json_object_get(mb, "special_use")), m->role);
		m->messages = json_integer_value(json_object_get(mb, "messages"));
		m->sort_order = json_integer_value(json_object_get(mb, "sort_order"));
		json_array_foreach(subs, k, s)
			if (strcmp(json_string_value(s), path) == 0)
				m->subscribed = 1;
		t->n++;
	}
	json_decref(all);
	json_decref(subs);
	qsort(t->m, t->n, sizeof *t->m, by_path_cmp);
	link_parents(t);
	return 0;
}

void jmap_mbox_tree_free(struct jmap_mbox_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->m[i].path);
	free(t->m);
	memset(t, 0, sizeof *t);
}
