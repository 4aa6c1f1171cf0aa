/* imap_section_fetch - BODY[section] octets (RFC 9051 6.4.5) from the
 * stored message (prefix + blob) and the blob's MIME summary.
 *
 * Part numbers: 1-based children of a multipart; part 1 of a message that
 * is not multipart is its body; below a message/rfc822 (or global) part,
 * numbers address the encapsulated message's parts. HEADER, HEADER.FIELDS
 * [.NOT] and TEXT after part numbers need a message/rfc822 part (else the
 * result is empty, return 1); MIME is the part's own header block.
 * Header subsets are the matching fields exactly as stored (folded), in
 * order, followed by the header's blank line when it has one (RFC 9051:
 * "the blank line is included in all header fetches, except in the case of
 * a message which has no body and no blank line"). The <partial> range is
 * the caller's to apply. */
#include "gateway/imap/imap_render_internal.h"

#include <string.h>
#include <strings.h>

/* Whether the part is a multipart with at least one child. */
bool imap_part_has_children(json_t *part)
{
	json_t *parts = json_object_get(part, "parts");

	return json_is_array(parts) && json_array_size(parts) > 0 &&
	       json_is_object(json_array_get(parts, 0));
}

/* The encapsulated message's top part, or NULL. */
json_t *imap_part_message(json_t *part)
{
	json_t *p = json_object_get(json_object_get(part, "message"), "part");

	return json_is_object(p) ? p : NULL;
}

/* Walks the part numbers (RFC 9051 6.4.5). `root` is true while `cur` is a
 * message's top part whose number has not been taken yet. */
int imap_section_find(json_t *summary, const unsigned *nums, unsigned depth, struct imap_part_ref *ref_r)
{
	json_t *cur = json_object_get(summary, "part"), *m;
	bool root = true;

	if (!json_is_object(cur))
		return 1;
	ref_r->top = true;
	for (unsigned i = 0; i < depth; i++) {
		if (!root && (m = imap_part_message(cur)) != NULL) {
			cur = m;
			root = true;
			ref_r->top = false;
		}
		if (imap_part_has_children(cur)) {
			cur = json_array_get(json_object_get(cur, "parts"), nums[i] - 1);
			if (nums[i] == 0 || !json_is_object(cur))
				return 1;
			ref_r->top = false;
		} else if (!root || nums[i] != 1) {
			return 1;
		}
		root = false;
	}
	ref_r->part = cur;
	return 0;
}

/* The absolute range of the part's "header" or "body" (see the header). */
int imap_part_range(json_t *part, bool top, const char *key, size_t msg_len, size_t prefix_len,
		    size_t *a_r, size_t *b_r)
{
	json_t *r = json_object_get(part, key);
	json_t *a = json_array_get(r, 0), *b = json_array_get(r, 1);
	json_int_t av, bv;

	if (!json_is_integer(a) || !json_is_integer(b) || prefix_len > msg_len)
		return -1;
	av = json_integer_value(a), bv = json_integer_value(b);
	if (av < 0 || bv < av || (uint64_t)bv > msg_len - prefix_len)
		return -1;
	*a_r = top && strcmp(key, "header") == 0 ? 0 : prefix_len + (size_t)av;
	*b_r = prefix_len + (size_t)bv;
	return 0;
}

/* Whether the field name n[0..len) is one of the section's (upper-cased). */
static bool field_listed(const struct imap_section *sec, const char *n, size_t len)
{
	for (size_t i = 0; i < sec->nfields; i++) {
		if (strlen(sec->fields[i]) == len && strncasecmp(sec->fields[i], n, len) == 0)
			return true;
	}
	return false;
}

/* The end of the line starting at p (after its LF, or end). */
static const char *line_end(const char *p, const char *end)
{
	const char *lf = memchr(p, '\n', (size_t)(end - p));

	return lf != NULL ? lf + 1 : end;
}

/* HEADER.FIELDS [.NOT]: the fields of h[0..len) whose names are (not)
 * listed, each with its continuation lines, then the blank line if any.
 * A line that is neither a field (no ':') nor a continuation is dropped. */
static void filter_header(const char *h, size_t len, const struct imap_section *sec, struct buf *out)
{
	const char *p = h, *end = h + len, *e;
	bool want = sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT, keep = false;

	for (; p < end; p = e) {
		e = line_end(p, end);
		if (*p == '\n' || (*p == '\r' && p + 1 < end && p[1] == '\n')) {
			buf_append(out, p, (size_t)(e - p));   /* the blank line */
			return;
		}
		if (*p != ' ' && *p != '\t') {
			const char *colon = memchr(p, ':', (size_t)(e - p)), *ne = colon;

			while (ne != NULL && ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
				ne--;
			keep = colon != NULL && ne > p && field_listed(sec, p, (size_t)(ne - p)) != want;
		}
		if (keep)
			buf_append(out, p, (size_t)(e - p));
	}
}

/* Appends msg[a..b). */
static void put_range(struct buf *out, const char *msg, size_t a, size_t b)
{
	buf_append(out, msg + a, b - a);
}

/* BODY[section] before <partial>: 0, 1 (no such part: empty), -1 (the
 * summary does not fit the message). */
int imap_section_fetch(const char *msg, size_t msg_len, size_t prefix_len, json_t *summary,
		       const struct imap_section *sec, struct buf *out)
{
	struct imap_part_ref ref;
	json_t *m;
	bool top;
	size_t a, b;

	if (sec->depth == 0 && sec->kind == IMAP_SECTION_ALL) {
		put_range(out, msg, 0, msg_len);   /* BODY[]: prefix and blob */
		return 0;
	}
	if (imap_section_find(summary, sec->part, sec->depth, &ref) != 0)
		return 1;
	if (sec->depth > 0 && (sec->kind == IMAP_SECTION_ALL || sec->kind == IMAP_SECTION_MIME)) {
		if (imap_part_range(ref.part, ref.top, sec->kind == IMAP_SECTION_MIME ? "header" : "body",
				    msg_len, prefix_len, &a, &b) < 0)
			return -1;
		put_range(out, msg, a, b);
		return 0;
	}
	/* HEADER, HEADER.FIELDS [.NOT], TEXT: of the message itself (depth 0)
	 * or of the message a message/rfc822 part encapsulates. */
	m = ref.part, top = ref.top;
	if (sec->depth > 0) {
		if ((m = imap_part_message(ref.part)) == NULL)
			return 1;
		top = false;
	}
	if (imap_part_range(m, top, sec->kind == IMAP_SECTION_TEXT ? "body" : "header",
			    msg_len, prefix_len, &a, &b) < 0)
		return -1;
	if (sec->kind == IMAP_SECTION_HEADER_FIELDS || sec->kind == IMAP_SECTION_HEADER_FIELDS_NOT)
		filter_header(msg + a, b - a, sec, out);
	else
		put_range(out, msg, a, b);
	return 0;
}
