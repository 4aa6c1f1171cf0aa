/* ckpt_bootstrap - an empty view made from a peer's checkpoint, at the
 * node's start (node.bootstrap_from) or by `evmailctl replica bootstrap`
 * (checkpoint.h). */
#include "gateway/checkpoint/checkpoint.h"
#include "common/ids.h"
#include "common/log.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CKPT_FILE_PIECE (256 * 1024)

struct progress {
	struct ckpt_install *inst;
	uint64_t octets, next_log;
};

/* Sink: into the install, with a progress line every 256 MiB. */
static int to_install(void *ctx, const void *data, size_t len, const char **error_r)
{
	struct progress *pr = ctx;

	pr->octets += len;
	if (pr->octets >= pr->next_log) {
		log_info("checkpoint: %llu MiB received", (unsigned long long)(pr->octets >> 20));
		pr->next_log += UINT64_C(256) << 20;
	}
	return ckpt_install_feed(pr->inst, data, len, error_r);
}

/* Reads the stream from a file ("-": stdin) into the sink. */
static int read_file(const char *path, struct progress *pr, const char **error_r)
{
	static __thread char err[600];
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	char *piece;
	size_t n;
	int ret = 0;

	if (in == NULL) {
		snprintf(err, sizeof err, "%s: %s", path, strerror(errno));
		*error_r = err;
		return -1;
	}
	piece = xmalloc(CKPT_FILE_PIECE);
	while ((n = fread(piece, 1, CKPT_FILE_PIECE, in)) > 0) {
		if (to_install(pr, piece, n, error_r) < 0) {
			ret = -1;
			break;
		}
	}
	if (ret == 0 && ferror(in)) {
		snprintf(err, sizeof err, "%s: read error", path);
		*error_r = err;
		ret = -1;
	}
	free(piece);
	if (in != stdin)
		fclose(in);
	return ret;
}

int ckpt_bootstrap(const struct evm_config *cfg, const char *view_path, const char *from,
		   const char *from_file, json_t **manifest_r, const char **error_r)
{
	struct progress pr = { .next_log = UINT64_C(256) << 20 };
	int64_t start = evm_mono_ms();

	if (ckpt_install_begin(cfg, view_path, &pr.inst, error_r) < 0)
		return -1;
	log_info("checkpoint: installing into %s from %s", view_path, from ? from : from_file);
	if ((from != NULL ? ckpt_fetch(from, cfg->mgmt_admin_token, to_install, &pr, error_r)
			  : read_file(from_file, &pr, error_r)) < 0) {
		ckpt_install_abort(&pr.inst);
		return -1;
	}
	if (ckpt_install_commit(&pr.inst, manifest_r, error_r) < 0)
		return -1;
	log_info("checkpoint: installed %llu octets into %s in %lld ms", (unsigned long long)pr.octets,
		 view_path, (long long)(evm_mono_ms() - start));
	return 0;
}

/* Removes data_dir/checkpoint-* directories a crash left behind. */
static void remove_stale_checkpoints(const char *data_dir)
{
	DIR *d = opendir(data_dir);
	struct dirent *e;
	char path[4400];

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		const char *error = NULL;

		if (strncmp(e->d_name, CKPT_DIR_PREFIX, strlen(CKPT_DIR_PREFIX)) != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", data_dir, e->d_name);
		log_info("checkpoint: removing %s, left by an earlier run", path);
		if (ckpt_remove_dir(path, &error) < 0)
			log_warn("checkpoint: %s", error);
	}
	closedir(d);
}

int ckpt_node_prepare(const struct evm_config *cfg, const char *view_path, const char **error_r)
{
	static __thread char err[900];
	char tmp[4200];
	struct stat st;
	int empty;

	remove_stale_checkpoints(cfg->node_data_dir);
	snprintf(tmp, sizeof tmp, "%s" CKPT_TMP_SUFFIX, view_path);
	if (stat(tmp, &st) == 0) {
		log_warn("checkpoint: %s is a bootstrap that did not finish: discarding it", tmp);
		if (ckpt_remove_dir(tmp, error_r) < 0)
			return -1;
	}
	if (cfg->node_bootstrap_from[0] == '\0')
		return 0;
	if ((empty = ckpt_view_empty(view_path, error_r)) < 0)
		return -1;
	if (!empty) {
		log_info("checkpoint: the view holds data: node.bootstrap_from %s is not needed",
			 cfg->node_bootstrap_from);
		return 0;
	}
	if (ckpt_bootstrap(cfg, view_path, cfg->node_bootstrap_from, NULL, NULL, error_r) < 0) {
		snprintf(err, sizeof err, "bootstrap from %s: %s", cfg->node_bootstrap_from, *error_r);
		*error_r = err;
		return -1;
	}
	return 0;
}
