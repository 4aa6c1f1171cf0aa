/* fuzz_fts_text - libFuzzer target for the search text normaliser
 * (fts_text.c; built with -DEVMAIL_FUZZ=ON).
 *
 * Input: a message. Its summary is parsed, its pieces and trigram set
 * built; then the invariant the index rests on is checked: every trigram
 * of a slice of the casemapped BODY text is in the document's set (no
 * message may be ruled out that contains a needle), and that the stored
 * text answers TEXT, BODY, SUBJECT, FROM..BCC and HEADER (the name of
 * the first field, and "subject") for a needle as a scan of the message
 * and its summary does (fts.h, THE TEXT STORED). Aborts otherwise. */
#include "gateway/fts/fts.h"
#include "gateway/fts/fts_casemap.h"
#include "common/mime.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* 1 when the set holds (f, t[0..2]). */
static int has(const struct evm_fts_doc *d, int f, const unsigned char *t)
{
	uint32_t key = (((uint32_t)f << 24) | ((uint32_t)t[0] << 16) | ((uint32_t)t[1] << 8) | t[2]) + 1;

	for (size_t i = 0; i < d->cap; i++) {
		if (d->slot[i] == key)
			return 1;
	}
	return 0;
}

struct scan {
	const char *needle;
	int hit;
	const char *name;          /* HEADER's field name; NULL: TEXT */
	char *first;               /* the first field's name, kept */
};

/* One header field as the scan matches it: TEXT "name:value", or
 * HEADER name's value, casemapped. */
static int scan_field(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct scan *sc = ctx;
	struct buf line = BUF_INIT;

	if (sc->first == NULL)
		sc->first = strndup(name, nlen);
	if (sc->name != NULL) {
		if (strlen(sc->name) == nlen && strncasecmp(name, sc->name, nlen) == 0)
			sc->hit |= fts_casemap_find(value, strlen(value), sc->needle);
		return sc->hit;
	}
	buf_append(&line, name, nlen);
	buf_append(&line, ":", 1);
	buf_puts(&line, value);
	sc->hit |= fts_casemap_find(line.data, line.len, sc->needle);
	buf_free(&line);
	return sc->hit;
}

/* A summary string (NULL: none) holding the casemapped needle. */
static int scan_str(json_t *v, const char *needle)
{
	const char *s = json_string_value(v);

	return s != NULL && fts_casemap_find(s, strlen(s), needle);
}

/* SUBJECT and FROM..BCC as imap_search.c scans the summary. */
static void check_summary(const struct evm_fts_text *t, json_t *sum, const char *needle)
{
	static const struct { int f; const char *name; } crit[] = {
		{ EVM_FTS_F_FROM, "from" }, { EVM_FTS_F_TO, "to" }, { EVM_FTS_F_CC, "cc" }, { EVM_FTS_F_BCC, "bcc" },
	};
	json_t *h = json_object_get(sum, "headers"), *a;
	size_t i;

	if (evm_fts_text_find(t, EVM_FTS_F_SUBJECT, needle) != scan_str(json_object_get(h, "subject"), needle))
		abort();
	for (size_t k = 0; k < sizeof crit / sizeof crit[0]; k++) {
		int hit = 0;

		json_array_foreach(json_object_get(json_object_get(sum, "envelope"), crit[k].name), i, a)
			hit |= json_is_null(json_object_get(a, "host")) && scan_str(json_object_get(a, "mailbox"), needle);
		json_array_foreach(json_object_get(h, crit[k].name), i, a)
			hit |= scan_str(json_object_get(a, "name"), needle) || scan_str(json_object_get(a, "email"), needle);
		if (evm_fts_text_find(t, crit[k].f, needle) != hit)
			abort();
	}
}

/* HEADER name: the stored answer (unless it cannot tell) is the scan's. */
static void check_header(const struct evm_fts_text *t, const char *msg, size_t size, const char *name,
			 const char *needle)
{
	struct scan sc = { needle, 0, name, NULL };
	int r = evm_fts_text_header(t, name, needle);

	evm_fts_header_fields(msg, size, scan_field, &sc);
	free(sc.first);
	if (r >= 0 && r != sc.hit)
		abort();
}

/* The needle: the input's last up-to-5 octets (no NUL), casemapped. */
static char *needle_of(const unsigned char *data, size_t size)
{
	size_t n = size < 5 ? size : 5, k = 0;
	char raw[6];

	for (size_t i = size - n; i < size; i++) {
		if (data[i] != 0)
			raw[k++] = (char)data[i];
	}
	return fts_casemap(raw, k);
}

/* The stored text against the scan, for every criterion. */
static void check_stored(const char *msg, size_t size, json_t *sum, const struct buf *body, struct buf *text,
			 const char *needle)
{
	struct evm_fts_text t;
	struct scan sc = { needle, 0, NULL, NULL };
	size_t tlen = text->len, at;
	int in_body;

	/* the writer's split (d/, b/) is where the parsed body begins */
	if (evm_fts_text_split(text->data, tlen, &at) < 0)
		abort();
	if (evm_fts_text_parse(buf_steal(text), tlen, &t) < 0 || t.body != t.val + at)
		abort();
	evm_fts_header_fields(msg, size, scan_field, &sc);
	in_body = fts_casemap_find(body->data, body->len, needle);
	/* BODY, and TEXT = a header piece or the body (an empty needle is
	 * in every text, even in a header block without fields) */
	if (evm_fts_text_find(&t, EVM_FTS_F_BODY, needle) != in_body ||
	    (evm_fts_text_find(&t, EVM_FTS_F_HEADER, needle) || in_body) != (sc.hit || in_body))
		abort();
	check_summary(&t, sum, needle);
	check_header(&t, msg, size, "subject", needle);
	if (sc.first != NULL)
		check_header(&t, msg, size, sc.first, needle);
	free(sc.first);
	evm_fts_text_clear(&t);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *msg = (const char *)data;
	struct evm_fts_doc d = { 0 };
	struct buf body = BUF_INIT;
	size_t plen = size > 0 ? data[0] % 8 : 0;   /* a stored prefix of up to 7 octets */
	json_t *s2 = plen < size ? mime_parse(data + plen, size - plen, NULL) : json_object();
	struct buf text = BUF_INIT;
	char *needle = needle_of(data, size);
	int cut;

	cut = evm_fts_doc_message(&d, msg, size, plen, s2, &text);
	evm_fts_body_text(msg, size, plen, s2, &body);
	if (!cut)
		check_stored(msg, size, s2, &body, &text, needle);
	free(needle);
	buf_free(&text);
	if (!cut && body.len > 0) {
		char *m = fts_casemap(body.data, body.len);
		size_t ml = strlen(m), at = ml / 2, n = ml - at < 9 ? ml - at : 9;

		for (size_t i = at; n >= 3 && i + 3 <= at + n; i++) {
			if (!has(&d, EVM_FTS_F_BODY, (const unsigned char *)m + i))
				abort();
		}
		free(m);
	}
	buf_free(&body);
	evm_fts_doc_free(&d);
	json_decref(s2);
	return 0;
}
