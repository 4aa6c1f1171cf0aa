/* ckpt_create - a checkpoint of the view and its manifest (checkpoint.h). */
#include "gateway/checkpoint/checkpoint.h"
#include "common/ids.h"
#include "gateway/checkpoint/ckpt_stream.h"
#include "common/log.h"
#include "projector/keys.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Thread-local message. */
static const char *msg(const char *fmt, const char *a, const char *b)
{
	static __thread char m[600];

	snprintf(m, sizeof m, fmt, a, b);
	return m;
}

int ckpt_remove_dir(const char *dir, const char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];

	if (d == NULL) {
		if (errno == ENOENT)
			return 0;
		*error_r = msg("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (unlink(path) < 0) {
			*error_r = msg("remove %s: %s", path, strerror(errno));
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (rmdir(dir) < 0) {
		*error_r = msg("remove %s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* SHA-256 (hex) and size of a file. */
static int hash_file(const char *path, char hex[65], uint64_t *size_r, const char **error_r)
{
	unsigned char sum[32], *chunk = xmalloc(1 << 16);
	unsigned int n = 0;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	*size_r = 0;
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	if (fd < 0) {
		*error_r = msg("%s: %s", path, strerror(errno));
		EVP_MD_CTX_free(md);
		free(chunk);
		return -1;
	}
	while ((got = read(fd, chunk, 1 << 16)) > 0) {
		EVP_DigestUpdate(md, chunk, (size_t)got);
		*size_r += (uint64_t)got;
	}
	close(fd);
	free(chunk);
	EVP_DigestFinal_ex(md, sum, &n);
	EVP_MD_CTX_free(md);
	if (got < 0) {
		*error_r = msg("%s: %s", path, strerror(errno));
		return -1;
	}
	evm_hex_encode(sum, 32, hex);
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of dir, sorted, with sizes and hashes. RocksDB's info logs
 * (LOG, LOG.old.*) are left out: they are diagnostics of the node that
 * wrote them. */
static int list_files(const char *dir, json_t *files, const char **error_r)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL, path[4096], hex[65];
	size_t n = 0, cap = 0;
	int ret = 0;

	if (d == NULL) {
		*error_r = msg("%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, "LOG", 3) == 0)
			continue;
		if (n == cap)
			names = xrealloc(names, (cap = cap ? cap * 2 : 64) * sizeof *names);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 0; i < n; i++) {
		uint64_t size;

		if (ret == 0 && !ckpt_name_ok(names[i])) {
			*error_r = msg("checkpoint holds a file named %s, which the stream cannot carry%s",
				       names[i], "");
			ret = -1;
		}
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (ret == 0 && hash_file(path, hex, &size, error_r) < 0)
			ret = -1;
		if (ret == 0)
			json_array_append_new(files, json_pack("{s:s,s:I,s:s}", "name", names[i],
							       "size", (json_int_t)size, "sha256", hex));
		free(names[i]);
	}
	free(names);
	return ret;
}

/* Collects "off/<topic>/<partition>" = next offset into offsets. */
static int offset_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	char name[160], num[32];
	const char *rest = key + strlen(KEY_OFFSET), *slash;
	size_t rlen = klen - strlen(KEY_OFFSET);

	slash = memchr(rest, '/', rlen);
	if (slash == NULL || rlen >= sizeof name || vlen >= sizeof num)
		return 0;
	snprintf(name, sizeof name, "%.*s/%d", (int)(slash - rest), rest,
		 atoi(slash + 1));
	memcpy(num, val, vlen);
	num[vlen] = '\0';
	json_object_set_new(ctx, name, json_integer(strtoll(num, NULL, 10)));
	return 0;
}

/* Offsets and digest of the checkpoint, read from the copy itself. */
static int read_copy(const char *dir, json_t *manifest, const char **error_r)
{
	struct view *copy = NULL;
	json_t *offsets = json_object();
	char digest[65];
	uint64_t keys = 0;

	if (view_open(dir, &copy, error_r) < 0) {
		json_decref(offsets);
		return -1;
	}
	if (view_scan(copy, KEY_OFFSET, strlen(KEY_OFFSET), offset_cb, offsets, error_r) < 0 ||
	    view_digest(copy, digest, &keys, error_r) < 0) {
		view_close(&copy);
		json_decref(offsets);
		return -1;
	}
	view_close(&copy);
	json_object_set_new(manifest, "offsets", offsets);
	json_object_set_new(manifest, "digest", json_string(digest));
	json_object_set_new(manifest, "keys", json_integer((json_int_t)keys));
	return 0;
}

int ckpt_create(const struct evm_config *cfg, struct evlog *log, struct view *view, const char *dir,
		json_t **manifest_r, const char **error_r)
{
	json_t *m, *topics = json_object(), *files = json_array();

	for (int t = 0; t < EVM_TOPIC_COUNT; t++) {
		int32_t parts = evlog_partitions(log, (enum evm_topic_id)t);

		if (parts <= 0) {
			*error_r = msg("topic %s%s does not exist yet: no checkpoint before the log is set up",
				       cfg->log_topic_prefix, evm_topics[t].suffix);
			json_decref(topics);
			json_decref(files);
			return -1;
		}
		json_object_set_new(topics, evm_topics[t].suffix, json_integer(parts));
	}
	m = json_pack("{s:i,s:i,s:I,s:s,s:s,s:o,s:s,s:o}", "format", CKPT_FORMAT, "view_format", VIEW_FORMAT,
		      "tombstone_ms", (json_int_t)cfg->mail_tombstone_ms,
		      "blob_store", config_blob_store_log(cfg) ? "log" : "view", "prefix", cfg->log_topic_prefix,
		      "topics", topics, "node", cfg->node_id, "files", files);
	if (view_checkpoint(view, dir, error_r) < 0) {
		json_decref(m);
		return -1;
	}
	/* Opening the copy to read it adds its own small files (a new MANIFEST,
	 * OPTIONS): the list is taken after, so it is what is sent. */
	if (read_copy(dir, m, error_r) < 0 || list_files(dir, files, error_r) < 0) {
		const char *rm_error = NULL;
		if (ckpt_remove_dir(dir, &rm_error) < 0)
			log_warn("checkpoint: %s", rm_error);
		json_decref(m);
		return -1;
	}
	*manifest_r = m;
	return 0;
}

void ckpt_stream_head(json_t *manifest, struct buf *out)
{
	char *s = json_dumps(manifest, JSON_COMPACT | JSON_SORT_KEYS);
	size_t len = strlen(s);
	unsigned char be[4] = {
		(unsigned char)(len >> 24), (unsigned char)(len >> 16),
		(unsigned char)(len >> 8), (unsigned char)len,
	};

	buf_append(out, CKPT_MAGIC, 8);
	buf_append(out, be, 4);
	buf_append(out, s, len);
	free(s);
}
