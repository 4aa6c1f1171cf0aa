/* embedded_segment - one segment file of a partition and its sparse index.
 *
 * A segment is "<20-digit base offset>.log" holding contiguous records from
 * base; in a compacted topic (embedded_compact.h) a closed segment holds
 * increasing offsets in [base, next segment's base) with gaps. The index maps an offset to a byte position, one entry per
 * EMB_INDEX_INTERVAL bytes at least, so a reader seeks without scanning from
 * the start. Fields marked "published" are read and written under the log's
 * mutex; "writer" fields belong to the writer thread. */
#ifndef EVM_EMBEDDED_SEGMENT_H
#define EVM_EMBEDDED_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#define EMB_INDEX_INTERVAL 4096
#define EMB_SEGMENT_NAME_LEN 24   /* 20 digits + ".log" */
#define EMB_COMPACT_SUFFIX ".compact"   /* "<segment>.compact": a compaction's new file */

struct emb_index_entry {
	int64_t offset;
	int64_t pos;
};

struct emb_index {
	struct emb_index_entry *v;
	size_t n, cap;
};

struct emb_segment {
	int64_t base;
	char *path;
	int fd;
	/* published */
	int64_t size;          /* durable bytes */
	int64_t end;           /* offset after the last durable record */
	int indexed;           /* index covers [0, size) (else built on first read) */
	struct emb_index index;
	/* writer */
	int64_t w_size;
	int64_t w_end;
	int64_t w_last_index_pos;
	int64_t w_first_ts;    /* append time of its first record; 0 while empty */
};

/* Result of scanning a segment file. */
struct emb_scan {
	struct emb_index index;
	int64_t end;
	int64_t size;
	int truncated;         /* recovery cut a torn tail */
	int64_t first_ts;      /* append time of the first record; 0 if none */
};

/* Adds an index entry (offsets increase). */
void emb_index_add(struct emb_index *ix, int64_t offset, int64_t pos);
/* The last entry at or before target, or (base, 0) when there is none. */
void emb_index_lookup(const struct emb_index *ix, int64_t base, int64_t target,
		      int64_t *offset_r, int64_t *pos_r);
void emb_index_free(struct emb_index *ix);

/* Parses "<20 digits>.log"; returns 0 with *base_r or -1 for other names. */
int emb_segment_parse_name(const char *name, int64_t *base_r);
/* Creates a new empty segment file (O_EXCL) and fsyncs the directory. */
int emb_segment_create(const char *dir, int64_t base, struct emb_segment **seg_r,
		       const char **error_r);
/* Opens an existing segment file; size and end are set by the caller. */
int emb_segment_open(const char *dir, int64_t base, struct emb_segment **seg_r,
		     const char **error_r);
/* Reads the whole file, checking every record (checksum, contiguous offsets
 * from base; with gaps, a segment of a compacted topic, increasing offsets
 * from base) and building the index. recover: a bad tail after which no
 * valid record follows is a torn write and is truncated (and fsync'ed);
 * otherwise, and whenever valid records follow the damage, it fails. */
int emb_segment_scan(struct emb_segment *seg, int recover, int gaps, struct emb_scan *scan_r,
		     const char **error_r);
/* Closes and frees a segment; sets *seg to NULL. */
void emb_segment_free(struct emb_segment **seg);

#endif
