/* jmap_email_query_load - an account's emails from the view (message
 * records, copies, threads), one email's content on demand, and the
 * keyword and date forms of RFC 8621 4.1.1 and RFC 8620 1.4. */
#include "gateway/jmap/jmap_email_query.h"
#include "gateway/jmap/jmap_keywords.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/mail.h"
#include "projector/mail_jmap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Adds one copy (a message record in mailbox mbox) to e. */
static void add_copy(struct jmap_email *e, const char *mbox, const json_t *msg)
{
	uint32_t uid = (uint32_t)json_integer_value(json_object_get(msg, "uid"));
	const char *prefix = json_string_value(json_object_get(msg, "prefix"));

	if (e->keywords == NULL) {
		e->keywords = json_object();
		e->mailboxes = json_object();
	}
	json_object_set_new(e->mailboxes, mbox, json_true());
	jmap_keywords_add(e->keywords, msg);
	/* The copy read is the lowest (mailbox id, uid): the same on every node. */
	if (e->mbox[0] == '\0' || strcmp(mbox, e->mbox) < 0 || (strcmp(mbox, e->mbox) == 0 && uid < e->uid)) {
		snprintf(e->mbox, sizeof e->mbox, "%s", mbox);
		e->uid = uid;
		e->size = json_integer_value(json_object_get(msg, "size"));
		e->prefix_len = prefix != NULL ? strlen(prefix) : 0;
		e->received = json_integer_value(json_object_get(msg, "internal_date"));
	}
}

/* The thread and received time of e (the copy's date when the view has no
 * thread record, which the appliers always write). */
static int add_thread(struct view *view, const char *account, struct jmap_email *e, const char **error_r)
{
	int64_t rcv;
	int r = mail_jmap_email_thread(view, account, e->id, e->thread_id, &rcv, error_r);

	if (r < 0)
		return -1;
	if (r == 0)
		snprintf(e->thread_id, sizeof e->thread_id, "%s", e->id);
	else
		e->received = rcv;
	return 0;
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct jmap_email *)a)->id, ((const struct jmap_email *)b)->id);
}

int jmap_email_set_load(struct view *view, const char *account, struct jmap_email_set *set,
			const char **error_r)
{
	return jmap_email_set_load_in(view, account, NULL, set, error_r);
}

int jmap_email_set_load_in(struct view *view, const char *account, const json_t *scope, struct jmap_email_set *set,
			   const char **error_r)
{
	json_t *boxes = NULL, *index = json_object(), *box, *msgs, *m;
	size_t i, k, cap = 0;
	int ret = -1;

	memset(set, 0, sizeof *set);
	if (mail_mailboxes(view, account, &boxes, error_r) < 0)
		goto out;
	json_array_foreach(boxes, i, box) {
		const char *mbox = json_string_value(json_object_get(box, "id"));

		if (mbox != NULL && scope != NULL && json_object_get(scope, mbox) == NULL)
			continue;
		if (mbox == NULL || mail_messages(view, account, mbox, 0, &msgs, error_r) < 0)
			goto out;
		json_array_foreach(msgs, k, m) {
			const char *eid = json_string_value(json_object_get(m, "email_id"));
			json_t *at;
			size_t pos;

			if (eid == NULL || strlen(eid) != 32)
				continue;
			if ((at = json_object_get(index, eid)) != NULL) {
				pos = (size_t)json_integer_value(at);
			} else {
				if (set->n == cap) {
					cap = cap ? cap * 2 : 64;
					set->v = xrealloc(set->v, cap * sizeof *set->v);
				}
				pos = set->n++;
				memset(&set->v[pos], 0, sizeof set->v[pos]);
				memcpy(set->v[pos].id, eid, 33);
				json_object_set_new(index, eid, json_integer((json_int_t)pos));
			}
			add_copy(&set->v[pos], mbox, m);
		}
		json_decref(msgs);
	}
	for (i = 0; i < set->n; i++)
		if (add_thread(view, account, &set->v[i], error_r) < 0)
			goto out;
	if (set->n > 0)
		qsort(set->v, set->n, sizeof *set->v, by_id);
	ret = 0;
out:
	if (ret < 0)
		jmap_email_set_free(set);
	json_decref(boxes);
	json_decref(index);
	return ret;
}

int jmap_email_set_load_ids(struct view *view, const char *account, const char *const *ids, size_t n,
			    struct jmap_email_set *set, const char **error_r)
{
	memset(set, 0, sizeof *set);
	set->v = xcalloc(n ? n : 1, sizeof *set->v);
	for (size_t i = 0; i < n; i++) {
		int r = jmap_email_load(view, account, ids[i], &set->v[set->n], error_r);

		if (r < 0) {
			jmap_email_set_free(set);
			return -1;
		}
		if (r == 1)
			set->n++;
	}
	if (set->n > 0)
		qsort(set->v, set->n, sizeof *set->v, by_id);
	return 0;
}

void jmap_email_set_free(struct jmap_email_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		jmap_email_clear(&set->v[i]);
	free(set->v);
	memset(set, 0, sizeof *set);
}

struct jmap_email *jmap_email_set_find(const struct jmap_email_set *set, const char *id)
{
	struct jmap_email key;

	if (set->n == 0 || strlen(id) != 32)
		return NULL;
	memcpy(key.id, id, 33);
	return bsearch(&key, set->v, set->n, sizeof *set->v, by_id);
}

int jmap_email_load(struct view *view, const char *account, const char *id, struct jmap_email *e,
		    const char **error_r)
{
	return jmap_email_load_in(view, account, NULL, id, e, error_r);
}

int jmap_email_load_in(struct view *view, const char *account, const json_t *scope, const char *id,
		       struct jmap_email *e, const char **error_r)
{
	json_t *locs, *loc;
	size_t i;
	int r;

	memset(e, 0, sizeof *e);
	if (strlen(id) != 32)
		return 0;
	locs = json_array();
	if ((r = mail_jmap_email_locations(view, account, id, locs, error_r)) <= 0) {
		json_decref(locs);
		return r;
	}
	memcpy(e->id, id, 33);
	json_array_foreach(locs, i, loc) {
		const char *mbox = json_string_value(json_array_get(loc, 0));
		json_t *msg = NULL;

		if (scope != NULL && json_object_get(scope, mbox) == NULL)
			continue;
		r = mail_message_get(view, account, mbox, (uint32_t)json_integer_value(json_array_get(loc, 1)),
				     &msg, error_r);
		if (r < 0)
			goto fail;
		if (r == 1)
			add_copy(e, mbox, msg);
		json_decref(msg);
	}
	json_decref(locs);
	if (e->keywords == NULL)   /* the index named copies that are gone */
		return 0;
	if (add_thread(view, account, e, error_r) < 0) {
		jmap_email_clear(e);
		return -1;
	}
	return 1;
fail:
	json_decref(locs);
	jmap_email_clear(e);
	return -1;
}

void jmap_email_clear(struct jmap_email *e)
{
	json_decref(e->keywords);
	json_decref(e->mailboxes);
	e->keywords = e->mailboxes = NULL;
}

/* Starts over when c holds another email's content. */
static void switch_to(struct jmap_email_content *c, const struct jmap_email *e)
{
	if (c->e != e) {
		jmap_email_content_drop(c);
		c->e = e;
	}
}

int jmap_email_summary(struct jmap_email_content *c, const struct jmap_email *e, json_t **summary_r,
		       const char **error_r)
{
	int r;

	switch_to(c, e);
	if (c->summary == NULL) {
		if ((r = mail_summary_get(c->view, c->account, e->id, &c->summary, error_r)) <= 0) {
			*summary_r = NULL;
			return r;
		}
	}
	*summary_r = c->summary;
	return 1;
}

int jmap_email_raw(struct jmap_email_content *c, const struct jmap_email *e, const char **error_r)
{
	int r;

	switch_to(c, e);
	if (c->raw_state == 0) {
		r = mail_message_body(c->view, c->account, e->mbox, e->uid, &c->raw, &c->raw_len, error_r);
		if (r < 0)
			return -1;
		c->raw_state = r == 1 ? 1 : 2;
	}
	return c->raw_state == 1 ? 1 : 0;
}

void jmap_email_content_drop(struct jmap_email_content *c)
{
	json_decref(c->summary);
	free(c->raw);
	free(c->body);
	c->summary = NULL;
	c->raw = c->body = NULL;
	c->raw_len = 0;
	c->raw_state = 0;
	c->e = NULL;
}
