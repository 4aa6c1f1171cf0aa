/* embedded_segment - see embedded_segment.h */
#include "ingest/embedded_segment.h"
#include "ingest/embedded_fs.h"
#include "ingest/embedded_record.h"
#include "common/buf.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Adds an index entry (offsets increase). */
void emb_index_add(struct emb_index *ix, int64_t offset, int64_t pos)
{
	if (ix->n == ix->cap) {
		ix->cap = ix->cap ? ix->cap * 2 : 16;
		ix->v = xrealloc(ix->v, ix->cap * sizeof *ix->v);
	}
	ix->v[ix->n].offset = offset;
	ix->v[ix->n].pos = pos;
	ix->n++;
}

/* The last entry at or before target, or (base, 0) when there is none. */
void emb_index_lookup(const struct emb_index *ix, int64_t base, int64_t target,
		      int64_t *offset_r, int64_t *pos_r)
{
	size_t lo = 0, hi = ix->n;

	*offset_r = base;
	*pos_r = 0;
	/* Binary search for the last entry with offset <= target. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->v[mid].offset <= target)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0) {
		*offset_r = ix->v[lo - 1].offset;
		*pos_r = ix->v[lo - 1].pos;
	}
}

/* Frees an index and empties it. */
void emb_index_free(struct emb_index *ix)
{
	free(ix->v);
	memset(ix, 0, sizeof *ix);
}

/* Parses "<20 digits>.log". */
int emb_segment_parse_name(const char *name, int64_t *base_r)
{
	int64_t v = 0;

	if (strlen(name) != EMB_SEGMENT_NAME_LEN || strcmp(name + 20, ".log") != 0)
		return -1;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return -1;
		if (v > (INT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (name[i] - '0');
	}
	*base_r = v;
	return 0;
}

/* Allocates a segment struct for dir/<base>.log opened with flags. */
static int segment_new(const char *dir, int64_t base, int flags, struct emb_segment **seg_r,
		       const char **error_r)
{
	char name[EMB_SEGMENT_NAME_LEN + 1];
	struct emb_segment *seg;

	snprintf(name, sizeof name, "%020" PRId64 ".log", base);
	seg = xcalloc(1, sizeof *seg);
	seg->base = base;
	seg->end = base;
	seg->w_end = base;
	seg->w_last_index_pos = -EMB_INDEX_INTERVAL;
	seg->path = emb_path(dir, name);
	seg->fd = open(seg->path, flags | O_RDWR | O_CLOEXEC, 0644);
	if (seg->fd < 0) {
		*error_r = emb_io_errorf(errno, "open", seg->path);
		emb_segment_free(&seg);
		return -1;
	}
	*seg_r = seg;
	return 0;
}

/* Creates a new empty segment file (O_EXCL) and fsyncs the directory. */
int emb_segment_create(const char *dir, int64_t base, struct emb_segment **seg_r,
		       const char **error_r)
{
	if (segment_new(dir, base, O_CREAT | O_EXCL, seg_r, error_r) < 0)
		return -1;
	(*seg_r)->indexed = 1;
	if (emb_fsync_dir(dir, error_r) < 0) {
		emb_segment_free(seg_r);
		return -1;
	}
	return 0;
}

/* Opens an existing segment file. */
int emb_segment_open(const char *dir, int64_t base, struct emb_segment **seg_r,
		     const char **error_r)
{
	return segment_new(dir, base, 0, seg_r, error_r);
}

/* Cuts the file at size and makes the cut durable. */
static int segment_truncate(struct emb_segment *seg, int64_t size, const char **error_r)
{
	if (ftruncate(seg->fd, (off_t)size) < 0 || fsync(seg->fd) < 0) {
		*error_r = emb_errorf("truncate %s: %s", seg->path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Checks every record of the file and builds its index (recover: cut a torn tail). */
int emb_segment_scan(struct emb_segment *seg, int recover, int gaps, struct emb_scan *scan_r,
		     const char **error_r)
{
	const uint8_t *map = NULL;
	int64_t pos = 0, expected = seg->base, last_index_pos = -EMB_INDEX_INTERVAL;
	struct stat st;
	const char *why = NULL;
	int ret = 0;

	memset(scan_r, 0, sizeof *scan_r);
	if (fstat(seg->fd, &st) < 0) {
		*error_r = emb_errorf("stat %s: %s", seg->path, strerror(errno));
		return -1;
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, seg->fd, 0);
		if (map == MAP_FAILED) {
			*error_r = emb_errorf("mmap %s: %s", seg->path, strerror(errno));
			return -1;
		}
	}
	while (pos < st.st_size) {
		struct emb_record rec;
		size_t size;
		int r = emb_record_decode(map + pos, (size_t)(st.st_size - pos), &rec, &size, &why);
		if (r == 1 && (gaps ? rec.offset < expected : rec.offset != expected)) {
			why = "record offset out of sequence";
			r = -1;
		}
		if (r != 1) {
			if (r == 0)
				why = "short record";
			break;
		}
		if (pos == 0)
			scan_r->first_ts = rec.ts;
		if (pos - last_index_pos >= EMB_INDEX_INTERVAL) {
			emb_index_add(&scan_r->index, rec.offset, pos);
			last_index_pos = pos;
		}
		pos += (int64_t)size;
		expected = rec.offset + 1;
	}
	if (pos < st.st_size) {
		int64_t next = gaps ? emb_record_find_next_range(map, (size_t)st.st_size, (size_t)pos,
								 expected, INT64_MAX)
				    : emb_record_find_next(map, (size_t)st.st_size, (size_t)pos, expected);
		if (!recover || next >= 0) {
			*error_r = emb_errorf("%s: corrupt record at byte %" PRId64 " (offset %" PRId64
					      "): %s%s", seg->path, pos, expected, why,
					      next >= 0 ? ", and valid records follow it" : "");
			ret = -1;
		} else {
			log_warn("embedded log: %s: truncating torn tail at byte %" PRId64
				 " (%" PRId64 " bytes): %s", seg->path, pos,
				 (int64_t)st.st_size - pos, why);
			ret = segment_truncate(seg, pos, error_r);
			scan_r->truncated = 1;
		}
	}
	if (map != NULL)
		munmap((void *)map, (size_t)st.st_size);
	if (ret < 0) {
		emb_index_free(&scan_r->index);
		return -1;
	}
	scan_r->end = expected;
	scan_r->size = pos;
	return 0;
}

/* Closes and frees a segment. */
void emb_segment_free(struct emb_segment **seg)
{
	if (*seg == NULL)
		return;
	if ((*seg)->fd >= 0)
		close((*seg)->fd);
	emb_index_free(&(*seg)->index);
	free((*seg)->path);
	free(*seg);
	*seg = NULL;
}
