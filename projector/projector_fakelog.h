/* projector_fakelog - an in-memory log backend for the projector's tests.
 *
 * Test-only, header-only (included by test_projector*.c, never by the
 * library). It implements struct evlog_ops over per-partition arrays: the
 * test pushes records directly (fake_push), any number of readers consume
 * them with Kafka's offset semantics. Knobs: `missing` makes
 * refresh_topics report the mail topic missing; `fail_polls` makes that
 * many polls deliver their records and then fail, as a backend error in
 * the middle of a batch would. */
#ifndef EVM_PROJECTOR_FAKELOG_H
#define EVM_PROJECTOR_FAKELOG_H

#include "ingest/evlog_backend.h"
#include "ingest/event.h"
#include "common/buf.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FAKE_MAX_PARTS 16

struct fake_rec {
	struct evlog_record rec;
	char *value;
};

struct fake_part {
	struct fake_rec **recs;
	size_t n, cap;
};

struct fake_log {
	struct evlog log;              /* first: evlog.c casts */
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int32_t nparts[EVM_TOPIC_COUNT];
	struct fake_part parts[EVM_TOPIC_COUNT][FAKE_MAX_PARTS];
	int missing;                   /* under mu */
	int fail_polls;                /* under mu */
};

struct fake_reader {
	struct evlog_reader r;         /* first */
	struct fake_log *fl;
	int assigned[EVM_TOPIC_COUNT][FAKE_MAX_PARTS];
	int64_t pos[EVM_TOPIC_COUNT][FAKE_MAX_PARTS];
	unsigned rr;                   /* round-robin start */
};

static int fake_refresh_topics(struct evlog *log, int timeout_ms, const char **missing_r)
{
	struct fake_log *fl = (struct fake_log *)log;
	int missing;

	pthread_mutex_lock(&fl->mu);
	missing = fl->missing;
	pthread_mutex_unlock(&fl->mu);
	if (missing) {
		*missing_r = "evmail.mail";
		return 0;
	}
	for (int t = 0; t < EVM_TOPIC_COUNT; t++)
		__atomic_store_n(&log->partitions[t], fl->nparts[t], __ATOMIC_RELEASE);
	return 1;
}

static int fake_unsupported(const char **error_r)
{
	*error_r = "not supported by the fake log";
	return -1;
}

static int fake_open(const struct evm_config *cfg, struct event_base *base,
		     struct evlog **log_r, const char **error_r)
{
	return fake_unsupported(error_r);
}

static void fake_close(struct evlog *log)
{
}

static int fake_append(struct evlog *log, enum evm_topic_id topic, int32_t partition,
		       const void *key, size_t key_len, const void *value, size_t value_len,
		       evlog_append_cb *cb, void *ctx, const char **error_r)
{
	return fake_unsupported(error_r);
}

static size_t fake_pending(struct evlog *log)
{
	return 0;
}

static int fake_topics(struct evlog *log, json_t **report_r, const char **error_r)
{
	return fake_unsupported(error_r);
}

static int fake_reader_open(struct evlog *log, struct evlog_reader **reader_r, const char **error_r)
{
	struct fake_reader *fr = xcalloc(1, sizeof *fr);

	fr->fl = (struct fake_log *)log;
	*reader_r = &fr->r;
	return 0;
}

static int fake_reader_assign(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
			      int64_t next_offset, const char **error_r)
{
	struct fake_reader *fr = (struct fake_reader *)r;

	if (partition < 0 || partition >= fr->fl->nparts[topic])
		return fake_unsupported(error_r);
	fr->assigned[topic][partition] = 1;
	fr->pos[topic][partition] = next_offset;
	return 0;
}

static int fake_reader_unassign_all(struct evlog_reader *r, const char **error_r)
{
	struct fake_reader *fr = (struct fake_reader *)r;

	memset(fr->assigned, 0, sizeof fr->assigned);
	return 0;
}

/* Takes up to max records, one partition at a time in turn. Holds mu. */
static size_t fake_take(struct fake_reader *fr, size_t max, struct fake_rec **out)
{
	struct fake_log *fl = fr->fl;
	const int slots = EVM_TOPIC_COUNT * FAKE_MAX_PARTS;
	size_t n = 0;
	int progress = 1;

	while (n < max && progress) {
		progress = 0;
		for (int k = 0; k < slots && n < max; k++) {
			int s = (int)((fr->rr + (unsigned)k) % (unsigned)slots);
			int t = s / FAKE_MAX_PARTS, p = s % FAKE_MAX_PARTS;
			if (!fr->assigned[t][p] || fr->pos[t][p] >= (int64_t)fl->parts[t][p].n)
				continue;
			out[n++] = fl->parts[t][p].recs[fr->pos[t][p]++];
			progress = 1;
		}
	}
	fr->rr++;
	return n;
}

static int fake_reader_poll(struct evlog_reader *r, int timeout_ms, size_t max,
			    evlog_record_cb *cb, void *ctx, const char **error_r)
{
	struct fake_reader *fr = (struct fake_reader *)r;
	struct fake_log *fl = fr->fl;
	struct fake_rec **got = xcalloc(max ? max : 1, sizeof *got);
	struct timespec until;
	size_t n;
	int fail = 0;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_nsec += (long)timeout_ms * 1000000L;
	until.tv_sec += until.tv_nsec / 1000000000L;
	until.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&fl->mu);
	while ((n = fake_take(fr, max, got)) == 0) {
		if (pthread_cond_timedwait(&fl->cond, &fl->mu, &until) == ETIMEDOUT) {
			n = fake_take(fr, max, got);
			break;
		}
	}
	if (n > 0 && fl->fail_polls > 0) {
		fl->fail_polls--;
		fail = 1;
	}
	pthread_mutex_unlock(&fl->mu);
	/* Records are never freed or moved while the log lives. */
	for (size_t i = 0; i < n; i++) {
		if (cb(ctx, &got[i]->rec, error_r) < 0) {
			free(got);
			return -1;
		}
	}
	free(got);
	if (fail) {
		*error_r = "fake log: injected poll failure";
		return -1;
	}
	return (int)n;
}

static int fake_reader_end_offset(struct evlog_reader *r, enum evm_topic_id topic, int32_t partition,
				  int timeout_ms, int64_t *end_r, const char **error_r)
{
	struct fake_log *fl = ((struct fake_reader *)r)->fl;

	pthread_mutex_lock(&fl->mu);
	*end_r = (int64_t)fl->parts[topic][partition].n;
	pthread_mutex_unlock(&fl->mu);
	return 0;
}

static void fake_reader_close(struct evlog_reader *r)
{
	free(r);
}

static const struct evlog_ops fake_ops = {
	.name = "fake",
	.open = fake_open,
	.close = fake_close,
	.refresh_topics = fake_refresh_topics,
	.append = fake_append,
	.pending = fake_pending,
	.topics_create = fake_topics,
	.topics_describe = fake_topics,
	.reader_open = fake_reader_open,
	.reader_assign = fake_reader_assign,
	.reader_unassign_all = fake_reader_unassign_all,
	.reader_poll = fake_reader_poll,
	.reader_end_offset = fake_reader_end_offset,
	.reader_close = fake_reader_close,
};

/* A log with mail_parts mail partitions (the others have their spec's). */
static struct fake_log *fake_log_new(const struct evm_config *cfg, int32_t mail_parts)
{
	struct fake_log *fl = xcalloc(1, sizeof *fl);

	fl->log.ops = &fake_ops;
	fl->log.cfg = cfg;
	pthread_mutex_init(&fl->mu, NULL);
	pthread_cond_init(&fl->cond, NULL);
	for (int t = 0; t < EVM_TOPIC_COUNT; t++) {
		fl->nparts[t] = evm_topics[t].fixed_partitions > 0 ? evm_topics[t].fixed_partitions : mail_parts;
		fl->log.partitions[t] = -1;
	}
	return fl;
}

static void fake_log_free(struct fake_log **flp)
{
	struct fake_log *fl = *flp;

	for (int t = 0; t < EVM_TOPIC_COUNT; t++) {
		for (int p = 0; p < FAKE_MAX_PARTS; p++) {
			for (size_t i = 0; i < fl->parts[t][p].n; i++) {
				free(fl->parts[t][p].recs[i]->value);
				free(fl->parts[t][p].recs[i]);
			}
			free(fl->parts[t][p].recs);
		}
	}
	pthread_cond_destroy(&fl->cond);
	pthread_mutex_destroy(&fl->mu);
	free(fl);
	*flp = NULL;
}

/* Appends a record; returns its offset. */
static int64_t fake_push(struct fake_log *fl, enum evm_topic_id topic, int32_t partition,
			 const void *value, size_t len)
{
	struct fake_part *fp = &fl->parts[topic][partition];
	struct fake_rec *r = xcalloc(1, sizeof *r);
	int64_t off;

	r->value = xmalloc(len + 1);
	memcpy(r->value, value, len);
	r->value[len] = '\0';
	pthread_mutex_lock(&fl->mu);
	if (fp->n == fp->cap) {
		fp->cap = fp->cap ? fp->cap * 2 : 64;
		fp->recs = xrealloc(fp->recs, fp->cap * sizeof *fp->recs);
	}
	off = (int64_t)fp->n;
	r->rec = (struct evlog_record){
		.topic = topic, .partition = partition, .offset = off, .ts = 1700000000000 + off,
		.value = r->value, .value_len = len,
	};
	fp->recs[fp->n++] = r;
	pthread_cond_broadcast(&fl->cond);
	pthread_mutex_unlock(&fl->mu);
	return off;
}

static int64_t fake_end(struct fake_log *fl, enum evm_topic_id topic, int32_t partition)
{
	int64_t n;

	pthread_mutex_lock(&fl->mu);
	n = (int64_t)fl->parts[topic][partition].n;
	pthread_mutex_unlock(&fl->mu);
	return n;
}

/* Encodes an event with a fixed id and ts (so every process that builds
 * the same log gets the same bytes) and pushes it. data is stolen. */
static int64_t fake_push_event(struct fake_log *fl, enum evm_topic_id topic, int32_t partition,
			       const char *id, const char *type, const char *tenant,
			       const char *account, json_t *data)
{
	struct evm_event ev;
	const char *error = NULL;
	char *out = NULL;
	size_t len = 0;
	int64_t off;

	if (evm_event_init(&ev, type, tenant, account, "admin", data, &error) < 0)
		abort();
	snprintf(ev.id, sizeof ev.id, "%s", id);
	ev.ts = 1700000000000;
	if (evm_event_encode(&ev, &out, &len, &error) < 0)
		abort();
	off = fake_push(fl, topic, partition, out, len);
	free(out);
	evm_event_clear(&ev);
	return off;
}

/* A 32-hex-digit event id from a number. */
static const char *fake_id(unsigned long long n, char out[EVM_ID_HEX_LEN + 1])
{
	snprintf(out, EVM_ID_HEX_LEN + 1, "%016llx%016llx", 0xe7e7ULL, n);
	return out;
}

#endif
