/* imap_condstore - the shared pieces of CONDSTORE and QRESYNC (RFC 7162):
 * mod-sequence arguments, the CONDSTORE enabled state, FETCH responses
 * with MODSEQ, VANISHED responses and the QRESYNC parameter of SELECT and
 * EXAMINE. Every mailbox has persistent modseqs (MODSEQ = log offset + 1,
 * ARCHITECTURE.md), so NOMODSEQ is never sent. The per-command parts live
 * in the command files (FETCH CHANGEDSINCE/VANISHED, STORE UNCHANGEDSINCE,
 * SEARCH MODSEQ, STATUS HIGHESTMODSEQ). */
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_recent.h"
#include "gateway/imap/imap_keywords.h"
#include "gateway/imap/imap_search.h"
#include "common/log.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 7162 3.1: from now on every untagged FETCH carries UID and MODSEQ.
 * RFC 7162 3.1.2.1: the first CONDSTORE enabling command after a SELECT
 * or EXAMINE without CONDSTORE is followed by "OK [HIGHESTMODSEQ n]" (a
 * SELECT after enabling already said it). */
void imap_condstore_enable(struct imap_session *s)
{
	if (!s->condstore && s->mbox != NULL)
		imap_line(s, "* OK [HIGHESTMODSEQ %lld] Highest", (long long)s->mbox->highestmodseq);
	s->condstore = 1;
}

/* "* i FETCH (UID u FLAGS (..) MODSEQ (m))" (RFC 7162 3.1.4: UID and
 * MODSEQ once CONDSTORE is enabled, also for STORE .SILENT, 3.1.3). */
void imap_flags_fetch(struct imap_session *s, size_t i, int uid, int flags)
{
	struct imap_msg *m = &s->mbox->msgs[i];
	struct buf out = BUF_INIT;

	if (flags)
		imap_keywords_check(s, m);   /* RFC 9051 7.3.5: FLAGS first */
	imap_fetch_open(s, &out, i + 1, m->uid);
	if (uid || s->condstore)
		buf_printf(&out, "UID %u", m->uid);
	if (flags) {
		buf_puts(&out, out.data[out.len - 1] == '(' ? "FLAGS " : " FLAGS ");
		imap_flags_string(s->mbox, m, imap_msg_recent(s->mbox, m->uid), &out);
	}
	if (s->condstore)
		buf_printf(&out, " MODSEQ (%lld)", (long long)m->modseq);
	buf_puts(&out, ")");
	imap_line(s, "%s", out.data);
	buf_free(&out);
}

void imap_select_opts_free(struct imap_select_opts *o)
{
	free(o->known);
	o->known = NULL;
}

/* RFC 7162 3.2.5: "(" uidvalidity SP mod-sequence-value [SP known-uids]
 * [SP seq-match-data] ")". seq-match-data is checked, not used: the
 * tombstones give the exact VANISHED set. */
static int parse_qresync(const struct imap_arg *l, struct imap_select_opts *o, const char **error_r)
{
	const char *uv = NULL;
	char *end;
	unsigned long v;
	size_t k = 2;
	struct imap_range *r = NULL;
	size_t nr = 0;

	*error_r = "Invalid QRESYNC parameters";
	if (l->type != IMAP_ARG_LIST || l->count < 2 || l->count > 4 || l->list[0].type != IMAP_ARG_ATOM)
		return -1;
	uv = l->list[0].str;
	v = strtoul(uv, &end, 10);
	if (uv[0] < '1' || uv[0] > '9' || *end != '\0' || v > 0xffffffffUL)
		return -1;
	o->uidvalidity = (uint32_t)v;
	/* qresync-params (RFC 7162 7): mod-sequence-value is positive; the
	 * known UIDs and seq-match-data are sequence sets without "*", and
	 * the two sets of seq-match-data pair off one to one (3.2.5.2). */
	if (imap_modseq_arg(&l->list[1], 0, &o->modseq) < 0)
		return -1;
	if (k < l->count && l->list[k].type == IMAP_ARG_ATOM) {
		if (strchr(l->list[k].str, '*') != NULL ||
		    imap_seqset_parse(l->list[k].str, 0xffffffffu, &o->known, &o->nknown) < 0)
			return -1;
		k++;
	}
	if (k < l->count) {
		const struct imap_arg *m = &l->list[k++];
		uint64_t count[2] = { 0, 0 };

		o->seq_match = 1;
		if (m->type != IMAP_ARG_LIST || m->count != 2 || m->list[0].type != IMAP_ARG_ATOM ||
		    m->list[1].type != IMAP_ARG_ATOM)
			return -1;
		for (int j = 0; j < 2; j++) {
			if (strchr(m->list[j].str, '*') != NULL ||
			    imap_seqset_parse(m->list[j].str, 0xffffffffu, &r, &nr) < 0)
				return -1;
			for (size_t x = 0; x < nr; x++)
				count[j] += (uint64_t)r[x].hi - r[x].lo + 1;
			free(r);
			r = NULL;
		}
		if (count[0] != count[1])
			return -1;
	}
	return k == l->count ? 0 : -1;
}

int imap_select_opts_parse(struct imap_session *s, const struct imap_arg *a, struct imap_select_opts *o,
			   const char **error_r)
{
	memset(o, 0, sizeof *o);
	*error_r = "Invalid SELECT parameters";
	if (a->type != IMAP_ARG_LIST)
		return -1;
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *p = &a->list[i];

		if (p->type == IMAP_ARG_ATOM && strcasecmp(p->str, "CONDSTORE") == 0) {
			o->condstore = 1;
		} else if (p->type == IMAP_ARG_ATOM && strcasecmp(p->str, "QRESYNC") == 0 && !o->qresync &&
			   i + 1 < a->count) {
			/* RFC 7162 3.2.5: BAD unless QRESYNC was enabled. */
			if (!s->qresync) {
				*error_r = "QRESYNC is not enabled";
				return -1;
			}
			o->qresync = 1;
			if (parse_qresync(&a->list[++i], o, error_r) < 0 ||
			    (s->uidonly && o->seq_match && (*error_r = "[UIDREQUIRED] No sequence-match data with UIDONLY"))) {
				imap_select_opts_free(o);
				return -1;
			}
		} else {
			imap_select_opts_free(o);
			return -1;
		}
	}
	return 0;
}

void imap_qresync_select(struct imap_session *s, const struct imap_select_opts *o)
{
	struct imap_mbox *mb = s->mbox;
	uint64_t since;

	/* RFC 7162 3.2.5: a different UIDVALIDITY: no resynchronisation. */
	if (!o->qresync || o->uidvalidity != mb->uidvalidity)
		return;
	/* since 0 when the expunges after the client's modseq are no longer
	 * all known (imap_vanished_since): every message is sent. */
	if (imap_vanished_since(s, o->known, o->nknown, o->modseq, &since) < 0)
		since = o->modseq;
	for (size_t i = 0; i < mb->n; i++) {
		struct imap_msg *m = &mb->msgs[i];

		if (m->expunged || (uint64_t)m->modseq <= since ||
		    (o->known != NULL && !imap_seqset_contains(o->known, o->nknown, m->uid)))
			continue;
		imap_flags_fetch(s, i, 1, 1);
		m->dirty = 0;
	}
}

/* FETCH modifiers (RFC 7162 3.1.4.1 CHANGEDSINCE, 3.2.6 VANISHED): "("
 * "CHANGEDSINCE" SP mod-sequence-value [SP "VANISHED"] ")" in any order.
 * VANISHED only for UID FETCH, with CHANGEDSINCE, after ENABLE QRESYNC. */
int imap_fetch_modifiers(struct imap_session *s, const struct imap_command *cmd, const struct imap_arg *a,
			 uint64_t *since_r, int *vanished_r, const char **error_r)
{
	int since = 0;

	*vanished_r = 0;
	*error_r = "Invalid FETCH modifier";
	if (a->type != IMAP_ARG_LIST || a->count == 0)
		return -1;
	for (size_t i = 0; i < a->count; i++) {
		const struct imap_arg *m = &a->list[i];

		if (m->type == IMAP_ARG_ATOM && strcasecmp(m->str, "CHANGEDSINCE") == 0 && !since &&
		    i + 1 < a->count && imap_modseq_arg(&a->list[i + 1], 0, since_r) == 0) {
			/* mod-sequence-value: positive (RFC 7162 7) */
			since = 1;
			i++;
		} else if (m->type == IMAP_ARG_ATOM && strcasecmp(m->str, "VANISHED") == 0 && !*vanished_r) {
			*vanished_r = 1;
		} else {
			return -1;
		}
	}
	if (*vanished_r && (!cmd->uid || !since || !s->qresync)) {
		*error_r = !s->qresync ? "QRESYNC is not enabled" :
			   "VANISHED needs UID FETCH and CHANGEDSINCE";
		return -1;
	}
	if (!since)
		return -1;
	return 0;
}

/* UID FETCH ... (VANISHED): VANISHED (EARLIER) for the expunged UIDs of
 * set changed after since; '*' is the highest UID ever assigned. */
uint64_t imap_fetch_vanished(struct imap_session *s, const char *set, uint64_t since)
{
	struct imap_range *r = NULL;
	size_t nr = 0;
	unsigned star = s->mbox->uidnext > 1 ? s->mbox->uidnext - 1 : 1;
	uint64_t from = since;

	if (imap_seqset_parse(set, star, &r, &nr) < 0)
		return since;
	if (imap_vanished_since(s, r, nr, since, &from) < 0)
		from = since;
	free(r);
	return from;
}

/* 1 when SEARCH/SORT criteria use MODSEQ (RFC 7162 3.1.5: a CONDSTORE
 * enabling command whose result carries the highest MODSEQ); enables it. */
int imap_search_args_modseq(struct imap_session *s, const struct imap_arg *args, size_t n)
{
	struct imap_search *sr = NULL;
	const char *error = NULL;
	int r = imap_search_parse(args, n, s->mbox, &sr, &error) == 0 && imap_search_uses_modseq(sr);

	imap_search_free(&sr);
	if (r)
		imap_condstore_enable(s);
	return r;
}
