/* imap_cmd_fetch - FETCH and UID FETCH (RFC 9051 6.4.5, 7.5.2; RFC 3516
 * BINARY). Data items are rendered by imap_render.h from the message
 * record, its MIME summary and (when a section is asked for) its bytes.
 * A non-PEEK body fetch sets \Seen through a message.store event first,
 * so the FETCH responses carry the new FLAGS. Messages expunged by
 * another session but not announced yet are skipped (OK [EXPUNGEISSUED]).
 * RFC 7162: the MODSEQ item, the (CHANGEDSINCE n [VANISHED]) modifiers
 * (imap_condstore.c parses them). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_recent.h"
#include "gateway/imap/imap_keywords.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_fetch_ext.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_acl.h"
#include "gateway/imap/imap_render.h"
#include "common/log.h"
#include "projector/mail.h"
#include "gateway/imap/imap_partial.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum fkind {
	F_FLAGS, F_UID, F_INTERNALDATE, F_SIZE, F_ENVELOPE, F_BODY, F_BODYSTRUCTURE,
	F_SECTION, F_BINARY, F_BINARY_SIZE, F_RFC822, F_RFC822_HEADER, F_RFC822_TEXT,
	F_MODSEQ,               /* RFC 7162 3.1.4 */
	F_EMAILID, F_THREADID, F_SAVEDATE, F_PREVIEW,   /* imap_fetch_ext.c */
};

struct fitem {
	enum fkind kind;
	struct imap_section sec;
	char *label;            /* "BODY[1.2]" as answered, without <origin> */
};

struct fetch {
	struct fitem *items;
	size_t n;
	size_t *idx, nidx;
	int sets_seen;          /* a non-PEEK body item */
	int has_flags;
	int has_modseq;
	int rev2;               /* number64 partial ranges (RFC 9051 9) */
	int need_rec;           /* an item beyond UID FLAGS MODSEQ (needs_rec) */
	struct imap_recs recs;  /* view records, for items beyond UID FLAGS MODSEQ */
	/* FLAGS of messages without keywords, rendered once per (system
	 * flags, \Recent): index flags | recent << 5; len 0 = not yet. */
	struct { unsigned char len; char s[64]; } flagstr[64];
};

static void fetch_free(void *p)
{
	struct fetch *f = p;

	for (size_t i = 0; i < f->n; i++) {
		imap_section_free(&f->items[i].sec);
		free(f->items[i].label);
	}
	free(f->items);
	free(f->idx);
	imap_recs_free(&f->recs);
	free(f);
}

static struct fitem *add(struct fetch *f, enum fkind kind)
{
	struct fitem *it;

	f->items = xrealloc(f->items, (f->n + 1) * sizeof *f->items);
	it = &f->items[f->n++];
	memset(it, 0, sizeof *it);
	it->kind = kind;
	if (kind == F_MODSEQ)
		f->has_modseq = 1;
	if (kind == F_FLAGS)
		f->has_flags = 1;
	return it;
}

/* BODY[...], BODY.PEEK[...], BINARY[...], BINARY.PEEK[...], BINARY.SIZE[...]. */
static int parse_section_item(struct fetch *f, const char *atom)
{
	const char *lb = strchr(atom, '['), *rb = strrchr(atom, ']');
	size_t nl = (size_t)(lb - atom);
	enum fkind kind;
	int peek = 0;
	struct fitem *it;
	struct buf label = BUF_INIT;

	if (rb == NULL || rb < lb)
		return -1;
	if (nl == 4 && strncasecmp(atom, "BODY", 4) == 0)
		kind = F_SECTION;
	else if (nl == 9 && strncasecmp(atom, "BODY.PEEK", 9) == 0)
		kind = F_SECTION, peek = 1;
	else if (nl == 6 && strncasecmp(atom, "BINARY", 6) == 0)
		kind = F_BINARY;
	else if (nl == 11 && strncasecmp(atom, "BINARY.PEEK", 11) == 0)
		kind = F_BINARY, peek = 1;
	else if (nl == 11 && strncasecmp(atom, "BINARY.SIZE", 11) == 0)
		kind = F_BINARY_SIZE, peek = 1;
	else
		return -1;
	it = add(f, kind);
	if (imap_section_parse(lb + 1, (size_t)(rb - lb - 1), rb[1] ? rb + 1 : NULL, &it->sec) < 0) {
		f->n--;
		return -1;
	}
	if ((kind != F_SECTION && (it->sec.kind != IMAP_SECTION_ALL || (kind == F_BINARY_SIZE && it->sec.partial))) ||
	    (!f->rev2 && (it->sec.offset > UINT32_MAX || it->sec.length > UINT32_MAX))) {
		imap_section_free(&it->sec);
		f->n--;
		return -1;
	}
	buf_puts(&label, kind == F_SECTION ? "BODY[" : kind == F_BINARY ? "BINARY[" : "BINARY.SIZE[");
	buf_append(&label, lb + 1, (size_t)(rb - lb - 1));
	buf_puts(&label, "]");
	it->label = buf_steal(&label);
	if (!peek)
		f->sets_seen = 1;
	return 0;
}

static int parse_item(struct fetch *f, const struct imap_arg *a)
{
	static const struct { const char *name; enum fkind kind; } simple[] = {
		{ "FLAGS", F_FLAGS }, { "UID", F_UID }, { "INTERNALDATE", F_INTERNALDATE },
		{ "RFC822.SIZE", F_SIZE }, { "ENVELOPE", F_ENVELOPE }, { "BODY", F_BODY },
		{ "BODYSTRUCTURE", F_BODYSTRUCTURE }, { "RFC822", F_RFC822 },
		{ "RFC822.HEADER", F_RFC822_HEADER }, { "RFC822.TEXT", F_RFC822_TEXT },
		{ "MODSEQ", F_MODSEQ },
		{ "EMAILID", F_EMAILID }, { "THREADID", F_THREADID }, { "SAVEDATE", F_SAVEDATE },
		{ "PREVIEW", F_PREVIEW },
	};
	const char *v;

	if (a->type != IMAP_ARG_ATOM || (v = a->str) == NULL)
		return -1;
	if (strchr(v, '[') != NULL)
		return parse_section_item(f, v);
	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++) {
		if (strcasecmp(v, simple[i].name) == 0) {
			add(f, simple[i].kind);
			if (simple[i].kind == F_RFC822 || simple[i].kind == F_RFC822_TEXT)
				f->sets_seen = 1;
			return 0;
		}
	}
	return -1;
}

/* RFC 9051 6.4.5 macros. */
static int parse_items(struct fetch *f, const struct imap_arg *a)
{
	if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "ALL") == 0) {
		add(f, F_FLAGS), add(f, F_INTERNALDATE), add(f, F_SIZE), add(f, F_ENVELOPE);
		return 0;
	}
	if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "FAST") == 0) {
		add(f, F_FLAGS), add(f, F_INTERNALDATE), add(f, F_SIZE);
		return 0;
	}
	if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "FULL") == 0) {
		add(f, F_FLAGS), add(f, F_INTERNALDATE), add(f, F_SIZE), add(f, F_ENVELOPE), add(f, F_BODY);
		return 0;
	}
	if (a->type != IMAP_ARG_LIST)
		return parse_item(f, a);
	if (a->count == 0)
		return -1;
	for (size_t i = 0; i < a->count; i++) {
		/* RFC 8970 3: PREVIEW (LAZY): the preview is always at hand. */
		if (a->list[i].type == IMAP_ARG_LIST && f->n > 0 && f->items[f->n - 1].kind == F_PREVIEW)
			continue;
		if (parse_item(f, &a->list[i]) < 0)
			return -1;
	}
	return 0;
}

/* An IMAP literal; literal8 when it holds NUL (RFC 3516 4.2: BINARY
 * results; a message APPENDed as literal8 is stored as it came, RFC 3516
 * 4.4, and a literal cannot carry its NULs back in BODY[] either). */
static void literal(struct buf *out, const char *data, size_t len)
{
	int nul = memchr(data, '\0', len) != NULL;

	buf_printf(out, "%s{%zu}\r\n", nul ? "~" : "", len);
	buf_append(out, data, len);
}

static void internaldate(struct buf *out, int64_t ms)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d +0000\"", tm.tm_mday, mon[tm.tm_mon],
		   tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* Per message: what is loaded lazily. */
struct msgdata {
	json_t *rec;            /* the view record (borrowed), NULL when not needed */
	json_t *summary;
	char *body;
	size_t len, prefix_len;
};

static size_t prefix_len(json_t *rec)
{
	const char *p = json_string_value(json_object_get(rec, "prefix"));

	return p != NULL ? strlen(p) : 0;
}

static int need_summary(struct imap_session *s, json_t *rec, struct msgdata *d)
{
	const char *error = NULL;

	if (d->summary != NULL)
		return 0;
	if (mail_summary_get(s->node->view, s->mbox->owner, json_string_value(json_object_get(rec, "email_id")),
			     &d->summary, &error) <= 0) {
		d->summary = json_object();
		return -1;
	}
	return 0;
}

/* 1 when message uid is gone from the view: expunged by another session
 * since our snapshot (RFC 5530 EXPUNGEISSUED: it will not come back), not
 * a body that has not reached this node's view yet. */
static int fetch_gone(struct imap_session *s, uint32_t uid)
{
	const char *error = NULL;
	json_t *rec = NULL;
	int r = mail_message_get(s->node->view, s->mbox->owner, s->mbox->id, uid, &rec, &error);

	json_decref(rec);
	return r == 0;
}

/* The stored message (prefix + blob) of d->rec; with the MIME summary too when
 * the section needs it: BODY[], BINARY[] and RFC822 are the stored octets
 * as they are, so they skip reading and parsing it. */
static int need_body(struct imap_session *s, struct msgdata *d, const struct imap_section *sec)
{
	const char *error = NULL;

	if (d->body == NULL) {
		d->prefix_len = prefix_len(d->rec);
		if (mail_message_body_rec(s->node->view, d->rec, &d->body, &d->len, &error) <= 0)
			return -1;
	}
	if (sec->depth == 0 && sec->kind == IMAP_SECTION_ALL)
		return 0;
	return need_summary(s, d->rec, d) < 0 ? -1 : 0;
}

/* One section item's data into out. -1: the body is not available. */
static int render_section(struct imap_session *s, struct msgdata *d, const struct fitem *it, struct buf *out)
{
	struct buf data = BUF_INIT;
	const struct imap_section *sec = &it->sec;
	size_t off = 0, len;
	int r;

	if (need_body(s, d, sec) < 0)
		return -1;
	if (it->kind == F_BINARY || it->kind == F_BINARY_SIZE) {
		r = imap_binary_fetch(d->body, d->len, d->prefix_len, d->summary, sec, &data);
		if (r == -2) {
			buf_free(&data);
			return -2;
		}
	} else {
		r = imap_section_fetch(d->body, d->len, d->prefix_len, d->summary, sec, &data);
	}
	if (it->kind == F_BINARY_SIZE) {
		buf_printf(out, "%s %zu", it->label, data.len);
		buf_free(&data);
		return 0;
	}
	len = data.len;
	if (sec->partial) {
		off = sec->offset < data.len ? sec->offset : data.len;
		len = data.len - off < sec->length ? data.len - off : sec->length;
		buf_printf(out, "%s<%llu> ", it->label, (unsigned long long)sec->offset);
	} else {
		buf_printf(out, "%s ", it->label);
	}
	if (r < 0)
		buf_puts(out, "NIL");
	else
		literal(out, data.data ? data.data + off : "", len);
	buf_free(&data);
	return 0;
}

/* 1 when an item needs the message's view record (not only UID, FLAGS
 * and MODSEQ, which the snapshot has). */
static int needs_rec(const struct fetch *f)
{
	for (size_t k = 0; k < f->n; k++) {
		if (f->items[k].kind != F_UID && f->items[k].kind != F_FLAGS && f->items[k].kind != F_MODSEQ)
			return 1;
	}
	return 0;
}

/* The FLAGS list of m. Messages without keywords take their list from
 * f's table, rendered by imap_flags_string once per combination. */
static void render_flags(struct imap_session *s, struct fetch *f, const struct imap_msg *m,
			 struct buf *out)
{
	int recent = imap_msg_recent(s->mbox, m->uid);
	unsigned slot = m->flags | (recent ? 32u : 0u);
	struct buf tmp = BUF_INIT;

	if (m->kw != 0) {
		imap_flags_string(s->mbox, m, recent, out);
		return;
	}
	if (f->flagstr[slot].len == 0) {
		imap_flags_string(s->mbox, m, recent, &tmp);
		if (tmp.len >= sizeof f->flagstr[slot].s) {   /* cannot be: 6 names */
			buf_append(out, tmp.data, tmp.len);
			buf_free(&tmp);
			return;
		}
		memcpy(f->flagstr[slot].s, tmp.data, tmp.len);
		f->flagstr[slot].len = (unsigned char)tmp.len;
		buf_free(&tmp);
	}
	buf_append(out, f->flagstr[slot].s, f->flagstr[slot].len);
}

/* The FETCH response of the k-th fetched message, f->idx[k]: 0, -1
 * message or body unavailable, -2 unknown CTE. Lines are formatted
 * without printf: a FETCH 1:* (FLAGS UID) of a large mailbox is nothing
 * else (issue #9: at least Dovecot's speed). */
static int render(struct imap_session *s, struct fetch *f, size_t k0, struct buf *out)
{
	size_t i = f->idx[k0];
	struct imap_msg *m = &s->mbox->msgs[i];
	struct msgdata d = { NULL, NULL, NULL, 0, 0 };
	int ret = 0, uid_done = 0;

	/* the records of the run of consecutive messages from here at once */
	if (f->need_rec &&
	    (d.rec = imap_recs_get(s, &f->recs, i, imap_idx_run(f->idx, f->nidx, k0))) == NULL)
		return -1;

	if (s->uidonly) {
		imap_fetch_open(s, out, i + 1, m->uid);   /* RFC 9586: "* uid UIDFETCH (" */
	} else {
		buf_append(out, "* ", 2);
		imap_render_uint(out, i + 1);
		buf_append(out, " FETCH (", 8);
	}
	for (size_t k = 0; k < f->n && ret == 0; k++) {
		const struct fitem *it = &f->items[k];

		if (it->kind == F_UID && uid_done)
			continue;
		if (k > 0)
			buf_append(out, " ", 1);
		switch (it->kind) {
		case F_MODSEQ:
			buf_append(out, "MODSEQ (", 8);
			imap_render_uint(out, (uint64_t)(m->modseq < 0 ? 0 : m->modseq));
			buf_append(out, ")", 1);
			break;
		case F_FLAGS:
			/* written before this response, which is still in out */
			imap_keywords_check(s, m);
			buf_append(out, "FLAGS ", 6);
			render_flags(s, f, m, out);
			break;
		case F_UID:
			buf_append(out, "UID ", 4);
			imap_render_uint(out, m->uid);
			uid_done = 1;
			break;
		case F_INTERNALDATE:
			buf_puts(out, "INTERNALDATE ");
			internaldate(out, json_integer_value(json_object_get(d.rec, "internal_date")));
			break;
		case F_SIZE:
			buf_printf(out, "RFC822.SIZE %" JSON_INTEGER_FORMAT,
				   json_integer_value(json_object_get(d.rec, "size")));
			break;
		case F_ENVELOPE:
			need_summary(s, d.rec, &d);
			buf_puts(out, "ENVELOPE ");
			imap_render_envelope(out, json_object_get(d.summary, "envelope"));
			break;
		case F_BODY:
		case F_BODYSTRUCTURE:
			need_summary(s, d.rec, &d);
			d.prefix_len = prefix_len(d.rec);
			buf_puts(out, it->kind == F_BODY ? "BODY " : "BODYSTRUCTURE ");
			imap_render_bodystructure(out, d.summary, d.prefix_len, it->kind == F_BODYSTRUCTURE);
			break;
		case F_RFC822:
		case F_RFC822_HEADER:
		case F_RFC822_TEXT: {
			struct buf data = BUF_INIT;
			struct imap_section sec;

			memset(&sec, 0, sizeof sec);
			sec.kind = it->kind == F_RFC822 ? IMAP_SECTION_ALL :
				   it->kind == F_RFC822_HEADER ? IMAP_SECTION_HEADER : IMAP_SECTION_TEXT;
			if (need_body(s, &d, &sec) < 0) {
				ret = -1;
				break;
			}
			imap_section_fetch(d.body, d.len, d.prefix_len, d.summary, &sec, &data);
			buf_puts(out, it->kind == F_RFC822 ? "RFC822 " :
				      it->kind == F_RFC822_HEADER ? "RFC822.HEADER " : "RFC822.TEXT ");
			literal(out, data.data ? data.data : "", data.len);
			buf_free(&data);
			break;
		}
		case F_EMAILID:
		case F_THREADID:
		case F_SAVEDATE:
		case F_PREVIEW:
			if (it->kind == F_PREVIEW)
				need_summary(s, d.rec, &d);
			imap_fetch_ext_render(out, (enum imap_fetch_ext)(it->kind - F_EMAILID), d.rec, d.summary);
			break;
		default:
			ret = render_section(s, &d, it, out);
			break;
		}
	}
	buf_append(out, ")\r\n", 3);
	json_decref(d.summary);
	free(d.body);
	return ret;
}

#define FETCH_WRITE 65536

static void fetch_output(struct imap_session *s, struct fetch *f)
{
	struct buf out = BUF_INIT;
	size_t mark;
	int issued = 0;

	/* The responses go out in writes of FETCH_WRITE octets, not one per
	 * message (a keyword announcement, written at once, flushes first). */
	for (size_t k = 0; k < f->nidx; k++) {
		struct imap_msg *m = &s->mbox->msgs[f->idx[k]];
		int r;

		if (out.len > 0 && (out.len >= FETCH_WRITE || (m->kw != 0 && !s->mbox->kwsets[m->kw].told))) {
			imap_write(s, out.data, out.len);
			buf_truncate(&out, 0);
		}
		if (m->expunged) {
			issued = 1;
			continue;
		}
		mark = out.len;
		if (m->dirty && (!f->has_flags || (s->condstore && !f->has_modseq))) {
			/* \Seen was just set (or someone changed the flags); with
			 * CONDSTORE also UID and MODSEQ (RFC 7162 3.1.4). */
			size_t n0 = f->n;
			int hf = f->has_flags, hm = f->has_modseq;

			if (!hf)
				add(f, F_FLAGS);
			if (s->condstore) {
				add(f, F_UID);
				if (!hm)
					add(f, F_MODSEQ);
			}
			r = render(s, f, k, &out);
			f->n = n0;
			f->has_flags = hf;
			f->has_modseq = hm;
		} else {
			r = render(s, f, k, &out);
		}
		m->dirty = 0;
		if (r == -1 && fetch_gone(s, m->uid)) {
			/* expunged elsewhere, not announced yet: left out like one
			 * the snapshot knows is gone (RFC 2180 4.1.3), the others
			 * still answered */
			buf_truncate(&out, mark);
			issued = 1;
			continue;
		}
		if (r < 0) {
			/* the responses before this message's go out */
			if (mark > 0)
				imap_write(s, out.data, mark);
			buf_free(&out);
			if (r == -2)
				imap_no(s, "[UNKNOWN-CTE] Cannot decode the part's transfer encoding");
			else
				imap_no(s, "[UNAVAILABLE] The message body is not available yet, try again later");
			return;
		}
	}
	if (out.len > 0)
		imap_write(s, out.data, out.len);
	buf_free(&out);
	if (issued)
		imap_ok(s, "[EXPUNGEISSUED] Some messages were expunged meanwhile");
	else
		imap_ok(s, "FETCH completed");
}

static void seen_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct fetch *f = s->op;
	const char *err = NULL;

	s->op = NULL;
	s->op_free = NULL;
	if (imap_outcome_ok(s, status, outcome, error, "FETCH")) {
		if (imap_mbox_sync(s, s->mbox, &err) < 0)
			log_warn("imap[%s]: sync: %s", s->id, err);
		s->changed = 0;
		fetch_output(s, f);
	}
	fetch_free(f);
}

void imap_cmd_fetch(struct imap_session *s, const struct imap_command *cmd)
{
	struct fetch *f = xcalloc(1, sizeof *f);
	const char *set, *error = NULL;
	size_t *unseen, nunseen = 0;
	uint64_t since = 0;
	int vanished = 0, mods;
	struct imap_arg rest = { .type = IMAP_ARG_LIST };
	struct imap_partial part;
	bool has_part = false;

	if ((cmd->nargs != 2 && cmd->nargs != 3) || (set = imap_arg_str(&cmd->args[0])) == NULL ||
	    cmd->args[0].type != IMAP_ARG_ATOM) {
		fetch_free(f);
		imap_bad(s, "FETCH needs a sequence set and data items");
		return;
	}
	if (cmd->uid)
		add(f, F_UID);
	f->rev2 = s->rev2;
	if (parse_items(f, &cmd->args[1]) < 0) {
		fetch_free(f);
		imap_bad(s, "Invalid FETCH data item");
		return;
	}
	/* RFC 9394 3.3: PARTIAL beside CHANGEDSINCE / VANISHED */
	if (cmd->nargs == 3 && imap_partial_modifier(&cmd->args[2], &rest, &part, &has_part, &error) < 0) {
		fetch_free(f);
		imap_bad(s, "%s", error);
		return;
	}
	mods = rest.count > 0;
	if (mods && imap_fetch_modifiers(s, cmd, &rest, &since, &vanished, &error) < 0) {
		free(rest.list);
		fetch_free(f);
		imap_bad(s, "%s", error);
		return;
	}
	free(rest.list);
	if (mods && !f->has_modseq)
		add(f, F_MODSEQ);   /* RFC 7162 3.1.4.1: CHANGEDSINCE implies MODSEQ */
	f->need_rec = needs_rec(f);   /* fetch_output adds only FLAGS, UID, MODSEQ */
	if (f->has_modseq)
		imap_condstore_enable(s);
	if (imap_mbox_select(s->mbox, set, cmd->uid, &f->idx, &f->nidx) < 0) {
		fetch_free(f);
		imap_bad(s, "Invalid sequence set");
		return;
	}
	if (mods) {
		size_t k = 0;

		/* VANISHED first: its history may be pruned (mail.tombstone_days),
		 * and then every message of the set is sent (since 0). */
		if (vanished)
			since = imap_fetch_vanished(s, set, since);
		/* Only what changed after the client's modseq. */
		for (size_t j = 0; j < f->nidx; j++) {
			struct imap_msg *m = &s->mbox->msgs[f->idx[j]];

			if (!m->expunged && (uint64_t)m->modseq > since)
				f->idx[k++] = f->idx[j];
		}
		f->nidx = k;
	}
	if (has_part) {   /* RFC 9394 3.3: only the messages at the range's positions */
		size_t from, cnt;

		imap_partial_window(&part, f->nidx, &from, &cnt);
		if (cnt > 0 && from > 0)
			memmove(f->idx, f->idx + from, cnt * sizeof *f->idx);
		f->nidx = cnt;
	}
	unseen = xcalloc(f->nidx + 1, sizeof *unseen);
	/* RFC 4314 4: the implicit \Seen needs the s right. */
	if (f->sets_seen && !s->mbox->readonly && imap_acl_may(s, MAIL_R_SEEN)) {
		for (size_t k = 0; k < f->nidx; k++) {
			struct imap_msg *m = &s->mbox->msgs[f->idx[k]];
			if (!m->expunged && !(m->flags & MAIL_F_SEEN))
				unseen[nunseen++] = f->idx[k];
		}
	}
	if (nunseen == 0) {
		free(unseen);
		fetch_output(s, f);
		fetch_free(f);
		return;
	}
	s->op = f;
	s->op_free = fetch_free;
	imap_submit(s, "message.store",
		    json_pack("{s:s, s:o, s:s, s:[s]}", "mailbox_id", s->mbox->id, "uids",
			      imap_mbox_uid_ranges(s->mbox, unseen, nunseen), "action", "add", "flags", "\\Seen"),
		    seen_done);
	free(unseen);
}
