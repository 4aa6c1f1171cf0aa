/* imap_notify_session - a session's NOTIFY state (RFC 5465): what it last
 * reported of each mailbox of the account (counters, name, metadata) and
 * of the subscriptions. When the projector changes the account, a new
 * snapshot is compared with it, and only the differences the NOTIFY SET
 * asked for are sent: STATUS for a non-selected mailbox (5.1-5.3), LIST
 * for MailboxName (5.4, OLDNAME on a rename, \NonExistent on a delete)
 * and SubscriptionChange (5.5), METADATA for MailboxMetadataChange and
 * ServerMetadataChange (5.6, 5.7, the RFC 5464 4.4.2 unsolicited form).
 * They go out at once when no command is in progress (or during IDLE),
 * else just before the command's tagged reply (RFC 5465 4). More than
 * IMAP_NOTIFY_OVERFLOW responses at once give NOTIFICATIONOVERFLOW and
 * turn NOTIFY off (5.8). The selected mailbox keeps the usual EXISTS /
 * EXPUNGE / FETCH updates, sent as soon as they happen with the selected
 * filter (and FETCH with the MessageNew attributes for new messages).
 * Mailboxes shared with the session (l and r) are watched like its own
 * when a subscribed / subtree / mailboxes filter names them
 * (imap_notify_shared.c); their METADATA is the owner's and not watched. */
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_notify.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_recent.h"
#include "gateway/imap/imap_keywords.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_status.h"
#include "common/log.h"
#include "gateway/node.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct imap_notify {
	struct imap_notify_spec *spec;
	json_t *boxes;        /* id -> {name, messages, uidnext, uidvalidity, unseen, highestmodseq, meta} */
	json_t *subs;         /* subscribed name -> true */
	json_t *server_meta;  /* entry -> value hash */
	bool pending;         /* a change arrived during a command */
	struct imap_notify_owners owners;   /* of the shared mailboxes in boxes */
};

/* FNV-1a of a metadata value: only equality matters. */
static json_int_t value_hash(const char *v, size_t len)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)v[i]) * 1099511628211ULL;
	return (json_int_t)(h >> 1);
}

/* entry -> value hash of a mailbox's metadata ("" = the server's). */
static json_t *meta_snapshot(struct imap_session *s, const char *id)
{
	json_t *names = NULL, *out = json_object(), *n;
	const char *error = NULL;
	size_t i;

	if (mail_metadata_names(s->node->view, s->account, id, &names, &error) < 0)
		return out;
	json_array_foreach(names, i, n) {
		char *v = NULL;
		size_t len = 0;

		if (mail_metadata_get(s->node->view, s->account, id, json_string_value(n), &v, &len, &error) > 0)
			json_object_set_new(out, json_string_value(n), json_integer(value_hash(v, len)));
		free(v);
	}
	json_decref(names);
	return out;
}

/* Reads the account's mailboxes and subscriptions into st. 0 or -1. */
static int snapshot(struct imap_session *s, struct imap_notify *st)
{
	static const char *const keys[] = { "name", "messages", "uidnext", "uidvalidity", "unseen",
					     "highestmodseq", "id" };
	unsigned ev = imap_notify_all_events(st->spec);
	json_t *list = NULL, *subs = NULL, *b, *v;
	bool shared;
	const char *error = NULL;
	size_t i;

	if (s->node == NULL || s->node->view == NULL)
		return -1;
	if (mail_mailboxes(s->node->view, s->account, &list, &error) < 0 ||
	    mail_subscriptions(s->node->view, s->account, &subs, &error) < 0) {
		log_warn("imap[%s]: notify: %s", s->id, error);
		json_decref(list);
		return -1;
	}
	json_decref(st->boxes);
	json_decref(st->subs);
	st->boxes = json_object();
	st->subs = json_object();
	json_array_foreach(list, i, b) {
		json_t *rec = json_object();
		const char *id = json_string_value(json_object_get(b, "id"));

		if (id == NULL)
			continue;
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			if ((v = json_object_get(b, keys[k])) != NULL)
				json_object_set(rec, keys[k], v);
		}
		if (ev & IMAP_NE_MAILBOX_METADATA)
			json_object_set_new(rec, "meta", meta_snapshot(s, id));
		json_object_set_new(st->boxes, id, rec);
	}
	/* RFC 5465 6 with RFC 4314: shared mailboxes a filter names. */
	shared = imap_notify_shared_add(s, st->spec, st->boxes, keys, sizeof keys / sizeof keys[0]);
	imap_notify_owners_update(s, &st->owners, st->boxes, shared);
	json_array_foreach(subs, i, v)
		json_object_set_new(st->subs, json_string_value(v), json_true());
	if (ev & IMAP_NE_SERVER_METADATA) {
		json_decref(st->server_meta);
		st->server_meta = meta_snapshot(s, "");
	}
	json_decref(list);
	json_decref(subs);
	return 0;
}

/* 1 when field k differs between two mailbox records. */
static int differs(json_t *a, json_t *b, const char *k)
{
	return !json_equal(json_object_get(a, k), json_object_get(b, k));
}

/* The events for a mailbox record (none for the selected mailbox's
 * message events: it has its own updates). */
static unsigned events_of(struct imap_session *s, struct imap_notify *st, json_t *rec)
{
	const char *name = json_string_value(json_object_get(rec, "name"));
	unsigned ev;

	if (name == NULL)
		return 0;
	ev = imap_notify_events_for(st->spec, name, json_object_get(st->subs, name) != NULL);
	if (s->mbox != NULL && strcmp(s->mbox->id, json_string_value(json_object_get(rec, "id"))) == 0)
		ev &= ~(unsigned)IMAP_NE_MESSAGE;
	return ev;
}

/* Appends {"t": type, ...} to out. */
static void want(json_t *out, const char *type, json_t *rec, const char *extra)
{
	json_t *a = json_pack("{s:s, s:O}", "t", type, "rec", rec);

	if (extra != NULL)
		json_object_set_new(a, "x", json_string(extra));
	json_array_append_new(out, a);
}

/* The entries whose values differ between two metadata snapshots, as
 * " /private/a /shared/b" (NULL when none). */
static char *meta_diff(json_t *old, json_t *now)
{
	struct buf b = BUF_INIT;
	const char *k;
	json_t *v;

	json_object_foreach(now, k, v) {
		if (!json_equal(v, json_object_get(old, k)))
			buf_printf(&b, " %s", k);
	}
	json_object_foreach(old, k, v) {
		if (json_object_get(now, k) == NULL)
			buf_printf(&b, " %s", k);
	}
	return b.data;
}

/* What to send: the differences between old and st (now), as actions. */
static json_t *diff(struct imap_session *s, struct imap_notify *st, json_t *old_boxes, json_t *old_subs,
		    json_t *old_server)
{
	json_t *out = json_array(), *rec, *prev, *v;
	const char *id, *name;

	json_object_foreach(st->boxes, id, rec) {
		unsigned ev = events_of(s, st, rec);

		prev = json_object_get(old_boxes, id);
		name = json_string_value(json_object_get(rec, "name"));
		if (prev == NULL) {
			if (ev & IMAP_NE_MAILBOX_NAME)
				want(out, "created", rec, NULL);
			continue;
		}
		if (differs(prev, rec, "name") && ((ev | events_of(s, st, prev)) & IMAP_NE_MAILBOX_NAME))
			want(out, "renamed", rec, json_string_value(json_object_get(prev, "name")));
		if (((ev & (IMAP_NE_MESSAGE_NEW | IMAP_NE_MESSAGE_EXPUNGE)) &&
		     (differs(prev, rec, "messages") || differs(prev, rec, "uidnext") ||
		      differs(prev, rec, "uidvalidity"))) ||
		    ((ev & IMAP_NE_FLAG_CHANGE) && (differs(prev, rec, "unseen") || differs(prev, rec, "highestmodseq"))))
			want(out, "status", rec, NULL);
		if (ev & IMAP_NE_MAILBOX_METADATA) {
			char *d = meta_diff(json_object_get(prev, "meta"), json_object_get(rec, "meta"));

			if (d != NULL)
				want(out, "metadata", rec, d + 1);
			free(d);
		}
	}
	json_object_foreach(old_boxes, id, prev) {
		if (json_object_get(st->boxes, id) == NULL && (events_of(s, st, prev) & IMAP_NE_MAILBOX_NAME))
			want(out, "deleted", prev, NULL);
	}
	json_object_foreach(st->subs, name, v) {
		if (json_object_get(old_subs, name) == NULL &&
		    (imap_notify_events_for(st->spec, name, true) & IMAP_NE_SUBSCRIPTION))
			want(out, "subscribed", json_pack("{s:s}", "name", name), NULL);
	}
	json_object_foreach(old_subs, name, v) {
		if (json_object_get(st->subs, name) == NULL &&
		    (imap_notify_events_for(st->spec, name, true) & IMAP_NE_SUBSCRIPTION))
			want(out, "unsubscribed", json_pack("{s:s}", "name", name), NULL);
	}
	if (imap_notify_all_events(st->spec) & IMAP_NE_SERVER_METADATA) {
		char *d = meta_diff(old_server, st->server_meta);

		if (d != NULL)
			want(out, "server-metadata", json_object(), d + 1);
		free(d);
	}
	return out;
}

/* "* STATUS" with the counters a watcher needs (RFC 5465 5.1-5.3). */
static void send_status(struct imap_session *s, json_t *rec)
{
	struct imap_arg items[5] = {
		{ .type = IMAP_ARG_ATOM, .str = "MESSAGES" }, { .type = IMAP_ARG_ATOM, .str = "UIDNEXT" },
		{ .type = IMAP_ARG_ATOM, .str = "UIDVALIDITY" }, { .type = IMAP_ARG_ATOM, .str = "UNSEEN" },
		{ .type = IMAP_ARG_ATOM, .str = "HIGHESTMODSEQ" },
	};

	imap_status_line(s, rec, items, s->condstore ? 5 : 4);
}

/* "* LIST (attrs) "/" name[ extra]". */
static void send_list(struct imap_session *s, const char *attrs, const char *name, const char *oldname)
{
	struct buf out = BUF_INIT;

	buf_printf(&out, "* LIST (%s) \"/\" ", attrs);
	imap_quote_mailbox(s, &out, name);
	if (oldname != NULL) {   /* RFC 5465 5.4 with RFC 5258 mbox-list-extended */
		buf_puts(&out, " (\"OLDNAME\" (");
		imap_quote_mailbox(s, &out, oldname);
		buf_puts(&out, "))");
	}
	imap_line(s, "%s", out.data);
	buf_free(&out);
}

/* Sends the actions of diff(). */
static void send_actions(struct imap_session *s, json_t *acts)
{
	json_t *a;
	size_t i;

	json_array_foreach(acts, i, a) {
		const char *t = json_string_value(json_object_get(a, "t"));
		json_t *rec = json_object_get(a, "rec");
		const char *name = json_string_value(json_object_get(rec, "name"));
		const char *x = json_string_value(json_object_get(a, "x"));

		if (strcmp(t, "status") == 0) {
			send_status(s, rec);
		} else if (strcmp(t, "created") == 0) {
			send_list(s, "", name, NULL);
		} else if (strcmp(t, "renamed") == 0) {
			send_list(s, "", name, x);
		} else if (strcmp(t, "deleted") == 0) {
			send_list(s, "\\NonExistent", name, NULL);
		} else if (strcmp(t, "subscribed") == 0 || strcmp(t, "unsubscribed") == 0) {
			send_list(s, t[0] == 's' ? "\\Subscribed" : "", name, NULL);
		} else {   /* RFC 5464 4.4.2: unsolicited METADATA with the entry names */
			struct buf out = BUF_INIT;

			buf_puts(&out, "* METADATA ");
			if (strcmp(t, "metadata") == 0)
				imap_quote_mailbox(s, &out, name);
			else
				buf_puts(&out, "\"\"");
			buf_printf(&out, " %s", x);
			imap_line(s, "%s", out.data);
			buf_free(&out);
		}
	}
}

/* The selected mailbox's updates now, plus FETCH with the MessageNew
 * attributes for the messages new to the client (RFC 5465 5.1). */
static void selected_updates(struct imap_session *s, int allow_expunge)
{
	struct imap_mbox *mb = s->mbox;
	unsigned fa = s->notify->spec->fetch;
	uint32_t known = 0;

	for (size_t i = 0; i < mb->n && i < mb->exists_sent; i++) {
		if (mb->msgs[i].uid > known)
			known = mb->msgs[i].uid;
	}
	imap_mbox_report(s, allow_expunge);
	if (fa == 0 || s->mbox != mb)
		return;
	struct imap_recs recs = { 0 };

	for (size_t i = 0; i < mb->n && i < mb->exists_sent; i++) {
		struct imap_msg *m = &mb->msgs[i];
		struct buf out = BUF_INIT;
		const char *sep = "";
		json_t *rec = NULL;

		if (m->uid <= known || m->expunged)
			continue;
		if (fa & (IMAP_NFA_SIZE | IMAP_NFA_INTERNALDATE))
			rec = imap_recs_get(s, &recs, i, IMAP_RECS_RUN);
		imap_fetch_open(s, &out, i + 1, m->uid);
		if (fa & IMAP_NFA_UID) {
			buf_printf(&out, "UID %u", m->uid);
			sep = " ";
		}
		if (fa & IMAP_NFA_FLAGS) {
			imap_keywords_check(s, m);
			buf_printf(&out, "%sFLAGS ", sep);
			imap_flags_string(mb, m, imap_msg_recent(mb, m->uid), &out);
			sep = " ";
		}
		if (fa & IMAP_NFA_MODSEQ) {
			buf_printf(&out, "%sMODSEQ (%lld)", sep, (long long)m->modseq);
			sep = " ";
		}
		if (fa & IMAP_NFA_SIZE) {
			buf_printf(&out, "%sRFC822.SIZE %" JSON_INTEGER_FORMAT, sep,
				   json_integer_value(json_object_get(rec, "size")));
			sep = " ";
		}
		if (fa & IMAP_NFA_INTERNALDATE) {
			static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
							   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
			time_t t = (time_t)(json_integer_value(json_object_get(rec, "internal_date")) / 1000);
			struct tm tm;

			gmtime_r(&t, &tm);
			buf_printf(&out, "%sINTERNALDATE \"%02d-%s-%04d %02d:%02d:%02d +0000\"", sep, tm.tm_mday,
				   mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		}
		buf_puts(&out, ")");
		imap_line(s, "%s", out.data);
		buf_free(&out);
	}
	imap_recs_free(&recs);
}

/* Takes a new snapshot and sends what changed since the last one. */
static void send_changes(struct imap_session *s)
{
	struct imap_notify *st = s->notify;
	json_t *ob = st->boxes, *os = st->subs, *om = st->server_meta, *acts;

	st->pending = false;
	st->boxes = st->subs = NULL;
	st->server_meta = om != NULL ? json_incref(om) : NULL;
	if (snapshot(s, st) < 0) {
		json_decref(st->boxes);
		json_decref(st->subs);
		json_decref(st->server_meta);
		st->boxes = ob;
		st->subs = os;
		st->server_meta = om;
		return;
	}
	acts = diff(s, st, ob, os, om);
	if (json_array_size(acts) > IMAP_NOTIFY_OVERFLOW) {
		/* RFC 5465 5.8: too many; as if NOTIFY NONE */
		imap_line(s, "* OK [NOTIFICATIONOVERFLOW] Too many notifications, NOTIFY is off");
		imap_notify_free(s);
	} else {
		send_actions(s, acts);
	}
	json_decref(acts);
	json_decref(ob);
	json_decref(os);
	json_decref(om);
}

void imap_notify_free(struct imap_session *s)
{
	struct imap_notify *st = s->notify;

	if (st == NULL)
		return;
	imap_notify_spec_free(&st->spec);
	imap_notify_owners_free(&st->owners);
	json_decref(st->boxes);
	json_decref(st->subs);
	json_decref(st->server_meta);
	free(st);
	s->notify = NULL;
}

void imap_notify_set(struct imap_session *s, struct imap_notify_spec *spec)
{
	struct imap_notify *st;
	json_t *rec;
	const char *id;

	imap_notify_free(s);
	if (spec == NULL || spec->none) {
		imap_notify_spec_free(&spec);
		return;
	}
	st = xcalloc(1, sizeof *st);
	st->spec = spec;
	s->notify = st;
	if (snapshot(s, st) < 0) {
		st->boxes = json_object();
		st->subs = json_object();
	}
	if (!spec->status)
		return;
	/* RFC 5465 3.1: STATUS for every mailbox with message events, now */
	json_object_foreach(st->boxes, id, rec) {
		if (events_of(s, st, rec) & IMAP_NE_MESSAGE)
			send_status(s, rec);
	}
}

void imap_notify_changed(struct imap_session *s)
{
	bool delayed;
	unsigned sel;

	if (s->notify == NULL || s->conn == NULL || s->closing)
		return;
	if (s->in_cmd && !s->idling) {
		s->notify->pending = true;
		return;
	}
	sel = imap_notify_selected_events(s->notify->spec, &delayed);
	if (s->mbox != NULL && (sel & IMAP_NE_MESSAGE) && !s->mbox->claiming)
		selected_updates(s, 1);
	if (s->notify != NULL)
		send_changes(s);
}

void imap_notify_flush(struct imap_session *s, bool ok)
{
	if (s->notify == NULL)
		return;
	if (ok && s->mbox != NULL && s->notify->spec->fetch != 0 && !s->mbox->claiming) {
		unsigned flags = s->cur != NULL ? s->cur->flags : 0;

		selected_updates(s, !(flags & IMAP_CMD_SEQ) || s->cur_uid);
	}
	if (s->notify != NULL && s->notify->pending)
		send_changes(s);
}
