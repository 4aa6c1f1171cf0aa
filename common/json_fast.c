/* json_fast - see json_fast.h */
#include "common/json_fast.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JF_STACK_INLINE 64
#define JF_NUM_INLINE 64

struct jf {
	const unsigned char *p, *start, *end;
	json_error_t *error;
	/* Decoded strings with escapes: the pending key at [0, key_len), then
	   the value string after it. */
	char *scratch;
	size_t scratch_len, scratch_cap;
	char scratch_inline[256];
};

static const uint64_t ONES = 0x0101010101010101ULL;
static const uint64_t HIGHS = 0x8080808080808080ULL;

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

/* Records the first error; text and code as json_error_t carries them. */
static void jf_fail(struct jf *j, enum json_error_code code, const char *msg)
{
	if (j->error == NULL)
		return;
	j->error->line = -1;
	j->error->column = -1;
	j->error->position = (int)(j->p - j->start);
	snprintf(j->error->source, sizeof j->error->source, "<buffer>");
	snprintf(j->error->text, sizeof j->error->text, "%s", msg);
	j->error->text[JSON_ERROR_TEXT_LENGTH - 1] = (char)code;
}

/* Appends n bytes to the scratch buffer; aborts on out of memory. */
static void scratch_put(struct jf *j, const void *src, size_t n)
{
	if (j->scratch_cap - j->scratch_len < n) {
		size_t cap = j->scratch_cap * 2;
		char *p;

		while (cap - j->scratch_len < n)
			cap *= 2;
		if (j->scratch == j->scratch_inline) {
			p = malloc(cap);
			if (p != NULL)
				memcpy(p, j->scratch, j->scratch_len);
		} else {
			p = realloc(j->scratch, cap);
		}
		if (p == NULL)
			abort();
		j->scratch = p;
		j->scratch_cap = cap;
	}
	memcpy(j->scratch + j->scratch_len, src, n);
	j->scratch_len += n;
}

/* The length (2-4) of the valid UTF-8 sequence at p, or 0 (RFC 3629 section 4). */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n, i;
	uint32_t cp;

	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) ||
	    (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000))
		return 0;
	return n;
}

/* The value of four hex digits at p, or -1. */
static int32_t hex4(const unsigned char *p)
{
	int32_t v = 0;
	int i;

	for (i = 0; i < 4; i++) {
		unsigned c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (int32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (int32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (int32_t)(c - 'A' + 10);
		else
			return -1;
	}
	return v;
}

/* Decodes the escape at j->p (just past the backslash) into the scratch. */
static int scan_escape(struct jf *j)
{
	unsigned char out[4];
	int32_t cp, lo;
	size_t n;

	if (j->p >= j->end) {
		jf_fail(j, json_error_premature_end_of_input, "premature end of input in an escape");
		return -1;
	}
	switch (*j->p) {
	case '"': case '\\': case '/': out[0] = *j->p; break;
	case 'b': out[0] = '\b'; break;
	case 'f': out[0] = '\f'; break;
	case 'n': out[0] = '\n'; break;
	case 'r': out[0] = '\r'; break;
	case 't': out[0] = '\t'; break;
	case 'u':
		if (j->end - j->p < 5 || (cp = hex4(j->p + 1)) < 0) {
			jf_fail(j, json_error_invalid_syntax, "invalid \\u escape");
			return -1;
		}
		j->p += 5;
		if (cp == 0) {
			jf_fail(j, json_error_null_character, "\\u0000 is not allowed");
			return -1;
		}
		if (cp >= 0xDC00 && cp <= 0xDFFF) {
			jf_fail(j, json_error_invalid_syntax, "lone low surrogate escape");
			return -1;
		}
		if (cp >= 0xD800 && cp <= 0xDBFF) {
			if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
			    (lo = hex4(j->p + 2)) < 0xDC00 || lo > 0xDFFF) {
				jf_fail(j, json_error_invalid_syntax, "high surrogate escape without a low one");
				return -1;
			}
			j->p += 6;
			cp = ((cp - 0xD800) << 10) + (lo - 0xDC00) + 0x10000;
		}
		if (cp < 0x80) {
			out[0] = (unsigned char)cp;
			n = 1;
		} else if (cp < 0x800) {
			out[0] = (unsigned char)(0xC0 | (cp >> 6));
			out[1] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 2;
		} else if (cp < 0x10000) {
			out[0] = (unsigned char)(0xE0 | (cp >> 12));
			out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			out[2] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 3;
		} else {
			out[0] = (unsigned char)(0xF0 | (cp >> 18));
			out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
			out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
			out[3] = (unsigned char)(0x80 | (cp & 0x3F));
			n = 4;
		}
		scratch_put(j, out, n);
		return 0;
	default:
		jf_fail(j, json_error_invalid_syntax, "invalid escape");
		return -1;
	}
	j->p++;
	scratch_put(j, out, 1);
	return 0;
}

/* Nonzero when the 8 bytes hold a '"', a '\\', a byte < 0x20 or >= 0x80
   (it may also flag a plain byte after one of those; never misses one). */
static inline uint64_t special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return ((w - ONES * 0x20) | (q - ONES) | (b - ONES) | w) & HIGHS;
}

/* Scans the string whose opening quote is at j->p. The result points into
   the input when it had no escape, else at scratch offset *scratch_off_r
   (the scratch may move until the caller uses it). */
static int scan_string(struct jf *j, const char **s_r, size_t *len_r, size_t *scratch_off_r)
{
	const unsigned char *p = ++j->p, *end = j->end, *run = p;
	size_t base = j->scratch_len;
	int escaped = 0;

	for (;;) {
		while (end - p >= 8) {
			uint64_t w;

			memcpy(&w, p, 8);
			if (special8(w))
				break;
			p += 8;
		}
		if (p >= end) {
			j->p = p;
			jf_fail(j, json_error_premature_end_of_input, "premature end of input in a string");
			return -1;
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			scratch_put(j, run, (size_t)(p - run));
			j->p = p + 1;
			if (scan_escape(j) < 0)
				return -1;
			p = run = j->p;
			escaped = 1;
		} else if (*p < 0x20) {
			j->p = p;
			jf_fail(j, json_error_invalid_syntax, "control character in a string");
			return -1;
		} else if (*p >= 0x80) {
			size_t n = utf8_seq(p, end);

			if (n == 0) {
				j->p = p;
				jf_fail(j, json_error_invalid_utf8, "invalid UTF-8 in a string");
				return -1;
			}
			p += n;
		} else {
			p++;
		}
	}
	j->p = p + 1;
	if (!escaped) {
		*s_r = (const char *)run;
		*len_r = (size_t)(p - run);
		*scratch_off_r = SIZE_MAX;
		return 0;
	}
	scratch_put(j, run, (size_t)(p - run));
	*s_r = NULL;
	*len_r = j->scratch_len - base;
	*scratch_off_r = base;
	return 0;
}

static void make_c_locale(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0)
		abort();
}

/* Converts the number text [s, e) as Jansson does: strtoll for integers
   (ERANGE rejected), strtod for reals (±HUGE_VAL with ERANGE rejected). */
static json_t *number_value(struct jf *j, const unsigned char *s, const unsigned char *e, int is_real,
			    size_t ndigits)
{
	char small[JF_NUM_INLINE], *text = small, *endp;
	size_t n = (size_t)(e - s);
	json_t *v = NULL;

	if (!is_real && ndigits <= 18) {
		json_int_t x = 0;
		const unsigned char *q = s + (*s == '-');

		while (q < e)
			x = x * 10 + (*q++ - '0');
		return json_integer(*s == '-' ? -x : x);
	}
	if (!is_real && ndigits > 19) {
		jf_fail(j, json_error_numeric_overflow, "integer out of range");
		return NULL;
	}
	if (n >= sizeof small && (text = malloc(n + 1)) == NULL)
		abort();
	memcpy(text, s, n);
	text[n] = '\0';
	errno = 0;
	if (!is_real) {
		long long x = strtoll(text, &endp, 10);

		if (errno == ERANGE)
			jf_fail(j, json_error_numeric_overflow, "integer out of range");
		else
			v = json_integer((json_int_t)x);
	} else {
		double d;

		pthread_once(&c_locale_once, make_c_locale);
		d = strtod_l(text, &endp, c_locale);
		if ((d == HUGE_VAL || d == -HUGE_VAL) && errno == ERANGE)
			jf_fail(j, json_error_numeric_overflow, "real number overflow");
		else
			v = json_real(d);
	}
	if (text != small)
		free(text);
	return v;
}

/* Scans a number at j->p (Jansson's grammar, see json_fast.h). */
static json_t *scan_number(struct jf *j)
{
	const unsigned char *s = j->p, *p = j->p, *end = j->end, *digits;
	size_t ndigits;
	int is_real = 0;

	if (*p == '-')
		p++;
	digits = p;
	if (p < end && *p == '0') {
		p++;
		if (p < end && *p >= '0' && *p <= '9')
			goto bad;
	} else if (p < end && *p >= '0' && *p <= '9') {
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	} else {
		goto bad;
	}
	ndigits = (size_t)(p - digits);
	if (p < end && *p == '.') {
		p++;
		if (p >= end || *p < '0' || *p > '9')
			goto bad;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		is_real = 1;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			goto bad;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
		is_real = 1;
	}
	j->p = p;
	return number_value(j, s, p, is_real, ndigits);
bad:
	j->p = p;
	jf_fail(j, json_error_invalid_syntax, "invalid number");
	return NULL;
}

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
		if (scan_string(j, &s, &len, &off) < 0)
			return NULL;
		v = json_stringn_nocheck(off == SIZE_MAX ? s : j->scratch + off, len);
		j->scratch_len = off == SIZE_MAX ? j->scratch_len : off;
		return v;
	case '-': case '0': case '1': case '2': case '3': case '4':
	case '5': case '6': case '7': case '8': case '9':
		v = scan_number(j);
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
	if (scan_string(j, key_r, len_r, off_r) < 0)
		return -1;
	if ((flags & JSON_REJECT_DUPLICATES) &&
	    json_object_getn(obj, *off_r == SIZE_MAX ? *key_r : j->scratch + *off_r, *len_r) != NULL) {
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
	size_t depth = 0, cap = JF_STACK_INLINE, key_len = 0, key_off = SIZE_MAX;
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
				if (json_object_setn_new_nocheck(top, key_off == SIZE_MAX ? key : j->scratch + key_off,
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
