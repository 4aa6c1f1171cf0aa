/* embedded_compact - compaction of the embedded log's compacted topics.
 *
 * Kafka's log cleaner semantics for the topics whose cleanup.policy is
 * compact (blob, directory, cluster): in the closed segments of a partition
 * only the record with the highest offset of each key survives (a newer one
 * anywhere later, the active segment included, makes the older garbage),
 * and a tombstone (empty value) that is itself the latest goes once its ts
 * is older than log.embedded_tombstone_retention_ms. Records keep their
 * offsets, so the log gets gaps (embedded_reader.c accepts them). Records
 * without a key are kept. The active segment is never touched.
 *
 * Which segments: a segment is closed once the segment after it holds a
 * durable record: before that, a failed batch's repair may still make it
 * active again (embedded_partition.h). A partition is scanned again only
 * when something was appended since its last pass or a tombstone it kept
 * has expired since; then every closed segment holding any garbage is
 * rewritten. "Any garbage" rather than Kafka's dirty ratio (0.5): the
 * embedded log serves one node with modest data, the scan reads a
 * partition once per interval at idle I/O priority, and a user who deleted
 * mail is promised the bytes go, not that they go once half a segment is
 * garbage.
 *
 * Crash safety: the kept records are written to "<segment>.compact" beside
 * the segment, fsync'ed, renamed over the segment and the directory
 * fsync'ed; a segment left with nothing is unlinked. A crash at any point
 * leaves the old or the new file whole; a leftover temporary file is
 * removed at open (embedded_partition.c). The in-memory swap (fd, index,
 * size) is made holding swap_lock exclusively and the mutex, so a reader
 * sees the old or the new segment whole, never half of each.
 *
 * Threads: passes run on the compactor thread (every
 * log.embedded_compact_interval_s, and on request: POST /admin/log/compact)
 * or a caller of emb_compact_run (tests); one at a time (compact_mu).
 * Neither the writer nor the loop thread compacts. */
#ifndef EVM_EMBEDDED_COMPACT_H
#define EVM_EMBEDDED_COMPACT_H

#include <stdint.h>

struct embedded_log;

struct emb_compact_stats {
	uint64_t runs;                 /* passes completed */
	uint64_t segments_rewritten;
	uint64_t segments_removed;     /* left empty, deleted */
	uint64_t records_removed;
	uint64_t bytes_reclaimed;
	uint64_t errors;               /* partitions a pass failed on */
	int64_t last_run_ms;           /* wall clock at the end of the last pass; 0 = none */
};

/* embedded_compact.c: one pass over partition p, as if the time were now_ms
 * (compact_mu held). 0, or -1 with *error_r (thread-local text). */
struct emb_partition;
int emb_compact_partition(struct embedded_log *l, struct emb_partition *p, int64_t now_ms,
			  const char **error_r);
/* embedded_compactor.c: runs one pass over every compacted topic now, as if the time were now_ms
 * (ms since the epoch: the tombstone horizon). Blocking. Returns 0, or -1
 * when some partition failed (the others are still compacted; *error_r
 * names the first failure, thread-local text). */
int emb_compact_run(struct embedded_log *l, int64_t now_ms, const char **error_r);
/* Starts the compactor thread: a pass every log.embedded_compact_interval_s
 * (0: none) and one whenever emb_compactor_request asks. */
int emb_compactor_start(struct embedded_log *l, const char **error_r);
/* Asks the compactor thread for a pass now; returns at once (the pass is
 * done when the stats' runs has grown). Any thread. */
void emb_compactor_request(struct embedded_log *l);
/* Stops and joins it (a pass in progress stops between segments). */
void emb_compactor_stop(struct embedded_log *l);
/* A copy of the counters. */
void emb_compact_stats_get(struct embedded_log *l, struct emb_compact_stats *st_r);

/* Test hook: _exit(EMB_TEST_CRASH_STATUS) in the next rewrite, at point 1
 * (temporary file written and fsync'ed, not renamed) or 2 (renamed, the
 * directory not fsync'ed, the swap not published); 0 = never. */
void emb_test_compact_crash(int point);

#endif
