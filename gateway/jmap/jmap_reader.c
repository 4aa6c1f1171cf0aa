/* jmap_reader - the push half of jmap_request.h: collects a request body
 * piece by piece, refusing it as soon as it crosses maxSizeRequest or the
 * nesting limit, then hands the whole to jmap_request.c. */
#include "gateway/jmap/jmap_request.h"
#include "gateway/jmap/jmap_private.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>

struct jmap_reader {
	const struct jmap_settings *settings;
	struct buf body;
	uint32_t depth;            /* open [ and { outside strings */
	int in_string;
	int escaped;               /* the previous octet was a backslash in a string */
	int failed;
};

struct jmap_reader *jmap_reader_new(const struct jmap_settings *s)
{
	struct jmap_reader *r = xcalloc(1, sizeof *r);

	r->settings = s;
	return r;
}

void jmap_reader_free(struct jmap_reader **r)
{
	if (*r == NULL)
		return;
	buf_free(&(*r)->body);
	free(*r);
	*r = NULL;
}

/* Tracks the nesting of one octet; -1 when it opens one level too many.
 * Brackets inside strings do not count; in valid JSON the rest are exactly
 * its structure, and invalid JSON fails the parse anyway. */
static int scan(struct jmap_reader *r, unsigned char c)
{
	if (r->in_string) {
		if (r->escaped)
			r->escaped = 0;
		else if (c == '\\')
			r->escaped = 1;
		else if (c == '"')
			r->in_string = 0;
		return 0;
	}
	if (c == '"') {
		r->in_string = 1;
	} else if (c == '[' || c == '{') {
		if (++r->depth > r->settings->max_depth)
			return -1;
	} else if ((c == ']' || c == '}') && r->depth > 0) {
		r->depth--;
	}
	return 0;
}

int jmap_reader_feed(struct jmap_reader *r, const void *data, size_t len, json_t **problem_r)
{
	const unsigned char *p = data;
	char detail[96];

	if (r->failed) {
		*problem_r = jmap_problem(JMAP_PROBLEM_NOT_JSON, NULL, "the request was already refused");
		return -1;
	}
	if (len > r->settings->max_size_request - r->body.len) {
		r->failed = 1;
		snprintf(detail, sizeof detail, "the request is larger than %llu octets",
			 (unsigned long long)r->settings->max_size_request);
		*problem_r = jmap_problem(JMAP_PROBLEM_LIMIT, "maxSizeRequest", detail);
		return -1;
	}
	for (size_t i = 0; i < len; i++) {
		if (scan(r, p[i]) < 0) {
			r->failed = 1;
			/* RFC 8259 9: a parser may limit the depth of nesting. */
			snprintf(detail, sizeof detail, "the request is nested deeper than %u levels",
				 r->settings->max_depth);
			*problem_r = jmap_problem(JMAP_PROBLEM_NOT_JSON, NULL, detail);
			return -1;
		}
	}
	buf_append(&r->body, data, len);
	return 0;
}

int jmap_reader_finish(struct jmap_reader *r, const json_t *known_caps, struct jmap_request **req_r,
		       json_t **problem_r)
{
	json_error_t jerr;
	json_t *root;
	char detail[200];

	if (r->failed) {
		*problem_r = jmap_problem(JMAP_PROBLEM_NOT_JSON, NULL, "the request was already refused");
		return -1;
	}
	r->failed = 1;
	/* I-JSON (RFC 7493 2): no duplicate names; Jansson also rejects invalid
	 * UTF-8, lone surrogates and (without JSON_ALLOW_NUL) \u0000. */
	root = json_loadb(r->body.data != NULL ? r->body.data : "", r->body.len,
			  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	buf_free(&r->body);
	if (root == NULL) {
		snprintf(detail, sizeof detail, "not I-JSON: %s at offset %d", jerr.text, jerr.position);
		*problem_r = jmap_problem(JMAP_PROBLEM_NOT_JSON, NULL, detail);
		return -1;
	}
	return jmap_request_check(r->settings, known_caps, root, req_r, problem_r);
}

int jmap_request_parse(const struct jmap_settings *s, const json_t *known_caps, const void *body,
		       size_t len, struct jmap_request **req_r, json_t **problem_r)
{
	struct jmap_reader *r = jmap_reader_new(s);
	int ret = jmap_reader_feed(r, body, len, problem_r);

	if (ret == 0)
		ret = jmap_reader_finish(r, known_caps, req_r, problem_r);
	jmap_reader_free(&r);
	return ret;
}
