/* embedded_record - the on-disk record of the embedded log.
 *
 * Records follow one another in a segment file, little-endian:
 *
 *   u32 len        bytes after this field: 32 + key_len + value_len
 *   u32 crc        zlib crc32 of the len - 4 bytes after this field
 *   u16 version    EMB_RECORD_VERSION
 *   u16 flags      0
 *   i64 offset     the record's offset in its partition
 *   i64 ts         append time, ms since the epoch
 *   u32 key_len    at most EMB_KEY_MAX
 *   u32 value_len  at most EMB_VALUE_MAX
 *   key bytes, value bytes
 *
 * The decoder is pure (no I/O, no allocation) so a fuzz target and the
 * recovery scan share it. It is strict: every field is checked as soon as
 * enough bytes are there, so garbage is refused early rather than waited on. */
#ifndef EVM_EMBEDDED_RECORD_H
#define EVM_EMBEDDED_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define EMB_RECORD_VERSION 1
#define EMB_RECORD_HEADER 36
#define EMB_KEY_MAX (64 * 1024)
/* 1 MiB of event plus slack for the envelope around a blob chunk. */
#define EMB_VALUE_MAX (1024 * 1024 + 64 * 1024)
#define EMB_RECORD_MAX (EMB_RECORD_HEADER + EMB_KEY_MAX + EMB_VALUE_MAX)

struct emb_record {
	int64_t offset;
	int64_t ts;
	const uint8_t *key;       /* point into the decoded buffer */
	uint32_t key_len;
	const uint8_t *value;
	uint32_t value_len;
};

/* Bytes a record with these key and value lengths takes on disk. */
size_t emb_record_size(size_t key_len, size_t value_len);
/* Appends one encoded record to out. Lengths must be within the limits. */
void emb_record_encode(struct buf *out, int64_t offset, int64_t ts,
		       const void *key, size_t key_len, const void *value, size_t value_len);
/* Decodes the record at the start of data[0..avail). Returns 1 with *rec_r
 * and *size_r (bytes consumed) set; 0 when the bytes so far are a valid
 * prefix of a record (*size_r: total bytes needed when known, else the
 * header size); -1 when they cannot be a record (*error_r: static text). */
int emb_record_decode(const void *data, size_t avail, struct emb_record *rec_r,
		      size_t *size_r, const char **error_r);
/* Position of the first complete, valid record after start whose offset is
 * at least min_offset, or -1 if there is none: used to tell a torn tail
 * (nothing valid follows) from corruption in the middle of a segment. */
int64_t emb_record_find_next(const void *data, size_t len, size_t start, int64_t min_offset);
/* The same with an explicit offset range [min_offset, max_offset]: a
 * compacted segment has gaps, so its offsets are not bounded by its bytes. */
int64_t emb_record_find_next_range(const void *data, size_t len, size_t start,
				   int64_t min_offset, int64_t max_offset);

#endif
