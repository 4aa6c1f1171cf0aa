/* imap_list - the mailbox name tree (imap_list.h) that LIST and LSUB
 * (imap_cmd_list.c) and NOTIFY walk. Hierarchy delimiter '/'; "*" matches
 * anything, "%" anything but '/'; INBOX is case-insensitive. A name whose
 * parent does not exist makes the parent appear as an implied entry (box
 * NULL). */
#include "gateway/imap/imap_list.h"
#include "common/buf.h"

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
