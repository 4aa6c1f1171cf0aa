/* imap_mailbox - the selected mailbox of a session: a snapshot of its
 * messages (UID order = sequence order) and the updates the client has
 * not learnt yet (RFC 9051 5.2, 7.4.1, 7.5.1).
 *
 * Sequence numbers change only when the client is told: a message gone
 * from the view stays in the snapshot, marked expunged, until an EXPUNGE
 * response may be sent (never during FETCH, STORE or SEARCH by sequence
 * number); new messages are announced with EXISTS and changed flags with
 * FETCH (FLAGS) when a command completes, or at once while idling. */
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_recent.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_searchres.h"
#include "gateway/imap/imap_context.h"
#include "gateway/imap/imap_acl.h"
#include "common/log.h"
#include "projector/mail.h"
#include "projector/projector.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>

/* Tells a reopened mailbox from the one a background claim was for. */
static unsigned mbox_serial;

void imap_mbox_free(struct imap_mbox **mbp)
{
	struct imap_mbox *mb = *mbp;

	if (mb == NULL)
		return;
	free(mb->msgs);
	free(mb->saved);
	free(mb->recent);
	json_decref(mb->keywords);
	imap_kwsets_free(mb);
	imap_context_free_all(mb);
	projector_unsubscribe(&mb->owner_sub);
	free(mb->name);
	free(mb);
	*mbp = NULL;
}

void imap_deselect(struct imap_session *s)
{
	imap_mbox_free(&s->mbox);
	if (s->state == IMAP_S_SELECTED)
		s->state = IMAP_S_AUTH;
}

static void load_state(struct imap_mbox *mb, json_t *box)
{
	mb->uidvalidity = (uint32_t)json_integer_value(json_object_get(box, "uidvalidity"));
	mb->uidnext = (uint32_t)json_integer_value(json_object_get(box, "uidnext"));
	mb->highestmodseq = json_integer_value(json_object_get(box, "highestmodseq"));
	mb->view_recent = (uint32_t)json_integer_value(json_object_get(box, "recent_uid"));
}

/* One sync: the changes read from the modseq index. */
struct sync {
	struct imap_mbox *mb;
	size_t nold;              /* messages before the sync (UID order) */
	struct imap_msg *add;     /* new UIDs, in index (modseq) order */
	size_t nadd, cap;
	int added_sorted;
	int64_t max;              /* the highest live modseq read */
	unsigned char *seen;      /* full resync: seen[i] when msgs[i] is still live */
};

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = ((const struct imap_msg *)a)->uid, y = ((const struct imap_msg *)b)->uid;

	return x < y ? -1 : x > y;
}

/* The message with uid among msgs[n] (UID order), or NULL. */
static struct imap_msg *find_uid(struct imap_msg *msgs, size_t n, uint32_t uid)
{
	struct imap_msg key = { .uid = uid };

	return n == 0 ? NULL : bsearch(&key, msgs, n, sizeof *msgs, cmp_uid);
}

static int on_change(void *ctx, const struct mail_change *c)
{
	struct sync *y = ctx;
	struct imap_mbox *mb = y->mb;
	struct imap_msg *m = find_uid(mb->msgs, y->nold, c->uid);
	int64_t kw;

	if (c->expunged) {
		if (m == NULL) {
			/* Appended and expunged since the last sync. */
			if (!y->added_sorted) {
				if (y->nadd > 0)
					qsort(y->add, y->nadd, sizeof *y->add, cmp_uid);
				y->added_sorted = 1;
			}
			m = find_uid(y->add, y->nadd, c->uid);
		}
		if (m != NULL)
			m->expunged = 1;
		return 0;
	}
	if (c->modseq > y->max)
		y->max = c->modseq;
	if ((kw = imap_kwset_id(mb, c->keywords, c->kwlen)) < 0)
		return -1;
	if (m != NULL) {
		if (y->seen != NULL)
			y->seen[m - mb->msgs] = 1;
		if (m->expunged)
			return 0;
		if (m->flags != c->flags || m->kw != (uint32_t)kw)
			m->dirty = 1;
		m->flags = c->flags & 31;
		m->kw = (uint32_t)kw;
		m->modseq = c->modseq;
		return 0;
	}
	if (y->nold > 0 && c->uid <= mb->msgs[y->nold - 1].uid)
		return 0;   /* gone before this session saw it */
	if (y->nadd == y->cap) {
		y->cap = y->cap ? y->cap * 2 : 64;
		y->add = xrealloc(y->add, y->cap * sizeof *y->add);
	}
	m = &y->add[y->nadd++];
	memset(m, 0, sizeof *m);
	m->uid = c->uid;
	m->flags = c->flags & 31;
	m->kw = (uint32_t)kw;
	m->modseq = c->modseq;
	return 0;
}

int imap_mbox_sync(struct imap_session *s, struct imap_mbox *mb, const char **error_r)
{
	struct sync y = { .mb = mb, .nold = mb->n };
	json_t *box = NULL, *expunged;
	int64_t pruned;
	int r, with_expunged;

	if ((r = mail_mailbox_record(s->node->view, mb->owner, mb->id, &box, error_r)) < 0)
		return -1;
	if (r == 0) {
		/* Deleted under us: every message is gone. */
		for (size_t i = 0; i < mb->n; i++)
			mb->msgs[i].expunged = 1;
		return 0;
	}
	load_state(mb, box);
	pruned = json_integer_value(json_object_get(box, "pruned_modseq"));
	/* No expunge after our position: the mexp/ scan is skipped (the
	 * record's "expunged_modseq", projector/mail_keys.h; absent in
	 * records written before it was kept, which are scanned). */
	expunged = json_object_get(box, "expunged_modseq");
	with_expunged = expunged == NULL || json_integer_value(expunged) > mb->synced;
	json_decref(box);
	if (mb->highestmodseq <= mb->synced && mb->nkwsets > 0)
		return 0;   /* nothing changed in this mailbox */
	imap_kwset_id(mb, "", 0);
	/* The record was read before the index: everything up to its
	 * highestmodseq is in the index scan's snapshot. */
	y.max = mb->highestmodseq;
	/* Expunge tombstones after our position were pruned
	 * (mail.tombstone_days): the index no longer lists every expunge
	 * since then, so read every live message instead and take what is
	 * missing as expunged. */
	if (mb->synced > 0 && mb->synced < pruned)
		y.seen = xcalloc(y.nold + 1, 1);
	if (mail_changes(s->node->view, mb->owner, mb->id, y.seen != NULL ? 0 : mb->synced,
			 mb->synced > 0 && y.seen == NULL && with_expunged, on_change, &y, error_r) < 0) {
		free(y.add);
		free(y.seen);
		return -1;
	}
	if (y.seen != NULL) {
		for (size_t i = 0; i < y.nold; i++) {
			if (!y.seen[i])
				mb->msgs[i].expunged = 1;
		}
		free(y.seen);
	}
	if (!y.added_sorted && y.nadd > 0)
		qsort(y.add, y.nadd, sizeof *y.add, cmp_uid);
	for (size_t i = 0; i < y.nadd; i++) {
		if (y.add[i].expunged)
			continue;
		if (mb->n == mb->cap) {
			mb->cap = mb->cap ? mb->cap * 2 : 64;
			mb->msgs = xrealloc(mb->msgs, mb->cap * sizeof *mb->msgs);
		}
		mb->msgs[mb->n++] = y.add[i];
	}
	free(y.add);
	mb->synced = y.max;
	return 0;
}

int imap_mbox_open(struct imap_session *s, const char *name, int readonly, struct imap_mbox **mb_r,
		   const char **error_r)
{
	struct imap_mbox *mb;
	json_t *box = NULL;
	int r;

	*mb_r = NULL;
	/* The session's own mailbox or a shared one (imap_acl.h). */
	if ((r = imap_acl_lookup(s, name, &box, error_r)) <= 0)
		return r;
	mb = xcalloc(1, sizeof *mb);
	mb->serial = ++mbox_serial;
	snprintf(mb->id, sizeof mb->id, "%s", json_string_value(json_object_get(box, "id")));
	mb->name = xstrdup(json_string_value(json_object_get(box, "name")));
	mb->readonly = readonly;
	mb->uidonly = s->uidonly;
	snprintf(mb->owner, sizeof mb->owner, "%s", imap_acl_box_owner(s, box));
	mb->rights = imap_acl_box_rights(box);
	json_decref(box);
	imap_acl_watch(s, mb);
	if (imap_mbox_sync(s, mb, error_r) < 0) {
		imap_mbox_free(&mb);
		return -1;
	}
	if (mb->n > 0 && mb->cap > mb->n) {
		/* 16 bytes a message while nothing arrives. */
		mb->msgs = xrealloc(mb->msgs, mb->n * sizeof *mb->msgs);
		mb->cap = mb->n;
	}
	mb->exists_sent = mb->n;
	*mb_r = mb;
	return 1;
}

void imap_mbox_report(struct imap_session *s, int allow_expunge)
{
	struct imap_mbox *mb = s->mbox;
	const char *error = NULL;
	size_t i, k, told;

	if (mb == NULL)
		return;
	if (s->changed) {
		s->changed = 0;
		if (imap_mbox_sync(s, mb, &error) < 0)
			log_warn("imap[%s]: sync %s: %s", s->id, mb->name, error);
	}
	if (allow_expunge)
		imap_context_report(s);   /* RFC 5267 4.3.4: REMOVEFROM before EXPUNGE */
	if (allow_expunge && (s->qresync || s->uidonly)) {
		/* RFC 7162 3.2.10: one VANISHED instead of EXPUNGEs, for the
		 * messages the client was told about; RFC 9586 3: always with
		 * UIDONLY (EXPUNGE carries a sequence number). */
		json_t *gone = json_array();
		size_t known = mb->exists_sent;

		for (i = 0; i < mb->n && i < known; i++) {
			if (!mb->msgs[i].expunged)
				continue;
			imap_ranges_add(gone, mb->msgs[i].uid);
			mb->exists_sent--;
		}
		imap_vanished(s, gone, 0);
		json_decref(gone);
	}
	if (allow_expunge) {
		/* Highest first, so every number sent is still valid as sent. */
		for (i = mb->n; i-- > 0;) {
			if (!mb->msgs[i].expunged)
				continue;
			if (i < mb->exists_sent && !s->qresync && !s->uidonly) {
				imap_line(s, "* %zu EXPUNGE", i + 1);
				mb->exists_sent--;
			}
		}
		for (i = 0, k = 0; i < mb->n; i++) {
			if (!mb->msgs[i].expunged)
				mb->msgs[k++] = mb->msgs[i];
		}
		mb->n = k;
	}
	/* New arrivals are \Recent here if this session claims them first
	 * (RFC 3501 2.3.2): they are announced once the claim is decided,
	 * so no session asking later counts them as recent (imap_recent.c
	 * reports again, or releases the held tagged reply, on its outcome). */
	imap_recent_claim(s);
	told = mb->n;
	if (mb->claiming) {
		/* Only the decided ones (UID order): a claim for later
		 * arrivals never holds back those of an earlier one. */
		while (told > mb->exists_sent && mb->msgs[told - 1].uid > mb->claimed)
			told--;
	}
	if (told != mb->exists_sent && (told > mb->exists_sent || !mb->claiming)) {
		imap_line(s, "* %zu EXISTS", told);
		mb->exists_sent = told;
		mb->recent_dirty |= !s->rev2;   /* RFC 3501 7.3.2: RECENT with every EXISTS */
	}
	if (mb->recent_dirty && !s->rev2) {
		/* RFC 3501 7.3.2 (RECENT follows EXISTS). */
		imap_line(s, "* %zu RECENT", imap_recent_count(mb));
		mb->recent_dirty = 0;
	}
	for (i = 0; i < mb->n && i < mb->exists_sent; i++) {
		if (!mb->msgs[i].dirty || mb->msgs[i].expunged)
			continue;
		mb->msgs[i].dirty = 0;
		imap_flags_fetch(s, i, 1, 1);   /* + MODSEQ with CONDSTORE (RFC 7162 3.1.4) */
	}
	/* RFC 5267 4.3.3: ADDTO after EXISTS; once every arrival is told. */
	if (!mb->claiming)
		imap_context_report(s);
}

int imap_mbox_select(struct imap_mbox *mb, const char *set, bool uid, size_t **idx_r, size_t *n_r)
{
	struct imap_range *r = NULL;
	size_t nr = 0, n = 0, cap = 16, *idx;
	/* Only messages the client was told exist (RFC 9051 7.4.1: a number
	 * above the last EXISTS is never sent; newer ones come after it). */
	size_t known = mb->exists_sent < mb->n ? mb->exists_sent : mb->n;

	*idx_r = NULL;
	*n_r = 0;
	if (imap_set_resolve(mb, set, uid, &r, &nr) < 0)   /* RFC 5182: "$" too */
		return -1;
	idx = xcalloc(cap, sizeof *idx);
	if (!uid) {
		for (size_t i = 0; i < nr; i++) {
			if (r[i].lo == 0 || r[i].hi > known) {
				free(r);
				free(idx);
				return -1;
			}
		}
	}
	for (size_t i = 0; i < known; i++) {
		unsigned key = uid ? mb->msgs[i].uid : (unsigned)(i + 1);

		if (!imap_seqset_contains(r, nr, key))
			continue;
		if (n == cap) {
			cap *= 2;
			idx = xrealloc(idx, cap * sizeof *idx);
		}
		idx[n++] = i;
	}
	free(r);
	*idx_r = idx;
	*n_r = n;
	return 0;
}

json_t *imap_mbox_uid_ranges(struct imap_mbox *mb, const size_t *idx, size_t n)
{
	json_t *out = json_array();
	size_t i = 0;

	while (i < n) {
		uint32_t lo = mb->msgs[idx[i]].uid, hi = lo;

		while (i + 1 < n && mb->msgs[idx[i + 1]].uid == hi + 1)
			hi = mb->msgs[idx[++i]].uid;
		json_array_append_new(out, json_pack("[I,I]", (json_int_t)lo, (json_int_t)hi));
		i++;
	}
	return out;
}

/* The UIDs to expunge: \Deleted ones (within set when given), from the
 * current view, as pieces of at most IMAP_EXPUNGE_PIECE messages. NULL
 * when there are none. */
json_t *imap_mbox_deleted_pieces(struct imap_session *s, const char *set, int *bad_r)
{
	struct imap_mbox *mb = s->mbox;
	size_t *idx = NULL, n = 0, k = 0;
	const char *error = NULL;
	json_t *ranges = NULL;

	*bad_r = 0;
	if (imap_mbox_sync(s, mb, &error) < 0)
		log_warn("imap[%s]: sync: %s", s->id, error);
	if (set != NULL) {
		if (imap_mbox_select(mb, set, true, &idx, &n) < 0) {
			*bad_r = 1;
			return NULL;
		}
	} else {
		idx = xcalloc(mb->n + 1, sizeof *idx);
		for (size_t i = 0; i < mb->n; i++)
			idx[n++] = i;
	}
	for (size_t i = 0; i < n; i++) {
		if (!mb->msgs[idx[i]].expunged && (mb->msgs[idx[i]].flags & MAIL_F_DELETED))
			idx[k++] = idx[i];
	}
	if (k > 0) {
		ranges = json_array();
		for (size_t off = 0; off < k; off += IMAP_EXPUNGE_PIECE)
			json_array_append_new(ranges, imap_mbox_uid_ranges(mb, idx + off,
									   k - off < IMAP_EXPUNGE_PIECE ? k - off
												     : IMAP_EXPUNGE_PIECE));
	}
	free(idx);
	return ranges;
}
