/* imap_cmd_store - STORE and UID STORE (RFC 9051 6.4.6): FLAGS, +FLAGS,
 * -FLAGS and their .SILENT forms, as one message.store event. The new
 * flags are read back from the view and sent as untagged FETCH responses
 * (with UID for UID STORE) unless .SILENT. \Recent cannot be stored
 * (BAD). CONDSTORE (RFC 7162 3.1.3): the (UNCHANGEDSINCE n) modifier is
 * checked by the projector, whose "modified" UIDs become OK [MODIFIED];
 * once CONDSTORE is on, FETCH responses carry UID and MODSEQ, also for
 * .SILENT. */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_mailbox.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_condstore.h"
#include "gateway/imap/imap_acl.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct store {
	size_t *idx, n;
	int silent;
	int64_t *old;           /* UNCHANGEDSINCE: modseqs before the store */
	json_t *modified;       /* UIDs that failed UNCHANGEDSINCE (RFC 7162 3.1.3) */
};

static void store_free(void *p)
{
	struct store *st = p;

	free(st->idx);
	free(st->old);
	json_decref(st->modified);
	free(st);
}

/* 1 when uid is in a [[lo,hi]...] array. */
static int in_ranges(json_t *ranges, uint32_t uid)
{
	json_t *r;
	size_t i;

	json_array_foreach(ranges, i, r) {
		if (uid >= json_integer_value(json_array_get(r, 0)) && uid <= json_integer_value(json_array_get(r, 1)))
			return 1;
	}
	return 0;
}

/* RFC 7162 3.1.3: "OK [MODIFIED set]", UIDs for UID STORE, else sequence numbers. */
static void store_modified(struct imap_session *s, struct store *st)
{
	size_t *seqs = xcalloc(st->n + 1, sizeof *seqs), ns = 0;
	json_t *set = st->modified;
	struct buf out = BUF_INIT;

	if (!s->cur_uid) {
		for (size_t k = 0; k < st->n; k++) {
			if (in_ranges(st->modified, s->mbox->msgs[st->idx[k]].uid))
				seqs[ns++] = st->idx[k];
		}
		set = json_array();
		for (size_t k = 0; k < ns; k++) {
			size_t j = k;

			while (j + 1 < ns && seqs[j + 1] == seqs[j] + 1)
				j++;
			json_array_append_new(set, json_pack("[I,I]", (json_int_t)seqs[k] + 1, (json_int_t)seqs[j] + 1));
			k = j;
		}
	}
	imap_ranges_string(set, &out);
	imap_ok(s, "[MODIFIED %s] Conditional STORE failed", out.data);
	buf_free(&out);
	if (set != st->modified)
		json_decref(set);
	free(seqs);
}

static void store_output(struct imap_session *s, struct store *st)
{
	int issued = 0;

	for (size_t k = 0; k < st->n; k++) {
		struct imap_msg *m = &s->mbox->msgs[st->idx[k]];

		if (m->expunged) {
			issued = 1;
			continue;
		}
		if (in_ranges(st->modified, m->uid))
			continue;
		if (st->silent && !m->dirty)
			continue;
		m->dirty = 0;
		if (st->silent) {
			/* RFC 7162 3.1.3: the new MODSEQ even for .SILENT. */
			if (s->condstore && st->old != NULL && m->modseq != st->old[k])
				imap_flags_fetch(s, st->idx[k], 1, 0);
			continue;
		}
		imap_flags_fetch(s, st->idx[k], s->cur_uid, 1);   /* + UID MODSEQ with CONDSTORE */
	}
	if (json_array_size(st->modified) > 0)
		store_modified(s, st);
	else if (issued)
		imap_ok(s, "[EXPUNGEISSUED] Some messages were expunged meanwhile");
	else
		imap_ok(s, "STORE completed");
}

static void store_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	struct store *st = s->op;
	const char *err = NULL;

	s->op = NULL;
	s->op_free = NULL;
	if (imap_outcome_ok(s, status, outcome, error, "STORE")) {
		if (imap_mbox_sync(s, s->mbox, &err) < 0)
			log_warn("imap[%s]: sync: %s", s->id, err);
		s->changed = 0;
		st->modified = json_incref(json_object_get(outcome, "modified"));
		store_output(s, st);
	}
	store_free(st);
}

void imap_cmd_store(struct imap_session *s, const struct imap_command *cmd)
{
	const char *set, *item, *action;
	struct store *st;
	json_t *flags, *data;
	size_t *live, nlive = 0, a0 = 1;
	uint64_t since = 0;
	int cond = 0;

	/* RFC 7162 3.1.3: STORE set (UNCHANGEDSINCE n) item flags. */
	if (cmd->nargs >= 4 && cmd->args[1].type == IMAP_ARG_LIST) {
		const struct imap_arg *m = &cmd->args[1];

		if (m->count != 2 || m->list[0].type != IMAP_ARG_ATOM ||
		    strcasecmp(m->list[0].str, "UNCHANGEDSINCE") != 0 || imap_modseq_arg(&m->list[1], 1, &since) < 0) {
			imap_bad(s, "Invalid STORE modifier");
			return;
		}
		cond = 1;
		a0 = 2;
		imap_condstore_enable(s);
	}
	if (cmd->nargs < a0 + 2 || cmd->args[0].type != IMAP_ARG_ATOM || cmd->args[a0].type != IMAP_ARG_ATOM) {
		imap_bad(s, "STORE needs a sequence set, an item and flags");
		return;
	}
	set = cmd->args[0].str;
	item = cmd->args[a0].str;
	st = xcalloc(1, sizeof *st);
	action = item[0] == '+' ? "add" : item[0] == '-' ? "remove" : "set";
	if (item[0] == '+' || item[0] == '-')
		item++;
	if (strcasecmp(item, "FLAGS.SILENT") == 0)
		st->silent = 1;
	else if (strcasecmp(item, "FLAGS") != 0) {
		store_free(st);
		imap_bad(s, "Unknown STORE item");
		return;
	}
	flags = json_array();
	for (size_t i = a0 + 1; i < cmd->nargs; i++) {
		if (imap_flag_list(&cmd->args[i], flags) < 0) {
			json_decref(flags);
			store_free(st);
			imap_bad(s, "Invalid flag");
			return;
		}
	}
	if (imap_mbox_select(s->mbox, set, cmd->uid, &st->idx, &st->n) < 0) {
		json_decref(flags);
		store_free(st);
		imap_bad(s, "Invalid sequence set");
		return;
	}
	if (s->mbox->readonly) {
		json_decref(flags);
		store_free(st);
		imap_no(s, "[READ-ONLY] Mailbox is read-only");
		return;
	}
	/* RFC 4314 4: s for \Seen, t for \Deleted, w for the others; a
	 * replacement touches all of them. */
	if (!imap_acl_may(s, strcmp(action, "set") == 0 ? MAIL_R_SEEN | MAIL_R_DELMSG | MAIL_R_WRITE
			  : imap_acl_flag_rights(flags))) {
		json_decref(flags);
		store_free(st);
		imap_no(s, "[NOPERM] You lack the rights to change those flags");
		return;
	}
	live = xcalloc(st->n + 1, sizeof *live);
	st->old = xcalloc(st->n + 1, sizeof *st->old);
	for (size_t k = 0; k < st->n; k++) {
		st->old[k] = s->mbox->msgs[st->idx[k]].modseq;
		if (!s->mbox->msgs[st->idx[k]].expunged)
			live[nlive++] = st->idx[k];
	}
	if (nlive == 0 || (json_array_size(flags) == 0 && strcmp(action, "set") != 0 && !cond)) {
		free(live);
		json_decref(flags);
		store_output(s, st);
		store_free(st);
		return;
	}
	s->op = st;
	s->op_free = store_free;
	data = json_pack("{s:s, s:o, s:s, s:o}", "mailbox_id", s->mbox->id, "uids",
			 imap_mbox_uid_ranges(s->mbox, live, nlive), "action", action, "flags", flags);
	if (cond)
		json_object_set_new(data, "unchanged_since", json_integer((json_int_t)since));
	imap_submit(s, "message.store", data, store_done);
	free(live);
}
