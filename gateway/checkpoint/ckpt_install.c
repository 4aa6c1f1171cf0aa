/* ckpt_install - a checkpoint stream into the view's place, verified
 * before it gets there (checkpoint.h). */
#include "gateway/checkpoint/checkpoint.h"
#include "gateway/checkpoint/ckpt_stream.h"
#include "common/log.h"
#include "projector/keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ckpt_install {
	const struct evm_config *cfg;
	char view[4096];
	char tmp[4200];
	struct ckpt_parser *parser;
	json_t *manifest;            /* borrowed from the parser */
	int fd;
	char file[CKPT_NAME_MAX + 1];
};

static __thread char errbuf[700];

/* Formats into the thread-local message; returns -1. */
static int fail(const char **error_r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof errbuf, fmt, ap);
	va_end(ap);
	*error_r = errbuf;
	return -1;
}

int ckpt_manifest_check(const struct evm_config *cfg, json_t *m, const char **error_r)
{
	const char *prefix = json_string_value(json_object_get(m, "prefix"));
	json_t *topics = json_object_get(m, "topics");
	json_int_t vf = json_integer_value(json_object_get(m, "view_format"));
	const char *store;

	if (prefix == NULL || strcmp(prefix, cfg->log_topic_prefix) != 0)
		return fail(error_r, "checkpoint refused: it is of the topics prefixed '%s', this node's "
			    "log.topic_prefix is '%s' (another cluster)", prefix ? prefix : "?",
			    cfg->log_topic_prefix);
	if (!json_is_object(topics) || json_object_size(topics) != EVM_TOPIC_COUNT)
		return fail(error_r, "checkpoint refused: its topic set is not this build's (%d topics: mail, "
			    "blob, directory, queue, cluster)", EVM_TOPIC_COUNT);
	for (int t = 0; t < EVM_TOPIC_COUNT; t++) {
		json_t *n = json_object_get(topics, evm_topics[t].suffix);
		int32_t want = evm_topic_create_partitions(cfg, (enum evm_topic_id)t);

		if (!json_is_integer(n))
			return fail(error_r, "checkpoint refused: its topic set has no topic %s", evm_topics[t].suffix);
		if (json_integer_value(n) != want)
			return fail(error_r, "checkpoint refused: topic %s%s has %lld partitions there, this node "
				    "expects %d (log.partitions; another cluster)", cfg->log_topic_prefix,
				    evm_topics[t].suffix, (long long)json_integer_value(n), (int)want);
	}
	if (vf != VIEW_FORMAT)
		return fail(error_r, "checkpoint refused: its view has format %lld, this build's is %d "
			    "(run the same version as the peer)", (long long)vf, VIEW_FORMAT);
	/* The horizon is an input of the appliers (projector/mail_prune.c):
	 * a view pruned with another is not this node's view. */
	if (json_integer_value(json_object_get(m, "tombstone_ms")) != cfg->mail_tombstone_ms)
		return fail(error_r, "checkpoint refused: its view was made with mail.tombstone_days = %.9g, "
			    "this node has %.9g (it must be the same on every node)",
			    (double)json_integer_value(json_object_get(m, "tombstone_ms")) / 86400000,
			    (double)cfg->mail_tombstone_ms / 86400000);
	/* blob.store too (projector/blob_store.h): chunk bytes or locations.
	 * A manifest without it comes from a view-mode peer. */
	store = json_string_value(json_object_get(m, "blob_store"));
	if (strcmp(store != NULL ? store : "view", config_blob_store_log(cfg) ? "log" : "view") != 0)
		return fail(error_r, "checkpoint refused: its view was made with blob.store = %s, this node has "
			    "%s", store != NULL ? store : "view", config_blob_store_log(cfg) ? "log" : "view");
	if (!json_is_object(json_object_get(m, "offsets")))
		return fail(error_r, "checkpoint refused: its manifest has no offsets");
	return 0;
}

static int on_manifest(void *ctx, json_t *m, const char **error_r)
{
	struct ckpt_install *inst = ctx;

	if (ckpt_manifest_check(inst->cfg, m, error_r) < 0)
		return -1;
	inst->manifest = m;
	log_info("checkpoint: from node %s, %lld keys, digest %s", json_string_value(json_object_get(m, "node")),
		 (long long)json_integer_value(json_object_get(m, "keys")),
		 json_string_value(json_object_get(m, "digest")));
	return 0;
}

static int on_file_begin(void *ctx, const char *name, uint64_t size, const char **error_r)
{
	struct ckpt_install *inst = ctx;
	char path[4400];

	snprintf(inst->file, sizeof inst->file, "%s", name);
	snprintf(path, sizeof path, "%s/%s", inst->tmp, name);
	inst->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
	if (inst->fd < 0)
		return fail(error_r, "%s: %s", path, strerror(errno));
	return 0;
}

static int on_file_data(void *ctx, const void *data, size_t len, const char **error_r)
{
	struct ckpt_install *inst = ctx;
	const char *d = data;

	while (len > 0) {
		ssize_t n = write(inst->fd, d, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(error_r, "%s/%s: %s", inst->tmp, inst->file, strerror(errno));
		d += n;
		len -= (size_t)n;
	}
	return 0;
}

static int on_file_end(void *ctx, const char **error_r)
{
	struct ckpt_install *inst = ctx;
	int ret = fsync(inst->fd);

	close(inst->fd);
	inst->fd = -1;
	if (ret < 0)
		return fail(error_r, "%s/%s: %s", inst->tmp, inst->file, strerror(errno));
	return 0;
}

static const struct ckpt_parser_cbs install_cbs = {
	.manifest = on_manifest, .file_begin = on_file_begin,
	.file_data = on_file_data, .file_end = on_file_end,
};

static int any_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	*(int *)ctx = 1;
	return 1;
}

int ckpt_view_empty(const char *view_path, const char **error_r)
{
	struct view *v = NULL;
	struct stat st;
	char current[4200];
	int any = 0;

	snprintf(current, sizeof current, "%s/CURRENT", view_path);
	if (stat(view_path, &st) < 0 && errno == ENOENT)
		return 1;
	if (stat(current, &st) < 0 && errno == ENOENT)
		return 1;
	if (view_open(view_path, &v, error_r) < 0)
		return -1;
	if (view_scan(v, KEY_OFFSET, strlen(KEY_OFFSET), any_cb, &any, error_r) < 0) {
		view_close(&v);
		return -1;
	}
	view_close(&v);
	return !any;
}

int ckpt_install_begin(const struct evm_config *cfg, const char *view_path, struct ckpt_install **inst_r,
		       const char **error_r)
{
	struct ckpt_install *inst;
	int empty = ckpt_view_empty(view_path, error_r);

	if (empty < 0)
		return -1;
	if (!empty)
		return fail(error_r, "%s already holds a view: a checkpoint is only installed into an empty one "
			    "(stop the node and remove it to start over)", view_path);
	inst = xcalloc(1, sizeof *inst);
	inst->cfg = cfg;
	inst->fd = -1;
	snprintf(inst->view, sizeof inst->view, "%s", view_path);
	snprintf(inst->tmp, sizeof inst->tmp, "%s" CKPT_TMP_SUFFIX, view_path);
	if (ckpt_remove_dir(inst->tmp, error_r) < 0) {
		free(inst);
		return -1;
	}
	if (mkdir(inst->tmp, 0750) < 0) {
		fail(error_r, "%s: %s", inst->tmp, strerror(errno));
		free(inst);
		return -1;
	}
	inst->parser = ckpt_parser_new(&install_cbs, inst);
	*inst_r = inst;
	return 0;
}

/* Copies a message that may live in the parser (freed with the install)
 * into the thread-local buffer. */
static void keep_error(const char **error_r)
{
	char copy[sizeof errbuf];

	if (*error_r == NULL || *error_r == errbuf)
		return;
	snprintf(copy, sizeof copy, "%s", *error_r);
	memcpy(errbuf, copy, sizeof errbuf);
	*error_r = errbuf;
}

int ckpt_install_feed(struct ckpt_install *inst, const void *data, size_t len, const char **error_r)
{
	if (ckpt_parser_feed(inst->parser, data, len, error_r) < 0) {
		keep_error(error_r);
		return -1;
	}
	return 0;
}

/* fsync of a directory, so renames and new names in it are durable. */
static int sync_dir(const char *dir, const char **error_r)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret;

	if (fd < 0)
		return fail(error_r, "%s: %s", dir, strerror(errno));
	ret = fsync(fd);
	close(fd);
	if (ret < 0)
		return fail(error_r, "%s: %s", dir, strerror(errno));
	return 0;
}

/* Opens the copy and compares its digest with the manifest's. */
static int verify_digest(struct ckpt_install *inst, const char **error_r)
{
	const char *want = json_string_value(json_object_get(inst->manifest, "digest"));
	struct view *v = NULL;
	char got[65];

	if (view_open(inst->tmp, &v, error_r) < 0)
		return -1;
	if (view_digest(v, got, NULL, error_r) < 0) {
		view_close(&v);
		return -1;
	}
	view_close(&v);
	if (strcmp(got, want) != 0)
		return fail(error_r, "checkpoint refused: the installed copy's digest is %s, the peer's was %s", got, want);
	return 0;
}

/* The parent directory of path, into out. */
static void parent_dir(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, size, ".");
	else if (slash == path)
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(slash - path), path);
}

int ckpt_install_commit(struct ckpt_install **instp, json_t **manifest_r, const char **error_r)
{
	struct ckpt_install *inst = *instp;
	char parent[4096];

	if (ckpt_parser_finish(inst->parser, error_r) < 0 || sync_dir(inst->tmp, error_r) < 0 ||
	    verify_digest(inst, error_r) < 0)
		goto fail;
	/* An empty view (a database without offsets) is replaced. */
	if (ckpt_remove_dir(inst->view, error_r) < 0)
		goto fail;
	if (rename(inst->tmp, inst->view) < 0) {
		fail(error_r, "rename %s to %s: %s", inst->tmp, inst->view, strerror(errno));
		goto fail;
	}
	parent_dir(inst->view, parent, sizeof parent);
	if (sync_dir(parent, error_r) < 0)
		goto fail;
	if (manifest_r != NULL)
		*manifest_r = json_incref(inst->manifest);
	ckpt_parser_free(&inst->parser);
	free(inst);
	*instp = NULL;
	return 0;
fail:
	keep_error(error_r);
	ckpt_install_abort(instp);
	return -1;
}

void ckpt_install_abort(struct ckpt_install **instp)
{
	struct ckpt_install *inst = *instp;
	const char *error = NULL;

	if (inst == NULL)
		return;
	if (inst->fd >= 0)
		close(inst->fd);
	if (ckpt_remove_dir(inst->tmp, &error) < 0)
		log_warn("checkpoint: %s", error);
	ckpt_parser_free(&inst->parser);
	free(inst);
	*instp = NULL;
}
