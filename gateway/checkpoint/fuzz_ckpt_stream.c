/* fuzz_ckpt_stream - libFuzzer target for the checkpoint stream parser.
 *
 * Besides not crashing: the result and the transcript of callbacks are the
 * same whether the input is fed whole, one octet at a time, or in pieces
 * whose sizes the input chooses; a file never gets more octets than its
 * size; file_end only follows a file whose octets all came. */
#include "gateway/checkpoint/ckpt_stream.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
	struct buf out;
	uint64_t left;
	int in_file;
};

static void check(int cond)
{
	if (!cond)
		abort();
}

static int f_manifest(void *ctx, json_t *m, const char **error_r)
{
	buf_printf(&((struct run *)ctx)->out, "M%zu\n", json_array_size(json_object_get(m, "files")));
	return 0;
}

static int f_begin(void *ctx, const char *name, uint64_t size, const char **error_r)
{
	struct run *r = ctx;

	check(!r->in_file && ckpt_name_ok(name));
	r->in_file = 1;
	r->left = size;
	buf_printf(&r->out, "B%s:%llu\n", name, (unsigned long long)size);
	return 0;
}

static int f_data(void *ctx, const void *data, size_t len, const char **error_r)
{
	struct run *r = ctx;

	check(r->in_file && len > 0 && len <= r->left);
	r->left -= len;
	buf_append(&r->out, data, len);
	return 0;
}

static int f_end(void *ctx, const char **error_r)
{
	struct run *r = ctx;

	check(r->in_file && r->left == 0);
	r->in_file = 0;
	buf_puts(&r->out, "E\n");
	return 0;
}

static const struct ckpt_parser_cbs cbs = { f_manifest, f_begin, f_data, f_end };

/* Feeds data in pieces: mode 0 whole, 1 one octet, 2 sizes from the input. */
static int feed(const uint8_t *data, size_t size, int mode, struct run *r)
{
	struct ckpt_parser *p = ckpt_parser_new(&cbs, r);
	const char *error = NULL;
	size_t off = 0, k = 0;
	int ret = 0;

	while (off < size && ret == 0) {
		size_t n = mode == 0 ? size : mode == 1 ? 1 : (size_t)(data[k++ % size] % 64) + 1;
		if (n > size - off)
			n = size - off;
		ret = ckpt_parser_feed(p, data + off, n, &error);
		off += n;
	}
	if (ret == 0)
		ret = ckpt_parser_finish(p, &error);
	check(error == NULL || ret < 0);
	buf_printf(&r->out, "=%d\n", ret);
	ckpt_parser_free(&p);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r[3];

	memset(r, 0, sizeof r);
	for (int mode = 0; mode < 3; mode++)
		feed(data, size, mode, &r[mode]);
	for (int mode = 1; mode < 3; mode++)
		check(r[mode].out.len == r[0].out.len &&
		      (r[0].out.len == 0 || memcmp(r[mode].out.data, r[0].out.data, r[0].out.len) == 0));
	for (int mode = 0; mode < 3; mode++)
		buf_free(&r[mode].out);
	return 0;
}
