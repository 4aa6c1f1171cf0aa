/* imap_recent - IMAP4rev1 \Recent (RFC 3501 2.3.2; RFC 9051 has none).
 *
 * A message is \Recent in exactly one session, cluster-wide: the first to
 * claim its mailbox after it arrived. A claim is the mail event
 * mailbox.claim_recent (projector/mail.h); the log orders the claims and
 * the projector's outcome says which UIDs this one took (claimed_from <
 * uid <= recent_uid). A rev1 SELECT claims before it answers
 * (imap_cmd_select.c). While the mailbox is selected, new arrivals are
 * claimed when the session learns of them: their EXISTS, with RECENT, and
 * the command's tagged reply wait for the claim's outcome, so a session
 * asking after this one was told finds them claimed.
 *
 * A claim never makes a read wait on an unreachable log: then, and when
 * the log does not take the claim, the arrivals nobody claimed are
 * \Recent here without a claim ("SHOULD be considered recent", 2.3.2).
 * EXAMINE shows what nobody claimed as \Recent and claims nothing;
 * IMAP4rev2 sessions (RFC 9051) neither see nor claim \Recent. */
#include "gateway/imap/imap_recent.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/command.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

int imap_msg_recent(const struct imap_mbox *mb, uint32_t uid)
{
	size_t lo = 0, hi;

	if (mb == NULL)
		return 0;
	hi = mb->nrecent;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uid < mb->recent[mid][0])
			hi = mid;
		else if (uid > mb->recent[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

size_t imap_recent_count(const struct imap_mbox *mb)
{
	size_t n = 0;

	for (size_t i = 0; mb->nrecent > 0 && i < mb->n; i++)
		n += !mb->msgs[i].expunged && imap_msg_recent(mb, mb->msgs[i].uid);
	return n;
}

int imap_recent_claimed(struct imap_mbox *mb, json_t *outcome)
{
	json_t *f = json_object_get(outcome, "claimed_from"), *t = json_object_get(outcome, "recent_uid");
	json_int_t from, to;

	if (!json_is_integer(f) || !json_is_integer(t))
		return 0;
	from = json_integer_value(f);
	to = json_integer_value(t);
	if (from < 0 || to > (json_int_t)UINT32_MAX)
		return 0;
	if (to > (json_int_t)mb->claimed)
		mb->claimed = (uint32_t)to;
	if (to <= from)
		return 0;
	/* Claims are ordered by the log and each takes UIDs above every
	 * earlier claim's: the new range goes last (merged when adjacent). */
	if (mb->nrecent > 0 && mb->recent[mb->nrecent - 1][1] >= (uint32_t)from) {
		if ((uint32_t)to > mb->recent[mb->nrecent - 1][1])
			mb->recent[mb->nrecent - 1][1] = (uint32_t)to;
		return 1;
	}
	mb->recent = xrealloc(mb->recent, (mb->nrecent + 1) * sizeof *mb->recent);
	mb->recent[mb->nrecent][0] = (uint32_t)from + 1;
	mb->recent[mb->nrecent][1] = (uint32_t)to;
	mb->nrecent++;
	return 1;
}

int imap_recent_assume(struct imap_mbox *mb, uint32_t from, uint32_t to)
{
	json_t *outcome = json_pack("{s:I,s:I}", "claimed_from", (json_int_t)from,
				    "recent_uid", (json_int_t)to);
	int ret = imap_recent_claimed(mb, outcome);

	json_decref(outcome);
	return ret;
}

int imap_recent_can_claim(struct imap_session *s)
{
	struct evlog_health h;

	evlog_health(s->node->log, &h);
	return h.reachable;
}

struct claim_op {
	struct imap_session *s;
	unsigned serial;
	uint32_t upto;     /* the highest UID seen when claiming */
};

/* UIDs above what nobody had claimed, up to upto, are \Recent here
 * without a claim (EXAMINE; a claim the log could not take). */
static void assume_unclaimed(struct imap_mbox *mb, uint32_t upto)
{
	uint32_t from = mb->claimed > mb->view_recent ? mb->claimed : mb->view_recent;

	if (upto > from && imap_recent_assume(mb, from, upto))
		mb->recent_dirty = 1;
	if (upto > mb->claimed)
		mb->claimed = upto;
}

static void claim_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct claim_op *op = ctx;
	struct imap_session *s = op->s;
	struct imap_mbox *mb = s->mbox;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	if (mb != NULL && mb->serial == op->serial) {
		mb->claiming = 0;
		if (st != NULL && strcmp(st, "accepted") == 0) {
			if (imap_recent_claimed(mb, outcome))
				mb->recent_dirty = 1;
		} else if (status < 0) {
			/* The log did not take it in time: RFC 3501 2.3.2. */
			log_warn("imap[%s]: claim_recent failed: %s", s->id, error ? error : "?");
			assume_unclaimed(mb, op->upto);
		} else {
			/* Rejected (the mailbox went away): not \Recent here. */
			const char *code = json_string_value(json_object_get(outcome, "code"));

			log_warn("imap[%s]: claim_recent rejected: %s", s->id, code ? code : "?");
		}
		if (op->upto > mb->claimed)
			mb->claimed = op->upto;
		/* What the claim took is in the view now. */
		s->changed = 1;
		if (s->conn != NULL && !s->closing) {
			if (s->held_reply != NULL)
				imap_reply_release(s);
			else if (s->idling)
				imap_report(s, 1);   /* through s->hooks: imap_mailbox.c is above */
		}
	}
	free(op);
	imap_session_unref(s);
}

void imap_recent_claim(struct imap_session *s)
{
	struct imap_mbox *mb = s->mbox;
	struct claim_op *op;
	struct evm_event ev;
	const char *error = NULL;
	uint32_t last;

	if (mb == NULL || s->rev2 || mb->claiming || mb->n == 0 || mb->msgs[mb->n - 1].uid <= mb->claimed)
		return;
	last = mb->msgs[mb->n - 1].uid;
	if (!mb->claim) {
		/* EXAMINE: RFC 3501 6.3.2, \Recent is not lost. */
		assume_unclaimed(mb, last);
		return;
	}
	if (s->conn == NULL || s->closing)
		return;
	if (!imap_recent_can_claim(s)) {
		/* A read never waits on an unreachable log. */
		assume_unclaimed(mb, last);
		return;
	}
	if (evm_event_init(&ev, "mailbox.claim_recent", s->tenant, s->account, s->actor,
			   json_pack("{s:s}", "mailbox_id", mb->id), &error) < 0) {
		log_error("imap[%s]: cannot build mailbox.claim_recent: %s", s->id, error);
		assume_unclaimed(mb, last);
		return;
	}
	op = xcalloc(1, sizeof *op);
	op->s = s;
	op->serial = mb->serial;
	op->upto = last;
	mb->claiming = 1;
	imap_session_ref(s);
	command_submit(s->node, &ev, EVM_TOPIC_MAIL, s->account, IMAP_COMMAND_TIMEOUT_MS, claim_done, op);
}
