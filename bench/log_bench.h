/* log_bench - what bench_log.c and its peer (log_peer.c) share: the
 * workload (one set of encoded events, appended byte-identically through
 * every path) and the raw-librdkafka / kcat peer runs.
 *
 * Every run fills a struct bench_result; a run that did not happen or did
 * not finish has ok == 0 and a note saying why. Nothing here asserts a
 * timing: this is a benchmark, not a test. */
#ifndef EVM_LOG_BENCH_H
#define EVM_LOG_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/ids.h"
#include "ingest/event.h"
#include "ingest/evlog.h"

#include <event2/event.h>

/* The workload: n directory events, encoded once. key[i] is the event id
 * (directory records are keyed by event id, projector/directory.h). */
struct bench_payloads {
	size_t n;
	char **value;
	size_t *value_len;
	char (*key)[EVM_ID_HEX_LEN + 1];
	uint64_t bytes;            /* sum of value_len */
	size_t tenants, domains, accounts;
};

struct bench_result {
	int ran;                   /* 0: skipped (note says why) */
	int ok;                    /* 1: every record went through */
	double secs;
	size_t count;              /* records that went through */
	size_t failed;
	double cpu;                /* process CPU seconds of the run (rebuild rows) */
	char digest[65];           /* bench_replay: the view's digest once caught up, or "" */
	char note[256];
};

/* Events (or messages) per second of a finished run, 0 otherwise. */
double bench_rate(const struct bench_result *r);
/* Monotonic seconds; CPU seconds of the process (every thread). */
double bench_now(void);
double bench_cpu(void);

/* bench_log.c: event i of the directory workload (per 100: one
 * tenant.create, one domain.add, 98 account.create; *rng is its filler). */
int bench_dir_event(size_t i, uint64_t *rng, struct evm_event *ev, const char **error_r);
/* A projector over log into a fresh view at view_dir, timed from
 * projector_start() until it applied n events with lag 0 everywhere;
 * *accepted_r = how many were accepted. */
void bench_replay(const struct evm_config *cfg, struct evlog *log, struct event_base *base,
		  const char *view_dir, size_t n, int timeout_s, int verbose,
		  struct bench_result *res, size_t *accepted_r);

/* log_rebuild.c: the rebuild rows. A fresh embedded log under dir gets
 * dir_events directory events and mail_msgs messages (a blob.chunk of
 * msg_bytes and its message.append: two events each), interleaved; then,
 * in one run, a raw read of every record through evlog_reader (no decode)
 * and a projector replay of them into a fresh view are timed. */
struct rebuild_opts {
	size_t dir_events;
	size_t mail_msgs;
	size_t msg_bytes;
	int batch_max;             /* <= 0: the config default */
	int timeout_s;
	int verbose;
};
void bench_rebuild(const struct rebuild_opts *o, const char *dir, struct bench_result *read_r,
		   struct bench_result *replay_r);

/* The peer runs, all against brokers (host:port). */
struct peer_opts {
	const char *brokers;
	int linger_ms;
	size_t inflight;
	int timeout_s;
	const char *warmup_topic;  /* peer_produce's warm-up record goes here */
};

/* Creates topic with 1 partition, replication 1, cleanup.policy=compact
 * (the configuration of evmail's directory topic) and waits until metadata
 * shows it. Returns 0 or -1 with *error_r (static text). */
int peer_create_topic(const struct peer_opts *o, const char *topic, const char **error_r);
/* Produces every payload to partition 0 of topic with acks=all,
 * enable.idempotence, linger.ms = o->linger_ms, at most o->inflight
 * unacknowledged; timed from the first produce to the last delivery
 * report. Before the clock, the producer is created and one warm-up record
 * to o->warmup_topic is acknowledged (connections, producer id), as
 * bench_log does for evmail. */
void peer_produce(const struct peer_opts *o, const char *topic, const struct bench_payloads *pl,
		  struct bench_result *res);
/* A plain consumer (assign partition 0 from offset 0, no commits) reads n
 * messages; timed from creating the consumer to the n-th message. */
void peer_consume(const struct peer_opts *o, const char *topic, size_t n, struct bench_result *res);

/* kcat runs over a "key<TAB>value" line file; timed around the process
 * (start-up included). path: the kcat binary. */
void peer_kcat_produce(const struct peer_opts *o, const char *kcat, const char *topic,
		       const char *file, const char *errlog, struct bench_result *res);
void peer_kcat_consume(const struct peer_opts *o, const char *kcat, const char *topic, size_t n,
		       const char *outfile, const char *errlog, struct bench_result *res);

#endif
