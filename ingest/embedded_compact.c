/* embedded_compact - see embedded_compact.h */
#include "ingest/embedded_compact.h"
#include "ingest/embedded_fs.h"
#include "ingest/embedded_keymap.h"
#include "ingest/embedded_log.h"
#include "ingest/embedded_record.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define WRITE_CHUNK (1024 * 1024)

static int crash_point;   /* test hook, see the header */

/* Test hook: crash at point in the next rewrite. */
void emb_test_compact_crash(int point)
{
	__atomic_store_n(&crash_point, point, __ATOMIC_RELEASE);
}

/* _exit()s when the test hook asks for a crash at point. */
static void maybe_crash(int point)
{
	if (__atomic_load_n(&crash_point, __ATOMIC_ACQUIRE) == point)
		_exit(EMB_TEST_CRASH_STATUS);
}

/* A segment as the pass saw it under the mutex. */
struct snap_seg {
	struct emb_segment *seg;
	int64_t size;            /* published (durable) size then */
	int closed;
	const uint8_t *map;      /* its first size bytes, NULL when empty */
};

/* What one rewrite removed. */
struct garbage {
	uint64_t records;
	int64_t bytes;
	int64_t kept_bytes;
};

/* Whether compaction should stop (log closing). */
static int stopping(struct embedded_log *l)
{
	int stop;

	pthread_mutex_lock(&l->mu);
	stop = l->compact_stop;
	pthread_mutex_unlock(&l->mu);
	return stop;
}

/* Decodes the record at pos of a mapped segment; -1 on damage. */
static int decode_at(const struct snap_seg *s, int64_t pos, struct emb_record *rec_r,
		     size_t *size_r, const char **error_r)
{
	const char *why = "short record";

	if (emb_record_decode(s->map + pos, (size_t)(s->size - pos), rec_r, size_r, &why) != 1) {
		*error_r = emb_errorf("%s: corrupt record at byte %" PRId64 ": %s", s->seg->path,
				      pos, why);
		return -1;
	}
	return 0;
}

/* Whether a record of a closed segment is garbage: a later record has its
 * key, or it is the latest and a tombstone older than the horizon. */
static int is_garbage(const struct emb_keymap *m, const struct emb_record *rec, int64_t horizon)
{
	if (rec->key_len == 0)
		return 0;
	if (emb_keymap_get(m, rec->key, rec->key_len) != rec->offset)
		return 1;
	return rec->value_len == 0 && rec->ts < horizon;
}

/* Counts a closed segment's garbage; lowers *expiry_r to when a tombstone
 * it keeps will have expired. */
static int count_garbage(const struct snap_seg *s, const struct emb_keymap *m, int64_t horizon,
			 int64_t retention, struct garbage *g_r, int64_t *expiry_r,
			 const char **error_r)
{
	memset(g_r, 0, sizeof *g_r);
	for (int64_t pos = 0; pos < s->size;) {
		struct emb_record rec;
		size_t size;
		if (decode_at(s, pos, &rec, &size, error_r) < 0)
			return -1;
		if (is_garbage(m, &rec, horizon)) {
			g_r->records++;
			g_r->bytes += (int64_t)size;
		} else {
			g_r->kept_bytes += (int64_t)size;
			if (rec.key_len > 0 && rec.value_len == 0) {
				int64_t at = rec.ts > INT64_MAX - retention - 1 ? INT64_MAX
									: rec.ts + retention + 1;
				if (at < *expiry_r)
					*expiry_r = at;
			}
		}
		pos += (int64_t)size;
	}
	return 0;
}

/* Writes the records of s that are not garbage to fd, building their index. */
static int write_survivors(const struct snap_seg *s, const struct emb_keymap *m, int64_t horizon,
			   int fd, const char *path, struct emb_index *ix, const char **error_r)
{
	struct buf out = BUF_INIT;
	int64_t wpos = 0, last_index_pos = -EMB_INDEX_INTERVAL;
	int ret = -1;

	for (int64_t pos = 0; pos < s->size;) {
		struct emb_record rec;
		size_t size;
		if (decode_at(s, pos, &rec, &size, error_r) < 0)
			goto out;
		if (!is_garbage(m, &rec, horizon)) {
			int64_t at = wpos + (int64_t)out.len;
			if (at - last_index_pos >= EMB_INDEX_INTERVAL) {
				emb_index_add(ix, rec.offset, at);
				last_index_pos = at;
			}
			/* The record's bytes as they are: its offset and checksum stay. */
			buf_append(&out, s->map + pos, size);
			if (out.len >= WRITE_CHUNK) {
				if (emb_pwrite_all(fd, out.data, out.len, wpos, path, error_r) < 0)
					goto out;
				wpos += (int64_t)out.len;
				buf_truncate(&out, 0);
			}
		}
		pos += (int64_t)size;
	}
	if (out.len > 0 && emb_pwrite_all(fd, out.data, out.len, wpos, path, error_r) < 0)
		goto out;
	if (fsync(fd) < 0) {
		*error_r = emb_io_errorf(errno, "fsync", path);
		goto out;
	}
	ret = 0;
out:
	buf_free(&out);
	return ret;
}

/* Publishes fresh in place of old, or drops old when fresh is NULL, then
 * frees old. Under swap_lock (no reader is reading) and the mutex. */
static void swap_segment(struct embedded_log *l, struct emb_partition *p, struct emb_segment *old,
			 struct emb_segment *fresh)
{
	size_t i;

	pthread_rwlock_wrlock(&l->swap_lock);
	pthread_mutex_lock(&l->mu);
	for (i = 0; i < p->nsegs && p->segs[i] != old; i++)
		;
	if (i + 1 >= p->nsegs)
		log_panic("embedded log: %s: compacted segment %s is not a closed segment", p->dir,
			  old->path);
	if (fresh != NULL) {
		fresh->end = fresh->w_end = old->end;
		p->segs[i] = fresh;
	} else {
		/* The segment before now reaches the next one's base. */
		if (i > 0)
			p->segs[i - 1]->end = p->segs[i - 1]->w_end = old->end;
		memmove(&p->segs[i], &p->segs[i + 1], (p->nsegs - i - 1) * sizeof *p->segs);
		p->nsegs--;
	}
	p->gen++;
	pthread_mutex_unlock(&l->mu);
	pthread_rwlock_unlock(&l->swap_lock);
	emb_segment_free(&old);
}

/* Replaces the closed segment s by its records that are not garbage
 * (temporary file, fsync, rename, directory fsync), or deletes it when
 * none is left. */
static int rewrite_segment(struct embedded_log *l, struct emb_partition *p, const struct snap_seg *s,
			   const struct emb_keymap *m, int64_t horizon, const struct garbage *g,
			   const char **error_r)
{
	struct emb_segment *old = s->seg, *fresh;
	struct emb_index ix = { 0 };
	char *tmp;
	int fd;

	if (g->kept_bytes == 0) {
		if (unlink(old->path) < 0) {
			*error_r = emb_io_errorf(errno, "remove", old->path);
			return -1;
		}
		maybe_crash(2);
		swap_segment(l, p, old, NULL);
		return emb_fsync_dir(p->dir, error_r);
	}
	tmp = xmalloc(strlen(old->path) + sizeof EMB_COMPACT_SUFFIX);
	sprintf(tmp, "%s%s", old->path, EMB_COMPACT_SUFFIX);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		*error_r = emb_io_errorf(errno, "create", tmp);
		free(tmp);
		return -1;
	}
	if (write_survivors(s, m, horizon, fd, tmp, &ix, error_r) < 0)
		goto fail;
	maybe_crash(1);
	if (rename(tmp, old->path) < 0) {
		*error_r = emb_io_errorf(errno, "rename", tmp);
		goto fail;
	}
	maybe_crash(2);
	free(tmp);
	fresh = xcalloc(1, sizeof *fresh);
	fresh->base = old->base;
	fresh->path = xstrdup(old->path);
	fresh->fd = fd;
	fresh->size = fresh->w_size = g->kept_bytes;
	fresh->indexed = 1;
	fresh->index = ix;
	fresh->w_last_index_pos = ix.n > 0 ? ix.v[ix.n - 1].pos : -EMB_INDEX_INTERVAL;
	swap_segment(l, p, old, fresh);
	return emb_fsync_dir(p->dir, error_r);
fail:
	close(fd);
	(void)unlink(tmp);
	free(tmp);
	emb_index_free(&ix);
	return -1;
}

/* Takes the pass's view of p: its segments below the durable end, which
 * of them are closed, their durable sizes. 0 when p needs no pass. */
static size_t snapshot(struct embedded_log *l, struct emb_partition *p, int64_t now_ms,
		       struct snap_seg **v_r, int64_t *durable_end_r)
{
	struct snap_seg *v;
	size_t n = 0;

	pthread_mutex_lock(&l->mu);
	*durable_end_r = p->durable_end;
	if (p->compact_seen_end == p->durable_end && now_ms < p->compact_next_expiry) {
		pthread_mutex_unlock(&l->mu);
		return 0;
	}
	v = xcalloc(p->nsegs, sizeof *v);
	for (size_t i = 0; i < p->nsegs && p->segs[i]->base < p->durable_end; i++) {
		/* Closed: the next segment holds a durable record, so no repair
		 * of a failed batch can make this one active again. */
		v[n].seg = p->segs[i];
		v[n].size = p->segs[i]->size;
		v[n].closed = i + 1 < p->nsegs && p->segs[i + 1]->base < p->durable_end;
		n++;
	}
	pthread_mutex_unlock(&l->mu);
	*v_r = v;
	return n;
}

/* Maps every snapshot segment (read only: the bytes below a published size
 * never change while the segment is in the partition). */
static int map_all(struct snap_seg *v, size_t n, const char **error_r)
{
	for (size_t i = 0; i < n; i++) {
		void *map;
		if (v[i].size == 0)
			continue;
		map = mmap(NULL, (size_t)v[i].size, PROT_READ, MAP_SHARED, v[i].seg->fd, 0);
		if (map == MAP_FAILED) {
			*error_r = emb_errorf("mmap %s: %s", v[i].seg->path, strerror(errno));
			return -1;
		}
		v[i].map = map;
	}
	return 0;
}

/* One pass over partition p (compact_mu held). */
int emb_compact_partition(struct embedded_log *l, struct emb_partition *p, int64_t now_ms,
			  const char **error_r)
{
	int64_t retention = l->cfg->log_embedded_tombstone_retention_ms;
	int64_t horizon = now_ms - retention, expiry = INT64_MAX, durable_end;
	struct emb_compact_stats add = { 0 };
	struct emb_keymap m;
	struct snap_seg *v = NULL;
	size_t n = snapshot(l, p, now_ms, &v, &durable_end);
	int ret = -1;

	emb_keymap_init(&m);
	if (n == 0) {
		free(v);
		return 0;
	}
	if (map_all(v, n, error_r) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		for (int64_t pos = 0; pos < v[i].size;) {
			struct emb_record rec;
			size_t size;
			if (decode_at(&v[i], pos, &rec, &size, error_r) < 0)
				goto out;
			if (rec.key_len > 0)
				emb_keymap_put(&m, rec.key, rec.key_len, rec.offset);
			pos += (int64_t)size;
		}
	}
	for (size_t i = 0; i < n && v[i].closed; i++) {
		struct garbage g;
		if (stopping(l))
			goto out_stats;   /* not a failure; the next open's pass goes on */
		if (count_garbage(&v[i], &m, horizon, retention, &g, &expiry, error_r) < 0)
			goto out;
		if (g.records == 0)
			continue;
		if (rewrite_segment(l, p, &v[i], &m, horizon, &g, error_r) < 0)
			goto out;
		add.records_removed += g.records;
		add.bytes_reclaimed += (uint64_t)g.bytes;
		if (g.kept_bytes == 0)
			add.segments_removed++;
		else
			add.segments_rewritten++;
	}
	p->compact_seen_end = durable_end;
	p->compact_next_expiry = expiry;
out_stats:
	ret = 0;
out:
	if (add.records_removed > 0)
		log_info("embedded log: compacted %s: %" PRIu64 " records, %" PRIu64 " bytes removed",
			 p->dir, add.records_removed, add.bytes_reclaimed);
	pthread_mutex_lock(&l->mu);
	l->compact_stats.records_removed += add.records_removed;
	l->compact_stats.bytes_reclaimed += add.bytes_reclaimed;
	l->compact_stats.segments_rewritten += add.segments_rewritten;
	l->compact_stats.segments_removed += add.segments_removed;
	pthread_mutex_unlock(&l->mu);
	for (size_t i = 0; i < n; i++) {
		if (v[i].map != NULL)
			munmap((void *)v[i].map, (size_t)v[i].size);
	}
	free(v);
	emb_keymap_free(&m);
	return ret;
}
