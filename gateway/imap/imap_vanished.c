/* imap_vanished - VANISHED responses (RFC 7162 3.2.10) and the expunge
 * history they come from: the tombstones of the view (projector/mail.h
 * mail_vanished) while they reach back to the client's modseq; once the
 * projector has pruned tombstones after the client's modseq
 * (mail.tombstone_days, mail_mailbox_pruned), every UID the client may
 * know that is no longer a message. */
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_session_util.h"
#include "common/log.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <stdlib.h>

void imap_vanished(struct imap_session *s, json_t *ranges, int earlier)
{
	struct buf set = BUF_INIT;

	if (json_array_size(ranges) == 0)
		return;
	imap_ranges_string(ranges, &set);
	imap_line(s, "* VANISHED %s%s", earlier ? "(EARLIER) " : "", set.data);
	buf_free(&set);
}

/* Index of the first message of the snapshot with a UID >= uid. */
static size_t first_at_or_after(const struct imap_mbox *mb, uint32_t uid)
{
	size_t lo = 0, hi = mb->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (mb->msgs[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* 1 when uid is a live (not expunged) message of the snapshot. */
static int live_uid(struct imap_mbox *mb, uint32_t uid)
{
	size_t i = first_at_or_after(mb, uid);

	return i < mb->n && mb->msgs[i].uid == uid && !mb->msgs[i].expunged;
}

void imap_ranges_add(json_t *out, uint32_t uid)
{
	json_t *last = json_array_get(out, json_array_size(out) - 1);

	if (last != NULL && json_integer_value(json_array_get(last, 1)) + 1 == (json_int_t)uid) {
		json_array_set_new(last, 1, json_integer(uid));
		return;
	}
	json_array_append_new(out, json_pack("[I,I]", (json_int_t)uid, (json_int_t)uid));
}

/* Appends [lo,hi] (lo <= hi) to ranges, merged with the last one when
 * they touch (a client's set may be in any order). */
static void ranges_add_span(json_t *out, uint32_t lo, uint32_t hi)
{
	json_t *last = json_array_get(out, json_array_size(out) - 1);

	if (last != NULL && json_integer_value(json_array_get(last, 0)) <= (json_int_t)lo &&
	    json_integer_value(json_array_get(last, 1)) + 1 >= (json_int_t)lo) {
		if (json_integer_value(json_array_get(last, 1)) < (json_int_t)hi)
			json_array_set_new(last, 1, json_integer(hi));
		return;
	}
	json_array_append_new(out, json_pack("[I,I]", (json_int_t)lo, (json_int_t)hi));
}

/* Every UID of set (NULL: all) below UIDNEXT that is not a live message,
 * as ranges: the gaps between the snapshot's messages, walked once per
 * range (a range may span millions of UIDs that never existed). */
static json_t *missing_uids(struct imap_mbox *mb, const struct imap_range *set, size_t nset)
{
	static const struct imap_range all = { 1, 0xffffffffu };
	json_t *out = json_array();
	uint32_t top = mb->uidnext > 1 ? mb->uidnext - 1 : 0;

	if (set == NULL) {
		set = &all;
		nset = 1;
	}
	for (size_t r = 0; r < nset; r++) {
		uint32_t lo = set[r].lo, hi = set[r].hi < top ? set[r].hi : top, next = lo;

		if (lo == 0 || lo > hi)
			continue;
		for (size_t i = first_at_or_after(mb, lo); i < mb->n && mb->msgs[i].uid <= hi; i++) {
			if (mb->msgs[i].expunged)
				continue;
			if (mb->msgs[i].uid > next)
				ranges_add_span(out, next, mb->msgs[i].uid - 1);
			next = mb->msgs[i].uid + 1;
		}
		if (next != 0 && next <= hi)
			ranges_add_span(out, next, hi);
	}
	return out;
}

int imap_vanished_since(struct imap_session *s, const struct imap_range *set, size_t nset,
			uint64_t since, uint64_t *from_r)
{
	struct imap_mbox *mb = s->mbox;
	json_t *gone = NULL, *r, *out;
	const char *error = NULL;
	uint64_t pruned = 0;
	size_t i;

	*from_r = since;
	if (mail_mailbox_pruned(s->node->view, s->mbox->owner, mb->id, &pruned, &error) < 0) {
		log_warn("imap[%s]: vanished %s: %s", s->id, mb->name, error);
		return -1;
	}
	/* RFC 7162 3.2.5.1 and 3.2.6: a server without the whole expunge
	 * history since the client's mod-sequence may report UIDs that were
	 * expunged earlier or never existed; the client drops what it does not
	 * know. Reporting every UID the client may hold that is not a message
	 * now (known-uids or the UID set, up to UIDNEXT - 1) is complete;
	 * the changed messages are then all of them (since 0). */
	if (since < pruned) {
		out = missing_uids(mb, set, nset);
		imap_vanished(s, out, 1);
		json_decref(out);
		*from_r = 0;
		return 0;
	}
	if (mail_vanished(s->node->view, s->mbox->owner, mb->id, since, &gone, &error) < 0) {
		log_warn("imap[%s]: vanished %s: %s", s->id, mb->name, error);
		return -1;
	}
	out = json_array();
	json_array_foreach(gone, i, r) {
		uint32_t lo = (uint32_t)json_integer_value(json_array_get(r, 0));
		uint32_t hi = (uint32_t)json_integer_value(json_array_get(r, 1));

		for (uint64_t u = lo; u <= hi; u++) {
			if ((set == NULL || imap_seqset_contains(set, nset, (unsigned)u)) &&
			    !live_uid(mb, (uint32_t)u))
				imap_ranges_add(out, (uint32_t)u);
		}
	}
	imap_vanished(s, out, 1);
	json_decref(gone);
	json_decref(out);
	return 0;
}
