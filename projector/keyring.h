/* keyring - per-account content keys for crypto-shredding (issue #13 item 3;
 * docs/ARCHITECTURE.md "Erasure"): sealing an event's personal content
 * before it is logged, opening it when it is read back, and the view
 * records of the keys.
 *
 * Events (topic directory, key = the event id like every directory event):
 *   account.key   {address, kid, kek, wrapped}
 *                 a new data key (DEK) version for the account: kid = 32
 *                 random hex digits, kek = the KEK id (common/seal.h),
 *                 wrapped = base64(seal_close(KEK, aad = "evmail-dek\0"
 *                 kid, DEK)). The account must exist (else not-found); it
 *                 becomes the account's current key. Rotation is one more
 *                 account.key: older kids stay readable for older events.
 *   account.erase {address, kids?}
 *                 crypto-shredding: every key of the account is dropped
 *                 from the view and marked erased (so events sealed with it
 *                 are skipped, identically on every node, in a replay too),
 *                 then the account is removed as by account.remove. The
 *                 accepted outcome lists the event ids of the account's
 *                 account.key records in "tombstones": the writer appends a
 *                 null-value record with each as key to the directory
 *                 topic, so compaction deletes the wrapped keys from the
 *                 log as well; then account.purge follows on the mail
 *                 partition (projector/mail.h), as for account.remove.
 *                 kids (optional, at most KEYRING_ERASE_KIDS_MAX): the
 *                 account's kids as the writer saw them, each marked
 *                 erased too, so a replay after compaction removed their
 *                 account.key records still knows them (a kid that is a
 *                 live key of another account: rejected "invalid").
 *
 * View records (directory keys, projector/keys.h):
 *   akey/<kid>        {"account", "kek", "wrapped", "event"} (event: the
 *                     account.key's event id, for the tombstone)
 *   akeycur/<account> the current kid
 *   akeyx/<kid>       erased (the account's address as value)
 *   akeyxa/<account>  the account was erased (the account.erase's event id):
 *                     once compaction has deleted an erased account's
 *                     account.key records, a replay meets its sealed events
 *                     with kids the directory never held; the projector
 *                     takes such an event as erased when the directory,
 *                     caught up to its end, still lacks the key and the
 *                     envelope's account was erased (projector_sealed.c)
 *
 * A sealed event (ingest/event.h) keeps its envelope (v, type, id, ts,
 * tenant, account, actor) and replaces data by
 *   {"sealed": {"kid": "<32 hex>", "ct": "<base64 of seal_close(DEK,
 *    aad = "evmail-event\0" id "\0" type "\0" account, the compact JSON of
 *    the original data)>"}}
 * Which events are sealed: every event of the mail topic whose envelope
 * account has a current key, and the blob.chunk events of an upload made
 * for one account (envelope account = that account). Directory, queue and
 * cluster events are never sealed.
 *
 * Threads: the keyring caches unwrapped DEKs (kid -> DEK; a kid's DEK never
 * changes) behind a mutex; every function may be called from any thread. */
#ifndef EVM_KEYRING_H
#define EVM_KEYRING_H

#include <jansson.h>

#include "common/config.h"
#include "common/seal.h"
#include "ingest/event.h"
#include "projector/view.h"

#define KEYRING_KID_LEN 32
/* Most kids one account.erase may name. */
#define KEYRING_ERASE_KIDS_MAX 10000

struct keyring;

/* From cfg's crypto.master_key_file (and crypto.old_master_key_files):
 * *kr_r = NULL (and 0) when no master key is configured: nothing is sealed,
 * and a sealed event met later is an error ("sealed events need
 * crypto.master_key_file"). 0 or -1 (an unreadable or malformed key file). */
int keyring_open(const struct evm_config *cfg, struct keyring **kr_r, const char **error_r);
void keyring_close(struct keyring **kr);

/* The data of a new account.key event for address (a fresh DEK, wrapped
 * under the current KEK): *data_r owned by the caller. 0 or -1. */
int keyring_new_key(struct keyring *kr, const char *address, json_t **data_r, const char **error_r);

/* Seals ev->data in place when ev->account has a current key in view:
 * 1 sealed, 0 left as it is (kr NULL, no account, or no key), -1 error. */
int keyring_seal_event(struct keyring *kr, struct view *view, struct evm_event *ev,
		       const char **error_r);

enum keyring_open_result {
	KEYRING_PLAIN = 0,    /* the event was not sealed: left as it is */
	KEYRING_OPENED = 1,   /* ev->data is the original data again */
	KEYRING_ERASED = 2,   /* its key was erased: the content is gone */
	KEYRING_UNKNOWN = 3,  /* no such key in view (yet): the directory is behind */
	KEYRING_INVALID = 4,  /* only with -1: see below */
};
/* Opens a sealed ev->data in place with the key from view (committed
 * state). -1 error: kr NULL for a sealed event, a malformed "sealed"
 * object, or content that does not authenticate. *res_r tells them apart:
 * KEYRING_INVALID when the sealed object or its key record is bad (the
 * same on every node: the projector rejects the event "invalid"), else
 * KEYRING_PLAIN (kr NULL, a view error, a KEK this node lacks: the node
 * must not go on). */
int keyring_open_event(struct keyring *kr, struct view *view, struct evm_event *ev,
		       enum keyring_open_result *res_r, const char **error_r);
/* The same inside the projector, reading keys through the open batch (a key
 * applied earlier in the same batch counts). */
int keyring_open_event_batch(struct keyring *kr, struct view_batch *b, struct evm_event *ev,
			     enum keyring_open_result *res_r, const char **error_r);

/* The account's current kid: 1 (kid_r filled), 0 none, -1 error. */
int keyring_current_kid(struct view *view, const char *address, char kid_r[KEYRING_KID_LEN + 1],
			const char **error_r);

#endif
