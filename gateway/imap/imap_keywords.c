/* imap_keywords - the FLAGS a session has announced for its selected
 * mailbox (RFC 9051 7.3.5, RFC 3501 7.2.6): SELECT / EXAMINE announce the
 * system flags and every keyword a message carries; before any FETCH
 * response (solicited or not) carries a keyword the client has not been
 * told of, say "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" again
 * with it. Keywords are compared case-insensitively (RFC 9051 2.3.2). */
#include "gateway/imap/imap_keywords.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SYSTEM_FLAGS "\\Answered \\Flagged \\Deleted \\Seen \\Draft"

/* 1 when kw is among the announced keywords. */
static int announced(const struct imap_mbox *mb, const char *kw)
{
	json_t *v;
	size_t i;

	json_array_foreach(mb->keywords, i, v) {
		if (strcasecmp(json_string_value(v), kw) == 0)
			return 1;
	}
	return 0;
}

/* Adds the unannounced keywords of keyword set id: 1 when any was new. */
static int add_keywords(struct imap_mbox *mb, uint32_t id)
{
	struct imap_kwset *set;
	const char *p, *end;
	int added = 0;

	if (mb->keywords == NULL)
		mb->keywords = json_array();
	if (id >= mb->nkwsets || mb->kwsets[id].told)
		return 0;
	set = &mb->kwsets[id];
	set->told = 1;
	for (p = set->kw, end = set->kw + set->len; p < end;) {
		const char *sp = memchr(p, ' ', (size_t)(end - p));
		size_t len = sp != NULL ? (size_t)(sp - p) : (size_t)(end - p);
		char *kw = strndup(p, len);

		if (!announced(mb, kw)) {
			json_array_append_new(mb->keywords, json_string(kw));
			added = 1;
		}
		free(kw);
		p += len + 1;
	}
	return added;
}

/* "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" (read-only: none are
 * permanent; else \* too: clients may create keywords). */
static void send_flags(struct imap_session *s)
{
	struct imap_mbox *mb = s->mbox;
	struct buf kw = BUF_INIT;
	json_t *v;
	size_t i;

	json_array_foreach(mb->keywords, i, v)
		buf_printf(&kw, " %s", json_string_value(v));
	imap_line(s, "* FLAGS (" SYSTEM_FLAGS "%s)", kw.len ? kw.data : "");
	if (mb->readonly)
		imap_line(s, "* OK [PERMANENTFLAGS ()] Flags permitted");
	else
		imap_line(s, "* OK [PERMANENTFLAGS (" SYSTEM_FLAGS "%s \\*)] Flags permitted",
			  kw.len ? kw.data : "");
	buf_free(&kw);
}

void imap_keywords_select(struct imap_session *s)
{
	struct imap_mbox *mb = s->mbox;

	/* The sets of the snapshot's messages (right after the SELECT's
	 * sync, every set in the table is in use). */
	for (uint32_t i = 0; i < mb->nkwsets; i++)
		add_keywords(mb, i);
	if (mb->keywords == NULL)
		mb->keywords = json_array();
	send_flags(s);
}

void imap_keywords_check(struct imap_session *s, const struct imap_msg *m)
{
	if (s->mbox != NULL && add_keywords(s->mbox, m->kw))
		send_flags(s);
}
