/* mail_replay - see mail_replay.h */
#include "projector/mail_replay.h"
#include "projector/mail.h"
#include "projector/mail_internal.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mail_replay {
	char *account;
	int64_t at_ms;
	int provisioned;
	json_t *mboxes;    /* id -> {"id","name","special_use","msgs":{"<uid>":msg}} */
};

/* The defaults of mail_account.c (mail.h PROVISIONS), in its order. */
static const struct {
	const char *name, *special_use;
} replay_defaults[] = {
	{ "INBOX", "" },        { "Drafts", "\\Drafts" }, { "Sent", "\\Sent" },
	{ "Junk", "\\Junk" },   { "Trash", "\\Trash" },   { "Archive", "\\Archive" },
};

/* Allocates an empty replay (mail_replay.h). */
struct mail_replay *mail_replay_new(const char *account, int64_t at_ms)
{
	struct mail_replay *r = xcalloc(1, sizeof *r);

	r->account = xstrdup(account);
	r->at_ms = at_ms;
	r->mboxes = json_object();
	return r;
}

void mail_replay_free(struct mail_replay **r)
{
	if (*r == NULL)
		return;
	json_decref((*r)->mboxes);
	free((*r)->account);
	free(*r);
	*r = NULL;
}

/* Adds an empty mailbox record. */
static void mbox_add(struct mail_replay *r, const char *id, const char *name, const char *special_use)
{
	json_object_set_new(r->mboxes, id, json_pack("{s:s, s:s, s:s, s:o}", "id", id, "name", name,
						     "special_use", special_use, "msgs", json_object()));
}

/* The default mailboxes, as the account's first written event made them. */
static void provision(struct mail_replay *r, const struct evm_event *ev)
{
	char id[MAIL_ID_LEN + 1], suffix[MAIL_MAILBOX_NAME_MAX + 2];

	for (size_t i = 0; i < sizeof replay_defaults / sizeof replay_defaults[0]; i++) {
		snprintf(suffix, sizeof suffix, "/%s", replay_defaults[i].name);
		mail_hash_id(ev->id, suffix, id);
		mbox_add(r, id, replay_defaults[i].name, replay_defaults[i].special_use);
	}
	r->provisioned = 1;
}

/* 1 when uid lies in one of the [[lo,hi]...] ranges. */
static int in_ranges(const json_t *ranges, uint32_t uid)
{
	size_t i;
	json_t *rg;

	json_array_foreach(ranges, i, rg) {
		json_int_t lo = json_integer_value(json_array_get(rg, 0));
		json_int_t hi = json_integer_value(json_array_get(rg, 1));
		if ((json_int_t)uid >= lo && (json_int_t)uid <= hi)
			return 1;
	}
	return 0;
}

/* Walks the UIDs of a [[lo,hi]...] list in order. */
struct range_cursor {
	const json_t *ranges;
	size_t index;
	json_int_t next;
};

/* The next UID: 1 with *uid_r, 0 at the end (or on a malformed range). */
static int range_next(struct range_cursor *c, uint32_t *uid_r)
{
	for (;;) {
		json_t *rg = json_array_get(c->ranges, c->index);
		json_int_t lo, hi;

		if (rg == NULL)
			return 0;
		lo = json_integer_value(json_array_get(rg, 0));
		hi = json_integer_value(json_array_get(rg, 1));
		if (lo < 1 || hi < lo || hi > (json_int_t)UINT32_MAX)
			return 0;
		if (c->next < lo)
			c->next = lo;
		if (c->next <= hi) {
			*uid_r = (uint32_t)c->next++;
			return 1;
		}
		c->index++;
	}
}

/* Splits a flag list into system flag bits (case-insensitive, RFC 9051
 * 2.3.2) and a normalised keyword list (new ref). */
static void split_flags(const json_t *arr, unsigned *sys_r, json_t **kw_r)
{
	json_t *kw = json_array(), *v;
	size_t i;

	*sys_r = 0;
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL)
			continue;
		if (s[0] != '\\') {
			json_array_append(kw, v);
			continue;
		}
		for (unsigned k = 0; k < 5; k++) {
			json_t *one = mail_flags_json(1u << k);
			if (strcasecmp(s, json_string_value(json_array_get(one, 0))) == 0)
				*sys_r |= 1u << k;
			json_decref(one);
		}
	}
	*kw_r = mail_kw_union(kw, NULL);   /* a union with nothing: sorted, deduplicated */
	json_decref(kw);
}

/* The message table of a mailbox id in the event's data field; NULL when
 * the mailbox is not known. */
static json_t *msgs_of(struct mail_replay *r, const char *id)
{
	return id == NULL ? NULL : json_object_get(json_object_get(r->mboxes, id), "msgs");
}

/* The member name of a UID in a mailbox's msgs object. */
static void uid_key(uint32_t uid, char key[16])
{
	snprintf(key, 16, "%u", uid);
}

/* message.append: the new message, placed where the outcome says. */
static int feed_append(struct mail_replay *r, const struct evm_event *ev, const json_t *outcome)
{
	json_t *msgs = msgs_of(r, json_string_value(json_object_get(outcome, "mailbox_id")));
	json_int_t uid = json_integer_value(json_object_get(outcome, "uid"));
	json_t *d = ev->data, *msg, *kw, *kw2, *all;
	unsigned sys, sys2;
	char key[16];

	if (msgs == NULL || uid < 1 || uid > (json_int_t)UINT32_MAX ||
	    !json_is_string(json_object_get(d, "blob_id")))
		return 0;
	split_flags(json_object_get(d, "flags"), &sys, &kw);
	split_flags(json_object_get(d, "keywords"), &sys2, &kw2);
	all = mail_kw_union(kw, kw2);
	msg = json_pack("{s:I, s:O, s:O*, s:s, s:o, s:o, s:O*, s:O*, s:O*}", "uid", uid,
			"blob_id", json_object_get(d, "blob_id"), "blob_size",
			json_object_get(d, "blob_size"), "prefix",
			json_string_value(json_object_get(d, "prefix")) ? json_string_value(json_object_get(d, "prefix")) : "",
			"flags", mail_flags_json(sys | sys2), "keywords", all, "internal_date",
			json_object_get(d, "internal_date"), "summary", json_object_get(d, "summary"),
			"email_id", json_object_get(outcome, "email_id"));
	json_decref(kw);
	json_decref(kw2);
	if (msg == NULL)
		return 0;
	if (json_object_get(d, "dsn") != NULL)
		json_object_set(msg, "dsn", json_object_get(d, "dsn"));
	uid_key((uint32_t)uid, key);
	json_object_set_new(msgs, key, msg);
	return 1;
}

/* message.store: the flags of the UIDs the store changed. */
static int feed_store(struct mail_replay *r, const struct evm_event *ev, const json_t *outcome)
{
	json_t *msgs = msgs_of(r, json_string_value(json_object_get(ev->data, "mailbox_id")));
	const char *action = json_string_value(json_object_get(ev->data, "action"));
	json_t *uids = json_object_get(ev->data, "uids"), *modified = json_object_get(outcome, "modified");
	json_t *kw, *msg;
	const char *key;
	unsigned sys;
	int changed = 0;

	if (msgs == NULL || action == NULL)
		return 0;
	split_flags(json_object_get(ev->data, "flags"), &sys, &kw);
	json_object_foreach(msgs, key, msg) {
		uint32_t uid = (uint32_t)json_integer_value(json_object_get(msg, "uid"));
		json_t *old_kw = json_object_get(msg, "keywords"), *new_kw;
		unsigned bits = mail_flags_bits(json_object_get(msg, "flags"));

		if (!in_ranges(uids, uid) || in_ranges(modified, uid))
			continue;
		if (strcmp(action, "add") == 0) {
			bits |= sys;
			new_kw = mail_kw_union(old_kw, kw);
		} else if (strcmp(action, "remove") == 0) {
			bits &= ~sys;
			new_kw = mail_kw_minus(old_kw, kw);
		} else {
			bits = sys;
			new_kw = json_incref(kw);
		}
		json_object_set_new(msg, "flags", mail_flags_json(bits));
		json_object_set_new(msg, "keywords", new_kw);
		changed = 1;
	}
	json_decref(kw);
	return changed;
}

/* message.copy / message.move: src UIDs paired with dst UIDs in order. */
static int feed_copy(struct mail_replay *r, const struct evm_event *ev, const json_t *outcome, int move)
{
	json_t *src = msgs_of(r, json_string_value(json_object_get(ev->data, "mailbox_id")));
	json_t *dst = msgs_of(r, json_string_value(json_object_get(ev->data, "to_mailbox_id")));
	struct range_cursor sc = { json_object_get(outcome, "src"), 0, 0 };
	struct range_cursor dc = { json_object_get(outcome, "dst"), 0, 0 };
	uint32_t su, du;
	char skey[16], dkey[16];
	int changed = 0;

	if (src == NULL || dst == NULL)
		return 0;
	while (range_next(&sc, &su) && range_next(&dc, &du)) {
		json_t *msg;

		uid_key(su, skey);
		if ((msg = json_object_get(src, skey)) == NULL)
			continue;
		msg = json_deep_copy(msg);
		json_object_set_new(msg, "uid", json_integer(du));
		uid_key(du, dkey);
		json_object_set_new(dst, dkey, msg);
		if (move)
			json_object_del(src, skey);
		changed = 1;
	}
	return changed;
}

/* message.expunge: the UIDs the outcome says went. */
static int feed_expunge(struct mail_replay *r, const struct evm_event *ev, const json_t *outcome)
{
	json_t *msgs = msgs_of(r, json_string_value(json_object_get(ev->data, "mailbox_id")));
	struct range_cursor c = { json_object_get(outcome, "expunged"), 0, 0 };
	uint32_t uid;
	char key[16];
	int changed = 0;

	while (msgs != NULL && range_next(&c, &uid)) {
		uid_key(uid, key);
		changed |= json_object_del(msgs, key) == 0;
	}
	return changed;
}

/* mailbox.rename: the mailbox and its children (RFC 9051 6.3.6). */
static int feed_rename(struct mail_replay *r, const struct evm_event *ev)
{
	json_t *mbox = json_object_get(r->mboxes, json_string_value(json_object_get(ev->data, "mailbox_id")));
	char to[MAIL_MAILBOX_NAME_MAX + 1], from[MAIL_MAILBOX_NAME_MAX + 2], name[2 * MAIL_MAILBOX_NAME_MAX + 2];
	const char *error = NULL, *id;
	json_t *m;
	size_t flen;

	if (mbox == NULL || json_string_value(json_object_get(ev->data, "name")) == NULL ||
	    mail_name_canonical(json_string_value(json_object_get(ev->data, "name")), to, &error) < 0)
		return 0;
	snprintf(from, sizeof from, "%s/", json_string_value(json_object_get(mbox, "name")));
	flen = strlen(from);
	json_object_foreach(r->mboxes, id, m) {
		const char *cur = json_string_value(json_object_get(m, "name"));
		if (strncmp(cur, from, flen) == 0) {
			snprintf(name, sizeof name, "%s/%s", to, cur + flen);
			json_object_set_new(m, "name", json_string(name));
		}
	}
	json_object_set_new(mbox, "name", json_string(to));
	return 1;
}

/* mailbox.create: a new empty mailbox under its canonical name. */
static int feed_create(struct mail_replay *r, const struct evm_event *ev)
{
	const char *id = json_string_value(json_object_get(ev->data, "mailbox_id"));
	const char *name = json_string_value(json_object_get(ev->data, "name"));
	const char *su = json_string_value(json_object_get(ev->data, "special_use"));
	char canon[MAIL_MAILBOX_NAME_MAX + 1];
	const char *error = NULL;

	if (id == NULL || name == NULL || mail_name_canonical(name, canon, &error) < 0)
		return 0;
	mbox_add(r, id, canon, su ? su : "");
	return 1;
}

int mail_replay_feed(struct mail_replay *r, const struct evm_event *ev, const json_t *outcome)
{
	const char *status = json_string_value(json_object_get(outcome, "status"));
	const char *t = ev->type;

	if (ev->ts > r->at_ms || ev->account == NULL || strcmp(ev->account, r->account) != 0 ||
	    status == NULL || strcmp(status, "accepted") != 0)
		return 0;
	if (strcmp(t, "account.purge") == 0) {
		/* The store is gone (mail_purge.c): the next event provisions
		 * it again, as in the view. */
		json_object_clear(r->mboxes);
		r->provisioned = 0;
		return 1;
	}
	if (!r->provisioned)
		provision(r, ev);
	if (strcmp(t, "message.append") == 0)
		return feed_append(r, ev, outcome);
	if (strcmp(t, "message.store") == 0)
		return feed_store(r, ev, outcome);
	if (strcmp(t, "message.copy") == 0 || strcmp(t, "message.move") == 0)
		return feed_copy(r, ev, outcome, strcmp(t, "message.move") == 0);
	if (strcmp(t, "message.expunge") == 0)
		return feed_expunge(r, ev, outcome);
	if (strcmp(t, "mailbox.create") == 0)
		return feed_create(r, ev);
	if (strcmp(t, "mailbox.rename") == 0)
		return feed_rename(r, ev);
	if (strcmp(t, "mailbox.delete") == 0)
		return json_object_del(r->mboxes, json_string_value(json_object_get(ev->data, "mailbox_id")) ?
					json_string_value(json_object_get(ev->data, "mailbox_id")) : "") == 0;
	if (strcmp(t, "mailbox.update") == 0) {
		json_t *m = json_object_get(r->mboxes, json_string_value(json_object_get(ev->data, "mailbox_id")));
		json_t *su = json_object_get(ev->data, "special_use");
		if (m == NULL || !json_is_string(su))
			return 0;
		json_object_set(m, "special_use", su);
		return 1;
	}
	return 0;
}

/* qsort orders: mailboxes by name, messages by UID. */
static int by_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

static int by_uid(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "uid"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "uid"));
	return x < y ? -1 : x > y;
}

/* The values of an object in the order cmp gives (a new array). */
static json_t *sorted_values(json_t *obj, int (*cmp)(const void *, const void *))
{
	size_t n = json_object_size(obj), i = 0;
	json_t **v = xcalloc(n + 1, sizeof *v), *out = json_array(), *m;
	const char *key;

	json_object_foreach(obj, key, m)
		v[i++] = m;
	qsort(v, n, sizeof *v, cmp);
	for (i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

json_t *mail_replay_mailboxes(const struct mail_replay *r)
{
	json_t *sorted = sorted_values(r->mboxes, by_name), *out = json_array(), *m;
	size_t i;

	json_array_foreach(sorted, i, m) {
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:I}", "id", json_object_get(m, "id"),
						     "name", json_object_get(m, "name"), "special_use",
						     json_object_get(m, "special_use"), "messages",
						     (json_int_t)json_object_size(json_object_get(m, "msgs"))));
	}
	json_decref(sorted);
	return out;
}

int mail_replay_mailbox_by_name(const struct mail_replay *r, const char *name, char id_r[33])
{
	char canon[MAIL_MAILBOX_NAME_MAX + 1];
	const char *error = NULL, *id;
	json_t *m;

	if (mail_name_canonical(name, canon, &error) < 0)
		return 0;
	json_object_foreach(r->mboxes, id, m) {
		if (strcmp(json_string_value(json_object_get(m, "name")), canon) == 0) {
			snprintf(id_r, 33, "%s", id);
			return 1;
		}
	}
	return 0;
}

json_t *mail_replay_messages(const struct mail_replay *r, const char *mailbox_id)
{
	json_t *msgs = json_object_get(json_object_get(r->mboxes, mailbox_id), "msgs");

	return msgs == NULL ? json_array() : sorted_values(msgs, by_uid);
}
