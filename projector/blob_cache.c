/* blob_cache - the bounded body cache of blob.store = log (blob_store.h):
 * files <dir>/<2 hex>/<blob id>, an in-memory LRU list and hash index. */
#include "projector/blob_store.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TMP_PREFIX ".tmp."
/* A hit sets the file's mtime (the order the list is rebuilt in at the
 * next open) at most this often, sparing a metadata write per read. */
#define TOUCH_EVERY_S 60

struct centry {
	char id[BLOB_STORE_ID_LEN + 1];
	uint64_t size;
	int64_t touched;                /* monotonic s of the last mtime set here; 0 never */
	struct centry *newer, *older;   /* LRU list: head is the newest */
	struct centry *hnext;           /* hash chain */
};

struct blob_cache {
	char *dir;
	uint64_t max, total, files;
	struct centry **table;
	size_t nbuckets;
	struct centry *newest, *oldest;
	uint64_t tmp_seq;
	pthread_mutex_t mu;
};

void blob_sha256_hex(const void *data, size_t len, char out[BLOB_STORE_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		log_panic("blob cache: SHA-256 failed");
	for (int i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* 1 when name is 64 lower-case hex digits. */
static int id_valid(const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return i == BLOB_STORE_ID_LEN;
}

/* The bucket of an id (a SHA-256: its first digits are uniform). */
static size_t bucket(const struct blob_cache *c, const char *id)
{
	return (size_t)strtoull((char[17]){ id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8],
					    id[9], id[10], id[11], id[12], id[13], id[14], id[15], 0 },
				NULL, 16) & (c->nbuckets - 1);
}

/* The entry of id, or NULL; mutex held. */
static struct centry *find(struct blob_cache *c, const char *id)
{
	for (struct centry *e = c->table[bucket(c, id)]; e != NULL; e = e->hnext)
		if (strcmp(e->id, id) == 0)
			return e;
	return NULL;
}

static void lru_unlink(struct blob_cache *c, struct centry *e)
{
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		c->newest = e->older;
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		c->oldest = e->newer;
	e->newer = e->older = NULL;
}

static void lru_push_newest(struct blob_cache *c, struct centry *e)
{
	e->older = c->newest;
	e->newer = NULL;
	if (c->newest != NULL)
		c->newest->newer = e;
	c->newest = e;
	if (c->oldest == NULL)
		c->oldest = e;
}

/* Doubles the hash table when it is fuller than one entry per bucket. */
static void maybe_grow(struct blob_cache *c)
{
	struct centry **old = c->table;
	size_t n = c->nbuckets;

	if (c->files < n)
		return;
	c->nbuckets = n * 2;
	c->table = xcalloc(c->nbuckets, sizeof *c->table);
	for (size_t i = 0; i < n; i++) {
		for (struct centry *e = old[i], *next; e != NULL; e = next) {
			size_t b = bucket(c, e->id);

			next = e->hnext;
			e->hnext = c->table[b];
			c->table[b] = e;
		}
	}
	free(old);
}

/* Adds an entry as the newest; mutex held. */
static void insert(struct blob_cache *c, const char *id, uint64_t size)
{
	struct centry *e = xcalloc(1, sizeof *e);
	size_t b;

	memcpy(e->id, id, BLOB_STORE_ID_LEN + 1);
	e->size = size;
	c->files++;
	maybe_grow(c);
	b = bucket(c, id);
	e->hnext = c->table[b];
	c->table[b] = e;
	lru_push_newest(c, e);
	c->total += size;
}

/* <dir>/<2 hex>/<id> into path. */
static void file_path(const struct blob_cache *c, const char *id, struct buf *path)
{
	buf_truncate(path, 0);
	buf_printf(path, "%s/%.2s/%s", c->dir, id, id);
}

/* Forgets an entry and deletes its file; mutex held. */
static void remove_entry(struct blob_cache *c, struct centry *e)
{
	struct centry **pp = &c->table[bucket(c, e->id)];
	struct buf path = BUF_INIT;

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(c, e);
	c->total -= e->size;
	c->files--;
	file_path(c, e->id, &path);
	if (unlink(path.data) < 0 && errno != ENOENT)
		log_warn("blob cache: cannot delete %s: %s", path.data, strerror(errno));
	buf_free(&path);
	free(e);
}

/* Evicts the least recently used until the total is within the bound. */
static void evict(struct blob_cache *c)
{
	while (c->total > c->max && c->oldest != NULL)
		remove_entry(c, c->oldest);
}

struct found {
	char id[BLOB_STORE_ID_LEN + 1];
	uint64_t size;
	struct timespec mtime;
};

static int found_cmp(const void *a, const void *b)
{
	const struct found *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* Reads one <2 hex> subdirectory: removes temporary files and strays,
 * appends the blobs to *found. */
static void scan_subdir(const char *sub, struct found **found, size_t *n, size_t *cap)
{
	DIR *d = opendir(sub);
	struct dirent *de;
	struct buf path = BUF_INIT;
	struct stat st;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		buf_truncate(&path, 0);
		buf_printf(&path, "%s/%s", sub, de->d_name);
		if (!id_valid(de->d_name) || strncmp(de->d_name, strrchr(sub, '/') + 1, 2) != 0 ||
		    stat(path.data, &st) < 0 || !S_ISREG(st.st_mode)) {
			/* A crash's temporary file, or nothing of ours. */
			if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0)
				(void)unlink(path.data);
			continue;
		}
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 256;
			*found = xrealloc(*found, *cap * sizeof **found);
		}
		memcpy((*found)[*n].id, de->d_name, BLOB_STORE_ID_LEN + 1);
		(*found)[*n].size = (uint64_t)st.st_size;
		(*found)[*n].mtime = st.st_mtim;
		(*n)++;
	}
	closedir(d);
	buf_free(&path);
}

int blob_cache_open(const char *dir, uint64_t max_bytes, struct blob_cache **cache_r, const char **error_r)
{
	struct blob_cache *c;
	struct found *found = NULL;
	size_t n = 0, cap = 0;
	struct buf sub = BUF_INIT;

	*cache_r = NULL;
	if (evm_mkdir_p(dir, error_r) < 0)
		return -1;
	c = xcalloc(1, sizeof *c);
	c->dir = xstrdup(dir);
	c->max = max_bytes;
	c->nbuckets = 256;
	c->table = xcalloc(c->nbuckets, sizeof *c->table);
	pthread_mutex_init(&c->mu, NULL);
	for (int i = 0; i < 256; i++) {
		buf_truncate(&sub, 0);
		buf_printf(&sub, "%s/%02x", dir, i);
		scan_subdir(sub.data, &found, &n, &cap);
	}
	buf_free(&sub);
	/* Oldest first, so the newest ends at the head of the list. */
	if (n > 0)
		qsort(found, n, sizeof *found, found_cmp);
	for (size_t i = 0; i < n; i++)
		insert(c, found[i].id, found[i].size);
	free(found);
	evict(c);
	*cache_r = c;
	return 0;
}

void blob_cache_close(struct blob_cache **cache)
{
	struct blob_cache *c = *cache;

	if (c == NULL)
		return;
	while (c->newest != NULL) {
		struct centry *e = c->newest;

		c->newest = e->older;
		free(e);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->table);
	free(c->dir);
	free(c);
	*cache = NULL;
}

/* Reads a whole file: 0, or -1 (errno). */
static int read_file(const char *path, char **data_r, size_t *len_r)
{
	struct buf b = BUF_INIT;
	char tmp[65536];
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((got = read(fd, tmp, sizeof tmp)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			buf_free(&b);
			return -1;
		}
		buf_append(&b, tmp, (size_t)got);
	}
	close(fd);
	*len_r = b.len;
	*data_r = b.len == 0 ? xstrdup("") : buf_steal(&b);
	buf_free(&b);
	return 0;
}

int blob_cache_get(struct blob_cache *c, const char *blob_id, char **data_r, size_t *len_r)
{
	struct buf path = BUF_INIT;
	char got[BLOB_STORE_ID_LEN + 1];
	struct centry *e;
	struct timespec now;
	char *data = NULL;
	size_t len = 0;
	int r = 0, touch = 0;

	*data_r = NULL;
	*len_r = 0;
	if (!id_valid(blob_id))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&c->mu);
	if ((e = find(c, blob_id)) != NULL) {
		lru_unlink(c, e);
		lru_push_newest(c, e);
		if (e->touched == 0 || now.tv_sec - e->touched >= TOUCH_EVERY_S) {
			e->touched = now.tv_sec > 0 ? now.tv_sec : 1;
			touch = 1;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (e == NULL)
		return 0;
	/* Read outside the mutex; an eviction meanwhile makes it a miss. */
	file_path(c, blob_id, &path);
	if (read_file(path.data, &data, &len) == 0) {
		blob_sha256_hex(data, len, got);
		if (strcmp(got, blob_id) == 0) {
			if (touch)
				(void)utimensat(AT_FDCWD, path.data, NULL, 0);
			*data_r = data;
			*len_r = len;
			r = 1;
		} else {
			log_warn("blob cache: %s does not hold the bytes of its name: deleted", path.data);
			free(data);
		}
	}
	buf_free(&path);
	if (r == 0) {
		pthread_mutex_lock(&c->mu);
		if ((e = find(c, blob_id)) != NULL)
			remove_entry(c, e);
		pthread_mutex_unlock(&c->mu);
	}
	return r;
}

/* Writes data to path whole: 0 or -1 (errno). */
static int write_file(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

int blob_cache_put(struct blob_cache *c, const char *blob_id, const void *data, size_t len,
		   const char **error_r)
{
	struct buf tmp = BUF_INIT, path = BUF_INIT;
	struct centry *e;
	uint64_t seq;
	int ret = -1;

	if (!id_valid(blob_id) || (uint64_t)len > c->max)
		return 0;
	pthread_mutex_lock(&c->mu);
	seq = c->tmp_seq++;
	pthread_mutex_unlock(&c->mu);
	buf_printf(&tmp, "%s/%.2s", c->dir, blob_id);
	if (evm_mkdir_p(tmp.data, error_r) < 0)
		goto out;
	buf_printf(&tmp, "/" TMP_PREFIX "%s.%ld.%llu", blob_id, (long)getpid(), (unsigned long long)seq);
	file_path(c, blob_id, &path);
	if (write_file(tmp.data, data, len) < 0 || rename(tmp.data, path.data) < 0) {
		*error_r = "blob cache: cannot write a file";
		log_warn("blob cache: cannot write %s: %s", path.data, strerror(errno));
		(void)unlink(tmp.data);
		goto out;
	}
	pthread_mutex_lock(&c->mu);
	if ((e = find(c, blob_id)) != NULL) {
		/* Written twice at once: the same bytes, one file. */
		lru_unlink(c, e);
		lru_push_newest(c, e);
	} else {
		insert(c, blob_id, (uint64_t)len);
	}
	evict(c);
	pthread_mutex_unlock(&c->mu);
	ret = 0;
out:
	buf_free(&tmp);
	buf_free(&path);
	return ret;
}

int blob_cache_has(struct blob_cache *c, const char *blob_id)
{
	int r;

	if (!id_valid(blob_id))
		return 0;
	pthread_mutex_lock(&c->mu);
	r = find(c, blob_id) != NULL;
	pthread_mutex_unlock(&c->mu);
	return r;
}

void blob_cache_usage(struct blob_cache *c, uint64_t *bytes_r, uint64_t *files_r)
{
	pthread_mutex_lock(&c->mu);
	*bytes_r = c->total;
	*files_r = c->files;
	pthread_mutex_unlock(&c->mu);
}
