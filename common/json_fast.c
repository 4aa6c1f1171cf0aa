/* json_fast - see json_fast.h */
#include "common/json_fast.h"
#include "common/json_fast_private.h"

#include <stdlib.h>
#include <string.h>

#define JF_STACK_INLINE 64

/* Matches true, false or null at j->p. */
static json_t *scan_word(struct jf *j)
{
	size_t left = (size_t)(j->end - j->p);

	if (left >= 4 && memcmp(j->p, "true", 4) == 0) {
		j->p += 4;
		return json_true();
	}
	if (left >= 5 && memcmp(j->p, "false", 5) == 0) {
		j->p += 5;
		return json_false();
	}
	if (left >= 4 && memcmp(j->p, "null", 4) == 0) {
		j->p += 4;
		return json_null();
	}
	jf_fail(j, json_error_invalid_syntax, "invalid token");
	return NULL;
}

static inline void skip_ws(struct jf *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t'))
		j->p++;
}

/* A scalar or an opened container at j->p (after whitespace), or NULL. */
static json_t *scan_value(struct jf *j)
{
	json_t *v;
	const char *s;
	size_t len, off;

	if (j->p >= j->end) {
		jf_fail(j, json_error_premature_end_of_input, "premature end of input");
		return NULL;
	}
	switch (*j->p) {
	case '{':
		j->p++;
		return json_object();
	case '[':
		j->p++;
		return json_array();
	case '"':
		if (jf_scan_string(j, &s, &len, &off) < 0)
			return NULL;
		v = json_stringn_nocheck(off == JF_IN_INPUT ? s : j->scratch + off, len);
		j->scratch_len = off == JF_IN_INPUT ? j->scratch_len : off;
		return v;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		v = jf_scan_number(j);
		break;
	case 't': case 'f': case 'n':
		v = scan_word(j);
		break;
	default:
		jf_fail(j, json_error_invalid_syntax, "invalid token");
		return NULL;
	}
	/* Jansson's stream loses a NUL byte it pushes back after a number or
	   a word, so that NUL is skipped (load.c stream_unget). */
	if (v != NULL && j->p < j->end && *j->p == '\0')
		j->p++;
	return v;
}

/* Reads the key at j->p and the ':' after it. */
static int scan_key(struct jf *j, json_t *obj, size_t flags, const char **key_r, size_t *len_r,
		    size_t *off_r)
{
	skip_ws(j);
	if (j->p >= j->end || *j->p != '"') {
		jf_fail(j, json_error_invalid_syntax, "string or '}' expected");
		return -1;
	}
	if (jf_scan_string(j, key_r, len_r, off_r) < 0)
		return -1;
	if ((flags & JSON_REJECT_DUPLICATES) &&
	    json_object_getn(obj, *off_r == JF_IN_INPUT ? *key_r : j->scratch + *off_r, *len_r) != NULL) {
		jf_fail(j, json_error_duplicate_key, "duplicate object key");
		return -1;
	}
	skip_ws(j);
	if (j->p >= j->end || *j->p != ':') {
		jf_fail(j, json_error_invalid_syntax, "':' expected");
		return -1;
	}
	j->p++;
	return 0;
}

/* The parse: an explicit stack of the open containers, each already
   inserted into its parent (at the place Jansson would insert it after
   parsing it: nothing else enters the parent meanwhile), so an error only
   has to free the root. */
static json_t *parse(struct jf *j, size_t flags)
{
	json_t *stack_inline[JF_STACK_INLINE], **stack = stack_inline, *root = NULL, *v, *top;
	size_t depth = 0, cap = JF_STACK_INLINE, key_len = 0, key_off = JF_IN_INPUT;
	const char *key = NULL;

	skip_ws(j);
	if (j->p >= j->end || (*j->p != '{' && *j->p != '[')) {
		jf_fail(j, json_error_invalid_syntax, "'[' or '{' expected");
		return NULL;
	}
	for (;;) {
		/* A value at nesting level depth + 1 (Jansson counts scalars too). */
		skip_ws(j);
		if (depth + 1 > JSON_PARSER_MAX_DEPTH) {
			jf_fail(j, json_error_stack_overflow, "maximum nesting depth reached");
			goto fail;
		}
		if ((v = scan_value(j)) == NULL)
			goto fail;
		if (depth > 0) {
			top = stack[depth - 1];
			if (json_is_array(top)) {
				if (json_array_append_new(top, v) < 0)
					goto fail;
			} else {
				if (json_object_setn_new_nocheck(top, key_off == JF_IN_INPUT ? key : j->scratch + key_off,
								 key_len, v) < 0)
					goto fail;
				j->scratch_len = 0;
			}
		} else {
			root = v;
		}
		if (json_is_object(v) || json_is_array(v)) {
			if (depth == cap) {
				json_t **n = malloc(2 * cap * sizeof *n);

				if (n == NULL)
					abort();
				memcpy(n, stack, depth * sizeof *n);
				if (stack != stack_inline)
					free(stack);
				stack = n;
				cap *= 2;
			}
			stack[depth++] = v;
			skip_ws(j);
			if (j->p < j->end && *j->p == (json_is_object(v) ? '}' : ']')) {
				j->p++;
				depth--;
			} else if (json_is_object(v)) {
				if (scan_key(j, v, flags, &key, &key_len, &key_off) < 0)
					goto fail;
				continue;
			} else {
				continue;
			}
		}
		/* After a complete value: ',' or the closers of its containers. */
		for (;;) {
			if (depth == 0)
				goto done;
			top = stack[depth - 1];
			skip_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				if (json_is_object(top) &&
				    scan_key(j, top, flags, &key, &key_len, &key_off) < 0)
					goto fail;
				break;
			}
			if (j->p < j->end && *j->p == (json_is_object(top) ? '}' : ']')) {
				j->p++;
				depth--;
				continue;
			}
			jf_fail(j, j->p < j->end ? json_error_invalid_syntax : json_error_premature_end_of_input,
				json_is_object(top) ? "'}' expected" : "']' expected");
			goto fail;
		}
	}
done:
	skip_ws(j);
	if (j->p != j->end) {
		jf_fail(j, json_error_end_of_input_expected, "end of file expected");
		goto fail;
	}
	if (stack != stack_inline)
		free(stack);
	return root;
fail:
	if (stack != stack_inline)
		free(stack);
	json_decref(root);
	return NULL;
}

json_t *evm_json_loadb(const char *buf, size_t len, size_t flags, json_error_t *error)
{
	struct jf j;
	json_t *root;

	j.start = j.p = (const unsigned char *)buf;
	j.end = j.p + (buf != NULL ? len : 0);
	j.error = error;
	j.scratch = j.scratch_inline;
	j.scratch_len = 0;
	j.scratch_cap = sizeof j.scratch_inline;
	if (buf == NULL) {
		jf_fail(&j, json_error_invalid_argument, "wrong arguments");
		return NULL;
	}
	if ((flags & ~(size_t)JSON_REJECT_DUPLICATES) != 0) {
		jf_fail(&j, json_error_invalid_argument, "unsupported flags");
		return NULL;
	}
	root = parse(&j, flags);
	if (j.scratch != j.scratch_inline)
		free(j.scratch);
	if (root != NULL && error != NULL) {
		error->text[0] = '\0';
		error->position = (int)len;
	}
	return root;
}
