/* mail_util - keys, stored records and field validation for the mail
 * appliers (see mail_internal.h and mail_keys.h). */
#include "projector/mail_internal.h"
#include "common/record_json.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Runs without '%' or '/' are appended whole: keys are built per write,
 * and a byte at a time this was 4 % of a mail replay's instructions. */
void mail_key_escape(struct buf *k, const char *s)
{
	for (;;) {
		size_t run = strcspn(s, "%/");

		buf_append(k, s, run);
		s += run;
		if (*s == '\0')
			return;
		buf_puts(k, *s == '%' ? "%25" : "%2F");
		s++;
	}
}

void mail_key_account(struct buf *k, const char *account)
{
	buf_truncate(k, 0);
	buf_puts(k, KEY_MAIL);
	mail_key_escape(k, account);
	buf_puts(k, "/");
}

void mail_key(struct buf *k, const char *account, const char *kind, const char *a)
{
	mail_key_account(k, account);
	buf_puts(k, kind);
	if (a != NULL)
		buf_puts(k, a);
}

void mail_key_uid(struct buf *k, const char *account, const char *kind, const char *mailbox,
		  uint32_t uid)
{
	mail_key(k, account, kind, mailbox);
	buf_puts(k, "/");
	if (uid > 0)
		buf_printf(k, "%010" PRIu32, uid);
}

void blob_key(struct buf *k, const char *blob_id, int64_t index)
{
	buf_truncate(k, 0);
	buf_puts(k, KEY_BLOB);
	buf_puts(k, blob_id);
	buf_puts(k, "/");
	if (index >= 0)
		buf_printf(k, "%06" PRId64, index);
}

void blob_meta_key(struct buf *k, const char *blob_id)
{
	buf_truncate(k, 0);
	buf_puts(k, KEY_BLOBMETA);
	buf_puts(k, blob_id);
}

int mail_batch_get_json(struct view_batch *b, const struct buf *key, json_t **obj_r,
			const char **error_r)
{
	char *val = NULL;
	size_t vlen = 0;
	json_t *obj;
	int r;

	*obj_r = NULL;
	r = view_batch_get(b, key->data, key->len, &val, &vlen, error_r);
	if (r <= 0)
		return r;
	obj = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		log_error("mail: record %s in the view is not a JSON object", key->data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	*obj_r = obj;
	return 1;
}

/* Parses a stored decimal; -1 when it is not one. */
static int parse_int(const char *s, size_t len, int64_t *val_r)
{
	int64_t v = 0;

	if (len == 0 || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*val_r = v;
	return 0;
}

int mail_batch_get_int(struct view_batch *b, const struct buf *key, int64_t *val_r,
		       const char **error_r)
{
	char *val = NULL;
	size_t vlen = 0;
	int r = view_batch_get(b, key->data, key->len, &val, &vlen, error_r);

	if (r <= 0)
		return r;
	r = parse_int(val, vlen, val_r);
	free(val);
	if (r < 0) {
		log_error("mail: record %s in the view is not a number", key->data);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	return 1;
}

/* The bytes of json_dumps(obj, MAIL_JSON_FLAGS), see record_json.h. */
void mail_batch_put_json(struct view_batch *b, const struct buf *key, json_t *obj)
{
	struct buf s = BUF_INIT;

	buf_reserve(&s, 256);   /* most records: no regrowth */
	record_json_append(&s, obj);
	view_batch_put(b, key->data, key->len, s.data, s.len);
	buf_free(&s);
}

void mail_batch_put_int(struct view_batch *b, const struct buf *key, int64_t val)
{
	char s[24];
	int n = snprintf(s, sizeof s, "%" PRId64, val);

	view_batch_put(b, key->data, key->len, s, (size_t)n);
}

void mail_batch_put_str(struct view_batch *b, const struct buf *key, const char *s)
{
	view_batch_put(b, key->data, key->len, s, strlen(s));
}

void mail_batch_delete(struct view_batch *b, const struct buf *key)
{
	view_batch_delete(b, key->data, key->len);
}

struct names_scan {
	json_t *names;
	size_t plen;
};

static int names_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct names_scan *s = vctx;

	json_array_append_new(s->names, json_stringn(key + s->plen, klen - s->plen));
	return 0;
}

int mail_batch_names(struct view_batch *b, const struct buf *prefix, json_t *names,
		     const char **error_r)
{
	struct names_scan s = { names, prefix->len };

	return view_batch_scan(b, prefix->data, prefix->len, names_cb, &s, error_r);
}

int mail_rec_int(json_t *obj, const char *member, int64_t *val_r, const char **error_r)
{
	json_t *v = json_object_get(obj, member);

	if (!json_is_integer(v)) {
		log_error("mail: stored record lacks integer member %s", member);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	*val_r = json_integer_value(v);
	return 0;
}

const char *mail_rec_str(json_t *obj, const char *member, const char **error_r)
{
	const char *s = json_string_value(json_object_get(obj, member));

	if (s == NULL) {
		log_error("mail: stored record lacks string member %s", member);
		*error_r = MAIL_CORRUPT;
	}
	return s;
}

void mail_rec_add(json_t *obj, const char *member, int64_t delta)
{
	json_int_t v = json_integer_value(json_object_get(obj, member));

	json_object_set_new(obj, member, json_integer(v + delta));
}

void mail_rec_set(json_t *obj, const char *member, int64_t val)
{
	json_object_set_new(obj, member, json_integer(val));
}

int mail_hex_prefix(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

int mail_hex_valid(const char *s, size_t len)
{
	if (strlen(s) != len)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

void mail_hash_id(const char *a, const char *b, char out[MAIL_ID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *sha = EVP_MD_CTX_new();

	if (sha == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(sha, a, strlen(a)) != 1 || EVP_DigestUpdate(sha, b, strlen(b)) != 1 ||
	    EVP_DigestFinal_ex(sha, md, &mdlen) != 1 || mdlen < MAIL_ID_LEN / 2)
		log_panic("mail: SHA-256 failed");
	EVP_MD_CTX_free(sha);
	evm_hex_encode(md, MAIL_ID_LEN / 2, out);
}

static int ascii_ieq(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = a[i], y = b[i];

		if (x >= 'a' && x <= 'z')
			x = (char)(x - 32);
		if (y >= 'a' && y <= 'z')
			y = (char)(y - 32);
		if (x != y)
			return 0;
	}
	return 1;
}

int mail_name_is_inbox(const char *name)
{
	return strlen(name) == 5 && ascii_ieq(name, "INBOX", 5);
}

/* Mailbox names (mail.h): UTF-8 (Jansson checked it for event data),
 * '/'-separated components, none empty, at most MAIL_MAILBOX_NAME_MAX
 * octets. Control characters and the LIST wildcards '*' and '%' are
 * refused too: they cannot be named unambiguously in IMAP LIST. */
int mail_name_canonical(const char *in, char out[MAIL_MAILBOX_NAME_MAX + 1], const char **error_r)
{
	size_t len = strlen(in);

	if (len == 0 || len > MAIL_MAILBOX_NAME_MAX) {
		*error_r = "mailbox name empty or too long";
		return -1;
	}
	if (in[0] == '/' || in[len - 1] == '/' || strstr(in, "//") != NULL) {
		*error_r = "mailbox name has an empty hierarchy component";
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)in; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '*' || *p == '%') {
			*error_r = "mailbox name contains a control character or wildcard";
			return -1;
		}
	}
	memcpy(out, in, len + 1);
	if ((len == 5 || (len > 5 && in[5] == '/')) && ascii_ieq(in, "INBOX", 5))
		memcpy(out, "INBOX", 5);
	return 0;
}

const char *mail_field_id(struct apply_ctx *ctx, const char *field)
{
	const char *error = NULL;
	const char *s = evm_data_str(ctx->ev, field, MAIL_ID_LEN, &error);

	if (s == NULL) {
		apply_reject(ctx, "invalid", "%s: %s", field, error);
		return NULL;
	}
	if (!mail_hex_valid(s, MAIL_ID_LEN)) {
		apply_reject(ctx, "invalid", "%s: not 32 lower-case hex digits", field);
		return NULL;
	}
	return s;
}

int mail_field_name(struct apply_ctx *ctx, const char *field, char out[MAIL_MAILBOX_NAME_MAX + 1])
{
	const char *error = NULL;
	const char *s = evm_data_str(ctx->ev, field, MAIL_MAILBOX_NAME_MAX, &error);

	if (s == NULL || mail_name_canonical(s, out, &error) < 0) {
		apply_reject(ctx, "invalid", "%s: %s", field, error);
		return -1;
	}
	return 0;
}

static int cmp_range(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	return x[1] < y[1] ? -1 : x[1] > y[1];
}

int mail_field_uids(struct apply_ctx *ctx, const char *field, struct mail_uidset *set)
{
	json_t *arr = json_object_get(ctx->ev->data, field), *r;
	size_t n, i, out = 0;

	memset(set, 0, sizeof *set);
	if (!json_is_array(arr) || (n = json_array_size(arr)) == 0 || n > MAIL_RANGES_MAX) {
		apply_reject(ctx, "invalid", "%s: not a list of 1 to %d UID ranges", field,
			     MAIL_RANGES_MAX);
		return -1;
	}
	set->r = xcalloc(n, sizeof *set->r);
	json_array_foreach(arr, i, r) {
		json_t *lo = json_array_get(r, 0), *hi = json_array_get(r, 1);
		json_int_t l, h;

		if (!json_is_array(r) || json_array_size(r) != 2 || !json_is_integer(lo) ||
		    !json_is_integer(hi) || (l = json_integer_value(lo)) < 1 ||
		    (h = json_integer_value(hi)) < l || h > (json_int_t)MAIL_UID_MAX) {
			mail_uidset_free(set);
			apply_reject(ctx, "invalid", "%s: range %zu is not [lo, hi] with 1 <= lo <= hi < 2^32",
				     field, i);
			return -1;
		}
		set->r[i][0] = (uint32_t)l;
		set->r[i][1] = (uint32_t)h;
	}
	qsort(set->r, n, sizeof *set->r, cmp_range);
	for (i = 0; i < n; i++) {
		if (out > 0 && (uint64_t)set->r[i][0] <= (uint64_t)set->r[out - 1][1] + 1) {
			if (set->r[i][1] > set->r[out - 1][1])
				set->r[out - 1][1] = set->r[i][1];
			continue;
		}
		set->r[out][0] = set->r[i][0];
		set->r[out][1] = set->r[i][1];
		out++;
	}
	set->n = out;
	return 0;
}

void mail_uidset_free(struct mail_uidset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = 0;
}

int mail_uidset_has(const struct mail_uidset *set, uint32_t uid)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (uid < set->r[mid][0])
			hi = mid;
		else if (uid > set->r[mid][1])
			lo = mid + 1;
		else
			return 1;
	}
	return 0;
}

json_t *mail_ranges(const uint32_t *uids, size_t n)
{
	json_t *out = json_array();
	size_t i = 0;

	while (i < n) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		json_array_append_new(out, json_pack("[I,I]", (json_int_t)uids[i], (json_int_t)uids[j]));
		i = j + 1;
	}
	return out;
}

static const char *const sys_flags[] = { "\\Answered", "\\Deleted", "\\Draft", "\\Flagged", "\\Seen" };
#define NSYS (sizeof sys_flags / sizeof sys_flags[0])

/* A flag-keyword atom (RFC 9051 9: ATOM-CHAR, no atom-specials). */
static int keyword_ok(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > MAIL_KEYWORD_LEN_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("(){%*\"\\]", *p) != NULL)
			return 0;
	}
	return 1;
}

/* ASCII case-insensitive order, then byte order: deterministic, no locale. */
static int kw_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int x = (unsigned char)*a, y = (unsigned char)*b;

		if (x >= 'A' && x <= 'Z')
			x += 32;
		if (y >= 'A' && y <= 'Z')
			y += 32;
		if (x != y || x == 0)
			return x - y;
	}
}

static int kw_cmp_json(const void *a, const void *b)
{
	return kw_cmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sorts keywords and drops case-insensitive duplicates (the first in
 * input order is kept: the sort is made stable by index). */
static json_t *kw_normalise(json_t *in)
{
	size_t n = json_array_size(in), i, j;
	json_t **v = xcalloc(n + 1, sizeof *v), *out = json_array();

	for (i = 0; i < n; i++)
		v[i] = json_array_get(in, i);
	/* insertion sort: stable, and n <= a few hundred */
	for (i = 1; i < n; i++) {
		json_t *x = v[i];

		for (j = i; j > 0 && kw_cmp_json(&v[j - 1], &x) > 0; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && kw_cmp(json_string_value(v[i - 1]), json_string_value(v[i])) == 0)
			continue;
		json_array_append(out, v[i]);
	}
	free(v);
	return out;
}

int mail_field_flags(struct apply_ctx *ctx, const char *field, int optional, int sys_ok,
		     int kw_ok, unsigned *sys_r, json_t **kw_r)
{
	json_t *arr = json_object_get(ctx->ev->data, field), *v, *kw;
	size_t i, k;

	*sys_r = 0;
	*kw_r = NULL;
	if (arr == NULL && optional) {
		*kw_r = json_array();
		return 0;
	}
	if (!json_is_array(arr) || json_array_size(arr) > MAIL_FLAG_LIST_MAX) {
		apply_reject(ctx, "invalid", "%s: not a list of at most %d flags", field,
			     MAIL_FLAG_LIST_MAX);
		return -1;
	}
	kw = json_array();
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);

		if (s == NULL || strlen(s) != json_string_length(v))
			goto bad;
		if (s[0] == '\\') {
			for (k = 0; k < NSYS; k++) {
				if (strlen(s) == strlen(sys_flags[k]) && ascii_ieq(s, sys_flags[k], strlen(s)))
					break;
			}
			if (!sys_ok || k == NSYS)
				goto bad;
			*sys_r |= 1u << k;
		} else {
			if (!kw_ok || !keyword_ok(s))
				goto bad;
			json_array_append(kw, v);
		}
	}
	*kw_r = kw_normalise(kw);
	json_decref(kw);
	if (json_array_size(*kw_r) > MAIL_KEYWORDS_MAX) {
		json_decref(*kw_r);
		*kw_r = NULL;
		apply_reject(ctx, "invalid", "%s: more than %d keywords", field, MAIL_KEYWORDS_MAX);
		return -1;
	}
	return 0;
bad:
	json_decref(kw);
	apply_reject(ctx, "invalid", "%s: entry %zu is not a valid %s", field, i,
		     sys_ok && kw_ok ? "flag" : sys_ok ? "system flag" : "keyword");
	return -1;
}

json_t *mail_flags_json(unsigned sys)
{
	json_t *out = json_array();

	for (size_t k = 0; k < NSYS; k++) {
		if (sys & (1u << k))
			json_array_append_new(out, json_string(sys_flags[k]));
	}
	return out;
}

unsigned mail_flags_bits(json_t *arr)
{
	unsigned bits = 0;
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v) {
		for (size_t k = 0; k < NSYS; k++) {
			if (json_is_string(v) && strcmp(json_string_value(v), sys_flags[k]) == 0)
				bits |= 1u << k;
		}
	}
	return bits;
}

json_t *mail_kw_union(json_t *a, json_t *b)
{
	json_t *all = json_array(), *out;

	json_array_extend(all, a);
	json_array_extend(all, b);
	out = kw_normalise(all);
	json_decref(all);
	return out;
}

json_t *mail_kw_minus(json_t *a, json_t *b)
{
	json_t *out = json_array(), *x, *y;
	size_t i, j;

	json_array_foreach(a, i, x) {
		int drop = 0;

		json_array_foreach(b, j, y) {
			if (kw_cmp(json_string_value(x), json_string_value(y)) == 0)
				drop = 1;
		}
		if (!drop)
			json_array_append(out, x);
	}
	return out;
}

void mail_result(struct apply_ctx *ctx, const char *name, json_t *value)
{
	if (ctx->result == NULL) {
		json_decref(value);
		return;
	}
	json_object_set_new(ctx->result, name, value);
}

int mail_key_num_uid(const char *p, size_t len, int64_t *num_r, uint32_t *uid_r)
{
	uint64_t m = 0, u = 0;

	if (len != 31 || p[20] != '/')
		return -1;
	for (size_t i = 0; i < 31; i++) {
		if (i == 20)
			continue;
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (i < 20) {
			/* 20 digits can exceed int64: refuse, never wrap */
			if (m > ((uint64_t)INT64_MAX - (uint64_t)(p[i] - '0')) / 10)
				return -1;
			m = m * 10 + (uint64_t)(p[i] - '0');
		} else {
			u = u * 10 + (uint64_t)(p[i] - '0');
		}
	}
	if (u == 0 || u > UINT32_MAX)
		return -1;
	*num_r = (int64_t)m;
	*uid_r = (uint32_t)u;
	return 0;
}
