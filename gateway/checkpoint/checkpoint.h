/* checkpoint - view checkpoints and replicas bootstrapped from a peer
 * (issue #12): the pieces the management API, evmaild's start and
 * evmailctl share. The stream format is ckpt_stream.h.
 *
 * Serving: ckpt_create makes a RocksDB checkpoint of the view (consistent
 * by construction: every projector commit is one atomic write holding its
 * offsets, view.h) in a directory of its own under node.data_dir, reads
 * its offsets and digest, hashes its files, and ckpt_serve streams it.
 *
 * Installing: the stream goes into "<view>.bootstrap", every file checked
 * against its SHA-256 as it arrives, the manifest against this node's
 * configuration (topic set, prefix, partition counts, view format); then
 * the copy is opened, its digest recomputed and compared, and only then
 * renamed to "<view>": a crash at any point leaves either no view (the
 * next start discards the temporary directory and starts over) or a
 * complete one. The projector then tails the log from the offsets the
 * view holds, like after any restart. */
#ifndef EVM_CHECKPOINT_H
#define EVM_CHECKPOINT_H

#include <event2/event.h>
#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"
#include "common/config.h"
#include "ingest/evlog.h"
#include "projector/view.h"

#define CKPT_TMP_SUFFIX ".bootstrap"
#define CKPT_DIR_PREFIX "checkpoint-"

/* ---- ckpt_create.c (any thread) ---- */
/* Checkpoint of view into dir (must not exist) and its manifest (new
 * ref): partition counts from log, offsets and digest from the copy. */
int ckpt_create(const struct evm_config *cfg, struct evlog *log, struct view *view, const char *dir,
		json_t **manifest_r, const char **error_r);
/* The stream's head (magic, length, manifest) into out. */
void ckpt_stream_head(json_t *manifest, struct buf *out);
/* Removes dir and the files in it (checkpoints hold no subdirectories);
 * a missing dir is fine. 0 or -1. */
int ckpt_remove_dir(const char *dir, const char **error_r);

/* ---- ckpt_serve.c (loop thread) ---- */
struct node;
struct http_request;
/* GET /admin/checkpoint (admin_api.c): 200 with the stream; 409 while the
 * projector is not running (rebuilding, waiting for topics). */
void ckpt_serve(struct node *node, struct http_request *req);
/* At the node's stop, after the management listener and before the view
 * closes: waits for checkpoints being made, ends every answer, removes
 * their directories. */
void ckpt_serve_stop(void);

/* ---- ckpt_install.c ---- */
/* Compares what the manifest says about its cluster with cfg: topic set,
 * log.topic_prefix, partition counts, this build's VIEW_FORMAT and
 * mail.tombstone_days (the manifest's "tombstone_ms") and blob.store
 * ("blob_store", absent: view). -1
 * with a message naming the first difference. */
int ckpt_manifest_check(const struct evm_config *cfg, json_t *manifest, const char **error_r);
struct ckpt_install;
/* Starts installing into view_path (which must hold no applied view):
 * makes view_path.bootstrap, discarding a stale one. */
int ckpt_install_begin(const struct evm_config *cfg, const char *view_path, struct ckpt_install **inst_r,
		       const char **error_r);
/* Stream octets, any piece size. */
int ckpt_install_feed(struct ckpt_install *inst, const void *data, size_t len, const char **error_r);
/* The stream ended: checks it was whole, syncs, verifies the digest, and
 * renames it into place. Frees inst either way; *manifest_r (may be NULL)
 * gets the manifest on success. On failure the temporary copy is gone. */
int ckpt_install_commit(struct ckpt_install **inst, json_t **manifest_r, const char **error_r);
/* Drops an install, removing the temporary copy. NULL-safe. */
void ckpt_install_abort(struct ckpt_install **inst);
/* 1 when view_path holds no applied view (missing, or a database without
 * offsets), 0 when it does, -1 on error. Opens the view when it exists:
 * not while a node has it open. */
int ckpt_view_empty(const char *view_path, const char **error_r);

/* ---- ckpt_fetch.c (blocking, libcurl) ---- */
typedef int ckpt_sink(void *ctx, const void *data, size_t len, const char **error_r);
/* GET http://hostport/admin/checkpoint (Bearer token unless ""), each
 * piece of the body to sink. -1 with *error_r: unreachable, not 200 (the
 * peer's error text), or the sink refused. */
int ckpt_fetch(const char *hostport, const char *token, ckpt_sink *sink, void *ctx, const char **error_r);

/* ---- ckpt_bootstrap.c ---- */
/* Installs a checkpoint into view_path from a peer (from = host:port) or
 * from a file (from_file, "-" = stdin); exactly one is set. */
int ckpt_bootstrap(const struct evm_config *cfg, const char *view_path, const char *from,
		   const char *from_file, json_t **manifest_r, const char **error_r);
/* At evmaild's start, before the view is opened: removes stale serving
 * checkpoints and a half-done bootstrap; with node.bootstrap_from and an
 * empty view, bootstraps (blocking). 0 or -1. */
int ckpt_node_prepare(const struct evm_config *cfg, const char *view_path, const char **error_r);
/* ckpt_node_prepare on a worker thread while base's loop runs (only the
 * management API is listening then: /healthz answers during a long
 * bootstrap; ckpt_node.c). Same result. */
int ckpt_node_prepare_serving(struct event_base *base, const struct evm_config *cfg, const char *view_path,
			      const char **error_r);

#endif
