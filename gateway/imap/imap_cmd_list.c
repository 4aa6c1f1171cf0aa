/* imap_cmd_list - the mailbox name tree (imap_list.h) and LSUB (RFC 3501
 * 6.3.9); LIST with its RFC 5258 options is in imap_cmd_listext.c.
 * Hierarchy delimiter '/'; "*" matches anything, "%" anything but '/';
 * INBOX is case-insensitive. A name whose parent does not exist makes the
 * parent appear as an implied entry (box NULL). */
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_list.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 9051 6.3.9 wildcard match. */
int imap_list_match(const char *pat, const char *name)
{
	for (; *pat != '\0'; pat++, name++) {
		if (*pat == '*' || *pat == '%') {
			for (;;) {
				if (imap_list_match(pat + 1, name))
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

/* Sort by name. */
static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct imap_list_entry *)a)->name, ((const struct imap_list_entry *)b)->name);
}

/* Every mailbox plus implied parents, sorted, with children marked. */
struct imap_list_entry *imap_list_collect(json_t *boxes, size_t *n_r, json_t *names)
{
	size_t n = 0, norig, i;
	struct imap_list_entry *e = xcalloc(json_array_size(boxes) + 1, sizeof *e);
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
char *imap_list_pattern(const char *ref, const char *pat)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, ref);
	buf_puts(&b, pat);
	if (strncasecmp(b.data, "INBOX", 5) == 0 && (b.data[5] == '\0' || b.data[5] == '/'))
		memcpy(b.data, "INBOX", 5);
	return buf_steal(&b);
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
