/* imap_cmd_store - STORE and UID STORE (RFC 9051 6.4.6): FLAGS, +FLAGS,
 * -FLAGS and their .SILENT forms, as one message.store event. The new
 * flags are read back from the view and sent as untagged FETCH responses
 * (with UID for UID STORE) unless .SILENT. \Recent is not kept and is
 * ignored. */
#include "gateway/imap/imap_session_private.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct store {
	size_t *idx, n;
	int silent;
};

static void store_free(void *p)
{
	struct store *st = p;

	free(st->idx);
	free(st);
}

/* A flag as the store wants it: system flags in canonical case. */
static const char *flag_name(const char *f)
{
	static const char *const sys[] = { "\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft" };

	if (f[0] != '\\')
		return f;
	for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
		if (strcasecmp(f, sys[i]) == 0)
			return sys[i];
	}
	return NULL;
}

/* Appends the flags of one argument (a flag or a list) to arr; -1 invalid. */
int imap_flag_list(const struct imap_arg *a, json_t *arr)
{
	if (a->type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < a->count; i++) {
			if (a->list[i].type != IMAP_ARG_ATOM || imap_flag_list(&a->list[i], arr) < 0)
				return -1;
		}
		return 0;
	}
	if (a->type != IMAP_ARG_ATOM || a->str[0] == '\0')
		return -1;
	if (strcasecmp(a->str, "\\Recent") == 0)
		return 0;
	if (flag_name(a->str) == NULL)
		return -1;
	for (const char *p = a->str + (a->str[0] == '\\'); *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return -1;
	}
	json_array_append_new(arr, json_string(flag_name(a->str)));
	return 0;
}

static void store_output(struct imap_session *s, struct store *st)
{
	int issued = 0;

	for (size_t k = 0; k < st->n; k++) {
		struct imap_msg *m = &s->mbox->msgs[st->idx[k]];
		struct buf fl = BUF_INIT;

		if (m->expunged) {
			issued = 1;
			continue;
		}
		if (st->silent && !m->dirty)
			continue;
		m->dirty = 0;
		if (st->silent)
			continue;
		imap_flags_string(m->rec, &fl);
		if (s->cur_uid)
			imap_line(s, "* %zu FETCH (UID %u FLAGS %s)", st->idx[k] + 1, m->uid, fl.data);
		else
			imap_line(s, "* %zu FETCH (FLAGS %s)", st->idx[k] + 1, fl.data);
		buf_free(&fl);
	}
	if (issued)
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
		store_output(s, st);
	}
	store_free(st);
}

void imap_cmd_store(struct imap_session *s, const struct imap_command *cmd)
{
	const char *set, *item, *action;
	struct store *st;
	json_t *flags;
	size_t *live, nlive = 0;

	if (cmd->nargs < 3 || cmd->args[0].type != IMAP_ARG_ATOM || cmd->args[1].type != IMAP_ARG_ATOM) {
		imap_bad(s, "STORE needs a sequence set, an item and flags");
		return;
	}
	set = cmd->args[0].str;
	item = cmd->args[1].str;
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
	for (size_t i = 2; i < cmd->nargs; i++) {
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
	live = xcalloc(st->n + 1, sizeof *live);
	for (size_t k = 0; k < st->n; k++) {
		if (!s->mbox->msgs[st->idx[k]].expunged)
			live[nlive++] = st->idx[k];
	}
	if (nlive == 0 || (json_array_size(flags) == 0 && strcmp(action, "set") != 0)) {
		free(live);
		json_decref(flags);
		store_output(s, st);
		store_free(st);
		return;
	}
	s->op = st;
	s->op_free = store_free;
	imap_submit(s, "message.store",
		    json_pack("{s:s, s:o, s:s, s:o}", "mailbox_id", s->mbox->id, "uids",
			      imap_mbox_uid_ranges(s->mbox, live, nlive), "action", action, "flags", flags),
		    store_done);
	free(live);
}
