/* ckpt_stream - the checkpoint stream's push parser (see ckpt_stream.h). */
#include "gateway/checkpoint/ckpt_stream.h"
#include "common/ids.h"
#include "common/buf.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum ckpt_state { ST_MAGIC, ST_LENGTH, ST_MANIFEST, ST_FILE, ST_TRAILER, ST_DONE, ST_FAILED };

struct ckpt_parser {
	struct ckpt_parser_cbs cbs;
	void *ctx;
	enum ckpt_state state;
	unsigned char small[8];    /* magic, length, trailer being gathered */
	size_t have;
	uint32_t mlen;
	struct buf manifest_text;
	json_t *manifest;
	size_t file;               /* index into manifest.files */
	uint64_t left;             /* octets of the current file still to come */
	EVP_MD_CTX *md;
	uint64_t offset;
	char error[300];
};

int ckpt_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > CKPT_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

struct ckpt_parser *ckpt_parser_new(const struct ckpt_parser_cbs *cbs, void *ctx)
{
	struct ckpt_parser *p = xcalloc(1, sizeof *p);

	p->cbs = *cbs;
	p->ctx = ctx;
	p->md = EVP_MD_CTX_new();
	if (p->md == NULL)
		abort();
	return p;
}

void ckpt_parser_free(struct ckpt_parser **pp)
{
	struct ckpt_parser *p = *pp;

	if (p == NULL)
		return;
	buf_free(&p->manifest_text);
	json_decref(p->manifest);
	EVP_MD_CTX_free(p->md);
	free(p);
	*pp = NULL;
}

uint64_t ckpt_parser_offset(const struct ckpt_parser *p)
{
	return p->offset;
}

/* Fails the parser with a formatted message; returns -1. */
static int fail(struct ckpt_parser *p, const char **error_r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct ckpt_parser *p, const char **error_r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->error, sizeof p->error, fmt, ap);
	va_end(ap);
	p->state = ST_FAILED;
	*error_r = p->error;
	return -1;
}

/* Fails with a callback's message. */
static int fail_cb(struct ckpt_parser *p, const char *msg, const char **error_r)
{
	return fail(p, error_r, "%s", msg != NULL ? msg : "refused");
}

/* 1 when s is 64 lower-case hex digits. */
static int hex64(const char *s)
{
	if (s == NULL || strlen(s) != 64)
		return 0;
	for (size_t i = 0; i < 64; i++) {
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

/* The manifest's shape: format, digest, and a files list of unique valid
 * names with sizes and hashes. */
static int check_manifest(struct ckpt_parser *p, json_t *m, const char **error_r)
{
	json_t *files = json_object_get(m, "files"), *f, *seen;
	size_t i;

	if (!json_is_object(m))
		return fail(p, error_r, "checkpoint manifest is not a JSON object");
	if (json_integer_value(json_object_get(m, "format")) != CKPT_FORMAT)
		return fail(p, error_r, "checkpoint format %lld, this build reads %d",
			    (long long)json_integer_value(json_object_get(m, "format")), CKPT_FORMAT);
	if (!hex64(json_string_value(json_object_get(m, "digest"))))
		return fail(p, error_r, "checkpoint manifest has no view digest");
	if (!json_is_array(files) || json_array_size(files) == 0 || json_array_size(files) > CKPT_FILES_MAX)
		return fail(p, error_r, "checkpoint manifest: files must list 1 to %d files", CKPT_FILES_MAX);
	seen = json_object();
	json_array_foreach(files, i, f) {
		const char *name = json_string_value(json_object_get(f, "name"));
		json_t *size = json_object_get(f, "size");

		if (name == NULL || !ckpt_name_ok(name) || json_object_get(seen, name) != NULL ||
		    !json_is_integer(size) || json_integer_value(size) < 0 ||
		    json_integer_value(size) > CKPT_FILE_MAX ||
		    !hex64(json_string_value(json_object_get(f, "sha256")))) {
			json_decref(seen);
			return fail(p, error_r, "checkpoint manifest: file %zu is not a valid "
				    "{name, size, sha256} (or a duplicate name)", i);
		}
		json_object_set_new(seen, name, json_true());
	}
	json_decref(seen);
	return 0;
}

/* Moves to file p->file (its begin callback), or to the trailer. */
static int next_file(struct ckpt_parser *p, const char **error_r)
{
	json_t *f = json_array_get(json_object_get(p->manifest, "files"), p->file);
	const char *cb_error = NULL;

	if (f == NULL) {
		p->state = ST_TRAILER;
		p->have = 0;
		return 0;
	}
	p->left = (uint64_t)json_integer_value(json_object_get(f, "size"));
	if (EVP_DigestInit_ex(p->md, EVP_sha256(), NULL) != 1)
		abort();
	if (p->cbs.file_begin(p->ctx, json_string_value(json_object_get(f, "name")), p->left, &cb_error) < 0)
		return fail_cb(p, cb_error, error_r);
	p->state = ST_FILE;
	return p->left == 0 ? 1 : 0;
}

/* The current file is complete: compare its SHA-256 (hex) with the manifest's. */
static int end_file(struct ckpt_parser *p, const char **error_r)
{
	json_t *f = json_array_get(json_object_get(p->manifest, "files"), p->file);
	unsigned char sum[32];
	unsigned int n = 0;
	char hex[65];
	const char *cerr = NULL;

	EVP_DigestFinal_ex(p->md, sum, &n);
	evm_hex_encode(sum, 32, hex);
	if (strcmp(hex, json_string_value(json_object_get(f, "sha256"))) != 0)
		return fail(p, error_r, "checkpoint file %s is corrupt: SHA-256 %s, the manifest says %s",
			    json_string_value(json_object_get(f, "name")), hex,
			    json_string_value(json_object_get(f, "sha256")));
	if (p->cbs.file_end(p->ctx, &cerr) < 0)
		return fail_cb(p, cerr, error_r);
	p->file++;
	return 0;
}

/* Starts the files after a complete manifest; files of size 0 end at once. */
static int start_files(struct ckpt_parser *p, const char **error_r)
{
	int r;

	while ((r = next_file(p, error_r)) == 1) {
		if (end_file(p, error_r) < 0)
			return -1;
	}
	return r;
}

/* Parses the gathered manifest text and hands it on. */
static int take_manifest(struct ckpt_parser *p, const char **error_r)
{
	json_error_t jerr;
	const char *cb_error = NULL;

	p->manifest = json_loadb(p->manifest_text.data, p->manifest_text.len, JSON_REJECT_DUPLICATES, &jerr);
	buf_free(&p->manifest_text);
	if (p->manifest == NULL)
		return fail(p, error_r, "checkpoint manifest is not JSON: %s", jerr.text);
	if (check_manifest(p, p->manifest, error_r) < 0)
		return -1;
	if (p->cbs.manifest(p->ctx, p->manifest, &cb_error) < 0)
		return fail_cb(p, cb_error, error_r);
	p->file = 0;
	return start_files(p, error_r);
}

/* Gathers up to want octets into p->small; returns the octets used. */
static size_t gather(struct ckpt_parser *p, const unsigned char *d, size_t len, size_t want)
{
	size_t n = want - p->have < len ? want - p->have : len;

	memcpy(p->small + p->have, d, n);
	p->have += n;
	return n;
}

/* One step over d; returns octets consumed, or -1. */
static long step(struct ckpt_parser *p, const unsigned char *d, size_t len, const char **error_r)
{
	size_t n;

	switch (p->state) {
	case ST_MAGIC:
		n = gather(p, d, len, 8);
		if (p->have == 8) {
			if (memcmp(p->small, CKPT_MAGIC, 8) != 0)
				return fail(p, error_r, "not an evmail checkpoint stream (bad magic)");
			p->state = ST_LENGTH;
			p->have = 0;
		}
		return (long)n;
	case ST_LENGTH:
		n = gather(p, d, len, 4);
		if (p->have == 4) {
			p->mlen = (uint32_t)p->small[0] << 24 | (uint32_t)p->small[1] << 16 |
				  (uint32_t)p->small[2] << 8 | p->small[3];
			if (p->mlen == 0 || p->mlen > CKPT_MANIFEST_MAX)
				return fail(p, error_r, "checkpoint manifest of %u octets (limit %u)",
					    p->mlen, CKPT_MANIFEST_MAX);
			p->state = ST_MANIFEST;
		}
		return (long)n;
	case ST_MANIFEST:
		n = p->mlen - p->manifest_text.len < len ? p->mlen - p->manifest_text.len : len;
		buf_append(&p->manifest_text, d, n);
		if (p->manifest_text.len == p->mlen && take_manifest(p, error_r) < 0)
			return -1;
		return (long)n;
	case ST_FILE: {
		const char *cb_error = NULL;
		n = p->left < len ? (size_t)p->left : len;
		EVP_DigestUpdate(p->md, d, n);
		if (p->cbs.file_data(p->ctx, d, n, &cb_error) < 0)
			return fail_cb(p, cb_error, error_r);
		p->left -= n;
		if (p->left == 0 && (end_file(p, error_r) < 0 || start_files(p, error_r) < 0))
			return -1;
		return (long)n;
	}
	case ST_TRAILER:
		n = gather(p, d, len, 8);
		if (p->have == 8) {
			if (memcmp(p->small, CKPT_TRAILER, 8) != 0)
				return fail(p, error_r, "checkpoint stream: bad end marker after the last file");
			p->state = ST_DONE;
		}
		return (long)n;
	case ST_DONE:
		return fail(p, error_r, "checkpoint stream: data after the end marker");
	case ST_FAILED:
		*error_r = p->error;
		return -1;
	}
	return -1;
}

int ckpt_parser_feed(struct ckpt_parser *p, const void *data, size_t len, const char **error_r)
{
	const unsigned char *d = data;

	if (p->state == ST_FAILED) {
		*error_r = p->error;
		return -1;
	}
	while (len > 0) {
		long n = step(p, d, len, error_r);

		if (n < 0)
			return -1;
		d += n;
		len -= (size_t)n;
		p->offset += (uint64_t)n;
	}
	return 0;
}

int ckpt_parser_finish(struct ckpt_parser *p, const char **error_r)
{
	json_t *f;

	switch (p->state) {
	case ST_DONE:
		return 0;
	case ST_FAILED:
		*error_r = p->error;
		return -1;
	case ST_FILE:
		f = json_array_get(json_object_get(p->manifest, "files"), p->file);
		return fail(p, error_r, "checkpoint stream truncated after %llu octets: file %s is "
			    "missing its last %llu octets", (unsigned long long)p->offset,
			    json_string_value(json_object_get(f, "name")), (unsigned long long)p->left);
	default:
		return fail(p, error_r, "checkpoint stream truncated after %llu octets (%s)",
			    (unsigned long long)p->offset,
			    p->state == ST_TRAILER ? "no end marker" : "in the header or manifest");
	}
}
