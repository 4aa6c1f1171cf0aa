/* projector_seen - the event ids written during a bulk apply, in a bloom
 * filter, so the duplicate check of an event (is ev/<id> in the view?)
 * skips its RocksDB lookup when the filter says the id was never written.
 *
 * A bulk apply starts from an empty view (projector_bulk.c), so while it
 * lasts an ev/<id> can only be in the view if this projector wrote it, and
 * every write of one goes through proj_seen_add first: a "no" is certain,
 * a "maybe" (a written id, or a false positive) still asks RocksDB. A
 * batch dropped after its ids were added leaves extra "maybe"s, never a
 * wrong "no". The answer of the check, and so the view, is the same as
 * without the filter. Outside a bulk apply there is no filter. */
#include "projector/projector_internal.h"
#include "common/buf.h"

#include <stdlib.h>
#include <string.h>

#define SEEN_BITS_PER_ID 10
#define SEEN_PROBES 7
#define SEEN_MIN_BITS (1u << 16)
#define SEEN_MAX_BITS (1ull << 31)   /* 256 MiB: ~200 million ids at 1 % */

struct proj_seen {
	uint64_t *bits;
	uint64_t mask;             /* bit count - 1 (a power of two) */
};

/* A 64-bit mix (splitmix64's finaliser). */
static uint64_t mix(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* Two hashes of an id (any text; ids are 32 hex digits). */
static void id_hash(const char *id, uint64_t *h1, uint64_t *h2)
{
	uint64_t a = 0x9e3779b97f4a7c15ULL, b = 0x632be59bd9b4e019ULL;

	for (const unsigned char *p = (const unsigned char *)id; *p != '\0'; p++) {
		a = (a ^ *p) * 0x100000001b3ULL;
		b = (b + *p) * 0xff51afd7ed558ccdULL;
	}
	*h1 = mix(a);
	*h2 = mix(b) | 1;
}

void proj_seen_begin(struct projector *p, uint64_t ids)
{
	uint64_t want = ids * SEEN_BITS_PER_ID, n = SEEN_MIN_BITS;

	proj_seen_end(p);
	while (n < want && n < SEEN_MAX_BITS)
		n <<= 1;
	p->seen = xmalloc(sizeof *p->seen);
	p->seen->bits = xcalloc(n / 64, sizeof *p->seen->bits);
	p->seen->mask = n - 1;
}

void proj_seen_end(struct projector *p)
{
	if (p->seen == NULL)
		return;
	free(p->seen->bits);
	free(p->seen);
	p->seen = NULL;
}

void proj_seen_add(struct projector *p, const char *id)
{
	struct proj_seen *s = p->seen;
	uint64_t h1, h2;

	if (s == NULL)
		return;
	id_hash(id, &h1, &h2);
	for (int i = 0; i < SEEN_PROBES; i++, h1 += h2)
		s->bits[(h1 & s->mask) >> 6] |= 1ull << (h1 & 63);
}

bool proj_seen_maybe(const struct projector *p, const char *id)
{
	const struct proj_seen *s = p->seen;
	uint64_t h1, h2;

	if (s == NULL)
		return true;
	id_hash(id, &h1, &h2);
	for (int i = 0; i < SEEN_PROBES; i++, h1 += h2) {
		if ((s->bits[(h1 & s->mask) >> 6] & (1ull << (h1 & 63))) == 0)
			return false;
	}
	return true;
}
