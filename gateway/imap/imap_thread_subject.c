/* imap_thread_subject - the per-message keys SORT and THREAD share: the
 * sent date (RFC 5256 2.2), the casemapped base subject (RFC 5256 2.1,
 * computed by the MIME parser into thread.base_subject) and whether a
 * subject marks a reply or forward (RFC 5256 3.2 step 5). */
#include "gateway/fts/fts_casemap.h"
#include "gateway/imap/imap_thread.h"
#include "common/mime.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* RFC 5256 2.2 sent date: the Date header (in UTC), else the INTERNALDATE. */
int64_t imap_sent_date(json_t *rec, json_t *summary)
{
	json_t *d = json_object_get(json_object_get(summary, "headers"), "date");

	return json_is_integer(d) ? json_integer_value(d) : json_integer_value(json_object_get(rec, "internal_date"));
}

/* The base subject (RFC 5256 2.1) of a summary, casemapped. */
char *imap_base_subject_key(json_t *summary)
{
	const char *b = json_string_value(json_object_get(json_object_get(summary, "thread"), "base_subject"));
	char *tmp = NULL, *out;

	if (b == NULL) {
		tmp = mime_base_subject(json_string_value(
			json_object_get(json_object_get(summary, "headers"), "subject")));
		b = tmp;
	}
	out = fts_casemap(b, strlen(b));
	free(tmp);
	return out;
}

/* WSP (RFC 5234). */
static bool wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP at s[*i]; advances. */
static bool skip_blob(const char *s, size_t *i)
{
	size_t j = *i;

	if (s[j] != '[')
		return false;
	for (j++; s[j] != '\0' && s[j] != ']' && s[j] != '['; j++)
		;
	if (s[j] != ']')
		return false;
	for (j++; wsp(s[j]); j++)
		;
	*i = j;
	return true;
}

/* RFC 5256 2.1 steps 2, 3 and 6 detect a reply or forward. */
bool imap_subject_is_refwd(const char *s)
{
	size_t i = 0, len;

	if (s == NULL)
		return false;
	len = strlen(s);
	while (len > 0 && wsp(s[len - 1]))
		len--;
	if (len >= 5 && strncasecmp(s + len - 5, "(fwd)", 5) == 0)   /* subj-trailer */
		return true;
	for (;;) {   /* subj-leader: *subj-blob subj-refwd, or WSP */
		size_t j;

		while (wsp(s[i]))
			i++;
		if (strncasecmp(s + i, "[fwd:", 5) == 0)   /* subj-fwd-hdr */
			return true;
		j = i;
		while (skip_blob(s, &j))
			;
		if (strncasecmp(s + j, "re", 2) == 0)
			j += 2;
		else if (strncasecmp(s + j, "fwd", 3) == 0)
			j += 3;
		else if (strncasecmp(s + j, "fw", 2) == 0)
			j += 2;
		else if (j > i) {   /* step 4: a leading blob alone is removed too */
			i = j;
			continue;
		} else {
			return false;
		}
		while (wsp(s[j]))
			j++;
		(void)skip_blob(s, &j);
		return s[j] == ':';
	}
}
