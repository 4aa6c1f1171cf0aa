/* imap_render_testutil - helpers for the test_imap_render*.c programs
 * (header-only, included by tests alone). */
#ifndef EVM_IMAP_RENDER_TESTUTIL_H
#define EVM_IMAP_RENDER_TESTUTIL_H

#include "common/mime.h"
#include "gateway/imap/imap_render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stored message: prefix + blob, and the summary of the blob. */
struct ir_msg {
	char *data;
	size_t len, prefix_len;
	json_t *sum;
};

/* Reads tests/mime-corpus/<name> (found from this file's path). */
static inline char *ir_load(const char *name, size_t *len_r)
{
	char path[1024];
	const char *slash = strrchr(__FILE__, '/');
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof path, "%.*s/../../tests/mime-corpus/%s",
		 slash != NULL ? (int)(slash - __FILE__) : 1, slash != NULL ? __FILE__ : ".", name);
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = malloc((size_t)n + 1);
	if (data == NULL || fread(data, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(data);
		return NULL;
	}
	data[n] = '\0';
	fclose(f);
	*len_r = (size_t)n;
	return data;
}

/* Builds prefix + blob and parses the blob. */
static inline void ir_make(struct ir_msg *m, const char *prefix, const char *blob, size_t blob_len)
{
	size_t pl = strlen(prefix);

	m->prefix_len = pl;
	m->len = pl + blob_len;
	m->data = malloc(m->len + 1);
	memcpy(m->data, prefix, pl);
	memcpy(m->data + pl, blob, blob_len);
	m->data[m->len] = '\0';
	m->sum = mime_parse(m->data + pl, blob_len, NULL);
}

/* Loads a corpus message behind prefix; 0 if the file is missing. */
static inline int ir_open(struct ir_msg *m, const char *name, const char *prefix)
{
	size_t n;
	char *blob = ir_load(name, &n);

	if (blob == NULL)
		return 0;
	ir_make(m, prefix, blob, n);
	free(blob);
	return 1;
}

static inline void ir_close(struct ir_msg *m)
{
	free(m->data);
	json_decref(m->sum);
	memset(m, 0, sizeof *m);
}

/* Renders into a static string (tests compare it at once). */
static inline const char *ir_take(struct buf *b)
{
	static char *last;

	free(last);
	last = b->data != NULL ? buf_steal(b) : strdup("");
	return last;
}

static inline const char *ir_envelope(const struct ir_msg *m)
{
	struct buf b = BUF_INIT;

	imap_render_envelope(&b, json_object_get(m->sum, "envelope"));
	return ir_take(&b);
}

static inline const char *ir_body(const struct ir_msg *m, int extensible)
{
	struct buf b = BUF_INIT;

	imap_render_bodystructure(&b, m->sum, m->prefix_len, extensible != 0);
	return ir_take(&b);
}

/* Parses spec and fetches BODY[spec] (binary != 0: BINARY[spec]); *rc_r is
 * the fetch's return, or -100 when the spec does not parse. */
static inline const char *ir_fetch(const struct ir_msg *m, const char *spec, int binary, int *rc_r,
				   size_t *len_r)
{
	struct imap_section sec;
	struct buf b = BUF_INIT;

	if (imap_section_parse(spec, strlen(spec), NULL, &sec) < 0) {
		*rc_r = -100;
		return "";
	}
	*rc_r = binary ? imap_binary_fetch(m->data, m->len, m->prefix_len, m->sum, &sec, &b)
		       : imap_section_fetch(m->data, m->len, m->prefix_len, m->sum, &sec, &b);
	imap_section_free(&sec);
	if (len_r != NULL)
		*len_r = b.len;
	return ir_take(&b);
}

#endif
