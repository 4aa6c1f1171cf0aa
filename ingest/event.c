/* event - see event.h */
#include "ingest/event.h"
#include "common/buf.h"
#include "common/record_json.h"
#include "common/json_fast.h"

#include <string.h>

static int valid_type(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > EVM_EVENT_TYPE_MAX)
		return 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-'))
			return 0;
	}
	return 1;
}

/* Names may be empty; they are text, so control characters are refused. */
static int valid_name(const char *s)
{
	if (strlen(s) > EVM_EVENT_NAME_MAX)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	}
	return 1;
}

int evm_event_init(struct evm_event *ev, const char *type, const char *tenant,
		   const char *account, const char *actor, json_t *data, const char **error_r)
{
	memset(ev, 0, sizeof *ev);
	if (data == NULL)
		data = json_object();
	if (!json_is_object(data)) {
		json_decref(data);
		*error_r = "event data must be an object";
		return -1;
	}
	ev->data = data;
	if (type == NULL || !valid_type(type)) {
		evm_event_clear(ev);
		*error_r = "invalid event type";
		return -1;
	}
	if (!valid_name(tenant ? tenant : "") || !valid_name(account ? account : "") ||
	    actor == NULL || actor[0] == '\0' || !valid_name(actor)) {
		evm_event_clear(ev);
		*error_r = "invalid tenant, account or actor";
		return -1;
	}
	ev->v = EVM_EVENT_VERSION;
	snprintf(ev->type, sizeof ev->type, "%s", type);
	evm_random_id(ev->id);
	ev->ts = evm_now_ms();
	ev->tenant = xstrdup(tenant ? tenant : "");
	ev->account = xstrdup(account ? account : "");
	ev->actor = xstrdup(actor);
	return 0;
}

int evm_event_encode(const struct evm_event *ev, char **out_r, size_t *len_r, const char **error_r)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:I, s:s, s:s, s:s, s:O}",
			      "v", ev->v, "type", ev->type, "id", ev->id, "ts", (json_int_t)ev->ts,
			      "tenant", ev->tenant, "account", ev->account, "actor", ev->actor,
			      "data", ev->data);
	struct buf out = BUF_INIT;

	if (o == NULL) {
		*error_r = "cannot encode event (invalid UTF-8 in a field?)";
		return -1;
	}
	/* The bytes of json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
	 * JSON_ENSURE_ASCII), written without Jansson's dumper, into one
	 * allocation that holds a chunk event (not eight doublings). */
	buf_reserve(&out, 8192);
	record_json_append_ascii(&out, o);
	json_decref(o);
	if (out.len > EVM_EVENT_MAX_BYTES) {
		buf_free(&out);
		*error_r = "event larger than the 1 MiB limit";
		return -1;
	}
	*len_r = out.len;
	*out_r = buf_steal(&out);
	return 0;
}

static const char *get_str(json_t *o, const char *field, int allow_empty, const char **error_r)
{
	json_t *v = json_object_get(o, field);
	const char *s;

	if (v == NULL) {
		*error_r = "envelope field missing";
		return NULL;
	}
	if (!json_is_string(v)) {
		*error_r = "envelope field has the wrong type";
		return NULL;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		*error_r = "envelope field contains NUL";
		return NULL;
	}
	if (!allow_empty && s[0] == '\0') {
		*error_r = "envelope field is empty";
		return NULL;
	}
	return s;
}

int evm_event_decode(const void *buf, size_t len, struct evm_event *ev_r, const char **error_r)
{
	json_error_t jerr;
	json_t *o, *v, *data;
	const char *type, *id, *tenant, *account, *actor;

	memset(ev_r, 0, sizeof *ev_r);
	if (len > EVM_EVENT_MAX_BYTES) {
		*error_r = "event larger than the 1 MiB limit";
		return -1;
	}
	o = evm_json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL) {
		*error_r = "event is not valid JSON";
		return -1;
	}
	if (!json_is_object(o)) {
		*error_r = "event is not a JSON object";
		goto fail;
	}
	v = json_object_get(o, "v");
	if (v == NULL || !json_is_integer(v)) {
		*error_r = "envelope field v missing or not an integer";
		goto fail;
	}
	if (json_integer_value(v) != EVM_EVENT_VERSION) {
		*error_r = "unknown event schema major version";
		goto fail;
	}
	if ((type = get_str(o, "type", 0, error_r)) == NULL ||
	    (id = get_str(o, "id", 0, error_r)) == NULL ||
	    (tenant = get_str(o, "tenant", 1, error_r)) == NULL ||
	    (account = get_str(o, "account", 1, error_r)) == NULL ||
	    (actor = get_str(o, "actor", 0, error_r)) == NULL)
		goto fail;
	if (!valid_type(type)) {
		*error_r = "envelope type is not a valid event type";
		goto fail;
	}
	if (!evm_id_valid(id)) {
		*error_r = "envelope id is not 32 lower-case hex digits";
		goto fail;
	}
	if (!valid_name(tenant) || !valid_name(account) || !valid_name(actor)) {
		*error_r = "envelope tenant, account or actor is too long or has control characters";
		goto fail;
	}
	v = json_object_get(o, "ts");
	if (v == NULL || !json_is_integer(v) || json_integer_value(v) < 0) {
		*error_r = "envelope field ts missing or not a non-negative integer";
		goto fail;
	}
	data = json_object_get(o, "data");
	if (data == NULL || !json_is_object(data)) {
		*error_r = "envelope field data missing or not an object";
		goto fail;
	}
	ev_r->v = EVM_EVENT_VERSION;
	snprintf(ev_r->type, sizeof ev_r->type, "%s", type);
	snprintf(ev_r->id, sizeof ev_r->id, "%s", id);
	ev_r->ts = json_integer_value(v);
	ev_r->tenant = xstrdup(tenant);
	ev_r->account = xstrdup(account);
	ev_r->actor = xstrdup(actor);
	ev_r->data = json_incref(data);
	json_decref(o);
	return 0;
fail:
	json_decref(o);
	return -1;
}

void evm_event_clear(struct evm_event *ev)
{
	free(ev->tenant);
	free(ev->account);
	free(ev->actor);
	json_decref(ev->data);
	memset(ev, 0, sizeof *ev);
}

const char *evm_data_str(const struct evm_event *ev, const char *field, size_t max_len,
			 const char **error_r)
{
	json_t *v = json_object_get(ev->data, field);
	const char *s;

	if (v == NULL || !json_is_string(v)) {
		*error_r = "data field missing or not a string";
		return NULL;
	}
	s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strlen(s) > max_len) {
		*error_r = "data field too long or contains NUL";
		return NULL;
	}
	return s;
}

int evm_data_int(const struct evm_event *ev, const char *field, int64_t min, int64_t max,
		 int64_t *val_r, const char **error_r)
{
	json_t *v = json_object_get(ev->data, field);

	if (v == NULL || !json_is_integer(v)) {
		*error_r = "data field missing or not an integer";
		return -1;
	}
	if (json_integer_value(v) < min || json_integer_value(v) > max) {
		*error_r = "data field out of range";
		return -1;
	}
	*val_r = json_integer_value(v);
	return 0;
}
