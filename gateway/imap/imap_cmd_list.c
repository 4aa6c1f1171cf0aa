/* imap_cmd_list - LIST (RFC 9051 6.3.9 with RFC 5258 selection/return
 * options SUBSCRIBED and SPECIAL-USE, RFC 6154; CHILDREN RFC 3348) and
 * LSUB (RFC 3501 6.3.9). Hierarchy delimiter '/'; "*" matches anything,
 * "%" anything but '/'; INBOX is case-insensitive. A name whose parent
 * does not exist makes the parent appear as \Noselect. */
#include "gateway/imap/imap_session_private.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct entry {
	const char *name;
	json_t *box;          /* NULL: an implied parent */
	int subscribed;
	int children;
};

/* RFC 9051 6.3.9 wildcard match. */
static int match(const char *pat, const char *name)
{
	for (; *pat != '\0'; pat++, name++) {
		if (*pat == '*' || *pat == '%') {
			for (;;) {
				if (match(pat + 1, name))
					return 1;
				if (*name == '\0' || (*pat == '%' && *name == '/'))
					return 0;
				name++;
			}
		}
		if (*name == '\0' || *pat != *name)
			return 0;
	}
	return *name == '\0';
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

/* Every mailbox plus implied parents, sorted, with children marked. */
static struct entry *collect(json_t *boxes, size_t *n_r, json_t *names)
{
	size_t n = 0, norig, i;
	struct entry *e = xcalloc(json_array_size(boxes) + 1, sizeof *e);
	json_t *b;

	json_array_foreach(boxes, i, b) {
		const char *name = json_string_value(json_object_get(b, "name"));

		if (name == NULL)
			continue;
		e[n].name = name;
		e[n].box = b;
		e[n].subscribed = json_is_true(json_object_get(b, "subscribed"));
		n++;
	}
	/* Implied parents. */
	for (i = 0, norig = n; i < norig; i++) {
		const char *slash = e[i].name;

		while ((slash = strchr(slash, '/')) != NULL) {
			char *parent = xstrndup(e[i].name, (size_t)(slash - e[i].name));
			size_t j;

			for (j = 0; j < n && strcmp(e[j].name, parent) != 0; j++)
				;
			if (j == n) {
				e = xrealloc(e, (n + 1) * sizeof *e);
				memset(&e[n], 0, sizeof e[n]);
				json_array_append_new(names, json_string(parent));
				e[n].name = json_string_value(json_array_get(names, json_array_size(names) - 1));
				n++;
			}
			free(parent);
			slash++;
		}
	}
	qsort(e, n, sizeof *e, cmp_entry);
	for (i = 0; i < n; i++) {
		size_t len = strlen(e[i].name);

		for (size_t j = 0; j < n; j++) {
			if (j != i && strncmp(e[j].name, e[i].name, len) == 0 && e[j].name[len] == '/') {
				e[i].children = 1;
				break;
			}
		}
	}
	*n_r = n;
	return e;
}

/* ref + pattern with a leading INBOX component upper-cased. */
static char *full_pattern(const char *ref, const char *pat)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, ref);
	buf_puts(&b, pat);
	if (strncasecmp(b.data, "INBOX", 5) == 0 && (b.data[5] == '\0' || b.data[5] == '/'))
		memcpy(b.data, "INBOX", 5);
	return buf_steal(&b);
}

static void list(struct imap_session *s, const struct imap_command *cmd, int lsub)
{
	const struct imap_arg *args = cmd->args;
	size_t nargs = cmd->nargs, n = 0, npat = 0;
	const char *ref, *error = NULL, *pats[32];
	int sel_subscribed = 0, ret_subscribed = 0;
	json_t *boxes = NULL, *names = json_array();
	struct entry *e;

	if (!lsub && nargs > 0 && args[0].type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < args[0].count; i++) {
			const char *o = imap_arg_str(&args[0].list[i]);
			if (o != NULL && strcasecmp(o, "SUBSCRIBED") == 0)
				sel_subscribed = 1;
		}
		args++;
		nargs--;
	}
	if (!lsub && nargs == 4 && args[2].type == IMAP_ARG_ATOM && strcasecmp(args[2].str, "RETURN") == 0 &&
	    args[3].type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < args[3].count; i++) {
			const char *o = imap_arg_str(&args[3].list[i]);
			if (o != NULL && strcasecmp(o, "SUBSCRIBED") == 0)
				ret_subscribed = 1;
		}
		nargs = 2;
	}
	if (nargs != 2 || (ref = imap_arg_str(&args[0])) == NULL) {
		json_decref(names);
		imap_bad(s, "%s needs a reference and a mailbox pattern", lsub ? "LSUB" : "LIST");
		return;
	}
	if (args[1].type == IMAP_ARG_LIST) {
		for (size_t i = 0; i < args[1].count && npat < 32; i++) {
			if ((pats[npat] = imap_arg_str(&args[1].list[i])) != NULL)
				npat++;
		}
	} else if ((pats[0] = imap_arg_str(&args[1])) != NULL) {
		npat = 1;
	}
	if (npat == 0) {
		json_decref(names);
		imap_bad(s, "Invalid mailbox pattern");
		return;
	}
	if (npat == 1 && pats[0][0] == '\0') {
		/* RFC 9051 6.3.9: the delimiter and the root. */
		json_decref(names);
		imap_line(s, "* %s (\\Noselect) \"/\" \"\"", lsub ? "LSUB" : "LIST");
		imap_ok(s, "%s completed", lsub ? "LSUB" : "LIST");
		return;
	}
	if (mail_mailboxes(s->node->view, s->account, &boxes, &error) < 0) {
		json_decref(names);
		imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
		return;
	}
	e = collect(boxes, &n, names);
	for (size_t p = 0; p < npat; p++) {
		char *fp = full_pattern(ref, pats[p]);

		for (size_t i = 0; i < n; i++) {
			struct buf line = BUF_INIT;
			const char *su;

			if (!match(fp, e[i].name) || ((lsub || sel_subscribed) && !e[i].subscribed))
				continue;
			buf_printf(&line, "* %s (", lsub ? "LSUB" : "LIST");
			if (e[i].box == NULL)
				buf_puts(&line, "\\Noselect ");
			if (!lsub)
				buf_puts(&line, e[i].children ? "\\HasChildren" : "\\HasNoChildren");
			su = e[i].box != NULL ? json_string_value(json_object_get(e[i].box, "special_use")) : NULL;
			if (!lsub && su != NULL && su[0] != '\0')
				buf_printf(&line, " %s", su);
			if (!lsub && (sel_subscribed || ret_subscribed) && e[i].subscribed)
				buf_puts(&line, " \\Subscribed");
			if (line.data[line.len - 1] == ' ')
				buf_truncate(&line, line.len - 1);
			buf_puts(&line, ") \"/\" ");
			imap_quote(&line, e[i].name);
			imap_line(s, "%s", line.data);
			buf_free(&line);
		}
		free(fp);
	}
	free(e);
	json_decref(boxes);
	json_decref(names);
	imap_ok(s, "%s completed", lsub ? "LSUB" : "LIST");
}

void imap_cmd_list(struct imap_session *s, const struct imap_command *cmd)
{
	list(s, cmd, 0);
}

void imap_cmd_lsub(struct imap_session *s, const struct imap_command *cmd)
{
	list(s, cmd, 1);
}
