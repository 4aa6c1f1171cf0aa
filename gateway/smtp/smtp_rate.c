/* smtp_rate - see smtp_rate.h. */
#include "gateway/smtp/smtp_rate.h"
#include "common/buf.h"
#include "common/ids.h"

#include <stdlib.h>
#include <string.h>

#define RATE_BUCKETS 60          /* buckets in the window */
#define RATE_CHAINS 1024

struct rate_entry {
	struct rate_entry *next;
	char *account;
	int64_t minute[RATE_BUCKETS];   /* the bucket number each counts, -1 unused */
	uint32_t count[RATE_BUCKETS];
};

struct smtp_rate {
	unsigned max;
	int64_t bucket_ms;              /* 60000: an hour's window; 1000: a minute's */
	struct rate_entry *chains[RATE_CHAINS];
};

struct smtp_rate *smtp_rate_new(unsigned max_per_hour)
{
	struct smtp_rate *r = xcalloc(1, sizeof *r);

	r->max = max_per_hour;
	r->bucket_ms = 60000;
	return r;
}

struct smtp_rate *smtp_rate_new_per_minute(unsigned max)
{
	struct smtp_rate *r = smtp_rate_new(max);

	r->bucket_ms = 1000;
	return r;
}

static void entry_free(struct rate_entry *e)
{
	free(e->account);
	free(e);
}

void smtp_rate_free(struct smtp_rate **rp)
{
	struct smtp_rate *r = *rp;

	if (r == NULL)
		return;
	for (size_t i = 0; i < RATE_CHAINS; i++) {
		while (r->chains[i] != NULL) {
			struct rate_entry *e = r->chains[i];
			r->chains[i] = e->next;
			entry_free(e);
		}
	}
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

/* The account's entry (created with create), dropping idle entries met on
 * the way. */
static struct rate_entry *lookup(struct smtp_rate *r, const char *account, int64_t now, int create)
{
	struct rate_entry **pp = &r->chains[evm_fnv1a32(account, strlen(account)) % RATE_CHAINS];
	struct rate_entry *e;

	while ((e = *pp) != NULL) {
		if (strcmp(e->account, account) == 0)
			return e;
		if (entry_sum(e, now) == 0) {
			*pp = e->next;
			entry_free(e);
			continue;
		}
		pp = &e->next;
	}
	if (!create)
		return NULL;
	e = xcalloc(1, sizeof *e);
	e->account = xstrdup(account);
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		e->minute[i] = -1;
	e->next = *pp;
	*pp = e;
	return e;
}

int smtp_rate_allowed(struct smtp_rate *r, const char *account, int64_t now_ms)
{
	struct rate_entry *e;
	int64_t now;

	if (r == NULL || r->max == 0)
		return 1;
	now = now_ms / r->bucket_ms;
	e = lookup(r, account, now, 0);
	return e == NULL || entry_sum(e, now) < r->max;
}

void smtp_rate_record(struct smtp_rate *r, const char *account, int64_t now_ms)
{
	struct rate_entry *e;
	int64_t now;
	size_t b;

	if (r == NULL || r->max == 0)
		return;
	now = now_ms / r->bucket_ms;
	b = (size_t)(now % RATE_BUCKETS);
	e = lookup(r, account, now, 1);
	if (e->minute[b] != now) {
		e->minute[b] = now;
		e->count[b] = 0;
	}
	e->count[b]++;
}
