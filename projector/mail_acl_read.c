/* mail_acl_read - the ACL read API of projector/mail_acl.h over the
 * committed view. */
#include "projector/mail_internal.h"
#include "projector/mail_acl.h"

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
	struct acl_scan sc = { json_object(), 0, NULL, 0 };
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

int mail_acl_rights(struct view *view, const char *owner, const char *mailbox_id, const char *who,
		    unsigned *bits_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], user[EVM_ADDRESS_MAX + 1];
	struct buf k = BUF_INIT;
	char *val = NULL;
	int r;

	*bits_r = 0;
	if (norm(owner, acct) < 0 || norm(who, user) < 0 || !mail_hex_valid(mailbox_id, MAIL_ID_LEN))
		return 0;
	if (strcmp(acct, user) == 0) {
		*bits_r = MAIL_R_EVERY;
		return 0;
	}
	mail_key_uid(&k, acct, MAIL_K_ACL, mailbox_id, 0);
	mail_key_escape(&k, user);
	r = view_get(view, k.data, k.len, &val, NULL, error_r);
	buf_free(&k);
	if (r > 0 && mail_rights_parse(val, bits_r) < 0) {
		*error_r = MAIL_CORRUPT;
		r = -1;
	}
	free(val);
	return r < 0 ? -1 : 0;
}

static int shared_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct acl_scan *sc = vctx;
	const char *rest = key + sc->plen, *slash;
	size_t rlen = klen - sc->plen;
	char owner[EVM_ADDRESS_MAX + 1];
	json_t *rec = json_loadb(val, vlen, 0, NULL);
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
		json_array_append_new(sc->out, json_pack("{s:s, s:s%, s:s}", "owner", owner, "mailbox_id",
							 slash + 1, (size_t)MAIL_ID_LEN, "rights", rights));
	}
	json_decref(rec);
	return 0;
}

int mail_shared_list(struct view *view, const char *sharee, const char *tenant, json_t **list_r,
		     const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	struct acl_scan sc = { json_array(), 0, tenant, 0 };
	struct buf k = BUF_INIT;
	int ret = 0;

	*list_r = NULL;
	if (norm(sharee, acct) == 0) {
		mail_key(&k, acct, MAIL_K_SHARED, NULL);
		sc.plen = k.len;
		ret = view_scan(view, k.data, k.len, shared_cb, &sc, error_r);
	}
	buf_free(&k);
	if (ret == 0 && sc.corrupt) {
		*error_r = MAIL_CORRUPT;
		ret = -1;
	}
	if (ret < 0) {
		json_decref(sc.out);
		return -1;
	}
	*list_r = sc.out;
	return 0;
}
