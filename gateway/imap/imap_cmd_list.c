/* imap_cmd_list - LIST and LSUB. LSUB: RFC 3501 6.3.9. LIST: RFC 9051 6.3.9 with the LIST-EXTENDED options
 * (RFC 5258): selection options SUBSCRIBED, REMOTE (no remote mailboxes
 * here), RECURSIVEMATCH and SPECIAL-USE (RFC 6154 3); return options
 * SUBSCRIBED, CHILDREN, SPECIAL-USE and STATUS (RFC 5819 LIST-STATUS);
 * several patterns in a list. \HasChildren / \HasNoChildren are always
 * returned (RFC 9051 7.3.1). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "gateway/imap/imap_status.h"
#include "gateway/imap/imap_acl.h"
#include "gateway/imap/imap_list.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PATTERNS 32

struct list_opts {
	int extended;            /* any RFC 5258 syntax: \NonExistent instead of \Noselect */
	int sel_subscribed, sel_special, sel_recursive;
	int ret_subscribed, ret_special;
	const struct imap_arg *status;  /* RETURN (STATUS (...)) items */
	const char *pats[MAX_PATTERNS];
	size_t npat;
};

/* The special use of an entry ("" for none). */
static const char *special_use(const struct imap_list_entry *e)
{
	const char *su = e->box != NULL ? json_string_value(json_object_get(e->box, "special_use")) : NULL;

	return su != NULL ? su : "";
}

/* RFC 5258 3.1 / RFC 6154 3: the entry meets the selection options. */
static int selected(const struct list_opts *o, const struct imap_list_entry *e)
{
	if (o->sel_subscribed && !e->subscribed)
		return 0;
	if (o->sel_special && special_use(e)[0] == '\0')
		return 0;
	return 1;
}

/* Any pattern matches name. */
static int matches(char **fps, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (imap_list_match(fps[i], name))
			return 1;
	}
	return 0;
}

/* RFC 5258 3.5 RECURSIVEMATCH: a descendant that does not match the
 * patterns but meets the selection options. */
static int childinfo(const struct list_opts *o, char **fps, const struct imap_list_entry *e, size_t n,
		     size_t i)
{
	size_t len = strlen(e[i].name);

	for (size_t j = 0; j < n; j++) {
		if (strncmp(e[j].name, e[i].name, len) == 0 && e[j].name[len] == '/' &&
		    !matches(fps, o->npat, e[j].name) && selected(o, &e[j]))
			return 1;
	}
	return 0;
}

/* Parses the selection options, reference, patterns and return options.
 * 0, or -1 with *error_r (BAD). */
static int parse(const struct imap_command *cmd, struct list_opts *o, const char **ref_r,
		 const char **error_r)
{
	const struct imap_arg *args = cmd->args;
	size_t nargs = cmd->nargs;

	memset(o, 0, sizeof *o);
	*error_r = "LIST needs a reference and a mailbox pattern";
	if (nargs > 0 && args[0].type == IMAP_ARG_LIST) {
		o->extended = 1;
		for (size_t i = 0; i < args[0].count; i++) {
			const char *v = args[0].list[i].type == IMAP_ARG_ATOM ? args[0].list[i].str : "";
			if (strcasecmp(v, "SUBSCRIBED") == 0)
				o->sel_subscribed = 1;
			else if (strcasecmp(v, "SPECIAL-USE") == 0)
				o->sel_special = 1;
			else if (strcasecmp(v, "RECURSIVEMATCH") == 0)
				o->sel_recursive = 1;
			else if (strcasecmp(v, "REMOTE") != 0)
				return *error_r = "Unknown LIST selection option", -1;
		}
		/* RFC 5258 3.1: RECURSIVEMATCH alone is an error. */
		if (o->sel_recursive && !o->sel_subscribed && !o->sel_special)
			return *error_r = "RECURSIVEMATCH needs another selection option", -1;
		args++;
		nargs--;
	}
	if (nargs == 4 && args[2].type == IMAP_ARG_ATOM && strcasecmp(args[2].str, "RETURN") == 0 &&
	    args[3].type == IMAP_ARG_LIST) {
		const struct imap_arg *r = args[3].list;

		o->extended = 1;
		for (size_t i = 0; i < args[3].count; i++) {
			const char *v = r[i].type == IMAP_ARG_ATOM ? r[i].str : "";
			if (strcasecmp(v, "SUBSCRIBED") == 0) {
				o->ret_subscribed = 1;
			} else if (strcasecmp(v, "SPECIAL-USE") == 0) {
				o->ret_special = 1;
			} else if (strcasecmp(v, "STATUS") == 0 && i + 1 < args[3].count &&
				   r[i + 1].type == IMAP_ARG_LIST) {
				if (imap_status_check(r[i + 1].list, r[i + 1].count) < 0)
					return *error_r = "Unknown STATUS item", -1;
				o->status = &r[++i];
			} else if (strcasecmp(v, "CHILDREN") != 0) {
				return *error_r = "Unknown LIST return option", -1;
			}
		}
		nargs = 2;
	}
	if (nargs != 2 || (*ref_r = imap_arg_str(&args[0])) == NULL)
		return -1;
	if (args[1].type == IMAP_ARG_LIST) {
		o->extended = 1;
		for (size_t i = 0; i < args[1].count && o->npat < MAX_PATTERNS; i++) {
			if ((o->pats[o->npat] = imap_arg_str(&args[1].list[i])) != NULL)
				o->npat++;
		}
	} else if ((o->pats[0] = imap_arg_str(&args[1])) != NULL) {
		o->npat = 1;
	}
	if (o->npat == 0)
		return *error_r = "Invalid mailbox pattern", -1;
	return 0;
}

/* Sort by name. */
static int cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct imap_list_entry *)a)->name, ((const struct imap_list_entry *)b)->name);
}

/* RFC 5258 3.1 SUBSCRIBED: subscribed names that are no mailbox are listed
 * too (\NonExistent); subs keeps their names. The array is re-sorted. */
static struct imap_list_entry *add_subscribed(struct imap_list_entry *e, size_t *n_r, json_t *subs)
{
	size_t n = *n_r, i, j;
	json_t *v;

	json_array_foreach(subs, i, v) {
		const char *name = json_string_value(v);

		for (j = 0; j < n && strcmp(e[j].name, name) != 0; j++)
			;
		if (j < n) {
			e[j].subscribed = 1;   /* an implied parent may be subscribed */
			continue;
		}
		e = xrealloc(e, (n + 1) * sizeof *e);
		memset(&e[n], 0, sizeof e[n]);
		e[n].name = name;
		e[n].subscribed = 1;
		for (j = 0; j < n; j++) {
			size_t len = strlen(name);
			if (e[j].box != NULL && strncmp(e[j].name, name, len) == 0 && e[j].name[len] == '/')
				e[n].children = 1;
		}
		n++;
	}
	qsort(e, n, sizeof *e, cmp_name);
	*n_r = n;
	return e;
}

/* One "* LIST (attrs) "/" name [extended data]" line, then its STATUS. */
static void list_line(struct imap_session *s, const struct list_opts *o, const struct imap_list_entry *e,
		      int child_info)
{
	struct buf line = BUF_INIT;
	const char *su = special_use(e);

	buf_puts(&line, "* LIST (");
	if (e->box == NULL)
		buf_puts(&line, o->extended ? "\\NonExistent" : "\\Noselect");
	if (e->box != NULL || e->children)
		buf_printf(&line, "%s%s", e->box == NULL ? " " : "", e->children ? "\\HasChildren" : "\\HasNoChildren");
	if (su[0] != '\0')
		buf_printf(&line, " %s", su);
	if ((o->sel_subscribed || o->ret_subscribed) && e->subscribed)
		buf_puts(&line, " \\Subscribed");
	buf_puts(&line, ") \"/\" ");
	imap_quote_mailbox(s, &line, e->name);
	if (child_info) {
		buf_puts(&line, " (\"CHILDINFO\" (");
		if (o->sel_subscribed)
			buf_puts(&line, "\"SUBSCRIBED\"");
		if (o->sel_special)
			buf_puts(&line, o->sel_subscribed ? " \"SPECIAL-USE\"" : "\"SPECIAL-USE\"");
		buf_puts(&line, "))");
	}
	imap_line(s, "%s", line.data);
	buf_free(&line);
	/* RFC 5819 2: STATUS only for selectable mailboxes. */
	if (o->status != NULL && e->box != NULL)
		imap_status_line(s, e->box, o->status->list, o->status->count);
}

void imap_cmd_list(struct imap_session *s, const struct imap_command *cmd)
{
	struct list_opts o;
	const char *ref = NULL, *error = NULL;
	json_t *boxes = NULL, *names, *subs = NULL;
	struct imap_list_entry *e;
	char *fps[MAX_PATTERNS];
	size_t n = 0;

	if (parse(cmd, &o, &ref, &error) < 0) {
		imap_bad(s, "%s", error);
		return;
	}
	if (o.npat == 1 && o.pats[0][0] == '\0') {
		/* RFC 9051 6.3.9: the delimiter and the root. */
		imap_line(s, "* LIST (\\Noselect) \"/\" \"\"");
		imap_ok(s, "LIST completed");
		return;
	}
	if (mail_mailboxes(s->node->view, s->account, &boxes, &error) < 0 ||
	    imap_acl_list_shared(s, boxes, &error) < 0 ||   /* "Other Users/..." (imap_acl.h) */
	    (o.sel_subscribed && mail_subscriptions(s->node->view, s->account, &subs, &error) < 0)) {
		json_decref(boxes);
		json_decref(subs);
		imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
		return;
	}
	names = json_array();
	e = imap_list_collect(boxes, &n, names);
	if (subs != NULL)
		e = add_subscribed(e, &n, subs);
	for (size_t p = 0; p < o.npat; p++)
		fps[p] = imap_list_pattern_s(s, ref, o.pats[p]);
	/* RFC 5258 3: each name at most once, whichever patterns match it. */
	for (size_t i = 0; i < n; i++) {
		int ci;

		if (!matches(fps, o.npat, e[i].name))
			continue;
		ci = o.sel_recursive && childinfo(&o, fps, e, n, i);
		if (selected(&o, &e[i]) || ci)
			list_line(s, &o, &e[i], ci);
	}
	for (size_t p = 0; p < o.npat; p++)
		free(fps[p]);
	free(e);
	json_decref(boxes);
	json_decref(names);
	json_decref(subs);
	imap_ok(s, "LIST completed");
}

/* One LSUB line. */
static void lsub_line(struct imap_session *s, const char *attrs, const char *name)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "* LSUB (%s) \"/\" ", attrs);
	imap_quote_mailbox(s, &line, name);
	imap_line(s, "%s", line.data);
	buf_free(&line);
}

/* RFC 3501 6.3.9: with "%", a subscribed name below a level the pattern
 * stops at makes that level appear, \Noselect unless it is subscribed
 * itself ("foo/bar" subscribed, "foo" not: LSUB "" % gives foo
 * \Noselect). seen holds the names already answered. */
static void lsub_parents(struct imap_session *s, const char *fp, const char *name, json_t *subscribed,
			 json_t *seen)
{
	for (const char *slash = strchr(name, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		char *parent = xstrndup(name, (size_t)(slash - name));

		if (imap_list_match(fp, parent) && json_object_get(subscribed, parent) == NULL &&
		    json_object_get(seen, parent) == NULL) {
			json_object_set_new(seen, parent, json_true());
			lsub_line(s, "\\Noselect", parent);
		}
		free(parent);
	}
}

/* RFC 3501 6.3.9 LSUB: the subscribed names, whether or not the mailbox
 * exists (a subscription outlives its mailbox). */
void imap_cmd_lsub(struct imap_session *s, const struct imap_command *cmd)
{
	const char *ref, *pat, *error = NULL;
	json_t *subs = NULL, *v, *subscribed, *seen;
	char *fp;
	size_t i;

	if (cmd->nargs != 2 || (ref = imap_arg_str(&cmd->args[0])) == NULL ||
	    (pat = imap_arg_str(&cmd->args[1])) == NULL) {
		imap_bad(s, "LSUB needs a reference and a mailbox pattern");
		return;
	}
	if (pat[0] == '\0') {
		imap_line(s, "* LSUB (\\Noselect) \"/\" \"\"");
		imap_ok(s, "LSUB completed");
		return;
	}
	if (mail_subscriptions(s->node->view, s->account, &subs, &error) < 0) {
		json_decref(subs);
		imap_no(s, "[SERVERBUG] Cannot read the subscriptions: %s", error);
		return;
	}
	fp = imap_list_pattern_s(s, ref, pat);
	subscribed = json_object();
	seen = json_object();
	json_array_foreach(subs, i, v) {
		if (json_string_value(v) != NULL)
			json_object_set_new(subscribed, json_string_value(v), json_true());
	}
	json_array_foreach(subs, i, v) {
		const char *name = json_string_value(v);

		if (name == NULL)
			continue;
		if (imap_list_match(fp, name)) {
			if (json_object_get(seen, name) == NULL) {
				json_object_set_new(seen, name, json_true());
				lsub_line(s, "", name);
			}
		} else if (strchr(fp, '%') != NULL) {
			lsub_parents(s, fp, name, subscribed, seen);
		}
	}
	free(fp);
	json_decref(subscribed);
	json_decref(seen);
	json_decref(subs);
	imap_ok(s, "LSUB completed");
}
