/* embedded_partition - see embedded_partition.h */
#include "ingest/embedded_partition.h"
#include "ingest/embedded_fs.h"
#include "ingest/embedded_record.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appends a segment to the partition's array. */
static void add_segment(struct emb_partition *p, struct emb_segment *seg)
{
	if (p->nsegs == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->segs = xrealloc(p->segs, p->cap * sizeof *p->segs);
	}
	p->segs[p->nsegs++] = seg;
}

/* qsort comparator for base offsets. */
static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Whether name is a compaction's temporary file ("<segment>.compact"). */
static int is_compact_temp(const char *name)
{
	size_t len = strlen(name);

	return len == EMB_SEGMENT_NAME_LEN + strlen(EMB_COMPACT_SUFFIX) &&
	       strcmp(name + EMB_SEGMENT_NAME_LEN, EMB_COMPACT_SUFFIX) == 0;
}

/* Lists the base offsets of the segment files in dir, sorted; removes a
 * compaction's leftover temporary file (a crash before its rename: the
 * segment it was made from is still whole). */
static int list_segments(const char *dir, int64_t **bases_r, size_t *n_r, const char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t *bases = NULL;
	size_t n = 0, cap = 0;

	if (d == NULL) {
		*error_r = emb_errorf("open directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int64_t base;
		if (is_compact_temp(de->d_name)) {
			char *path = emb_path(dir, de->d_name);
			log_info("embedded log: removing %s, left by an interrupted compaction", path);
			if (unlink(path) < 0 && errno != ENOENT) {
				*error_r = emb_io_errorf(errno, "remove", path);
				free(path);
				closedir(d);
				free(bases);
				return -1;
			}
			free(path);
			continue;
		}
		if (emb_segment_parse_name(de->d_name, &base) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			bases = xrealloc(bases, cap * sizeof *bases);
		}
		bases[n++] = base;
	}
	closedir(d);
	if (n > 0)
		qsort(bases, n, sizeof *bases, cmp_i64);
	*bases_r = bases;
	*n_r = n;
	return 0;
}

/* Recovers the last segment: scan, cut a torn tail, adopt its index. */
static int recover_last(struct emb_segment *seg, int compacted, const char **error_r)
{
	struct emb_scan scan;

	if (emb_segment_scan(seg, 1, compacted, &scan, error_r) < 0)
		return -1;
	seg->index = scan.index;
	seg->indexed = 1;
	seg->size = seg->w_size = scan.size;
	seg->end = seg->w_end = scan.end;
	seg->w_first_ts = scan.size > 0 ? scan.first_ts : 0;
	if (seg->index.n > 0)
		seg->w_last_index_pos = seg->index.v[seg->index.n - 1].pos;
	return 0;
}

/* Opens (creating if needed) the partition directory and recovers it. */
int emb_partition_load(struct emb_partition *p, const char *dir, int32_t id, int compacted,
		       const char **error_r)
{
	int64_t *bases = NULL;
	size_t n = 0;
	int ret = -1;

	memset(p, 0, sizeof *p);
	p->id = id;
	p->dir = xstrdup(dir);
	p->compacted = compacted;
	p->compact_seen_end = -1;
	p->compact_next_expiry = INT64_MAX;
	if (emb_mkdir_p(dir, error_r) < 0 || list_segments(dir, &bases, &n, error_r) < 0)
		goto out;
	if (n == 0) {
		struct emb_segment *seg;
		if (emb_segment_create(dir, 0, &seg, error_r) < 0)
			goto out;
		add_segment(p, seg);
	}
	for (size_t i = 0; i < n; i++) {
		struct emb_segment *seg;
		struct stat st;
		if (emb_segment_open(dir, bases[i], &seg, error_r) < 0)
			goto out;
		add_segment(p, seg);
		if (i + 1 == n)
			break;
		/* A closed segment: its end is the next base; checked when indexed. */
		if (fstat(seg->fd, &st) < 0) {
			*error_r = emb_errorf("stat %s: %s", seg->path, strerror(errno));
			goto out;
		}
		seg->size = seg->w_size = st.st_size;
		seg->end = seg->w_end = bases[i + 1];
	}
	if (recover_last(p->segs[p->nsegs - 1], compacted, error_r) < 0)
		goto out;
	if (n > 0 && compacted && emb_fsync_dir(dir, error_r) < 0)
		goto out;   /* a removed temporary file */
	p->active = p->segs[p->nsegs - 1];
	p->next_offset = p->durable_end = p->active->end;
	ret = 0;
out:
	free(bases);
	return ret;
}

/* Closes the partition's segments and frees it. */
void emb_partition_free(struct emb_partition *p)
{
	for (size_t i = 0; i < p->nsegs; i++)
		emb_segment_free(&p->segs[i]);
	free(p->segs);
	free(p->dir);
	free(p->pidx);
	buf_free(&p->wbuf);
	memset(p, 0, sizeof *p);
}

/* The segment holding offset (last base <= offset); mutex held. */
struct emb_segment *emb_partition_find(const struct emb_partition *p, int64_t offset,
				       struct emb_segment **next_r)
{
	size_t lo = 0, hi = p->nsegs;

	*next_r = NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (p->segs[mid]->base <= offset)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	*next_r = lo < p->nsegs ? p->segs[lo] : NULL;
	return p->segs[lo - 1];
}

/* Writer: writes the buffered records to the active segment (no fsync). */
int emb_partition_flush(struct emb_partition *p, const char **error_r)
{
	struct emb_segment *seg = p->active;

	if (p->wbuf.len == 0)
		return 0;
	if (emb_pwrite_all(seg->fd, p->wbuf.data, p->wbuf.len, seg->w_size, seg->path, error_r) < 0)
		return -1;
	seg->w_size += (int64_t)p->wbuf.len;
	buf_truncate(&p->wbuf, 0);
	return 0;
}

/* Writer: fsyncs the active segment. */
int emb_partition_sync(struct emb_partition *p, const char **error_r)
{
	struct emb_segment *seg = p->active;

	if (fdatasync(seg->fd) < 0) {
		*error_r = emb_io_errorf(errno, "fsync", seg->path);
		return -1;
	}
	return 0;
}

/* Writes and fsyncs the active segment, then starts a new one at next_offset. */
static int roll(struct emb_partition *p, pthread_mutex_t *mu, const char **error_r)
{
	struct emb_segment *seg;

	if (emb_partition_flush(p, error_r) < 0 || emb_partition_sync(p, error_r) < 0)
		return -1;
	if (emb_segment_create(p->dir, p->next_offset, &seg, error_r) < 0)
		return -1;
	pthread_mutex_lock(mu);
	add_segment(p, seg);
	pthread_mutex_unlock(mu);
	p->active = seg;
	return 0;
}

/* Writer: encodes one record, rolling the segment first when it is full. */
int emb_partition_stage(struct emb_partition *p, pthread_mutex_t *mu, int64_t segment_bytes,
			int64_t segment_ms, int64_t ts, const void *key, size_t key_len,
			const void *value, size_t value_len, int64_t *offset_r, const char **error_r)
{
	struct emb_segment *seg = p->active;
	int64_t pos = seg->w_size + (int64_t)p->wbuf.len;

	/* By size, or by age like Kafka's segment.ms: only closed segments
	 * are compacted, so without it a small node's deleted bodies would
	 * wait for the active segment to fill (64 MiB). */
	if (pos > 0 && (pos >= segment_bytes ||
			(segment_ms > 0 && seg->w_first_ts > 0 && ts - seg->w_first_ts >= segment_ms))) {
		if (roll(p, mu, error_r) < 0)
			return -1;
		seg = p->active;
		pos = 0;
	}
	if (pos == 0)
		seg->w_first_ts = ts;
	if (pos - seg->w_last_index_pos >= EMB_INDEX_INTERVAL) {
		if (p->npidx == p->cappidx) {
			p->cappidx = p->cappidx ? p->cappidx * 2 : 16;
			p->pidx = xrealloc(p->pidx, p->cappidx * sizeof *p->pidx);
		}
		p->pidx[p->npidx++] = (struct emb_pending_index){ seg, p->next_offset, pos };
		seg->w_last_index_pos = pos;
	}
	emb_record_encode(&p->wbuf, p->next_offset, ts, key, key_len, value, value_len);
	*offset_r = p->next_offset++;
	seg->w_end = p->next_offset;
	return 0;
}

/* Writer, mutex held: makes the batch visible to readers. */
void emb_partition_publish(struct emb_partition *p)
{
	for (size_t i = 0; i < p->npidx; i++)
		emb_index_add(&p->pidx[i].seg->index, p->pidx[i].offset, p->pidx[i].pos);
	p->npidx = 0;
	/* From the last segment back to the one active when the batch began
	 * (by pointer: compaction may drop closed segments before it). */
	for (size_t i = p->nsegs; i-- > 0;) {
		p->segs[i]->size = p->segs[i]->w_size;
		p->segs[i]->end = p->segs[i]->w_end;
		if (p->segs[i] == p->batch_first)
			break;
	}
	p->durable_end = p->next_offset;
}

/* Writer: marks the partition failed after an I/O error. */
void emb_partition_fail(struct emb_partition *p, const char *error)
{
	log_error("embedded log: partition %s failed, appends refused until it is repaired: %s",
		  p->dir, error);
	snprintf(p->fail_error, sizeof p->fail_error, "%s", error);
	p->failed = 1;
	p->npidx = 0;
	buf_truncate(&p->wbuf, 0);
}

/* Writer: puts a failed partition back to its published (durable) state so
 * that appends can go on: the segments a failed roll created are removed,
 * the active one is cut back to its durable size (a cut needs no space), and
 * the writer's position is the durable end again. Until this succeeds the
 * partition stays failed; it is tried again on the next append. */
int emb_partition_repair(struct emb_partition *p, pthread_mutex_t *mu, const char **error_r)
{
	struct emb_segment *seg;
	int removed = 0;

	pthread_mutex_lock(mu);
	/* Readers never reach a segment at or past durable_end (embedded_reader.c
	 * seek): those hold only records of failed batches. */
	while (p->nsegs > 1 && p->segs[p->nsegs - 1]->base >= p->durable_end) {
		seg = p->segs[p->nsegs - 1];
		if (unlink(seg->path) < 0 && errno != ENOENT) {
			*error_r = emb_io_errorf(errno, "remove", seg->path);
			pthread_mutex_unlock(mu);
			return -1;
		}
		p->nsegs--;
		p->active = p->segs[p->nsegs - 1];
		emb_segment_free(&seg);
		removed = 1;
	}
	seg = p->active = p->segs[p->nsegs - 1];
	pthread_mutex_unlock(mu);
	if (removed && emb_fsync_dir(p->dir, error_r) < 0)
		return -1;
	if (ftruncate(seg->fd, (off_t)seg->size) < 0 || fsync(seg->fd) < 0) {
		*error_r = emb_io_errorf(errno, "truncate", seg->path);
		return -1;
	}
	seg->w_size = seg->size;
	seg->w_end = seg->end;
	seg->w_last_index_pos = seg->index.n > 0 ? seg->index.v[seg->index.n - 1].pos : -EMB_INDEX_INTERVAL;
	p->next_offset = p->durable_end;
	p->npidx = 0;
	buf_truncate(&p->wbuf, 0);
	p->failed = 0;
	log_info("embedded log: partition %s repaired at offset %lld", p->dir, (long long)p->durable_end);
	return 0;
}
