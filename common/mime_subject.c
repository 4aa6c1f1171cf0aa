/* mime_subject - RFC 5256 2.1 base subject, for threading and sorting. */
#include "common/mime_internal.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct subj {
	const char *s;
	size_t start, end;
};

/* Length of a subj-blob ("[" *BLOBCHAR "]" *WSP) at i, or 0. BLOBCHAR is
 * any 7-bit CHAR but '[' and ']'. */
static size_t blob_len(const struct subj *b, size_t i)
{
	size_t j;

	if (i >= b->end || b->s[i] != '[')
		return 0;
	for (j = i + 1; j < b->end && b->s[j] != ']'; j++) {
		unsigned char c = (unsigned char)b->s[j];

		if (c == '[' || c == 0 || c >= 0x80)
			return 0;
	}
	if (j >= b->end)
		return 0;
	for (j++; j < b->end && b->s[j] == ' '; j++)
		;
	return j - i;
}

/* Case-insensitive prefix test at i. */
static bool has_prefix(const struct subj *b, size_t i, const char *p)
{
	size_t n = strlen(p);

	return b->end - i >= n && strncasecmp(b->s + i, p, n) == 0;
}

/* Length of subj-refwd (("re" / ("fw" ["d"])) *WSP [subj-blob] ":") at i. */
static size_t refwd_len(const struct subj *b, size_t i)
{
	size_t j = i;

	if (has_prefix(b, j, "re"))
		j += 2;
	else if (has_prefix(b, j, "fwd"))
		j += 3;
	else if (has_prefix(b, j, "fw"))
		j += 2;
	else
		return 0;
	while (j < b->end && b->s[j] == ' ')
		j++;
	j += blob_len(b, j);
	return j < b->end && b->s[j] == ':' ? j + 1 - i : 0;
}

/* Step 2: removes trailing "(fwd)" and whitespace (subj-trailer). */
static void strip_trailers(struct subj *b)
{
	for (;;) {
		if (b->end > b->start && b->s[b->end - 1] == ' ')
			b->end--;
		else if (b->end - b->start >= 5 && strncasecmp(b->s + b->end - 5, "(fwd)", 5) == 0)
			b->end -= 5;
		else
			return;
	}
}

/* Steps 3-5: removes subj-leaders and leading subj-blobs until none match.
 * no_leader_until remembers where the last failed leader match of a run
 * of blobs ended, so a subject of many blobs stays linear. */
static void strip_leaders(struct subj *b)
{
	size_t no_leader_until = 0;
	bool changed = true;

	while (changed) {
		size_t j, n;

		changed = false;
		if (b->start < b->end && b->s[b->start] == ' ') {
			b->start++;
			changed = true;
			continue;
		}
		if (b->start >= no_leader_until) {
			for (j = b->start; (n = blob_len(b, j)) > 0; j += n)
				;
			if ((n = refwd_len(b, j)) > 0) {
				b->start = j + n;
				changed = true;
				continue;
			}
			no_leader_until = j;
		}
		n = blob_len(b, b->start);
		if (n > 0 && b->start + n < b->end) {   /* leaves a non-empty base */
			b->start += n;
			changed = true;
		}
	}
}

/* RFC 5256 2.1: the base subject of an already decoded subject. */
char *mime_base_subject(const char *subject)
{
	struct buf norm = BUF_INIT;
	struct subj b;

	for (const char *p = subject == NULL ? "" : subject; *p != '\0'; p++) {
		char c = *p == '\t' || *p == '\r' || *p == '\n' ? ' ' : *p;

		if (c == ' ' && norm.len > 0 && norm.data[norm.len - 1] == ' ')
			continue;   /* step 1: runs of whitespace -> one space */
		buf_append(&norm, &c, 1);
	}
	buf_append(&norm, "", 0);   /* NUL-terminated even when empty */
	b.s = norm.data;
	b.start = 0;
	b.end = norm.len;
	for (;;) {
		strip_trailers(&b);
		strip_leaders(&b);
		if (has_prefix(&b, b.start, "[fwd:") && b.end > b.start + 5 &&
		    b.s[b.end - 1] == ']') {   /* step 6 */
			b.start += 5;
			b.end--;
			continue;
		}
		break;
	}
	{
		char *out = xstrndup(b.s + b.start, b.end - b.start);

		buf_free(&norm);
		return out;
	}
}
