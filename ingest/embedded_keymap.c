/* embedded_keymap - see embedded_keymap.h */
#include "ingest/embedded_keymap.h"

#include <stdlib.h>
#include <string.h>

/* FNV-1a, 64 bits: spreads keys; equality is checked on the bytes. */
static uint64_t key_hash(const uint8_t *p, size_t len)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= UINT64_C(1099511628211);
	}
	return h;
}

void emb_keymap_init(struct emb_keymap *m)
{
	memset(m, 0, sizeof *m);
	m->keys = (struct buf)BUF_INIT;
}

void emb_keymap_free(struct emb_keymap *m)
{
	free(m->slots);
	buf_free(&m->keys);
	memset(m, 0, sizeof *m);
}

/* The slot of key, or the empty slot where it would go; cap > 0. */
static struct emb_keymap_slot *find(const struct emb_keymap *m, uint64_t h, const void *key,
				    size_t key_len)
{
	size_t mask = m->cap - 1;

	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct emb_keymap_slot *s = &m->slots[i];
		if (s->offset < 0)
			return s;
		if (s->hash == h && s->key_len == key_len &&
		    memcmp(m->keys.data + s->key_pos, key, key_len) == 0)
			return s;
	}
}

/* Doubles the table (load factor at most 1/2). */
static void grow(struct emb_keymap *m)
{
	struct emb_keymap_slot *old = m->slots;
	size_t old_cap = m->cap;

	m->cap = m->cap ? m->cap * 2 : 1024;
	m->slots = xmalloc(m->cap * sizeof *m->slots);
	for (size_t i = 0; i < m->cap; i++)
		m->slots[i].offset = -1;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i].offset < 0)
			continue;
		*find(m, old[i].hash, m->keys.data + old[i].key_pos, old[i].key_len) = old[i];
	}
	free(old);
}

/* Records offset for key, keeping the highest. */
void emb_keymap_put(struct emb_keymap *m, const void *key, size_t key_len, int64_t offset)
{
	uint64_t h = key_hash(key, key_len);
	struct emb_keymap_slot *s;

	if ((m->n + 1) * 2 > m->cap)
		grow(m);
	s = find(m, h, key, key_len);
	if (s->offset >= 0) {
		if (offset > s->offset)
			s->offset = offset;
		return;
	}
	s->hash = h;
	s->key_pos = m->keys.len;
	s->key_len = (uint32_t)key_len;
	s->offset = offset;
	buf_append(&m->keys, key, key_len);
	m->n++;
}

/* The highest offset recorded for key, or -1. */
int64_t emb_keymap_get(const struct emb_keymap *m, const void *key, size_t key_len)
{
	if (m->cap == 0)
		return -1;
	return find(m, key_hash(key, key_len), key, key_len)->offset;
}
