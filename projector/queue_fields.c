/* queue_fields - strict validation of queue event fields (see
 * queue_internal.h): every malformed value is an "invalid" rejection, the
 * same on every node. */
#include "projector/queue_internal.h"
#include "common/address.h"
#include "common/ids.h"

#include <string.h>

/* "where: member: what" as the rejection reason. */
static void reject(struct apply_ctx *ctx, const char *where, const char *member, const char *what)
{
	apply_reject(ctx, "invalid", "%s%s%s: %s", where ? where : "", where ? "." : "", member, what);
}

/* The event's "id": 32 lower-case hex digits. */
const char *queue_field_id(struct apply_ctx *ctx)
{
	const char *id = queue_field_str(ctx, ctx->ev->data, NULL, "id", QUEUE_ID_LEN);

	if (id != NULL && !evm_id_valid(id)) {
		reject(ctx, NULL, "id", "not 32 lower-case hex digits");
		return NULL;
	}
	return id;
}

/* A string member of obj (the event data when where is NULL), no NUL, at
 * most max octets. */
const char *queue_field_str(struct apply_ctx *ctx, json_t *obj, const char *where,
			    const char *member, size_t max)
{
	json_t *v = json_object_get(obj, member);
	const char *s;

	if (!json_is_string(v)) {
		reject(ctx, where, member, "missing or not a string");
		return NULL;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlen(s) > max) {
		reject(ctx, where, member, "too long or contains NUL");
		return NULL;
	}
	return s;
}

/* A boolean member. */
int queue_field_bool(struct apply_ctx *ctx, json_t *obj, const char *where, const char *member,
		     int *val_r)
{
	json_t *v = json_object_get(obj, member);

	if (!json_is_boolean(v)) {
		reject(ctx, where, member, "missing or not a boolean");
		return -1;
	}
	*val_r = json_is_true(v);
	return 0;
}

/* A time member: an integer in 0..QUEUE_TIME_MAX. */
int queue_field_time(struct apply_ctx *ctx, json_t *obj, const char *where, const char *member,
		     int64_t *val_r)
{
	json_t *v = json_object_get(obj, member);

	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > QUEUE_TIME_MAX) {
		reject(ctx, where, member, "missing or not a time in ms");
		return -1;
	}
	*val_r = json_integer_value(v);
	return 0;
}

json_t *queue_field_array(struct apply_ctx *ctx, const char *member, size_t max, int min_one)
{
	json_t *v = json_object_get(ctx->ev->data, member);

	if (!json_is_array(v)) {
		reject(ctx, NULL, member, "missing or not an array");
		return NULL;
	}
	if (json_array_size(v) > max || (min_one && json_array_size(v) == 0)) {
		apply_reject(ctx, "invalid", "%s: %s 1 to %zu elements", member,
			     min_one ? "needs" : "at most", max);
		return NULL;
	}
	return v;
}

/* RFC 5322 3.2.3 atext, plus UTF-8 octets when allowed (RFC 6531 3.3). */
static int atext(unsigned char c, int utf8_ok)
{
	if (c >= 0x80)
		return utf8_ok;
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* Local-part = Dot-string / Quoted-string (RFC 5321 4.1.2). */
static int local_part_valid(const unsigned char *p, size_t len, int utf8_ok)
{
	if (len == 0 || len > EVM_LOCAL_MAX)
		return 0;
	if (p[0] == '"') {
		if (len < 2 || p[len - 1] != '"')
			return 0;
		for (size_t i = 1; i < len - 1; i++) {
			if (p[i] == '\\') {
				if (++i == len - 1 || p[i] < 0x20 || p[i] == 0x7f)
					return 0;
			} else if (p[i] == '"' || p[i] < 0x20 || p[i] == 0x7f || (p[i] >= 0x80 && !utf8_ok)) {
				return 0;
			}
		}
		return 1;
	}
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '.') {
			if (i == 0 || i == len - 1 || p[i - 1] == '.')
				return 0;
		} else if (!atext(p[i], utf8_ok)) {
			return 0;
		}
	}
	return 1;
}

/* Domain (labels of letters, digits, '-' and, with UTF-8, U-label octets)
 * or an address-literal in brackets (RFC 5321 4.1.3). */
static int domain_valid(const unsigned char *p, size_t len, int utf8_ok)
{
	size_t label = 0;

	if (len == 0 || len > 255)
		return 0;
	if (p[0] == '[') {
		if (len < 3 || p[len - 1] != ']')
			return 0;
		for (size_t i = 1; i < len - 1; i++) {
			if (p[i] < 0x21 || p[i] > 0x7e || p[i] == '[' || p[i] == ']' || p[i] == '\\')
				return 0;
		}
		return 1;
	}
	for (size_t i = 0; i <= len; i++) {
		if (i == len || p[i] == '.') {
			if (label == 0 || label > 63 || p[i - 1] == '-' || p[i - label] == '-')
				return 0;
			label = 0;
		} else if ((p[i] >= 0x80 && utf8_ok) || (p[i] >= 'a' && p[i] <= 'z') ||
			   (p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= '0' && p[i] <= '9') || p[i] == '-') {
			label++;
		} else {
			return 0;
		}
	}
	return 1;
}

const char *queue_field_addr(struct apply_ctx *ctx, json_t *obj, const char *where,
			     const char *member, int empty_ok, int utf8_ok)
{
	const char *s = queue_field_str(ctx, obj, where, member, QUEUE_ADDR_MAX);
	const char *at;

	if (s == NULL || (s[0] == '\0' && empty_ok))
		return s;
	at = strrchr(s, '@');
	if (at == NULL || !local_part_valid((const unsigned char *)s, (size_t)(at - s), utf8_ok) ||
	    !domain_valid((const unsigned char *)at + 1, strlen(at + 1), utf8_ok)) {
		reject(ctx, where, member, utf8_ok ? "not an address" : "not an address (or UTF-8 without smtputf8)");
		return NULL;
	}
	return s;
}

/* The length of the word at s (up to ',' or the end). */
static size_t word_len(const char *s)
{
	const char *e = strchr(s, ',');

	return e ? (size_t)(e - s) : strlen(s);
}

int queue_notify_has(const char *notify, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = notify; *p != '\0';) {
		size_t n = word_len(p);
		if (n == wl && memcmp(p, word, n) == 0)
			return 1;
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int queue_notify_valid(const char *s)
{
	static const char *const words[] = { "SUCCESS", "FAILURE", "DELAY" };
	unsigned seen = 0;

	if (s[0] == '\0' || strcmp(s, "NEVER") == 0)
		return 1;
	for (const char *p = s;;) {
		size_t n = word_len(p);
		int found = -1;
		for (int w = 0; w < 3; w++) {
			if (n == strlen(words[w]) && memcmp(p, words[w], n) == 0)
				found = w;
		}
		if (found < 0 || (seen & (1u << found)) != 0)
			return 0;
		seen |= 1u << found;
		p += n;
		if (*p == '\0')
			return 1;
		p++;  /* ',' */
	}
}

/* 1 to max decimal digits at *p, advancing it. */
static int digits(const char **p, int max)
{
	int n = 0;

	while (**p >= '0' && **p <= '9' && n <= max) {
		(*p)++;
		n++;
	}
	return n >= 1 && n <= max;
}

int queue_enhanced_valid(const char *s)
{
	if (s[0] == '\0')
		return 1;
	if ((s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.')
		return 0;
	s += 2;
	if (!digits(&s, 3) || *s++ != '.' || !digits(&s, 3))
		return 0;
	return *s == '\0';
}
