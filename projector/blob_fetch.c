/* blob_fetch - the store of blob.store = log (blob_store.h): a body's chunks
 * read from the blob topic at the locations the view recorded, verified,
 * and cached. */
#include "projector/blob_store.h"
#include "common/ids.h"
#include "projector/keys.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/log.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The largest chunk (projector/mail.h MAIL_BLOB_CHUNK_MAX). */
#define CHUNK_MAX (512 * 1024)

struct blob_store {
	struct evlog *log;
	struct evlog_reader *reader;   /* guarded by mu */
	pthread_mutex_t mu;
	struct blob_cache *cache;
	blob_open_event_fn *open_event;
	void *open_ctx;
	uint64_t hits, misses, chunks_read, failures, miss_us;   /* __atomic */
};

/* One recorded location: blobloc/<id>/<upload>/<index>. */
struct loc {
	char upload[32];
	int64_t index;
	int32_t partition;
	int64_t offset;
};

struct locs {
	size_t plen;          /* length of "blobloc/<id>/" */
	struct loc *v;
	size_t n, cap;
	int bad;              /* a key or value that does not parse */
};

int blob_store_open(struct evlog *log, const char *cache_dir, uint64_t cache_size,
		    struct blob_store **store_r, const char **error_r)
{
	struct blob_store *s = xcalloc(1, sizeof *s);

	*store_r = NULL;
	if (blob_cache_open(cache_dir, cache_size, &s->cache, error_r) < 0 ||
	    evlog_reader_open_lookup(log, &s->reader, error_r) < 0) {
		blob_cache_close(&s->cache);
		free(s);
		return -1;
	}
	s->log = log;
	pthread_mutex_init(&s->mu, NULL);
	*store_r = s;
	return 0;
}

void blob_store_set_opener(struct blob_store *s, blob_open_event_fn *fn, void *ctx)
{
	s->open_event = fn;
	s->open_ctx = ctx;
}

void blob_store_close(struct blob_store **sp)
{
	struct blob_store *s = *sp;

	if (s == NULL)
		return;
	evlog_reader_close(&s->reader);
	blob_cache_close(&s->cache);
	pthread_mutex_destroy(&s->mu);
	free(s);
	*sp = NULL;
}

struct blob_cache *blob_store_cache(struct blob_store *s)
{
	return s->cache;
}

void blob_store_stats(struct blob_store *s, struct blob_store_stats *st_r)
{
	st_r->hits = __atomic_load_n(&s->hits, __ATOMIC_RELAXED);
	st_r->misses = __atomic_load_n(&s->misses, __ATOMIC_RELAXED);
	st_r->chunks_read = __atomic_load_n(&s->chunks_read, __ATOMIC_RELAXED);
	st_r->failures = __atomic_load_n(&s->failures, __ATOMIC_RELAXED);
	st_r->miss_us = __atomic_load_n(&s->miss_us, __ATOMIC_RELAXED);
}

/* Monotonic microseconds. */
static uint64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Collects blobloc/<id>/<upload>/<index> = "<partition> <offset>". */
static int locs_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct locs *l = vctx;
	const char *rest = key + l->plen, *slash;
	struct loc loc = { .index = -1 };
	char v[64], *end;
	long long off;
	long part;

	slash = memchr(rest, '/', klen - l->plen);
	if (slash == NULL || (size_t)(slash - rest) >= sizeof loc.upload || vlen >= sizeof v ||
	    key + klen - (slash + 1) != 6) {
		l->bad = 1;
		return 0;
	}
	memcpy(loc.upload, rest, (size_t)(slash - rest));
	loc.index = 0;
	for (int i = 1; i <= 6; i++) {
		if (slash[i] < '0' || slash[i] > '9') {
			l->bad = 1;
			return 0;
		}
		loc.index = loc.index * 10 + (slash[i] - '0');
	}
	memcpy(v, val, vlen);
	v[vlen] = '\0';
	part = strtol(v, &end, 10);
	if (*end != ' ' || part < 0 || part > INT32_MAX) {
		l->bad = 1;
		return 0;
	}
	off = strtoll(end + 1, &end, 10);
	if (*end != '\0' || off < 0) {
		l->bad = 1;
		return 0;
	}
	loc.partition = (int32_t)part;
	loc.offset = off;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof *l->v);
	}
	l->v[l->n++] = loc;
	return 0;
}

/* What one chunk read expects, and where its bytes go. */
struct want {
	struct blob_store *s;
	const char *blob_id;
	const struct loc *loc;
	char key[160];
	struct buf *out;
	int state;            /* 0 waiting, 1 read, 2 gone or wrong */
};

/* The record at the wanted offset: decoded, opened, checked, appended. */
static int chunk_cb(void *vctx, const struct evlog_record *rec, const char **error_r)
{
	struct want *w = vctx;
	struct evm_event ev;
	const char *error = NULL, *id, *data;
	unsigned char *bytes;
	size_t dn = 0;
	int64_t index;

	if (rec->offset < w->loc->offset)
		return 0;   /* delivered before the move to the wanted offset */
	if (w->state != 0)
		return 0;
	w->state = 2;
	if (rec->offset > w->loc->offset || rec->key_len != strlen(w->key) ||
	    memcmp(rec->key, w->key, rec->key_len) != 0 || rec->value_len == 0)
		return 0;   /* compacted away (a later record), or not this chunk */
	if (evm_event_decode(rec->value, rec->value_len, &ev, &error) < 0)
		return 0;
	if ((w->s->open_event != NULL && w->s->open_event(w->s->open_ctx, &ev, &error) < 0) ||
	    strcmp(ev.type, "blob.chunk") != 0 ||
	    (id = evm_data_str(&ev, "blob_id", BLOB_STORE_ID_LEN, &error)) == NULL ||
	    strcmp(id, w->blob_id) != 0 || evm_data_int(&ev, "index", 0, INT32_MAX, &index, &error) < 0 ||
	    index != w->loc->index ||
	    (data = evm_data_str(&ev, "data", (CHUNK_MAX + 2) / 3 * 4, &error)) == NULL) {
		log_warn("blob store: record %" PRId32 "/%" PRId64 " is not chunk %s: %s", rec->partition,
			 rec->offset, w->key, error ? error : "another event");
		evm_event_clear(&ev);
		return 0;
	}
	bytes = xmalloc(strlen(data) / 4 * 3 + 1);
	if (evm_b64_decode(data, strlen(data), bytes, &dn) == 0 && dn <= CHUNK_MAX) {
		buf_append(w->out, bytes, dn);
		w->state = 1;
	}
	free(bytes);
	evm_event_clear(&ev);
	(void)error_r;
	return 0;
}

/* Reads one chunk onto out: 1 read, 0 gone or wrong, -1 log error. mu held. */
static int read_chunk(struct blob_store *s, const char *blob_id, const struct loc *loc, struct buf *out,
		      const char **error_r)
{
	struct want w = { .s = s, .blob_id = blob_id, .loc = loc, .out = out };
	uint64_t deadline = mono_us() + (uint64_t)BLOB_STORE_READ_TIMEOUT_MS * 1000, now;

	if (loc->upload[0] != '\0')
		snprintf(w.key, sizeof w.key, "%s/%s/%" PRId64, blob_id, loc->upload, loc->index);
	else
		snprintf(w.key, sizeof w.key, "%s/%" PRId64, blob_id, loc->index);
	if (evlog_reader_unassign_all(s->reader, error_r) < 0 ||
	    evlog_reader_assign(s->reader, EVM_TOPIC_BLOB, loc->partition, loc->offset, error_r) < 0)
		return -1;
	/* A poll returns as soon as a record is there: the wait costs nothing
	 * unless the log is slow or the record is not there yet. */
	while (w.state == 0) {
		if ((now = mono_us()) >= deadline) {
			*error_r = "blob store: the log did not deliver a chunk in time";
			return -1;
		}
		if (evlog_reader_poll(s->reader, (int)((deadline - now + 999) / 1000), 1, chunk_cb, &w, error_r) < 0)
			return -1;
	}
	__atomic_add_fetch(&s->chunks_read, 1, __ATOMIC_RELAXED);
	return w.state == 1;
}

/* Reads the count chunks of one upload (locations v[0..count-1]) and
 * checks size and SHA-256: 1 right, 0 not, -1 log error. */
static int read_upload(struct blob_store *s, const char *blob_id, const struct loc *v, int64_t count,
		       int64_t size, struct buf *out, const char **error_r)
{
	char got[BLOB_STORE_ID_LEN + 1];
	int r = 1;

	buf_truncate(out, 0);
	pthread_mutex_lock(&s->mu);
	for (int64_t i = 0; i < count && r == 1; i++)
		r = read_chunk(s, blob_id, &v[i], out, error_r);
	pthread_mutex_unlock(&s->mu);
	if (r != 1)
		return r;
	if ((int64_t)out->len != size)
		return 0;
	evm_sha256_hex(out->data != NULL ? out->data : "", out->len, got);
	return strcmp(got, blob_id) == 0;
}

int blob_store_read(struct blob_store *s, struct view *view, const char *blob_id, int64_t count,
		    int64_t size, char **data_r, size_t *len_r, const char **error_r)
{
	struct locs l = { 0 };
	struct buf out = BUF_INIT;
	char prefix[sizeof KEY_BLOBLOC + BLOB_STORE_ID_LEN + 1];
	const char *cerr = NULL;
	size_t i, j;
	uint64_t t0;
	int r = 0;

	*data_r = NULL;
	*len_r = 0;
	if (blob_cache_get(s->cache, blob_id, data_r, len_r) == 1) {
		__atomic_add_fetch(&s->hits, 1, __ATOMIC_RELAXED);
		return 1;
	}
	__atomic_add_fetch(&s->misses, 1, __ATOMIC_RELAXED);
	t0 = mono_us();
	snprintf(prefix, sizeof prefix, "%s%s/", KEY_BLOBLOC, blob_id);
	l.plen = strlen(prefix);
	if (view_scan(view, prefix, l.plen, locs_cb, &l, error_r) < 0) {
		free(l.v);
		return -1;
	}
	if (l.bad)
		log_error("blob store: blob %s has locations that do not parse (skipped)", blob_id);
	/* Uploads in key order, each a run of locations with indexes 0, 1, ... */
	for (i = 0; i < l.n && r == 0; i = j) {
		for (j = i; j < l.n && strcmp(l.v[j].upload, l.v[i].upload) == 0; j++)
			;
		if ((int64_t)(j - i) != count)
			continue;
		for (size_t k = i; k < j; k++)
			if (l.v[k].index != (int64_t)(k - i))
				goto next;
		r = read_upload(s, blob_id, &l.v[i], count, size, &out, error_r);
next:;
	}
	free(l.v);
	if (r == 1) {
		if (blob_cache_put(s->cache, blob_id, out.data != NULL ? out.data : "", out.len, &cerr) < 0)
			log_warn("blob store: %s not cached: %s", blob_id, cerr);
		*len_r = out.len;
		*data_r = out.len == 0 ? xstrdup("") : buf_steal(&out);
	} else {
		__atomic_add_fetch(&s->failures, 1, __ATOMIC_RELAXED);
		if (r == 0)
			log_error("blob store: no upload of blob %s can be read right from the log", blob_id);
	}
	buf_free(&out);
	__atomic_add_fetch(&s->miss_us, mono_us() - t0, __ATOMIC_RELAXED);
	return r;
}
