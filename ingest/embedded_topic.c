/* embedded_topic - see embedded_topic.h */
#include "ingest/embedded_topic.h"
#include "ingest/embedded_fs.h"
#include "ingest/evlog_backend.h"
#include "common/buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define META_FILE "meta.json"
#define MAX_PARTITIONS 100000

/* Reads meta.json; returns 1 if read, 0 if absent, -1 if unreadable. */
static int read_meta(struct emb_topic *t, const char **error_r)
{
	char *path = emb_path(t->dir, META_FILE);
	json_error_t jerr;
	json_t *meta, *parts, *policy;
	struct stat st;
	int ret = -1;

	if (stat(path, &st) < 0 && errno == ENOENT) {
		free(path);
		return 0;
	}
	meta = json_load_file(path, 0, &jerr);
	if (meta == NULL) {
		*error_r = emb_errorf("%s: %s", path, jerr.text);
		goto out;
	}
	parts = json_object_get(meta, "partitions");
	policy = json_object_get(meta, "cleanup.policy");
	if (json_integer_value(json_object_get(meta, "version")) != 1 || !json_is_integer(parts) ||
	    json_integer_value(parts) < 1 || json_integer_value(parts) > MAX_PARTITIONS ||
	    !json_is_string(policy)) {
		*error_r = emb_errorf("%s: not a valid topic description", path);
		goto out;
	}
	t->npart = (int32_t)json_integer_value(parts);
	t->cleanup_policy = xstrdup(json_string_value(policy));
	ret = 1;
out:
	json_decref(meta);
	free(path);
	return ret;
}

/* Creates the topic's directories and then its meta.json, atomically. */
static int create_topic(struct emb_topic *t, const char *root, const struct evm_config *cfg,
			const char **error_r)
{
	json_t *meta;
	char *text;
	int ret;

	t->npart = evm_topic_create_partitions(cfg, t->id);
	t->cleanup_policy = xstrdup(evm_topics[t->id].cleanup_policy);
	if (t->npart < 1 || t->npart > MAX_PARTITIONS) {
		*error_r = emb_errorf("topic %s: invalid partition count %d", t->name, (int)t->npart);
		return -1;
	}
	for (int32_t i = 0; i < t->npart; i++) {
		char num[16];
		snprintf(num, sizeof num, "%d", (int)i);
		char *pdir = emb_path(t->dir, num);
		ret = emb_mkdir_p(pdir, error_r);
		free(pdir);
		if (ret < 0)
			return -1;
	}
	meta = json_pack("{s:i, s:i, s:s}", "version", 1, "partitions", (int)t->npart,
			 "cleanup.policy", t->cleanup_policy);
	text = json_dumps(meta, JSON_SORT_KEYS);
	json_decref(meta);
	ret = emb_write_atomic(t->dir, META_FILE, text, strlen(text), error_r);
	free(text);
	if (ret == 0)
		ret = emb_fsync_dir(root, error_r);
	return ret;
}

/* Opens topic id under root, creating it when missing; recovers its partitions. */
int emb_topic_open(struct emb_topic *t, const char *root, const struct evm_config *cfg,
		   enum evm_topic_id id, const char **error_r)
{
	int r;

	memset(t, 0, sizeof *t);
	t->id = id;
	t->name = xstrdup(config_topic(cfg, evm_topics[id].suffix));
	if (strchr(t->name, '/') != NULL || strcmp(t->name, ".") == 0 || strcmp(t->name, "..") == 0) {
		*error_r = emb_errorf("topic name %s cannot be a directory name", t->name);
		goto fail;
	}
	t->dir = emb_path(root, t->name);
	if (emb_mkdir_p(t->dir, error_r) < 0)
		goto fail;
	r = read_meta(t, error_r);
	if (r < 0 || (r == 0 && create_topic(t, root, cfg, error_r) < 0))
		goto fail;
	t->parts = xcalloc((size_t)t->npart, sizeof *t->parts);
	for (int32_t i = 0; i < t->npart; i++) {
		char num[16];
		snprintf(num, sizeof num, "%d", (int)i);
		char *pdir = emb_path(t->dir, num);
		r = emb_partition_load(&t->parts[i], pdir, i,
				       strcmp(t->cleanup_policy, "compact") == 0, error_r);
		free(pdir);
		if (r < 0)
			goto fail;
	}
	return 0;
fail:
	emb_topic_free(t);
	return -1;
}

/* Frees a topic and its partitions. */
void emb_topic_free(struct emb_topic *t)
{
	if (t->parts != NULL) {
		for (int32_t i = 0; i < t->npart; i++)
			emb_partition_free(&t->parts[i]);
	}
	free(t->parts);
	free(t->name);
	free(t->dir);
	free(t->cleanup_policy);
	memset(t, 0, sizeof *t);
}

/* The topic's entry of the topics_create/describe report. */
json_t *emb_topic_report(const struct emb_topic *t, const struct evm_config *cfg)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:{s:s}, s:b, s:o}",
			 "name", t->name,
			 "topic", evm_topics[t->id].suffix,
			 "partitions", (int)t->npart,
			 "expected_partitions", (int)evm_topic_create_partitions(cfg, t->id),
			 "configs", "cleanup.policy", t->cleanup_policy,
			 "exists", 1,
			 "problems", evlog_topic_problems(cfg, t->id, t->npart, t->cleanup_policy));
}
