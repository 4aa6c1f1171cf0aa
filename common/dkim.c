/* dkim - see dkim.h. Canonicalisation and field layout are ours; every
 * hash and signature is OpenSSL EVP. */
#include "common/dkim.h"
#include "common/base64.h"
#include "common/scram.h"

#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* see dkim.h */
size_t dkim_header_split(const char *msg, size_t len, struct dkim_field *f, size_t max, size_t *body_r)
{
	size_t i = 0, n = 0;

	while (i < len) {
		size_t start = i, end;
		const char *colon;

		if (i + 1 < len && msg[i] == '\r' && msg[i + 1] == '\n') {
			*body_r = i + 2;
			return n;
		}
		/* A field: this line and every following line starting with WSP. */
		for (;;) {
			const char *crlf = NULL;
			for (size_t j = i; j + 1 < len; j++) {
				if (msg[j] == '\r' && msg[j + 1] == '\n') {
					crlf = msg + j;
					break;
				}
			}
			end = crlf != NULL ? (size_t)(crlf - msg) : len;
			i = crlf != NULL ? end + 2 : len;
			if (i >= len || !is_wsp(msg[i]))
				break;
		}
		colon = memchr(msg + start, ':', end - start);
		if (colon != NULL && n < max && !is_wsp(msg[start])) {
			size_t nl = (size_t)(colon - (msg + start));
			while (nl > 0 && is_wsp(msg[start + nl - 1]))
				nl--;
			f[n].p = msg + start;
			f[n].len = end - start;
			f[n].name_len = nl;
			n++;
		}
	}
	*body_r = len;
	return n;
}

void dkim_canon_header(const char *field, size_t len, int crlf, struct buf *out)
{
	const char *colon = memchr(field, ':', len);
	size_t nl, i;
	int space = 0, any = 0;

	if (colon == NULL)
		return;
	nl = (size_t)(colon - field);
	while (nl > 0 && is_wsp(field[nl - 1]))
		nl--;
	for (i = 0; i < nl; i++) {
		char c = field[i];
		buf_append(out, &(char){ c >= 'A' && c <= 'Z' ? (char)(c + 32) : c }, 1);
	}
	buf_append(out, ":", 1);
	/* Unfold, collapse WSP runs to one SP, drop WSP at both ends. */
	for (i = (size_t)(colon - field) + 1; i < len; i++) {
		char c = field[i];
		if (c == '\r' || c == '\n' || is_wsp(c)) {
			if (is_wsp(c))
				space = 1;
			continue;
		}
		if (space && any)
			buf_append(out, " ", 1);
		space = 0;
		any = 1;
		buf_append(out, &c, 1);
	}
	if (crlf)
		buf_append(out, "\r\n", 2);
}

void dkim_canon_body(const char *body, size_t len, struct buf *out)
{
	size_t i = 0, empty = 0;

	while (i < len) {
		size_t end = i, next, k, lend;
		int space = 0;

		while (end < len && !(body[end] == '\r' && end + 1 < len && body[end + 1] == '\n'))
			end++;
		next = end < len ? end + 2 : len;
		lend = end;
		while (lend > i && is_wsp(body[lend - 1]))
			lend--;
		if (lend == i) {
			empty++;          /* trailing empty lines are dropped */
			i = next;
			continue;
		}
		for (; empty > 0; empty--)
			buf_append(out, "\r\n", 2);
		for (k = i; k < lend; k++) {
			if (is_wsp(body[k])) {
				space = 1;
				continue;
			}
			if (space)
				buf_append(out, " ", 1);
			space = 0;
			buf_append(out, &body[k], 1);
		}
		buf_append(out, "\r\n", 2);
		i = next;
	}
}

/* SHA-256 of data into md (32 octets). */
static int sha256(const void *data, size_t len, unsigned char md[32], const char **error_r)
{
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		*error_r = "dkim: SHA-256 failed";
		return -1;
	}
	return 0;
}

int dkim_body_hash(const char *msg, size_t len, char out[45], const char **error_r)
{
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof *f);
	struct buf canon = BUF_INIT;
	unsigned char md[32];
	size_t body = 0;
	char *b64;
	int r;

	dkim_header_split(msg, len, f, DKIM_MAX_FIELDS, &body);
	free(f);
	buf_puts(&canon, "");
	dkim_canon_body(msg + body, len - body, &canon);
	r = sha256(canon.data, canon.len, md, error_r);
	buf_free(&canon);
	if (r < 0)
		return -1;
	b64 = evm_b64_encode(md, sizeof md);
	snprintf(out, 45, "%s", b64);
	free(b64);
	return 0;
}

int dkim_key_load(const char *pem, EVP_PKEY **key_r, const char **error_r)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio != NULL ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;

	BIO_free(bio);
	if (key == NULL) {
		*error_r = "dkim: not a PEM private key";
		return -1;
	}
	if (dkim_key_algorithm(key) == NULL ||
	    (EVP_PKEY_id(key) == EVP_PKEY_RSA && (EVP_PKEY_bits(key) < 1024 || EVP_PKEY_bits(key) > 8192))) {
		EVP_PKEY_free(key);
		*error_r = "dkim: the key is neither RSA (1024-8192 bits) nor Ed25519";
		return -1;
	}
	*key_r = key;
	return 0;
}

const char *dkim_key_algorithm(EVP_PKEY *key)
{
	switch (EVP_PKEY_id(key)) {
	case EVP_PKEY_RSA:
		return "rsa-sha256";
	case EVP_PKEY_ED25519:
		return "ed25519-sha256";
	default:
		return NULL;
	}
}

/* Appends the relaxed form of the fields named in h, bottom up per name. */
static void signed_fields(const char *msg, size_t len, const char *h, struct buf *out)
{
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof *f);
	char *used = xcalloc(DKIM_MAX_FIELDS, 1);
	size_t body, n = dkim_header_split(msg, len, f, DKIM_MAX_FIELDS, &body);
	const char *p = h;

	while (*p != '\0') {
		const char *q;
		size_t nl;

		while (is_wsp(*p) || *p == '\r' || *p == '\n')
			p++;
		q = p;
		while (*q != '\0' && *q != ':')
			q++;
		nl = (size_t)(q - p);
		while (nl > 0 && (is_wsp(p[nl - 1]) || p[nl - 1] == '\r' || p[nl - 1] == '\n'))
			nl--;
		for (size_t i = n; nl > 0 && i-- > 0;) {
			if (!used[i] && f[i].name_len == nl && strncasecmp(f[i].p, p, nl) == 0) {
				used[i] = 1;
				dkim_canon_header(f[i].p, f[i].len, 1, out);
				break;
			}
		}
		p = *q == ':' ? q + 1 : q;
	}
	free(used);
	free(f);
}

int dkim_sign_fields(const char *msg, size_t len, const char *h, const char *sig_field,
		     EVP_PKEY *key, char **b64_r, const char **error_r)
{
	struct buf data = BUF_INIT;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[32], *sig = NULL;
	size_t siglen = 0;
	int ed = EVP_PKEY_id(key) == EVP_PKEY_ED25519, ok = 0;

	buf_puts(&data, "");
	signed_fields(msg, len, h, &data);
	dkim_canon_header(sig_field, strlen(sig_field), 0, &data);
	if (ctx == NULL || dkim_key_algorithm(key) == NULL) {
		*error_r = "dkim: unsupported key";
		EVP_MD_CTX_free(ctx);
		buf_free(&data);
		return -1;
	} else if (ed) {
		/* RFC 8463 3: Ed25519 (pure) over the SHA-256 of the data. */
		ok = sha256(data.data, data.len, md, error_r) == 0 &&
		     EVP_DigestSignInit(ctx, NULL, NULL, NULL, key) == 1 &&
		     EVP_DigestSign(ctx, NULL, &siglen, md, sizeof md) == 1 &&
		     (sig = xmalloc(siglen)) != NULL &&
		     EVP_DigestSign(ctx, sig, &siglen, md, sizeof md) == 1;
	} else {
		ok = EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		     EVP_DigestSign(ctx, NULL, &siglen, (unsigned char *)data.data, data.len) == 1 &&
		     (sig = xmalloc(siglen)) != NULL &&
		     EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)data.data, data.len) == 1;
	}
	if (ok)
		*b64_r = evm_b64_encode(sig, siglen);
	else if (ctx != NULL)
		*error_r = "dkim: signing failed";
	free(sig);
	EVP_MD_CTX_free(ctx);
	buf_free(&data);
	return ok ? 0 : -1;
}

/* A field being written with folding: col is the current column. */
struct folder {
	struct buf *b;
	size_t col;
};

/* Appends word, preceded by a space (sep) or nothing, folding first when
 * it would pass the width. */
static void fold_word(struct folder *f, const char *word, int sep)
{
	size_t n = strlen(word);

	if (f->col + (size_t)sep + n > DKIM_FOLD_WIDTH && f->col > 1) {
		buf_puts(f->b, "\r\n ");
		f->col = 1;
	} else if (sep) {
		buf_puts(f->b, " ");
		f->col++;
	}
	buf_puts(f->b, word);
	f->col += n;
}

/* The h= list for msg: the present signed names, one per instance, From
 * once more (oversigned). */
static void header_list(const char *msg, size_t len, struct buf *h)
{
	static const char *const names[] = { DKIM_SIGNED_HEADERS };
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof *f);
	size_t body, n = dkim_header_split(msg, len, f, DKIM_MAX_FIELDS, &body);

	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		size_t nl = strlen(names[k]), count = 0;
		for (size_t i = 0; i < n; i++) {
			if (f[i].name_len == nl && strncasecmp(f[i].p, names[k], nl) == 0)
				count++;
		}
		if (k == 0)
			count++;
		for (; count > 0; count--)
			buf_printf(h, "%s%s", h->len > 0 ? ":" : "", names[k]);
	}
	free(f);
}

int dkim_sign(const char *msg, size_t len, const char *domain, const char *selector,
	      EVP_PKEY *key, int64_t t, char **field_r, const char **error_r)
{
	const char *alg = dkim_key_algorithm(key);
	struct buf field = BUF_INIT, h = BUF_INIT, word = BUF_INIT;
	struct folder f = { &field, 0 };
	char bh[45], *b = NULL, *hp, *colon;
	size_t off, left;

	if (alg == NULL) {
		*error_r = "dkim: unsupported key";
		return -1;
	}
	if (dkim_body_hash(msg, len, bh, error_r) < 0)
		return -1;
	header_list(msg, len, &h);
	buf_puts(&field, "DKIM-Signature:");
	f.col = field.len;
	buf_printf(&word, "a=%s;", alg);
	fold_word(&f, "v=1;", 1);
	fold_word(&f, word.data, 1);
	fold_word(&f, "c=relaxed/relaxed;", 1);
	buf_truncate(&word, 0);
	buf_printf(&word, "d=%s;", domain);
	fold_word(&f, word.data, 1);
	buf_truncate(&word, 0);
	buf_printf(&word, "s=%s;", selector);
	fold_word(&f, word.data, 1);
	buf_truncate(&word, 0);
	buf_printf(&word, "t=%lld;", (long long)t);
	fold_word(&f, word.data, 1);
	/* h=: one word per name, the FWS before ':' allowed by RFC 6376 3.5. */
	for (hp = h.data; hp != NULL; hp = colon != NULL ? colon + 1 : NULL) {
		colon = strchr(hp, ':');
		buf_truncate(&word, 0);
		buf_printf(&word, "%s%.*s%s", hp == h.data ? "h=" : ":",
			   (int)(colon != NULL ? (size_t)(colon - hp) : strlen(hp)), hp,
			   colon == NULL ? ";" : "");
		fold_word(&f, word.data, hp == h.data);
	}
	buf_truncate(&word, 0);
	buf_printf(&word, "bh=%s;", bh);
	fold_word(&f, word.data, 1);
	if (f.col + 1 + 2 + 8 > DKIM_FOLD_WIDTH) {
		buf_puts(&field, "\r\n");
		f.col = 0;
	}
	fold_word(&f, "b=", 1);
	if (dkim_sign_fields(msg, len, h.data, field.data, key, &b, error_r) < 0) {
		buf_free(&field);
		buf_free(&h);
		buf_free(&word);
		return -1;
	}
	/* b=: the base64 cut into pieces that fill each line. */
	for (off = 0, left = strlen(b); left > 0;) {
		size_t room = f.col < DKIM_FOLD_WIDTH ? DKIM_FOLD_WIDTH - f.col : 0;
		size_t n = left < room ? left : room;
		if (room == 0) {
			buf_puts(&field, "\r\n ");
			f.col = 1;
			continue;
		}
		buf_append(&field, b + off, n);
		f.col += n;
		off += n;
		left -= n;
	}
	buf_puts(&field, "\r\n");
	free(b);
	buf_free(&h);
	buf_free(&word);
	*field_r = buf_steal(&field);
	return 0;
}
