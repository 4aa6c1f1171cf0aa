/* mail_acl_read - the ACL read API of projector/mail_acl.h over the
 * committed view: effective rights, the sharee and "anyone" indexes. */
#include "projector/mail_internal.h"
#include "common/json_fast.h"
#include "projector/mail_acl.h"
#include "projector/keys.h"

#include <stdlib.h>
#include <string.h>

/* An account in normal form: 0, or -1 when it cannot be an address. */
static int norm(const char *account, char out[EVM_ADDRESS_MAX + 1])
{
	const char *ignored;

	return account != NULL && evm_address_normalize(account, out, &ignored) == 0 ? 0 : -1;
}

/* Undoes mail_key_escape (%25, %2F) of n bytes. */
static void unescape(const char *in, size_t n, char *out, size_t size)
{
	size_t o = 0, i = 0;

	while (i < n && o + 1 < size) {
		if (i + 3 <= n && memcmp(in + i, "%25", 3) == 0) {
			out[o++] = '%';
			i += 3;
		} else if (i + 3 <= n && memcmp(in + i, "%2F", 3) == 0) {
			out[o++] = '/';
			i += 3;
		} else {
			out[o++] = in[i++];
		}
	}
	out[o] = '\0';
}

struct acl_scan {
	json_t *out;
	size_t plen;
	const char *tenant;
	const char *sharee;
	int corrupt;
};

static int acl_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct acl_scan *sc = vctx;
	char who[EVM_ADDRESS_MAX + 1];

	unescape(key + sc->plen, klen - sc->plen, who, sizeof who);
	json_object_set_new(sc->out, who, json_stringn(val, vlen));
	return 0;
}

int mail_acl_list(struct view *view, const char *owner, const char *mailbox_id, json_t **acl_r,
		  const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct acl_scan sc = { json_object(), 0, NULL, NULL, 0 };
	struct buf k = BUF_INIT;
	int ret = 0;

	*acl_r = NULL;
	if (norm(owner, acct) == 0 && mail_hex_valid(mailbox_id, MAIL_ID_LEN)) {
		mail_key_uid(&k, acct, MAIL_K_ACL, mailbox_id, 0);
		sc.plen = k.len;
		ret = view_scan(view, k.data, k.len, acl_cb, &sc, error_r);
	}
	buf_free(&k);
	if (ret < 0) {
		json_decref(sc.out);
		return -1;
	}
	*acl_r = sc.out;
	return 0;
}

/* The entry of id on the mailbox at the prefix in k (restored after). 0
 * or -1. */
static int entry_rights(struct view *view, struct buf *k, size_t plen, const char *id, unsigned *bits_r,
			const char **error_r)
{
	char *val = NULL;
	int r;

	*bits_r = 0;
	buf_truncate(k, plen);
	mail_key_escape(k, id);
	r = view_get(view, k->data, k->len, &val, NULL, error_r);
	if (r > 0 && mail_rights_parse(val, bits_r) < 0) {
		*error_r = MAIL_CORRUPT;
		r = -1;
	}
	free(val);
	return r < 0 ? -1 : 0;
}

int mail_acl_rights(struct view *view, const char *owner, const char *mailbox_id, const char *who,
		    unsigned *bits_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], user[EVM_ADDRESS_MAX + 1], neg[MAIL_ACL_ID_MAX + 1];
	unsigned own, any, nown, nany;
	struct buf k = BUF_INIT;
	size_t plen;
	int r;

	*bits_r = 0;
	if (norm(owner, acct) < 0 || norm(who, user) < 0 || !mail_hex_valid(mailbox_id, MAIL_ID_LEN))
		return 0;
	if (strcmp(acct, user) == 0) {
		*bits_r = MAIL_R_EVERY;
		return 0;
	}
	mail_key_uid(&k, acct, MAIL_K_ACL, mailbox_id, 0);
	plen = k.len;
	mail_acl_negative(user, neg);
	r = entry_rights(view, &k, plen, user, &own, error_r) < 0 ||
	    entry_rights(view, &k, plen, MAIL_ACL_ANYONE, &any, error_r) < 0 ||
	    entry_rights(view, &k, plen, neg, &nown, error_r) < 0 ||
	    entry_rights(view, &k, plen, "-" MAIL_ACL_ANYONE, &nany, error_r) < 0 ? -1 : 0;
	buf_free(&k);
	if (r == 0)
		*bits_r = mail_rights_effective(own, any, nown, nany);
	return r;
}

/* One entry of the sharee index: mail/<sharee>/shared/<owner>/<id>. */
static int shared_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct acl_scan *sc = vctx;
	const char *rest = key + sc->plen, *slash;
	size_t rlen = klen - sc->plen;
	char owner[EVM_ADDRESS_MAX + 1];
	json_t *rec = evm_json_loadb(val, vlen, 0, NULL);
	const char *rights = json_string_value(json_object_get(rec, "rights"));
	const char *tenant = json_string_value(json_object_get(rec, "tenant"));

	slash = memchr(rest, '/', rlen);
	if (rights == NULL || tenant == NULL || slash == NULL || rest + rlen - slash - 1 != MAIL_ID_LEN) {
		json_decref(rec);
		sc->corrupt = 1;
		return 1;
	}
	if (sc->tenant == NULL || strcmp(tenant, sc->tenant) == 0) {
		unescape(rest, (size_t)(slash - rest), owner, sizeof owner);
		json_array_append_new(sc->out, json_pack("{s:s, s:s%, s:b}", "owner", owner, "mailbox_id",
							 slash + 1, (size_t)MAIL_ID_LEN, "direct", 1));
	}
	json_decref(rec);
	return 0;
}

/* One entry of the tenant's "anyone" index: mailany/<tenant>/<owner>/<id>;
 * the sharee's own mailboxes are not shared with it. */
static int anyone_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct acl_scan *sc = vctx;
	const char *rest = key + sc->plen, *slash;
	size_t rlen = klen - sc->plen;
	char owner[EVM_ADDRESS_MAX + 1];

	(void)val;
	(void)vlen;
	slash = memchr(rest, '/', rlen);
	if (slash == NULL || rest + rlen - slash - 1 != MAIL_ID_LEN) {
		sc->corrupt = 1;
		return 1;
	}
	unescape(rest, (size_t)(slash - rest), owner, sizeof owner);
	if (strcmp(owner, sc->sharee) != 0)
		json_array_append_new(sc->out, json_pack("{s:s, s:s%, s:b}", "owner", owner, "mailbox_id",
							 slash + 1, (size_t)MAIL_ID_LEN, "direct", 0));
	return 0;
}

/* Order of mail_shared_list: owner, then mailbox id. */
static int entry_cmp(const void *x, const void *y)
{
	json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
	int c = strcmp(json_string_value(json_object_get(a, "owner")), json_string_value(json_object_get(b, "owner")));

	return c != 0 ? c : strcmp(json_string_value(json_object_get(a, "mailbox_id")),
				   json_string_value(json_object_get(b, "mailbox_id")));
}

/* Sorts the entries, drops an anyone entry the sharee index also has, and
 * sets each one's effective rights. 0 or -1. */
static int shared_finish(struct view *view, const char *sharee, json_t *list, json_t **out_r,
			 const char **error_r)
{
	size_t n = json_array_size(list), i;
	json_t **v = xcalloc(n + 1, sizeof *v), *out = json_array();
	char rights[MAIL_RIGHTS_LEN];
	unsigned bits;
	int ret = 0;

	for (i = 0; i < n; i++)
		v[i] = json_array_get(list, i);
	qsort(v, n, sizeof *v, entry_cmp);
	for (i = 0; i < n && ret == 0; i++) {
		if (i > 0 && entry_cmp(&v[i - 1], &v[i]) == 0) {
			if (json_is_true(json_object_get(v[i], "direct")))
				json_object_set_new(json_array_get(out, json_array_size(out) - 1), "direct",
						    json_true());
			continue;
		}
		ret = mail_acl_rights(view, json_string_value(json_object_get(v[i], "owner")),
				      json_string_value(json_object_get(v[i], "mailbox_id")), sharee, &bits, error_r);
		mail_rights_string(bits, 0, rights);
		json_object_set_new(v[i], "rights", json_string(rights));
		json_array_append(out, v[i]);
	}
	free(v);
	if (ret < 0) {
		json_decref(out);
		return -1;
	}
	*out_r = out;
	return 0;
}

int mail_shared_list(struct view *view, const char *sharee, const char *tenant, json_t **list_r,
		     const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct acl_scan sc = { json_array(), 0, tenant, acct, 0 };
	struct buf k = BUF_INIT;
	int ret = 0;

	*list_r = NULL;
	if (norm(sharee, acct) < 0) {
		*list_r = sc.out;   /* not an account: nothing is shared with it */
		return 0;
	}
	{
		mail_key(&k, acct, MAIL_K_SHARED, NULL);
		sc.plen = k.len;
		ret = view_scan(view, k.data, k.len, shared_cb, &sc, error_r);
		if (ret == 0 && !sc.corrupt && tenant != NULL) {
			buf_truncate(&k, 0);
			buf_puts(&k, KEY_ACL_ANYONE);
			mail_key_escape(&k, tenant);
			buf_puts(&k, "/");
			sc.plen = k.len;
			ret = view_scan(view, k.data, k.len, anyone_cb, &sc, error_r);
		}
	}
	buf_free(&k);
	if (ret == 0 && sc.corrupt) {
		*error_r = MAIL_CORRUPT;
		ret = -1;
	}
	if (ret == 0)
		ret = shared_finish(view, acct, sc.out, list_r, error_r);
	json_decref(sc.out);
	return ret < 0 ? -1 : 0;
}
