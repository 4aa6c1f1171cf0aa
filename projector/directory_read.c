/* directory_read - the read API of projector/directory.h over the
 * committed view.
 *
 * Lookups normalise the name first; a name that cannot be valid is simply
 * not found. Listings follow the key order, which is the byte order of the
 * names; listings that gather several index ranges sort what they gather.
 * Reads are not one snapshot: an index entry whose record has gone by the
 * time it is read is skipped. */
#include "projector/directory.h"
#include "projector/directory_internal.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

/* Reads the record at prefix+name: 1 found, 0 not, -1 error. */
static int get_record(struct view *view, const char *prefix, const char *name, json_t **obj_r,
		      const char **error_r)
{
	struct buf key = BUF_INIT;
	char *val = NULL;
	size_t vlen = 0;
	json_t *obj;
	int r;

	*obj_r = NULL;
	dir_key(&key, prefix, name, NULL);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	if (r <= 0) {
		buf_free(&key);
		return r;
	}
	obj = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		log_error("directory: record %s in the view is not a JSON object", key.data);
		buf_free(&key);
		*error_r = "corrupt directory record in the view";
		return -1;
	}
	buf_free(&key);
	*obj_r = obj;
	return 1;
}

/* Scan state: records (parsed values) or names (the key after the
 * prefix) appended to list. */
struct collect {
	json_t *list;
	size_t plen;
	int names;
	int strip_password;
	int corrupt;
};

static int collect_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct collect *c = vctx;
	json_t *obj;

	if (c->names) {
		json_array_append_new(c->list, json_stringn(key + c->plen, klen - c->plen));
		return 0;
	}
	obj = evm_json_loadb(val, vlen, 0, NULL);
	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		log_error("directory: record %.*s in the view is not a JSON object", (int)klen, key);
		c->corrupt = 1;
		return 1;
	}
	if (c->strip_password) {
		json_object_del(obj, "password_hash");
		json_object_del(obj, "scram_sha256");
	}
	json_array_append_new(c->list, obj);
	return 0;
}

/* Appends to list the records (or, with names, the names) under prefix. */
static int scan_into(struct view *view, const struct buf *prefix, int names, int strip_password,
		     json_t *list, const char **error_r)
{
	struct collect c = { list, prefix->len, names, strip_password, 0 };

	if (view_scan(view, prefix->data, prefix->len, collect_cb, &c, error_r) < 0)
		return -1;
	if (c.corrupt) {
		*error_r = "corrupt directory record in the view";
		return -1;
	}
	return 0;
}

static int record_in_tenant(json_t *obj, const char *tenant)
{
	const char *t = json_string_value(json_object_get(obj, "tenant"));

	return t != NULL && strcmp(t, tenant) == 0;
}

/* Replaces a list of names with their records at prefix+name, skipping
 * names whose record has gone or (tenant not NULL) moved to another tenant
 * since the index was read. */
static int load_records(struct view *view, const char *prefix, json_t *names, const char *tenant,
			int strip_password, json_t **list_r, const char **error_r)
{
	json_t *list = json_array(), *v, *obj;
	size_t i;
	int r;

	json_array_foreach(names, i, v) {
		r = get_record(view, prefix, json_string_value(v), &obj, error_r);
		if (r < 0) {
			json_decref(list);
			return -1;
		}
		if (r == 0)
			continue;
		if (tenant != NULL && !record_in_tenant(obj, tenant)) {
			json_decref(obj);
			continue;
		}
		if (strip_password) {
			json_object_del(obj, "password_hash");
			json_object_del(obj, "scram_sha256");
		}
		json_array_append_new(list, obj);
	}
	*list_r = list;
	return 0;
}

static int cmp_json_str(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* Sorts an array of strings in byte order. */
static void sort_names(json_t *names)
{
	size_t n = json_array_size(names), i;
	json_t **v;

	if (n < 2)
		return;
	v = xcalloc(n, sizeof *v);
	for (i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(names, i));
	qsort(v, n, sizeof *v, cmp_json_str);
	json_array_clear(names);
	for (i = 0; i < n; i++)
		json_array_append_new(names, v[i]);
	free(v);
}

int directory_tenant_get(struct view *view, const char *name, json_t **tenant_r, const char **error_r)
{
	*tenant_r = NULL;
	if (!evm_tenant_name_valid(name))
		return 0;
	return get_record(view, KEY_TENANT, name, tenant_r, error_r);
}

int directory_tenants(struct view *view, json_t **list_r, const char **error_r)
{
	struct buf prefix = BUF_INIT;
	json_t *list = json_array();
	int r;

	buf_puts(&prefix, KEY_TENANT);
	r = scan_into(view, &prefix, 0, 0, list, error_r);
	buf_free(&prefix);
	if (r < 0) {
		json_decref(list);
		list = NULL;
	}
	*list_r = list;
	return r;
}

int directory_domain_get(struct view *view, const char *domain, json_t **domain_r, const char **error_r)
{
	char norm[EVM_DOMAIN_MAX + 1];
	const char *ignored;

	*domain_r = NULL;
	if (evm_domain_normalize(domain, norm, &ignored) < 0)
		return 0;
	return get_record(view, KEY_DOMAIN, norm, domain_r, error_r);
}

/* Names of the domains of tenant, sorted. */
static int tenant_domain_names(struct view *view, const char *tenant, json_t **names_r,
			       const char **error_r)
{
	struct buf prefix = BUF_INIT;
	json_t *names = json_array();
	int r;

	dir_key(&prefix, KEY_TENANT_DOMAIN, tenant, "");
	r = scan_into(view, &prefix, 1, 0, names, error_r);
	buf_free(&prefix);
	if (r < 0) {
		json_decref(names);
		names = NULL;
	}
	*names_r = names;
	return r;
}

int directory_domains(struct view *view, const char *tenant, json_t **list_r, const char **error_r)
{
	struct buf prefix = BUF_INIT;
	json_t *names;
	int r;

	*list_r = NULL;
	if (tenant == NULL) {
		json_t *list = json_array();

		buf_puts(&prefix, KEY_DOMAIN);
		r = scan_into(view, &prefix, 0, 0, list, error_r);
		buf_free(&prefix);
		if (r < 0)
			json_decref(list);
		else
			*list_r = list;
		return r;
	}
	if (!evm_tenant_name_valid(tenant)) {
		*list_r = json_array();
		return 0;
	}
	if (tenant_domain_names(view, tenant, &names, error_r) < 0)
		return -1;
	r = load_records(view, KEY_DOMAIN, names, tenant, 0, list_r, error_r);
	json_decref(names);
	return r;
}

/* Names (addresses) under index/<domain>/ for the filters, sorted.
 * domain and tenant may be NULL; with neither, *names_r is NULL and the
 * caller scans every record instead. */
static int member_names(struct view *view, const char *index, const char *domain,
			const char *tenant, json_t **names_r, const char **error_r)
{
	char norm[EVM_DOMAIN_MAX + 1];
	const char *ignored;
	struct buf prefix = BUF_INIT;
	json_t *names = json_array(), *domains = NULL, *dom = NULL, *v;
	size_t i;
	int r;

	*names_r = NULL;
	if (domain != NULL) {
		if (evm_domain_normalize(domain, norm, &ignored) < 0 ||
		    (tenant != NULL && !evm_tenant_name_valid(tenant))) {
			*names_r = names;
			return 0;
		}
		if (tenant != NULL) {
			r = get_record(view, KEY_DOMAIN, norm, &dom, error_r);
			if (r < 0)
				goto fail;
			if (r == 0 || !record_in_tenant(dom, tenant)) {
				json_decref(dom);
				*names_r = names;
				return 0;
			}
			json_decref(dom);
		}
		dir_key(&prefix, index, norm, "");
		r = scan_into(view, &prefix, 1, 0, names, error_r);
		buf_free(&prefix);
		if (r < 0)
			goto fail;
		*names_r = names;
		return 0;
	}
	if (!evm_tenant_name_valid(tenant)) {
		*names_r = names;
		return 0;
	}
	if (tenant_domain_names(view, tenant, &domains, error_r) < 0)
		goto fail;
	json_array_foreach(domains, i, v) {
		dir_key(&prefix, index, json_string_value(v), "");
		r = scan_into(view, &prefix, 1, 0, names, error_r);
		if (r < 0) {
			buf_free(&prefix);
			json_decref(domains);
			goto fail;
		}
	}
	buf_free(&prefix);
	json_decref(domains);
	sort_names(names);
	*names_r = names;
	return 0;
fail:
	json_decref(names);
	return -1;
}

/* Shared by directory_accounts and directory_aliases. */
static int list_members(struct view *view, const char *index, const char *record_prefix,
			const char *domain, const char *tenant, int strip_password,
			json_t **list_r, const char **error_r)
{
	json_t *names;
	int r;

	*list_r = NULL;
	if (domain == NULL && tenant == NULL) {
		struct buf prefix = BUF_INIT;
		json_t *list = json_array();

		buf_puts(&prefix, record_prefix);
		r = scan_into(view, &prefix, 0, strip_password, list, error_r);
		buf_free(&prefix);
		if (r < 0)
			json_decref(list);
		else
			*list_r = list;
		return r;
	}
	if (member_names(view, index, domain, tenant, &names, error_r) < 0)
		return -1;
	r = load_records(view, record_prefix, names, tenant, strip_password, list_r, error_r);
	json_decref(names);
	return r;
}

int directory_account_get(struct view *view, const char *address, json_t **account_r,
			  const char **error_r)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *ignored;

	*account_r = NULL;
	if (evm_address_normalize(address, norm, &ignored) < 0)
		return 0;
	return get_record(view, KEY_ACCOUNT, norm, account_r, error_r);
}

int directory_accounts(struct view *view, const char *domain, const char *tenant,
		       json_t **list_r, const char **error_r)
{
	return list_members(view, KEY_DOMAIN_ACCOUNT, KEY_ACCOUNT, domain, tenant, 1, list_r, error_r);
}

int directory_alias_get(struct view *view, const char *alias, json_t **alias_r, const char **error_r)
{
	char norm[EVM_ADDRESS_MAX + 1];
	const char *ignored;

	*alias_r = NULL;
	if (alias[0] == '@') {
		/* "@domain": the domain's catch-all. */
		norm[0] = '@';
		if (evm_domain_normalize(alias + 1, norm + 1, &ignored) < 0)
			return 0;
	} else if (evm_address_normalize(alias, norm, &ignored) < 0) {
		return 0;
	}
	return get_record(view, KEY_ALIAS, norm, alias_r, error_r);
}

int directory_aliases(struct view *view, const char *domain, const char *tenant,
		      json_t **list_r, const char **error_r)
{
	return list_members(view, KEY_DOMAIN_ALIAS, KEY_ALIAS, domain, tenant, 0, list_r, error_r);
}
