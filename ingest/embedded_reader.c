/* embedded_reader - reading durable records of the embedded log.
 *
 * A reader keeps, per assigned partition, the next offset to deliver and
 * the byte position of that record in its segment. It reads with pread on
 * the segment's descriptor (segments stay open while the log is), bounded by
 * the segment's published durable size, so it never sees a record that has
 * not been fsync'ed. A record whose callback returns -1 is not consumed:
 * the next poll delivers it again. Damage found while reading (a bad
 * checksum, a gap between segments) fails the poll; nothing is skipped.
 *
 * Compacted topics (embedded_compact.h) have gaps, like Kafka's: within a
 * closed segment offsets only increase, a closed segment may end before the
 * next one's base, and the first segments may be gone. A reader positioned
 * at an offset that was compacted away starts at the next record. While a
 * reader reads (read_some) it holds the log's swap_lock shared, so
 * compaction never replaces a segment under it; a replacement bumps the
 * partition's gen, after which the reader seeks again from its offset. */
#include "ingest/embedded_reader.h"
#include "ingest/embedded_fs.h"
#include "ingest/embedded_log.h"
#include "ingest/embedded_record.h"
#include "common/buf.h"
#include "common/ids.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK (256 * 1024)

struct emb_assignment {
	enum evm_topic_id topic;
	int32_t partition;
	struct emb_partition *p;
	int64_t next;               /* next offset to deliver */
	struct emb_segment *seg;    /* NULL: seek before reading */
	int64_t pos;                /* byte position in seg of ... */
	int64_t pos_offset;         /* ... the record with this offset (compacted: the
				     * lowest offset the record there may have) */
	uint64_t gen;               /* partition gen seg was found in */
};

struct emb_reader {
	struct evlog_reader r;      /* first: evlog.c casts */
	struct embedded_log *l;
	struct emb_assignment *a;
	size_t n, cap;
	size_t rr;                  /* where the next poll starts, for fairness */
	uint8_t *buf;
	size_t buf_cap;
};

/* Opens a reader with no assignment. */
int emb_reader_open(struct evlog *log, struct evlog_reader **reader_r, const char **error_r)
{
	struct emb_reader *r = xcalloc(1, sizeof *r);

	r->l = (struct embedded_log *)log;
	r->buf_cap = READ_CHUNK;
	r->buf = xmalloc(r->buf_cap);
	*reader_r = &r->r;
	return 0;
}

/* The partition of (topic, partition), or NULL with an error. */
static struct emb_partition *lookup(struct embedded_log *l, enum evm_topic_id topic,
				    int32_t partition, const char **error_r)
{
	if ((int)topic < 0 || topic >= EVM_TOPIC_COUNT || partition < 0 ||
	    partition >= l->topics[topic].npart) {
		*error_r = "no such topic or partition";
		return NULL;
	}
	return &l->topics[topic].parts[partition];
}

/* Starts (or moves) reading a partition at next_offset. */
int emb_reader_assign(struct evlog_reader *rr, enum evm_topic_id topic, int32_t partition,
		      int64_t next_offset, const char **error_r)
{
	struct emb_reader *r = (struct emb_reader *)rr;
	struct emb_partition *p = lookup(r->l, topic, partition, error_r);
	struct emb_assignment *a = NULL;

	if (p == NULL)
		return -1;
	if (next_offset < 0) {
		*error_r = "negative offset";
		return -1;
	}
	for (size_t i = 0; i < r->n && a == NULL; i++) {
		if (r->a[i].p == p)
			a = &r->a[i];
	}
	if (a == NULL) {
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 8;
			r->a = xrealloc(r->a, r->cap * sizeof *r->a);
		}
		a = &r->a[r->n++];
	}
	*a = (struct emb_assignment){ .topic = topic, .partition = partition, .p = p,
				      .next = next_offset };
	return 0;
}

/* Drops every assignment. */
int emb_reader_unassign_all(struct evlog_reader *rr, const char **error_r)
{
	struct emb_reader *r = (struct emb_reader *)rr;

	r->n = 0;
	r->rr = 0;
	return 0;
}

/* Builds the index of a closed segment (checking each record) and installs
 * it. Called without the mutex: a closed segment never changes (compaction
 * replaces it only under swap_lock, which the caller holds shared). */
static int index_segment(struct embedded_log *l, struct emb_partition *p, struct emb_segment *seg,
			 const char **error_r)
{
	struct emb_scan scan;

	if (emb_segment_scan(seg, 0, p->compacted, &scan, error_r) < 0)
		return -1;
	pthread_mutex_lock(&l->mu);
	if ((p->compacted ? scan.end > seg->end : scan.end != seg->end) || scan.size != seg->size) {
		pthread_mutex_unlock(&l->mu);
		*error_r = emb_errorf("%s: records end at offset %" PRId64 " but the next segment "
				      "starts at %" PRId64, seg->path, scan.end, seg->end);
		emb_index_free(&scan.index);
		return -1;
	}
	if (!seg->indexed) {
		seg->index = scan.index;
		seg->indexed = 1;
	} else {
		emb_index_free(&scan.index);
	}
	pthread_mutex_unlock(&l->mu);
	return 0;
}

/* Whether a has read all of its segment and may go on to the next one;
 * mutex held. A compacted segment may end before its end offset (a gap),
 * so there it is its byte size that counts, once the segment is closed
 * and published whole (its end is the next segment's base). */
static int at_segment_end(const struct emb_assignment *a, const struct emb_segment *next)
{
	if (!a->p->compacted)
		return a->pos_offset >= a->seg->end;
	return a->pos >= a->seg->size && next != NULL && a->seg->end == next->base;
}

/* Positions a at its next offset; returns 1 when there is durable data to
 * read (*limit_r, *end_r: the segment's durable size and end), 0 if none. */
static int seek(struct embedded_log *l, struct emb_assignment *a, int64_t *limit_r,
		int64_t *end_r, const char **error_r)
{
	struct emb_partition *p = a->p;
	struct emb_segment *seg, *next;

	pthread_mutex_lock(&l->mu);
	for (;;) {
		if (a->gen != p->gen) {
			/* Compaction replaced segments: seek again from a->next. */
			a->seg = NULL;
			a->gen = p->gen;
		}
		if (a->next >= p->durable_end) {
			pthread_mutex_unlock(&l->mu);
			return 0;
		}
		if (a->seg != NULL) {
			(void)emb_partition_find(p, a->seg->base, &next);
			if (at_segment_end(a, next)) {
				/* The next segment must start here (compacted: at or after). */
				if (next == NULL || next->base < a->pos_offset ||
				    (!p->compacted && next->base != a->pos_offset)) {
					pthread_mutex_unlock(&l->mu);
					*error_r = emb_errorf("%s: partition has a gap after offset %" PRId64,
							      p->dir, a->pos_offset);
					return -1;
				}
				a->seg = next;
				a->pos = 0;
				a->pos_offset = next->base;
				if (a->next < next->base)
					a->next = next->base;   /* compacted away */
				continue;
			}
			if (p->compacted && a->pos >= a->seg->size) {
				/* Compacted, the segment not yet published whole: wait. */
				pthread_mutex_unlock(&l->mu);
				return 0;
			}
			break;
		}
		seg = emb_partition_find(p, a->next, &next);
		if (seg == NULL && p->compacted && p->nsegs > 0) {
			/* Compaction dropped the first segments: the log starts later. */
			seg = p->segs[0];
			a->next = seg->base;
		}
		if (seg == NULL) {
			pthread_mutex_unlock(&l->mu);
			*error_r = "offset before the start of the log";
			return -1;
		}
		if (!seg->indexed) {
			pthread_mutex_unlock(&l->mu);
			if (index_segment(l, p, seg, error_r) < 0)
				return -1;
			pthread_mutex_lock(&l->mu);
		}
		emb_index_lookup(&seg->index, seg->base, a->next, &a->pos_offset, &a->pos);
		a->seg = seg;
	}
	*limit_r = a->seg->size;
	*end_r = a->seg->end;
	pthread_mutex_unlock(&l->mu);
	return 1;
}

/* Delivers up to quota records of one assignment; *got_r counts them.
 * The caller holds swap_lock shared. */
static int read_some_locked(struct emb_reader *r, struct emb_assignment *a, size_t quota,
		     evlog_record_cb *cb, void *ctx, size_t *got_r, const char **error_r)
{
	int64_t limit, end;
	size_t avail, used;
	int s;

	*got_r = 0;
	while (*got_r < quota && (s = seek(r->l, a, &limit, &end, error_r)) != 0) {
		if (s < 0)
			return -1;
		if (emb_pread_full(a->seg->fd, r->buf, (size_t)(limit - a->pos) < r->buf_cap ?
				   (size_t)(limit - a->pos) : r->buf_cap, a->pos, &avail,
				   a->seg->path, error_r) < 0)
			return -1;
		if (avail == 0) {
			*error_r = emb_errorf("%s: file is shorter than its durable size", a->seg->path);
			return -1;
		}
		used = 0;
		while (*got_r < quota && a->pos_offset < end && a->pos < limit) {
			struct emb_record rec;
			size_t size;
			const char *why;
			int d = emb_record_decode(r->buf + used, avail - used, &rec, &size, &why);
			if (d == 0 && a->pos + (int64_t)size <= limit) {
				if (used > 0)
					break;  /* read again from a->pos */
				if (size > r->buf_cap) {
					r->buf_cap = size;
					r->buf = xrealloc(r->buf, r->buf_cap);
					break;
				}
				*error_r = emb_errorf("%s: file is shorter than its durable size",
						      a->seg->path);
				return -1;
			}
			if (d == 1 && (a->p->compacted ? rec.offset < a->pos_offset || rec.offset >= end
					       : rec.offset != a->pos_offset)) {
				why = "record offset out of sequence";
				d = -1;
			}
			if (d != 1) {
				*error_r = emb_errorf("%s: corrupt record at byte %" PRId64 " (offset %"
						      PRId64 "): %s", a->seg->path, a->pos, a->pos_offset,
						      d == 0 ? "record crosses the durable end" : why);
				return -1;
			}
			if (rec.offset >= a->next) {
				struct evlog_record out = {
					.topic = a->topic, .partition = a->partition,
					.offset = rec.offset, .ts = rec.ts,
					.key = rec.key, .key_len = rec.key_len,
					.value = rec.value, .value_len = rec.value_len,
				};
				if (cb(ctx, &out, error_r) < 0)
					return -1;
				a->next = rec.offset + 1;
				(*got_r)++;
			}
			used += size;
			a->pos += (int64_t)size;
			a->pos_offset = rec.offset + 1;
		}
	}
	return 0;
}

/* read_some_locked under swap_lock: compaction waits until it returns. */
static int read_some(struct emb_reader *r, struct emb_assignment *a, size_t quota,
		     evlog_record_cb *cb, void *ctx, size_t *got_r, const char **error_r)
{
	int ret;

	pthread_rwlock_rdlock(&r->l->swap_lock);
	ret = read_some_locked(r, a, quota, cb, ctx, got_r, error_r);
	pthread_rwlock_unlock(&r->l->swap_lock);
	return ret;
}

/* True if some assignment has durable records left; caller holds mu. */
static int any_ready(const struct emb_reader *r)
{
	for (size_t i = 0; i < r->n; i++) {
		if (r->a[i].next < r->a[i].p->durable_end)
			return 1;
	}
	return 0;
}

/* Delivers up to max durable records, waiting up to timeout_ms for the first. */
int emb_reader_poll(struct evlog_reader *rr, int timeout_ms, size_t max,
		    evlog_record_cb *cb, void *ctx, const char **error_r)
{
	struct emb_reader *r = (struct emb_reader *)rr;
	int64_t deadline = evm_mono_ms() + (timeout_ms < 0 ? INT64_C(1) << 40 : timeout_ms);
	size_t delivered = 0;
	int ready;

	if (max == 0)
		return 0;
	for (;;) {
		size_t progress;
		do {
			progress = 0;
			/* Round robin: each partition gets an equal share per pass. */
			for (size_t k = 0; k < r->n && delivered < max; k++) {
				struct emb_assignment *a = &r->a[(r->rr + k) % r->n];
				size_t quota = max / r->n ? max / r->n : 1, got;
				if (quota > max - delivered)
					quota = max - delivered;
				if (read_some(r, a, quota, cb, ctx, &got, error_r) < 0)
					return -1;
				delivered += got;
				progress += got;
			}
		} while (progress > 0 && delivered < max);
		if (r->n > 0)
			r->rr = (r->rr + 1) % r->n;
		if (delivered > 0)
			return delivered > INT32_MAX ? INT32_MAX : (int)delivered;
		pthread_mutex_lock(&r->l->mu);
		while (!(ready = any_ready(r)) && evm_mono_ms() < deadline)
			emb_cond_wait_until(&r->l->durable_cond, &r->l->mu, deadline);
		pthread_mutex_unlock(&r->l->mu);
		if (!ready)
			return 0;
	}
}

/* The durable end offset of a partition. */
int emb_reader_end_offset(struct evlog_reader *rr, enum evm_topic_id topic, int32_t partition,
			  int timeout_ms, int64_t *end_r, const char **error_r)
{
	struct emb_reader *r = (struct emb_reader *)rr;
	struct emb_partition *p = lookup(r->l, topic, partition, error_r);

	if (p == NULL)
		return -1;
	pthread_mutex_lock(&r->l->mu);
	*end_r = p->durable_end;
	pthread_mutex_unlock(&r->l->mu);
	return 0;
}

/* Frees a reader. */
void emb_reader_close(struct evlog_reader *rr)
{
	struct emb_reader *r = (struct emb_reader *)rr;

	free(r->a);
	free(r->buf);
	free(r);
}
