/* mime_testutil - helpers shared by the test_mime*.c programs (header-only,
 * included by tests alone). */
#ifndef EVM_MIME_TESTUTIL_H
#define EVM_MIME_TESTUTIL_H

#include "common/mime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads tests/mime-corpus/<name> (found from this file's path). */
static inline char *mt_load(const char *name, size_t *len_r)
{
	char path[1024];
	const char *slash = strrchr(__FILE__, '/');
	int dl = slash != NULL ? (int)(slash - __FILE__) : 1;
	FILE *f;
	char *data;
	long n;

	snprintf(path, sizeof path, "%.*s/../tests/mime-corpus/%s", dl,
		 slash != NULL ? __FILE__ : ".", name);
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

/* Parses in pieces of `step` bytes (step 0: all at once). */
static inline json_t *mt_parse_split(const char *d, size_t len, size_t step,
				     const struct mime_limits *lim)
{
	struct mime_parser *p = mime_parser_new(lim);
	json_t *j;

	if (step == 0)
		step = len;
	for (size_t i = 0; i < len; i += step)
		mime_parser_feed(p, d + i, len - i < step ? len - i : step);
	j = mime_parser_finish(p);
	mime_parser_free(&p);
	return j;
}

/* Follows a dotted path ("part.parts.1.body.0"); NULL if missing. */
static inline json_t *mt_get(json_t *j, const char *path)
{
	char key[128];

	while (j != NULL && *path != '\0') {
		size_t n = strcspn(path, ".");

		if (n >= sizeof key)
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		path += n + (path[n] == '.');
		if (json_is_array(j))
			j = json_array_get(j, strtoul(key, NULL, 10));
		else
			j = json_object_get(j, key);
	}
	return j;
}

/* String at path, or "(missing)"; "(null)" for JSON null. */
static inline const char *mt_str(json_t *j, const char *path)
{
	json_t *v = mt_get(j, path);

	if (v == NULL)
		return "(missing)";
	if (json_is_null(v))
		return "(null)";
	return json_is_string(v) ? json_string_value(v) : "(not a string)";
}

/* Integer at path, or -999999 if missing. */
static inline long long mt_int(json_t *j, const char *path)
{
	json_t *v = mt_get(j, path);

	return json_is_integer(v) ? (long long)json_integer_value(v) : -999999;
}

/* Lines in a byte range as the summary counts them. */
static inline long long mt_count_lines(const char *d, size_t a, size_t b)
{
	long long n = 0;

	for (size_t i = a; i < b; i++)
		n += d[i] == '\n';
	return n + (b > a && d[b - 1] != '\n');
}

/* Checks the offset invariants of a part tree against the message;
 * returns a description of the first violation, or NULL. */
static inline const char *mt_check_part(json_t *part, const char *d, size_t len)
{
	long long hs = mt_int(part, "header.0"), he = mt_int(part, "header.1");
	long long bs = mt_int(part, "body.0"), be = mt_int(part, "body.1");
	json_t *parts = json_object_get(part, "parts"), *c, *msg;
	const char *r;
	size_t i;

	if (!(0 <= hs && hs <= he && he == bs && bs <= be && be <= (long long)len))
		return "ranges out of order";
	if (mt_int(part, "size") != be - bs)
		return "size != body length";
	if (mt_int(part, "lines") != mt_count_lines(d, (size_t)bs, (size_t)be))
		return "lines do not match the body";
	json_array_foreach(parts, i, c) {
		const char *b = json_string_value(json_object_get(json_object_get(part, "params"),
								  "boundary"));
		long long chs = mt_int(c, "header.0"), cbe = mt_int(c, "body.1");
		size_t bl = b != NULL ? strlen(b) : 0, ls;

		if (chs < bs || cbe > be)
			return "child outside its parent's body";
		if (chs < 1 || (chs < (long long)len && d[chs - 1] != '\n'))
			return "child does not start a line";
		for (ls = (size_t)chs - 1; ls > 0 && d[ls - 1] != '\n'; ls--)
			;
		if (b == NULL || strncmp(d + ls, "--", 2) != 0 || strncmp(d + ls + 2, b, bl) != 0)
			return "child not preceded by its boundary line";
		if ((r = mt_check_part(c, d, len)) != NULL)
			return r;
	}
	if ((msg = json_object_get(part, "message")) != NULL) {
		c = json_object_get(msg, "part");
		if (mt_int(c, "header.0") != bs || mt_int(c, "body.1") != be)
			return "message part does not fill the body";
		if (json_object_get(msg, "envelope") == NULL)
			return "message without envelope";
		return mt_check_part(c, d, len);
	}
	return NULL;
}

#endif
