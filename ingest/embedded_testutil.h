/* embedded_testutil - helpers shared by the embedded log's unit tests
 * (header-only; included by ingest/test_embedded_*.c only). */
#ifndef EVM_EMBEDDED_TESTUTIL_H
#define EVM_EMBEDDED_TESTUTIL_H

#include <event2/thread.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "ingest/evlog.h"

struct t_log {
	struct evm_config cfg;
	struct event_base *base;
	struct evlog *log;
};

struct t_ack {
	int done;
	int status;
	int32_t partition;
	int64_t offset;
};

static int t_in_append;  /* set while evlog_append runs: callbacks must not see it */
static int t_cb_inside_append;

/* Loads a config for dir with the given partitions, segment size, linger. */
static int t_config(struct evm_config *cfg, const char *dir, int partitions, long seg_bytes,
		    int linger_ms)
{
	const char *error;
	char num[32];

	if (config_load(NULL, cfg, &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		return -1;
	}
	snprintf(num, sizeof num, "%d", partitions);
	if (config_set(cfg, "node.data_dir", dir, &error) < 0 ||
	    config_set(cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(cfg, "log.partitions", num, &error) < 0)
		goto fail;
	snprintf(num, sizeof num, "%ld", seg_bytes);
	if (config_set(cfg, "log.segment_bytes", num, &error) < 0)
		goto fail;
	snprintf(num, sizeof num, "%d", linger_ms);
	if (config_set(cfg, "log.linger_ms", num, &error) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "config_set: %s\n", error);
	config_free(cfg);
	return -1;
}

/* Opens the embedded log in dir; prints and returns -1 on failure. */
static int t_open(struct t_log *t, const char *dir, int partitions, long seg_bytes,
		  int linger_ms, const char **error_r)
{
	memset(t, 0, sizeof *t);
	if (t_config(&t->cfg, dir, partitions, seg_bytes, linger_ms) < 0) {
		*error_r = "config";
		return -1;
	}
	t->base = event_base_new();
	if (evlog_open(&t->cfg, t->base, &t->log, error_r) < 0) {
		event_base_free(t->base);
		config_free(&t->cfg);
		return -1;
	}
	return 0;
}

static void t_close(struct t_log *t)
{
	evlog_close(&t->log);
	event_base_free(t->base);
	config_free(&t->cfg);
}

static void t_ack_cb(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct t_ack *ack = ctx;

	if (t_in_append)
		t_cb_inside_append = 1;
	ack->done = 1;
	ack->status = status;
	ack->partition = partition;
	ack->offset = offset;
	if (status != 0)
		fprintf(stderr, "append failed: %s\n", error);
}

/* Appends through evlog_append, flagging a callback made from inside it. */
static int t_append(struct t_log *t, enum evm_topic_id topic, int32_t partition,
		    const char *key, const char *value, struct t_ack *ack)
{
	const char *error;
	int r;

	memset(ack, 0, sizeof *ack);
	t_in_append = 1;
	r = evlog_append(t->log, topic, partition, key, strlen(key), value, strlen(value),
			 t_ack_cb, ack, &error);
	t_in_append = 0;
	if (r < 0)
		fprintf(stderr, "append refused: %s\n", error);
	return r;
}

/* Runs the loop until no append is pending. */
static void t_drain(struct t_log *t)
{
	while (evlog_pending(t->log) > 0)
		event_base_loop(t->base, EVLOOP_ONCE);
}

/* The deterministic value of record seq of a partition. */
static const char *t_value(int32_t partition, int seq)
{
	static _Thread_local char v[512];
	int pad = (seq * 37) % 300;

	snprintf(v, sizeof v, "p%d-seq%d-%.*s", (int)partition, seq, pad,
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	return v;
}

/* Collected records of a read. */
struct t_read {
	int32_t partition;     /* -1: any */
	int64_t expect[64];    /* next expected offset per partition */
	size_t count;
	int bad;               /* out of order or wrong content */
	int check_values;      /* values must be t_value(partition, offset) */
	int stop_at;           /* stop the poll after this many (0: never) */
};

__attribute__((unused))
static int t_read_cb(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct t_read *rd = ctx;
	const char *want;

	if (rd->stop_at > 0 && rd->count >= (size_t)rd->stop_at) {
		*error_r = "stop requested";
		return -1;
	}
	if (rec->partition < 0 || rec->partition >= 64 || rec->offset != rd->expect[rec->partition]) {
		fprintf(stderr, "out of order: p%d offset %lld\n", (int)rec->partition,
			(long long)rec->offset);
		rd->bad = 1;
	} else {
		rd->expect[rec->partition]++;
	}
	want = t_value(rec->partition, (int)rec->offset);
	if (rd->check_values && (rec->value_len != strlen(want) ||
				 memcmp(rec->value, want, rec->value_len) != 0)) {
		fprintf(stderr, "wrong value at p%d offset %lld\n", (int)rec->partition,
			(long long)rec->offset);
		rd->bad = 1;
	}
	rd->count++;
	return 0;
}

#endif
