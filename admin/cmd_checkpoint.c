/* cmd_checkpoint - `evmailctl checkpoint create [--out FILE]` and
 * `evmailctl replica bootstrap --from HOST:PORT | --file FILE`.
 *
 * create asks the node (--node, else mgmt.listen) for a checkpoint of its
 * view (GET /admin/checkpoint) and writes the stream to FILE (or stdout),
 * checking it on the way like an install would (every file's SHA-256, the
 * end marker): FILE appears, under its name, only once it is whole.
 * bootstrap installs one into THIS machine's view (node.data_dir/view from
 * the configuration), from a peer's management address or from a file
 * made by create; the node must be stopped and its view empty. Both are
 * gateway/checkpoint/checkpoint.h. */
#include "admin/ctl.h"
#include "admin/ctl_args.h"
#include "gateway/checkpoint/checkpoint.h"
#include "gateway/checkpoint/ckpt_stream.h"
#include "common/fsutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CHECKPOINT_USAGE "checkpoint create [--out FILE]"
#define REPLICA_USAGE "replica bootstrap --from HOST:PORT | --file FILE"

struct save {
	FILE *out;
	struct ckpt_parser *parser;
	json_t *manifest;
	uint64_t octets;
};

static int keep_manifest(void *ctx, json_t *m, const char **error_r)
{
	struct save *s = ctx;

	s->manifest = json_incref(m);
	return 0;
}

static int no_begin(void *ctx, const char *name, uint64_t size, const char **error_r)
{
	return 0;
}

static int no_data(void *ctx, const void *data, size_t len, const char **error_r)
{
	return 0;
}

static int no_end(void *ctx, const char **error_r)
{
	return 0;
}

static const struct ckpt_parser_cbs check_cbs = {
	.manifest = keep_manifest, .file_begin = no_begin, .file_data = no_data, .file_end = no_end,
};

/* Sink: check, then write. */
static int save_piece(void *ctx, const void *data, size_t len, const char **error_r)
{
	struct save *s = ctx;

	if (ckpt_parser_feed(s->parser, data, len, error_r) < 0)
		return -1;
	if (fwrite(data, 1, len, s->out) != len) {
		*error_r = strerror(errno);
		return -1;
	}
	s->octets += len;
	return 0;
}

/* One summary line about a checkpoint, to out. */
static void print_summary(FILE *out, json_t *m, uint64_t octets, const char *where)
{
	fprintf(out, "checkpoint of node %s: %lld keys, digest %s, %zu files, %llu octets, in %s\n",
		json_string_value(json_object_get(m, "node")),
		(long long)json_integer_value(json_object_get(m, "keys")),
		json_string_value(json_object_get(m, "digest")),
		json_array_size(json_object_get(m, "files")), (unsigned long long)octets, where);
}

static int checkpoint_create(struct ctl *ctl, const char *path)
{
	struct save s = { .out = stdout };
	char hostport[300], part[4200];
	const char *error = NULL;
	int ret;

	snprintf(hostport, sizeof hostport, strchr(ctl->host, ':') ? "[%s]:%u" : "%s:%u", ctl->host, ctl->port);
	if (path != NULL) {
		snprintf(part, sizeof part, "%s.part", path);
		if ((s.out = fopen(part, "wb")) == NULL)
			return ctl_fail("%s: %s", part, strerror(errno));
	}
	s.parser = ckpt_parser_new(&check_cbs, &s);
	ret = ckpt_fetch(hostport, ctl->cfg.mgmt_admin_token, save_piece, &s, &error);
	if (ret == 0)
		ret = ckpt_parser_finish(s.parser, &error);
	if (ret == 0 && (fflush(s.out) != 0 || (path != NULL && fsync(fileno(s.out)) < 0))) {
		error = strerror(errno);
		ret = -1;
	}
	if (path != NULL) {
		fclose(s.out);
		if (ret == 0 && rename(part, path) < 0) {
			error = strerror(errno);
			ret = -1;
		}
		if (ret < 0)
			unlink(part);
	}
	if (ret == 0)
		print_summary(ctl->json || path == NULL ? stderr : stdout, s.manifest, s.octets,
			      path ? path : "stdout");
	ckpt_parser_free(&s.parser);
	json_decref(s.manifest);
	return ret < 0 ? ctl_fail("checkpoint: %s", error) : CTL_OK;
}

int cmd_checkpoint(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--out", NULL };
	struct ctl_args a;

	if (ctl_args_parse(&a, argc, argv, opts, NULL) < 0 || a.npos != 1 || strcmp(a.pos[0], "create") != 0)
		return ctl_usage(CHECKPOINT_USAGE);
	return checkpoint_create(ctl, ctl_args_opt(&a, "--out"));
}

int cmd_replica(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--from", "--file", NULL };
	struct ctl_args a;
	const char *from, *file, *error = NULL;
	char view[4096];
	json_t *m = NULL;

	if (ctl_args_parse(&a, argc, argv, opts, NULL) < 0 || a.npos != 1 ||
	    strcmp(a.pos[0], "bootstrap") != 0)
		return ctl_usage(REPLICA_USAGE);
	from = ctl_args_opt(&a, "--from");
	file = ctl_args_opt(&a, "--file");
	if ((from == NULL) == (file == NULL))
		return ctl_usage(REPLICA_USAGE);
	snprintf(view, sizeof view, "%s/view", ctl->cfg.node_data_dir);
	if (evm_mkdir_p(ctl->cfg.node_data_dir, &error) < 0 ||
	    ckpt_bootstrap(&ctl->cfg, view, from, file, &m, &error) < 0)
		return ctl_fail("replica bootstrap: %s", error);
	if (ctl->json) {
		ctl_print_json(m);
	} else {
		print_summary(stdout, m, 0, view);
		printf("start evmaild: it tails the log from the checkpoint's offsets\n");
		json_decref(m);
	}
	return CTL_OK;
}
