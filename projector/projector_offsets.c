/* projector_offsets - what the projector keeps in the view besides the
 * appliers' data: the next offset of every partition and the persisted
 * counters, read at (re)positioning and written in every batch; and the
 * log end offsets shown by projector_status(). */
#include "projector/projector_internal.h"
#include "projector/keys.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define END_REFRESH_MS 500
#define END_TIMEOUT_MS 200

/* View key holding a partition's next offset. */
static void offset_key(const struct proj_part *pt, char *key, size_t size)
{
	snprintf(key, size, "%s%s/%010d", pt->topic == EVM_TOPIC_CLUSTER ? KEY_LOCAL_OFFSET : KEY_OFFSET,
		 evm_topics[pt->topic].suffix, (int)pt->partition);
}

/* Reads a decimal value from the view; missing means 0. */
static int read_number(struct projector *p, const char *key, int64_t *val_r, const char **error_r)
{
	char *val = NULL, *end;
	long long n;
	int ret = view_get(p->view, key, strlen(key), &val, NULL, error_r);

	*val_r = 0;
	if (ret <= 0)
		return ret;
	n = strtoll(val, &end, 10);
	if (*end != '\0' || end == val || n < 0) {
		log_error("projector: view key %s holds %s, not a count", key, val);
		free(val);
		*error_r = "corrupt number in the view";
		return -1;
	}
	free(val);
	*val_r = n;
	return 1;
}

/* Loads the persisted counters. */
static int load_counters(struct projector *p, struct proj_counters *c, const char **error_r)
{
	int64_t v[4];

	if (read_number(p, KEY_STAT_APPLIED, &v[0], error_r) < 0 ||
	    read_number(p, KEY_STAT_REJECTED, &v[1], error_r) < 0 ||
	    read_number(p, KEY_STAT_DUPLICATES, &v[2], error_r) < 0 ||
	    read_number(p, KEY_STAT_DECODE_ERRORS, &v[3], error_r) < 0)
		return -1;
	c->applied = (uint64_t)v[0];
	c->rejected = (uint64_t)v[1];
	c->duplicates = (uint64_t)v[2];
	c->decode_errors = (uint64_t)v[3];
	return 0;
}

/* Drops every assignment and re-assigns each partition at its stored
 * offset: the start, and the recovery after any failed batch. */
int proj_resync(struct projector *p, const char **error_r)
{
	struct proj_counters c;

	if (evlog_reader_unassign_all(p->reader, error_r) < 0 || load_counters(p, &c, error_r) < 0)
		return -1;
	for (size_t i = 0; i < p->nparts; i++) {
		char key[128];

		offset_key(&p->parts[i], key, sizeof key);
		if (read_number(p, key, &p->next[i], error_r) < 0)
			return -1;
	}
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nparts; i++)
		p->parts[i].applied = p->next[i];
	p->counters = c;
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nparts; i++) {
		if (evlog_reader_assign(p->reader, p->parts[i].topic, p->parts[i].partition,
					p->next[i], error_r) < 0)
			return -1;
	}
	return 0;
}

/* Asks the log for every partition's end offset and stores them. */
void proj_refresh_ends(struct projector *p)
{
	for (size_t i = 0; i < p->nparts; i++) {
		const char *error = NULL;
		int64_t end;

		if (evlog_reader_end_offset(p->reader, p->parts[i].topic, p->parts[i].partition,
					    END_TIMEOUT_MS, &end, &error) < 0) {
			log_debug("projector: end offset of %s/%d: %s",
				  evm_topics[p->parts[i].topic].suffix, (int)p->parts[i].partition, error);
			continue;
		}
		pthread_mutex_lock(&p->mu);
		p->parts[i].end = end;
		pthread_mutex_unlock(&p->mu);
	}
	p->next_end_refresh = evm_mono_ms() + END_REFRESH_MS;
}

/* Puts a decimal value into the batch. */
static void put_number(struct view_batch *vb, const char *key, uint64_t n)
{
	char val[32];

	snprintf(val, sizeof val, "%llu", (unsigned long long)n);
	view_batch_put(vb, key, strlen(key), val, strlen(val));
}

/* Adds the new offsets and counters to the batch and commits it. */
int proj_commit_batch(struct projector *p, struct proj_batch *b, const char **error_r)
{
	const struct proj_counters *d = &b->delta;

	for (size_t i = 0; i < p->nparts; i++) {
		char key[128];

		if (b->next[i] == p->next[i])
			continue;
		offset_key(&p->parts[i], key, sizeof key);
		put_number(b->vb, key, (uint64_t)b->next[i]);
	}
	if (d->applied != 0)
		put_number(b->vb, KEY_STAT_APPLIED, p->counters.applied + d->applied);
	if (d->rejected != 0)
		put_number(b->vb, KEY_STAT_REJECTED, p->counters.rejected + d->rejected);
	if (d->duplicates != 0)
		put_number(b->vb, KEY_STAT_DUPLICATES, p->counters.duplicates + d->duplicates);
	if (d->decode_errors != 0)
		put_number(b->vb, KEY_STAT_DECODE_ERRORS, p->counters.decode_errors + d->decode_errors);
	return view_batch_commit(&b->vb, error_r);
}
