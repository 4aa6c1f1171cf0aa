/* mail_prune - tombstone pruning after the horizon (mail.tombstone_days,
 * apply_ctx.tombstone_ms), inside the appliers and driven by LOG time.
 *
 * An event with timestamp T that writes a mailbox record also removes at
 * most MAIL_PRUNE_MAX of that mailbox's oldest expunge tombstones (mexp/
 * and gone/, mail_keys.h) expunged before T - horizon, in modseq order, and
 * raises the record's "pruned_modseq" to the highest modseq it removed. An
 * event that touches a JMAP type of an account also removes at most
 * MAIL_PRUNE_MAX of its destroyed objects (jseq/ and jobj/) destroyed before
 * T - horizon, looking at no more than MAIL_PRUNE_SCAN_MAX change entries
 * (live ones are stepped over with a cursor), and raises the type's pruned
 * position (jprn/). No clock, no node identity: two nodes replaying the
 * same log with the same horizon prune the same entries in the same
 * batches.
 *
 * Whatever is pruned has a modseq at most the pruned position, so a client
 * whose position is at or past it still gets the exact changes; one before
 * it gets a full answer (projector/mail.h mail_mailbox_pruned, mail_jmap.h
 * mail_jmap_horizon). Expunge times pass T only from the log: events of
 * one partition may carry times that go back a little (several gateways'
 * clocks); a scan stops at the first entry too new, which only delays. */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An entry's time: "" (written before times were kept) is 0, prunable. */
static int parse_time(const char *val, size_t vlen, int64_t *ts_r)
{
	char tmp[24], *end;

	*ts_r = 0;
	if (vlen == 0)
		return 0;
	if (vlen >= sizeof tmp)
		return -1;
	memcpy(tmp, val, vlen);
	tmp[vlen] = '\0';
	*ts_r = strtoll(tmp, &end, 10);
	return *end == '\0' && tmp[0] != '-' ? 0 : -1;
}

/* The oldest time an entry may have and stay; 0 when nothing can go. */
static int64_t prune_limit(const struct mail_acct *a)
{
	int64_t ts = a->ctx->ev->ts;

	if (a->ctx->tombstone_ms <= 0 || !a->provisioned || ts <= a->ctx->tombstone_ms)
		return 0;
	return ts - a->ctx->tombstone_ms;
}

struct mexp_scan {
	size_t plen;
	int64_t limit;
	int64_t modseq[MAIL_PRUNE_MAX];
	uint32_t uid[MAIL_PRUNE_MAX];
	size_t n;
	int64_t next;   /* the time of the entry the scan stopped at */
	int corrupt;
};

/* One mexp/ entry "<modseq 20>/<uid 10>" = "<expunge time>". */
static int mexp_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct mexp_scan *c = vctx;
	int64_t ts, modseq;
	uint32_t uid;

	if (mail_key_num_uid(key + c->plen, klen - c->plen, &modseq, &uid) < 0 ||
	    parse_time(val, vlen, &ts) < 0) {
		c->corrupt = 1;
		return 1;
	}
	if (ts >= c->limit || c->n == MAIL_PRUNE_MAX) {
		c->next = ts;
		return 1;
	}
	c->modseq[c->n] = modseq;
	c->uid[c->n++] = uid;
	return 0;
}

int mail_prune_mailbox(struct mail_acct *a, json_t *mbox, const char **error_r)
{
	const char *id = json_string_value(json_object_get(mbox, "id"));
	int64_t pruned = json_integer_value(json_object_get(mbox, "pruned_modseq"));
	int64_t next = json_integer_value(json_object_get(mbox, "prune_next"));
	struct mexp_scan c = { .limit = prune_limit(a), .next = MAIL_PRUNE_NONE };
	struct buf start = BUF_INIT;
	int r;

	if (c.limit == 0 || id == NULL)
		return 0;
	/* The scan would stop at once: no tombstone left, or the first one
	 * still inside the horizon (mail_internal.h). */
	if (next == MAIL_PRUNE_NONE || (next > 0 && next >= c.limit))
		return 0;
	mail_key(&a->key, a->address, MAIL_K_MEXP, id);
	buf_puts(&a->key, "/");
	c.plen = a->key.len;
	/* From the pruned position itself: a batch bounded by MAIL_PRUNE_MAX
	 * may have left entries of that modseq. */
	buf_printf(&start, "%s%020" PRId64, a->key.data, pruned);
	r = view_batch_scan_from(a->ctx->batch, a->key.data, a->key.len, start.data, start.len, mexp_cb, &c,
				 error_r);
	buf_free(&start);
	if (r < 0)
		return -1;
	if (c.corrupt) {
		log_error("mail: an expunge index entry of %s/%s is corrupt", a->address, id);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	for (size_t i = 0; i < c.n; i++) {
		mail_key_uid(&a->key, a->address, MAIL_K_GONE, id, c.uid[i]);
		mail_batch_delete(a->ctx->batch, &a->key);
		mail_key(&a->key, a->address, MAIL_K_MEXP, id);
		buf_printf(&a->key, "/%020" PRId64 "/%010" PRIu32, c.modseq[i], c.uid[i]);
		mail_batch_delete(a->ctx->batch, &a->key);
	}
	if (c.n > 0)
		mail_rec_set(mbox, "pruned_modseq", c.modseq[c.n - 1]);
	mail_rec_set(mbox, "prune_next", c.next);
	return 0;
}

/* A jprn/ record: "<pruned modseq> <next>[ <cursor>]", the cursor being
 * the "<modseq 20>/<id>" of the last change entry looked at, and next what
 * is known of the destroyed entries after it: the destruction time of the
 * oldest (the one the last scan stopped at, too new to go then), JPRN_NONE
 * when there is none (the last scan reached the event's own entries, and
 * no object of the type was destroyed since), 0 when not known. A scan
 * is made only when it can prune something: without this every event
 * stepped an iterator over the change index's deleted keys (objects move
 * to their latest modseq), which cost the IMAP stay-logged-in bench a
 * third of its rate. */
#define JPRN_NONE (-1)
static int jprn_parse(const char *val, size_t vlen, int64_t *pruned_r, int64_t *next_r, char *cursor,
		      size_t csize)
{
	char tmp[128], *end, *p;

	cursor[0] = '\0';
	*next_r = 0;
	if (vlen == 0 || vlen >= sizeof tmp)
		return -1;
	memcpy(tmp, val, vlen);
	tmp[vlen] = '\0';
	*pruned_r = strtoll(tmp, &end, 10);
	if (end == tmp || *pruned_r < 0 || *end != ' ')
		return -1;
	p = end + 1;
	*next_r = strtoll(p, &end, 10);
	if (end == p || *next_r < JPRN_NONE)
		return -1;
	if (*end == '\0')
		return 0;
	if (*end != ' ' || strlen(end + 1) < 22 || strlen(end + 1) >= csize)
		return -1;
	snprintf(cursor, csize, "%s", end + 1);
	return 0;
}

#define JCURSOR_MAX (21 + MAIL_ID_LEN + 1)

struct jseq_scan {
	size_t plen;
	int64_t limit, now;
	const char *skip;          /* the cursor entry itself */
	char cursor[JCURSOR_MAX];
	int64_t pruned;
	int64_t next;              /* the destroyed entry too new to go, if met */
	int full;                  /* stopped at MAIL_PRUNE_SCAN_MAX */
	char ids[MAIL_PRUNE_MAX][MAIL_ID_LEN + 1];
	int64_t modseq[MAIL_PRUNE_MAX];
	size_t n, seen;
	int corrupt;
};

/* One jseq/ entry "<modseq 20>/<id>": "" for a live object, the time of
 * its destruction for a destroyed one (mail_jmap.c). */
static int jseq_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct jseq_scan *c = vctx;
	const char *rest = key + c->plen;
	size_t rlen = klen - c->plen;
	char digits[21];
	int64_t modseq, ts;

	if (rlen < 22 || rlen >= JCURSOR_MAX || rest[20] != '/' || parse_time(val, vlen, &ts) < 0) {
		c->corrupt = 1;
		return 1;
	}
	if (strlen(c->skip) == rlen && memcmp(c->skip, rest, rlen) == 0)
		return 0;
	memcpy(digits, rest, 20);
	digits[20] = '\0';
	modseq = strtoll(digits, NULL, 10);
	/* The event's own entries stay out: its later touches may move them. */
	if (c->seen == MAIL_PRUNE_SCAN_MAX)
		c->full = 1;
	if (modseq >= c->now || c->seen == MAIL_PRUNE_SCAN_MAX || c->n == MAIL_PRUNE_MAX)
		return 1;
	if (vlen > 0 && ts >= c->limit) {
		c->next = ts;
		return 1;
	}
	c->seen++;
	memcpy(c->cursor, rest, rlen);
	c->cursor[rlen] = '\0';
	if (vlen == 0)
		return 0;   /* live: stepped over */
	memcpy(c->ids[c->n], rest + 21, rlen - 21);
	c->ids[c->n][rlen - 21] = '\0';
	c->modseq[c->n++] = modseq;
	c->pruned = modseq;
	return 0;
}

int mail_prune_jmap(struct mail_acct *a, enum mail_jtype t, int destroy, const char **error_r)
{
	struct jseq_scan c = { .limit = prune_limit(a), .now = a->modseq };
	char cursor[JCURSOR_MAX], *val = NULL, rec[128];
	struct buf jprn = BUF_INIT, start = BUF_INIT;
	size_t vlen = 0;
	int64_t next = 0;
	int r, ret = -1;

	if (c.limit == 0)
		return 0;
	mail_key(&jprn, a->address, MAIL_K_JPRN, mail_jtype_name(t));
	if ((r = view_batch_get(a->ctx->batch, jprn.data, jprn.len, &val, &vlen, error_r)) < 0)
		goto out;
	if (r == 0) {
		c.pruned = 0;
		cursor[0] = '\0';
	} else if (jprn_parse(val, vlen, &c.pruned, &next, cursor, sizeof cursor) < 0) {
		log_error("mail: JMAP pruning record %s is corrupt", jprn.data);
		*error_r = MAIL_CORRUPT;
		goto out;
	}
	if (destroy && next == JPRN_NONE) {
		/* the first destroyed entry after the cursor: this event's */
		next = a->ctx->ev->ts;
		snprintf(rec, sizeof rec, "%" PRId64 " %" PRId64 "%s%s", c.pruned, next,
			 cursor[0] != '\0' ? " " : "", cursor);
		mail_batch_put_str(a->ctx->batch, &jprn, rec);
	}
	if ((a->jpruned & (1u << t)) || next == JPRN_NONE || (next > 0 && next >= c.limit)) {
		ret = 0;   /* done this event, or nothing old enough to go */
		goto out;
	}
	a->jpruned |= 1u << t;
	c.skip = cursor;
	snprintf(c.cursor, sizeof c.cursor, "%s", cursor);
	mail_key(&a->key, a->address, MAIL_K_JSEQ, mail_jtype_name(t));
	buf_puts(&a->key, "/");
	c.plen = a->key.len;
	buf_printf(&start, "%s%s", a->key.data, cursor);
	if (view_batch_scan_from(a->ctx->batch, a->key.data, a->key.len, start.data, start.len, jseq_cb, &c,
				 error_r) < 0)
		goto out;
	if (c.corrupt) {
		log_error("mail: a JMAP change entry of %s (%s) is corrupt", a->address, mail_jtype_name(t));
		*error_r = MAIL_CORRUPT;
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		mail_key(&a->key, a->address, MAIL_K_JSEQ, mail_jtype_name(t));
		buf_printf(&a->key, "/%020" PRId64 "/%s", c.modseq[i], c.ids[i]);
		mail_batch_delete(a->ctx->batch, &a->key);
		mail_key(&a->key, a->address, MAIL_K_JOBJ, mail_jtype_name(t));
		buf_printf(&a->key, "/%s", c.ids[i]);
		mail_batch_delete(a->ctx->batch, &a->key);
	}
	/* Stopped at the event's own entries (or the end) with room left:
	 * nothing destroyed lies between the cursor and them, unless this
	 * very event destroyed one. */
	if (c.next == 0 && !c.full && c.n < MAIL_PRUNE_MAX)
		c.next = destroy ? a->ctx->ev->ts : JPRN_NONE;
	if (c.seen > 0 || c.next != next) {
		snprintf(rec, sizeof rec, "%" PRId64 " %" PRId64 "%s%s", c.pruned, c.next,
			 c.cursor[0] != '\0' ? " " : "", c.cursor);
		mail_batch_put_str(a->ctx->batch, &jprn, rec);
	}
	ret = 0;
out:
	free(val);
	buf_free(&jprn);
	buf_free(&start);
	return ret;
}

int mail_jprn_pruned(const char *val, size_t vlen, int64_t *pruned_r)
{
	char cursor[JCURSOR_MAX];
	int64_t next;

	return jprn_parse(val, vlen, pruned_r, &next, cursor, sizeof cursor);
}
