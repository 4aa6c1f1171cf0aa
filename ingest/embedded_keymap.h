/* embedded_keymap - key to latest offset, for compacting one partition.
 *
 * An open-addressing hash table that keeps a copy of every key (exact
 * comparison: a hash collision never makes compaction drop a record, as a
 * map of key digests could). Owned by the one thread that builds it. */
#ifndef EVM_EMBEDDED_KEYMAP_H
#define EVM_EMBEDDED_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

struct emb_keymap_slot {
	uint64_t hash;
	size_t key_pos;          /* in keys */
	uint32_t key_len;
	int64_t offset;          /* -1: empty slot */
};

struct emb_keymap {
	struct emb_keymap_slot *slots;
	size_t n, cap;           /* cap: a power of two */
	struct buf keys;
};

void emb_keymap_init(struct emb_keymap *m);
void emb_keymap_free(struct emb_keymap *m);
/* Records offset for key, keeping the highest offset seen for it. */
void emb_keymap_put(struct emb_keymap *m, const void *key, size_t key_len, int64_t offset);
/* The highest offset recorded for key, or -1. */
int64_t emb_keymap_get(const struct emb_keymap *m, const void *key, size_t key_len);

#endif
