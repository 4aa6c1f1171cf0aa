/* fts_idcache - per node (its text indexer's lifetime, fts_worker.c),
 * the email id of each message a text search met, by owner, mailbox id,
 * UIDVALIDITY and UID: SEARCH asks the text index about an email id, and
 * reading it from the message's view record costs a JSON parse per
 * message of the mailbox, on every search. A UID's email id never
 * changes (RFC 9051 2.3.1.1: a UID names one message for the life of the
 * UIDVALIDITY; the email id is a hash of its content, mail.h), so the
 * cache is never stale; UIDs of expunged messages are never asked about
 * again and go with their mailbox. Loop thread only. */
#include "gateway/fts/fts_idcache.h"
#include "common/buf.h"
#include "common/ids.h"

#include <stdlib.h>
#include <string.h>

struct id_ent {
	uint32_t uid;
	unsigned char id[16];
};

struct evm_fts_ids {
	char *key;                 /* owner NUL mailbox id, and uidvalidity */
	size_t klen;
	uint32_t uidvalidity;
	struct id_ent *ent;        /* ascending uid */
	size_t n, cap, pos;        /* pos: after the last hit (searches go up) */
	struct evm_fts_ids *prev, *next;   /* most recent first */
	struct evm_fts_idcache *cache;
};

struct evm_fts_idcache {
	struct evm_fts_ids *head, *tail;
	size_t total;
};

struct evm_fts_idcache *evm_fts_idcache_new(void)
{
	return xcalloc(1, sizeof(struct evm_fts_idcache));
}

static void unlink_box(struct evm_fts_idcache *c, struct evm_fts_ids *b)
{
	if (b->prev != NULL)
		b->prev->next = b->next;
	else
		c->head = b->next;
	if (b->next != NULL)
		b->next->prev = b->prev;
	else
		c->tail = b->prev;
	b->prev = b->next = NULL;
}

static void free_box(struct evm_fts_idcache *c, struct evm_fts_ids *b)
{
	unlink_box(c, b);
	c->total -= b->n;
	free(b->key);
	free(b->ent);
	free(b);
}

void evm_fts_idcache_free(struct evm_fts_idcache **cp)
{
	struct evm_fts_idcache *c = *cp;

	if (c == NULL)
		return;
	while (c->head != NULL)
		free_box(c, c->head);
	free(c);
	*cp = NULL;
}

size_t evm_fts_idcache_size(const struct evm_fts_idcache *c)
{
	return c->total;
}

/* Finds or makes the mailbox's entry, moves it first, evicts the least
 * recent others past EVM_FTS_IDS_MAX. */
struct evm_fts_ids *evm_fts_idcache_box(struct evm_fts_idcache *c, const char *owner, const char *mailbox_id,
					uint32_t uidvalidity)
{
	size_t ol = strlen(owner), ml = strlen(mailbox_id);
	struct evm_fts_ids *b;

	for (b = c->head; b != NULL; b = b->next) {
		if (b->klen == ol + 1 + ml && b->uidvalidity == uidvalidity && memcmp(b->key, owner, ol + 1) == 0 &&
		    memcmp(b->key + ol + 1, mailbox_id, ml) == 0)
			break;
	}
	if (b != NULL) {
		unlink_box(c, b);
	} else {
		b = xcalloc(1, sizeof *b);
		b->klen = ol + 1 + ml;
		b->key = xmalloc(b->klen + 1);
		memcpy(b->key, owner, ol + 1);
		memcpy(b->key + ol + 1, mailbox_id, ml + 1);
		b->uidvalidity = uidvalidity;
		b->cache = c;
	}
	b->next = c->head;
	if (c->head != NULL)
		c->head->prev = b;
	c->head = b;
	if (c->tail == NULL)
		c->tail = b;
	while (c->total > EVM_FTS_IDS_MAX && c->tail != b)
		free_box(c, c->tail);
	return b;
}

/* The position of uid, or where it would go. */
static size_t find(struct evm_fts_ids *b, uint32_t uid)
{
	size_t lo = 0, hi = b->n;

	if (b->pos < b->n && b->ent[b->pos].uid == uid)
		return b->pos;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (b->ent[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int evm_fts_ids_get(struct evm_fts_ids *b, uint32_t uid, char hex_r[33])
{
	size_t i = find(b, uid);

	if (i >= b->n || b->ent[i].uid != uid)
		return 0;
	b->pos = i + 1;
	evm_hex_encode(b->ent[i].id, 16, hex_r);
	return 1;
}

/* One lower-case hex digit's value (email ids are lower case), or -1. */
static int hexval(char ch)
{
	return ch >= 'A' && ch <= 'F' ? -1 : evm_hex_value((unsigned char)ch);
}

void evm_fts_ids_put(struct evm_fts_ids *b, uint32_t uid, const char *email_id)
{
	unsigned char id[16];
	size_t i;

	if (email_id == NULL || strlen(email_id) != 32)
		return;
	for (int k = 0; k < 16; k++) {
		int hi = hexval(email_id[2 * k]), lo = hexval(email_id[2 * k + 1]);

		if (hi < 0 || lo < 0)
			return;
		id[k] = (unsigned char)(hi << 4 | lo);
	}
	i = find(b, uid);
	if (i < b->n && b->ent[i].uid == uid)
		return;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->ent = xrealloc(b->ent, b->cap * sizeof *b->ent);
	}
	memmove(b->ent + i + 1, b->ent + i, (b->n - i) * sizeof *b->ent);
	b->ent[i].uid = uid;
	memcpy(b->ent[i].id, id, 16);
	b->n++;
	b->pos = i + 1;
	b->cache->total++;
}
