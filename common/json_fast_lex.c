/* json_fast_lex - strings and numbers for json_fast: strings scanned
 * eight bytes at a time, UTF-8 checked where a byte >= 0x80 appears,
 * escapes decoded into the scratch buffer; numbers converted as Jansson
 * 2.14 does (see json_fast.h). */
#include "common/json_fast_private.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JF_NUM_INLINE 64

static const uint64_t ONES = 0x0101010101010101ULL;
static const uint64_t HIGHS = 0x8080808080808080ULL;

static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;
static locale_t c_locale;

/* Records the error: text, code and byte position, as json_error_t carries them. */
void jf_fail(struct jf *j, enum json_error_code code, const char *msg)
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
int jf_scan_string(struct jf *j, const char **s_r, size_t *len_r, size_t *scratch_off_r)
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
		*scratch_off_r = JF_IN_INPUT;
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

/* Past one or more digits at p; NULL when p holds no digit (a fraction
 * or an exponent without digits is not a number). */
static const unsigned char *past_digits(const unsigned char *p, const unsigned char *end)
{
	if (p >= end || *p < '0' || *p > '9')
		return NULL;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p;
}

/* Scans a number at j->p (Jansson's grammar, see json_fast.h). */
json_t *jf_scan_number(struct jf *j)
{
	const unsigned char *s = j->p, *p = j->p, *end = j->end, *digits, *next;
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
		if ((next = past_digits(p + 1, end)) == NULL) {
			p++;
			goto bad;
		}
		p = next;
		is_real = 1;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if ((next = past_digits(p, end)) == NULL)
			goto bad;
		p = next;
		is_real = 1;
	}
	j->p = p;
	return number_value(j, s, p, is_real, ndigits);
bad:
	j->p = p;
	jf_fail(j, json_error_invalid_syntax, "invalid number");
	return NULL;
}
