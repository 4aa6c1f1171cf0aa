/* embedded_partition - the segments of one topic-partition.
 *
 * Loading recovers the partition: only the last segment can hold a torn
 * tail (a roll fsyncs the old segment before the new one is created), so it
 * is scanned and cut; earlier segments are indexed lazily by the first
 * reader that needs them, which also checks every record there.
 *
 * Threads: segs/nsegs and durable_end are published under the log mutex;
 * the writer-thread fields are touched only by the writer. The writer only
 * ever touches the active (last) segment and the ones its current batch
 * created; the compactor only closed ones (embedded_compact.h), so neither
 * holds a segment the other changes. */
#ifndef EVM_EMBEDDED_PARTITION_H
#define EVM_EMBEDDED_PARTITION_H

#include <pthread.h>
#include <stdint.h>

#include "common/buf.h"
#include "ingest/embedded_segment.h"

struct emb_pending_index {
	struct emb_segment *seg;
	int64_t offset, pos;
};

struct emb_partition {
	int32_t id;
	char *dir;
	int compacted;                   /* cleanup.policy compact: offsets may have gaps */
	/* published */
	struct emb_segment **segs;
	size_t nsegs, cap;
	int64_t durable_end;
	uint64_t gen;                    /* bumped when compaction replaces or drops a segment */
	/* compactor thread (embedded_compact.c) */
	int64_t compact_seen_end;        /* durable_end its last pass saw; -1: none yet */
	int64_t compact_next_expiry;     /* a kept tombstone expires then (ms); INT64_MAX: none */
	/* writer */
	struct emb_segment *active;      /* the last segment, read without the mutex
					  * (compaction changes segs[] under it) */
	int64_t next_offset;
	struct buf wbuf;                 /* encoded, not yet written */
	struct emb_pending_index *pidx;  /* index entries to publish */
	size_t npidx, cappidx;
	struct emb_segment *batch_first; /* segment active when the batch began */
	int touched;
	int failed;                      /* a write or fsync failed: no more appends */
	char fail_error[512];
};

/* Opens (creating if needed) the partition directory and recovers it;
 * compacted: the topic is compacted (gaps allowed; a compaction's leftover
 * temporary file is removed). */
int emb_partition_load(struct emb_partition *p, const char *dir, int32_t id, int compacted,
		       const char **error_r);
void emb_partition_free(struct emb_partition *p);
/* The segment holding offset (last base <= offset); caller holds the mutex. */
struct emb_segment *emb_partition_find(const struct emb_partition *p, int64_t offset,
				       struct emb_segment **next_r);

/* Writer: encodes one record for the partition, rolling to a new segment
 * first when the active one has reached segment_bytes, or its first record
 * is segment_ms older than ts (0: never by age); the roll writes and
 * fsyncs what is buffered, then locks mu to publish the new segment. */
int emb_partition_stage(struct emb_partition *p, pthread_mutex_t *mu, int64_t segment_bytes,
			int64_t segment_ms, int64_t ts, const void *key, size_t key_len,
			const void *value, size_t value_len, int64_t *offset_r, const char **error_r);
/* Writer: writes what is buffered to the active segment (no fsync). */
int emb_partition_flush(struct emb_partition *p, const char **error_r);
/* Writer: fsyncs the active segment. */
int emb_partition_sync(struct emb_partition *p, const char **error_r);
/* Writer, with the mutex held: makes the batch visible to readers. */
void emb_partition_publish(struct emb_partition *p);
/* Writer: marks the partition failed after an I/O error in a batch. */
void emb_partition_fail(struct emb_partition *p, const char *error);
/* Writer: back to the durable state after a failure (the segments the
 * failed batch created removed, the active one cut to its durable size), so
 * appends go on; -1 (still failed) when the cut itself fails. */
int emb_partition_repair(struct emb_partition *p, pthread_mutex_t *mu, const char **error_r);

#endif
