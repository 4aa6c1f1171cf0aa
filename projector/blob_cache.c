/* blob_cache - the bounded body cache of blob.store = log (blob_store.h):
 * files <dir>/<2 hex>/<blob id>, indexed in memory (blob_cache_index.c). */
#include "projector/blob_cache_internal.h"
#include "common/ids.h"
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
		if (!bcache_id_valid(de->d_name) || strncmp(de->d_name, strrchr(sub, '/') + 1, 2) != 0 ||
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
		bcache_insert(c, found[i].id, found[i].size);
	free(found);
	bcache_evict(c);
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
	if (!bcache_id_valid(blob_id))
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&c->mu);
	if ((e = bcache_find(c, blob_id)) != NULL) {
		bcache_make_newest(c, e);
		if (e->touched == 0 || now.tv_sec - e->touched >= TOUCH_EVERY_S) {
			e->touched = now.tv_sec > 0 ? now.tv_sec : 1;
			touch = 1;
		}
	}
	pthread_mutex_unlock(&c->mu);
	if (e == NULL)
		return 0;
	/* Read outside the mutex; an eviction meanwhile makes it a miss. */
	bcache_file_path(c, blob_id, &path);
	if (read_file(path.data, &data, &len) == 0) {
		evm_sha256_hex(data, len, got);
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
		if ((e = bcache_find(c, blob_id)) != NULL)
			bcache_remove(c, e);
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

	if (!bcache_id_valid(blob_id) || (uint64_t)len > c->max)
		return 0;
	pthread_mutex_lock(&c->mu);
	seq = c->tmp_seq++;
	pthread_mutex_unlock(&c->mu);
	buf_printf(&tmp, "%s/%.2s", c->dir, blob_id);
	if (evm_mkdir_p(tmp.data, error_r) < 0)
		goto out;
	buf_printf(&tmp, "/" TMP_PREFIX "%s.%ld.%llu", blob_id, (long)getpid(), (unsigned long long)seq);
	bcache_file_path(c, blob_id, &path);
	if (write_file(tmp.data, data, len) < 0 || rename(tmp.data, path.data) < 0) {
		*error_r = "blob cache: cannot write a file";
		log_warn("blob cache: cannot write %s: %s", path.data, strerror(errno));
		(void)unlink(tmp.data);
		goto out;
	}
	pthread_mutex_lock(&c->mu);
	if ((e = bcache_find(c, blob_id)) != NULL) {
		/* Written twice at once: the same bytes, one file. */
		bcache_make_newest(c, e);
	} else {
		bcache_insert(c, blob_id, (uint64_t)len);
	}
	bcache_evict(c);
	pthread_mutex_unlock(&c->mu);
	ret = 0;
out:
	buf_free(&tmp);
	buf_free(&path);
	return ret;
}

void blob_cache_drop(struct blob_cache *c, const char *blob_id)
{
	struct centry *e;

	if (!bcache_id_valid(blob_id))
		return;
	pthread_mutex_lock(&c->mu);
	if ((e = bcache_find(c, blob_id)) != NULL)
		bcache_remove(c, e);
	pthread_mutex_unlock(&c->mu);
}

int blob_cache_has(struct blob_cache *c, const char *blob_id)
{
	int r;

	if (!bcache_id_valid(blob_id))
		return 0;
	pthread_mutex_lock(&c->mu);
	r = bcache_find(c, blob_id) != NULL;
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
