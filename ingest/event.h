/* event - the envelope every log record carries, and its strict codec.
 *
 * Wire form: one JSON object
 *   {"v":1,"type":"account.create","id":"<32 hex>","ts":1700000000000,
 *    "tenant":"acme","account":"bob@acme.test","actor":"admin","data":{...}}
 * v is the schema's major version: a decoder refuses any other major, since
 * a newer major may change meaning. Fields are checked for presence, type and
 * bounds exactly as strictly as external input (STYLE.md); extra top-level
 * fields are ignored (minor versions may add them). */
#ifndef EVM_EVENT_H
#define EVM_EVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/ids.h"

#define EVM_EVENT_VERSION 1
#define EVM_EVENT_MAX_BYTES (1024 * 1024)
#define EVM_EVENT_TYPE_MAX 64
#define EVM_EVENT_NAME_MAX 320   /* tenant, account, actor */

struct evm_event {
	int v;
	char type[EVM_EVENT_TYPE_MAX + 1];
	char id[EVM_ID_HEX_LEN + 1];
	int64_t ts;
	char *tenant;    /* "" when not tenant-scoped */
	char *account;   /* "" when not account-scoped */
	char *actor;
	json_t *data;    /* always an object; owned */
};

/* Fills a new event with a fresh random id and the current time. data is
 * stolen (NULL means an empty object). Returns 0, or -1 if a field is
 * invalid (the same rules as the decoder). */
int evm_event_init(struct evm_event *ev, const char *type, const char *tenant,
		   const char *account, const char *actor, json_t *data, const char **error_r);
/* Encodes to compact JSON with sorted keys; *out_r is malloc'ed. */
int evm_event_encode(const struct evm_event *ev, char **out_r, size_t *len_r, const char **error_r);
/* Strict decode. On error *error_r names the first problem (static string);
 * ev_r is left cleared. */
int evm_event_decode(const void *buf, size_t len, struct evm_event *ev_r, const char **error_r);
void evm_event_clear(struct evm_event *ev);

/* Accessors for data fields used by appliers; each returns NULL (or -1) and
 * sets *error_r when the field is missing or has the wrong type. */
const char *evm_data_str(const struct evm_event *ev, const char *field, size_t max_len,
			 const char **error_r);
int evm_data_int(const struct evm_event *ev, const char *field, int64_t min, int64_t max,
		 int64_t *val_r, const char **error_r);

#endif
