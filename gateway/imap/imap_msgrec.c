/* imap_msgrec - what a session keeps per message beyond its 16-byte
 * record (imap_session_private.h struct imap_msg): the mailbox's table of
 * distinct keyword sets, flag rendering and tests from the bits, and the
 * view records (size, dates, email id ...) read in runs of UIDs when a
 * command needs them. */
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "common/log.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* System flags in MAIL_F_* bit order (the stored order). */
static const char *const sys_names[] = { "\\Answered", "\\Deleted", "\\Draft", "\\Flagged", "\\Seen" };
#define NSYS (sizeof sys_names / sizeof sys_names[0])

int64_t imap_kwset_id(struct imap_mbox *mb, const char *kw, size_t len)
{
	struct imap_kwset *k;

	if (mb->nkwsets == 0) {
		mb->kwcap = 4;
		mb->kwsets = xcalloc(mb->kwcap, sizeof *mb->kwsets);
		mb->kwsets[0].kw = xstrdup("");
		mb->kwsets[0].told = 1;
		mb->nkwsets = 1;
	}
	if (len == 0)
		return 0;
	/* Mailboxes carry few distinct sets; the most recent ones first. */
	for (size_t i = mb->nkwsets; i-- > 1;) {
		if (mb->kwsets[i].len == len && memcmp(mb->kwsets[i].kw, kw, len) == 0)
			return (int64_t)i;
	}
	if (mb->nkwsets >= IMAP_KWSETS_MAX)
		return -1;
	if (mb->nkwsets == mb->kwcap) {
		mb->kwcap *= 2;
		mb->kwsets = xrealloc(mb->kwsets, mb->kwcap * sizeof *mb->kwsets);
	}
	k = &mb->kwsets[mb->nkwsets];
	k->kw = xmalloc(len + 1);
	memcpy(k->kw, kw, len);
	k->kw[len] = '\0';
	k->len = len;
	k->told = 0;
	return (int64_t)mb->nkwsets++;
}

void imap_kwsets_free(struct imap_mbox *mb)
{
	for (size_t i = 0; i < mb->nkwsets; i++)
		free(mb->kwsets[i].kw);
	free(mb->kwsets);
	mb->kwsets = NULL;
	mb->nkwsets = mb->kwcap = 0;
}

void imap_flags_string(const struct imap_mbox *mb, const struct imap_msg *m, int recent, struct buf *out)
{
	int first = !recent;

	buf_puts(out, recent ? "(\\Recent" : "(");
	for (size_t k = 0; k < NSYS; k++) {
		if (m->flags & (1u << k)) {
			buf_printf(out, "%s%s", first ? "" : " ", sys_names[k]);
			first = 0;
		}
	}
	if (m->kw != 0 && m->kw < mb->nkwsets) {
		if (!first)
			buf_puts(out, " ");
		buf_append(out, mb->kwsets[m->kw].kw, mb->kwsets[m->kw].len);
	}
	buf_puts(out, ")");
}

int imap_msg_has_flag(const struct imap_mbox *mb, const struct imap_msg *m, const char *flag)
{
	const char *p, *end;
	size_t fl = strlen(flag);

	if (flag[0] == '\\') {
		for (size_t k = 0; k < NSYS; k++) {
			if (strcasecmp(flag, sys_names[k]) == 0)
				return (m->flags & (1u << k)) != 0;
		}
		return 0;
	}
	if (m->kw == 0 || m->kw >= mb->nkwsets)
		return 0;
	p = mb->kwsets[m->kw].kw;
	end = p + mb->kwsets[m->kw].len;
	while (p < end) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t len = sp != NULL ? (size_t)(sp - p) : (size_t)(end - p);

		if (len == fl && strncasecmp(p, flag, len) == 0)
			return 1;
		p += len + 1;
	}
	return 0;
}

/* Binary search of the run for uid. */
static json_t *run_find(struct imap_recs *c, uint32_t uid)
{
	size_t lo = 0, hi = json_array_size(c->list);

	/* Callers mostly go up one by one: try the next position first. */
	if (c->pos < hi) {
		json_t *r = json_array_get(c->list, c->pos);

		if ((uint32_t)json_integer_value(json_object_get(r, "uid")) == uid) {
			c->pos++;
			return r;
		}
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		json_t *r = json_array_get(c->list, mid);
		uint32_t u = (uint32_t)json_integer_value(json_object_get(r, "uid"));

		if (u == uid) {
			c->pos = mid + 1;
			return r;
		}
		if (u < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

json_t *imap_recs_get(struct imap_session *s, struct imap_recs *c, size_t i, size_t run)
{
	struct imap_mbox *mb = s->mbox;
	const char *error = NULL;
	uint32_t uid = mb->msgs[i].uid;
	size_t last;

	if (c->list != NULL && uid >= c->lo && uid <= c->hi)
		return run_find(c, uid);
	json_decref(c->list);
	c->list = NULL;
	if (run == 0)
		run = 1;
	if (run > IMAP_RECS_RUN)
		run = IMAP_RECS_RUN;
	last = i + run - 1 < mb->n ? i + run - 1 : mb->n - 1;
	c->lo = uid;
	c->hi = mb->msgs[last].uid;
	c->pos = 0;
	if (mail_messages_range(s->node->view, mb->owner, mb->id, c->lo, c->hi, &c->list, &error) < 0) {
		log_warn("imap[%s]: reading messages %u:%u: %s", s->id, c->lo, c->hi, error);
		c->list = NULL;
		return NULL;
	}
	return run_find(c, uid);
}

void imap_recs_free(struct imap_recs *c)
{
	json_decref(c->list);
	memset(c, 0, sizeof *c);
}

size_t imap_idx_run(const size_t *idx, size_t n, size_t k)
{
	size_t j = k + 1;

	while (j < n && j - k < IMAP_RECS_RUN && idx[j] == idx[j - 1] + 1)
		j++;
	return j - k;
}
