/* ckpt_stream - the checkpoint stream (GET /admin/checkpoint, `evmailctl
 * checkpoint create`): one view checkpoint as one byte stream, and the push
 * parser that checks it.
 *
 *   "EVMCKPT1"                 8 octets, magic and format 1
 *   length                     4 octets, big-endian: the manifest's size
 *   manifest                   JSON (at most CKPT_MANIFEST_MAX octets):
 *     {"format":1, "view_format":N, "prefix":"evmail.",
 *      "topics":{"mail":P,"blob":P,"directory":1,"queue":P,"cluster":1},
 *      "offsets":{"mail/0":next offset, ...}, "digest":hex, "keys":n,
 *      "node":id, "files":[{"name":..,"size":n,"sha256":hex}, ...]}
 *   the files' contents        in manifest order, each exactly "size" octets
 *   "EVMCKEND"                 8 octets; nothing may follow
 *
 * The parser takes the stream in pieces of any size and checks every limit
 * (manifest size, file count, name syntax, sizes) and every file's SHA-256
 * as its last octet arrives; a stream that stops early is "truncated" at
 * ckpt_parser_finish. What the manifest says about the cluster is the
 * caller's to compare (ckpt_install.h). */
#ifndef EVM_CKPT_STREAM_H
#define EVM_CKPT_STREAM_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define CKPT_MAGIC "EVMCKPT1"
#define CKPT_TRAILER "EVMCKEND"
#define CKPT_FORMAT 1
#define CKPT_MANIFEST_MAX (4u * 1024 * 1024)
#define CKPT_FILES_MAX 100000
#define CKPT_NAME_MAX 128
#define CKPT_FILE_MAX (INT64_C(1) << 42)     /* 4 TiB, one file */

struct ckpt_parser;

/* What the parser hands on. Each returns 0, or -1 with *error_r to stop
 * the stream (the parser then fails with that message). */
struct ckpt_parser_cbs {
	/* The manifest, checked for shape; borrowed for the parser's life. */
	int (*manifest)(void *ctx, json_t *manifest, const char **error_r);
	int (*file_begin)(void *ctx, const char *name, uint64_t size, const char **error_r);
	int (*file_data)(void *ctx, const void *data, size_t len, const char **error_r);
	/* The file's octets all arrived and their SHA-256 matches. */
	int (*file_end)(void *ctx, const char **error_r);
};

struct ckpt_parser *ckpt_parser_new(const struct ckpt_parser_cbs *cbs, void *ctx);
void ckpt_parser_free(struct ckpt_parser **p);
/* Feeds len octets. 0, or -1 with *error_r (the parser stays failed). */
int ckpt_parser_feed(struct ckpt_parser *p, const void *data, size_t len, const char **error_r);
/* The stream ended: 0 when it was complete, else -1 ("truncated ..."). */
int ckpt_parser_finish(struct ckpt_parser *p, const char **error_r);
/* Octets accepted so far (for progress). */
uint64_t ckpt_parser_offset(const struct ckpt_parser *p);

/* 1 when name is a file name a checkpoint may hold: 1..CKPT_NAME_MAX of
 * [A-Za-z0-9._-], not starting with '.'. */
int ckpt_name_ok(const char *name);

#endif
