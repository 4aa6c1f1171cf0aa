/* smtp_rate - see smtp_rate.h. */
#include "gateway/smtp/smtp_rate.h"
#include "gateway/auth_throttle.h"
#include "common/buf.h"
#include "common/ids.h"

#include <stdlib.h>
#include <string.h>

#define RATE_BUCKETS 60          /* buckets in the window */
#define RATE_CHAINS 1024

struct rate_entry {
	struct rate_entry *next;                /* hash chain */
	struct rate_entry *older, *newer;       /* LRU list */
	char *key;
	int64_t minute[RATE_BUCKETS];   /* the bucket number each counts, -1 unused */
	uint32_t count[RATE_BUCKETS];
};

struct smtp_rate {
	unsigned max;
	int64_t bucket_ms;              /* 60000: an hour's window; 1000: a minute's */
	int by_client;                  /* keys are client addresses (auth_throttle_client_key) */
	unsigned max_keys, nkeys;
	struct rate_entry *oldest, *newest;
	struct rate_entry *chains[RATE_CHAINS];
};

struct smtp_rate *smtp_rate_new(unsigned max_per_hour)
{
	struct smtp_rate *r = xcalloc(1, sizeof *r);

	r->max = max_per_hour;
	r->bucket_ms = 60000;
	r->max_keys = SMTP_RATE_KEYS_DEFAULT;
	return r;
}

struct smtp_rate *smtp_rate_new_per_minute(unsigned max)
{
	struct smtp_rate *r = smtp_rate_new(max);

	r->bucket_ms = 1000;
	r->by_client = 1;
	return r;
}

static void lru_unlink(struct smtp_rate *r, struct rate_entry *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		r->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		r->newest = e->older;
	e->older = e->newer = NULL;
}

static void lru_push(struct smtp_rate *r, struct rate_entry *e)
{
	e->older = r->newest;
	e->newer = NULL;
	if (r->newest != NULL)
		r->newest->newer = e;
	else
		r->oldest = e;
	r->newest = e;
}

static struct rate_entry **chain_of(struct smtp_rate *r, const char *key)
{
	return &r->chains[evm_fnv1a32(key, strlen(key)) % RATE_CHAINS];
}

/* Unlinks *pp (an entry in its chain) from both lists and frees it. */
static void entry_drop(struct smtp_rate *r, struct rate_entry **pp)
{
	struct rate_entry *e = *pp;

	*pp = e->next;
	lru_unlink(r, e);
	r->nkeys--;
	free(e->key);
	free(e);
}

/* Drops the least recently used key. */
static void evict_oldest(struct smtp_rate *r)
{
	struct rate_entry **pp = chain_of(r, r->oldest->key);

	while (*pp != r->oldest)
		pp = &(*pp)->next;
	entry_drop(r, pp);
}

void smtp_rate_set_max_keys(struct smtp_rate *r, unsigned max_keys)
{
	r->max_keys = max_keys > 0 ? max_keys : 1;
	while (r->nkeys > r->max_keys)
		evict_oldest(r);
}

unsigned smtp_rate_keys(const struct smtp_rate *r)
{
	return r->nkeys;
}

void smtp_rate_free(struct smtp_rate **rp)
{
	struct smtp_rate *r = *rp;

	if (r == NULL)
		return;
	while (r->oldest != NULL)
		evict_oldest(r);
	free(r);
	*rp = NULL;
}

/* Counts of e in the 60 buckets ending with bucket now. */
static uint64_t entry_sum(const struct rate_entry *e, int64_t now)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < RATE_BUCKETS; i++) {
		if (e->minute[i] > now - RATE_BUCKETS && e->minute[i] <= now)
			sum += e->count[i];
	}
	return sum;
}

/* The key's entry, marked as just used (created with create, evicting the
 * least recently used when full), dropping idle entries met on the way. */
static struct rate_entry *lookup(struct smtp_rate *r, const char *key, int64_t now, int create)
{
	struct rate_entry **pp = chain_of(r, key), *e;

	while ((e = *pp) != NULL) {
		if (strcmp(e->key, key) == 0) {
			lru_unlink(r, e);
			lru_push(r, e);
			return e;
		}
		if (entry_sum(e, now) == 0) {
			entry_drop(r, pp);
			continue;
		}
		pp = &e->next;
	}
	if (!create)
		return NULL;
	if (r->nkeys >= r->max_keys)
		evict_oldest(r);
	pp = chain_of(r, key);   /* the eviction may have changed this chain */
	e = xcalloc(1, sizeof *e);
	e->key = xstrdup(key);
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		e->minute[i] = -1;
	e->next = *pp;
	*pp = e;
	lru_push(r, e);
	r->nkeys++;
	return e;
}

/* The key counted: a client's address becomes its IPv4 address or /64. */
static const char *rate_key(const struct smtp_rate *r, const char *key, char buf[AUTH_THROTTLE_CLIENT_KEY_MAX])
{
	if (!r->by_client)
		return key;
	auth_throttle_client_key(key, buf);
	return buf;
}

int smtp_rate_allowed(struct smtp_rate *r, const char *key, int64_t now_ms)
{
	char buf[AUTH_THROTTLE_CLIENT_KEY_MAX];
	struct rate_entry *e;
	int64_t now;

	if (r == NULL || r->max == 0)
		return 1;
	now = now_ms / r->bucket_ms;
	e = lookup(r, rate_key(r, key, buf), now, 0);
	return e == NULL || entry_sum(e, now) < r->max;
}

void smtp_rate_record(struct smtp_rate *r, const char *key, int64_t now_ms)
{
	char buf[AUTH_THROTTLE_CLIENT_KEY_MAX];
	struct rate_entry *e;
	int64_t now;
	size_t b;

	if (r == NULL || r->max == 0)
		return;
	now = now_ms / r->bucket_ms;
	b = (size_t)(now % RATE_BUCKETS);
	e = lookup(r, rate_key(r, key, buf), now, 1);
	if (e->minute[b] != now) {
		e->minute[b] = now;
		e->count[b] = 0;
	}
	e->count[b]++;
}
