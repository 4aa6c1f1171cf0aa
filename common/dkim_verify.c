/* dkim_verify - see dkim_verify.h. */
#include "common/dkim_verify.h"
#include "common/base64.h"
#include "common/scram.h"

#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A decimal of at most digits digits; -1 when v is not one. */
static long long decimal(const char *v, size_t digits)
{
	long long n = 0;
	size_t i;

	for (i = 0; v[i] != '\0'; i++) {
		if (v[i] < '0' || v[i] > '9' || i >= digits)
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	return i == 0 ? -1 : n;
}

/* 1 when the ':'-separated list contains item (case-insensitive, FWS around items ignored). */
static int list_has(const char *list, const char *item)
{
	size_t il = strlen(item);

	while (*list != '\0') {
		const char *q;
		size_t n;

		while (is_fws(*list))
			list++;
		q = strchr(list, ':');
		n = q != NULL ? (size_t)(q - list) : strlen(list);
		while (n > 0 && is_fws(list[n - 1]))
			n--;
		if (n == il && strncasecmp(list, item, il) == 0)
			return 1;
		if (q == NULL)
			break;
		list = q + 1;
	}
	return 0;
}

/* c= (RFC 6376 3.5): "header[/body]", each simple or relaxed; body defaults to simple. */
static int parse_canon(const char *c, struct dkim_sig *sig)
{
	const char *slash = strchr(c, '/');
	size_t hl = slash != NULL ? (size_t)(slash - c) : strlen(c);
	const char *b = slash != NULL ? slash + 1 : "simple";

	if (hl == 6 && strncmp(c, "simple", 6) == 0)
		sig->hcanon = DKIM_CANON_SIMPLE;
	else if (hl == 7 && strncmp(c, "relaxed", 7) == 0)
		sig->hcanon = DKIM_CANON_RELAXED;
	else
		return -1;
	if (strcmp(b, "simple") == 0)
		sig->bcanon = DKIM_CANON_SIMPLE;
	else if (strcmp(b, "relaxed") == 0)
		sig->bcanon = DKIM_CANON_RELAXED;
	else
		return -1;
	return 0;
}

/* 1 when host is domain or a subdomain of it (case-insensitive). */
static int within(const char *host, const char *domain)
{
	size_t hl = strlen(host), dl = strlen(domain);

	if (hl < dl || strcasecmp(host + hl - dl, domain) != 0)
		return 0;
	return hl == dl || host[hl - dl - 1] == '.';
}

int dkim_sig_parse(const char *value, size_t len, int arc, struct dkim_sig *sig, const char **error_r)
{
	const char *a, *c, *v, *l, *t, *x, *at;
	long long n;

	memset(sig, 0, sizeof *sig);
	if (dkim_tags_parse(&sig->tags, value, len, error_r) < 0) {
		dkim_tags_free(&sig->tags);
		return -1;
	}
	a = dkim_tags_get(&sig->tags, "a");
	c = dkim_tags_get(&sig->tags, "c");
	v = dkim_tags_get(&sig->tags, arc ? "i" : "v");
	sig->d = dkim_tags_get(&sig->tags, "d");
	sig->s = dkim_tags_get(&sig->tags, "s");
	sig->h = dkim_tags_get(&sig->tags, "h");
	sig->bh = dkim_tags_get(&sig->tags, "bh");
	sig->b = dkim_tags_get(&sig->tags, "b");
	sig->i = arc ? NULL : dkim_tags_get(&sig->tags, "i");
	l = dkim_tags_get(&sig->tags, "l");
	t = dkim_tags_get(&sig->tags, "t");
	x = dkim_tags_get(&sig->tags, "x");
	sig->l = sig->t = sig->x = -1;
	*error_r = NULL;
	if (a == NULL || v == NULL || sig->d == NULL || sig->s == NULL || sig->h == NULL ||
	    sig->bh == NULL || sig->b == NULL)
		*error_r = "signature lacks a required tag";
	else if (arc && ((n = decimal(v, 2)) < 1 || n > 50))   /* RFC 8617 4.2.1 */
		*error_r = "bad ARC instance";
	else if (!arc && strcmp(v, "1") != 0)
		*error_r = "unknown signature version";
	else if (strcmp(a, "rsa-sha256") == 0)
		sig->alg = DKIM_ALG_RSA_SHA256;
	else if (strcmp(a, "ed25519-sha256") == 0)
		sig->alg = DKIM_ALG_ED25519_SHA256;
	else
		*error_r = "unsupported signature algorithm";   /* rsa-sha1: RFC 8301 3.1 */
	if (*error_r == NULL && c != NULL && parse_canon(c, sig) < 0)
		*error_r = "bad canonicalisation";
	else if (*error_r == NULL && c == NULL)
		sig->hcanon = sig->bcanon = DKIM_CANON_SIMPLE;
	if (*error_r == NULL && !arc && !list_has(sig->h, "from"))
		*error_r = "From is not signed";   /* RFC 6376 5.4 */
	if (*error_r == NULL && l != NULL && (sig->l = decimal(l, 15)) < 0)
		*error_r = "bad l=";
	if (*error_r == NULL && t != NULL && (sig->t = decimal(t, 12)) < 0)
		*error_r = "bad t=";
	if (*error_r == NULL && x != NULL && ((sig->x = decimal(x, 12)) < 0 || (t != NULL && sig->x < sig->t)))
		*error_r = "bad x=";
	/* RFC 6376 3.5 i=: its domain is d= or a subdomain of it. */
	if (*error_r == NULL && sig->i != NULL && ((at = strrchr(sig->i, '@')) == NULL || !within(at + 1, sig->d)))
		*error_r = "i= is not within d=";
	if (*error_r == NULL && sig->d[0] == '\0')
		*error_r = "empty d=";
	if (*error_r != NULL) {
		dkim_sig_free(sig);
		return -1;
	}
	sig->instance = arc ? (unsigned)decimal(v, 2) : 0;
	return 0;
}

void dkim_sig_free(struct dkim_sig *sig)
{
	dkim_tags_free(&sig->tags);
	memset(sig, 0, sizeof *sig);
}

/* Base64 with the FWS removed, decoded into a malloc'ed buffer; -1 when not base64. */
static int b64_decode_fws(const char *in, unsigned char **out_r, size_t *len_r)
{
	size_t n = strlen(in), k = 0;
	char *clean = xmalloc(n + 1);
	unsigned char *out;
	int r;

	for (size_t i = 0; i < n; i++)
		if (!is_fws(in[i]))
			clean[k++] = in[i];
	out = xmalloc(k / 4 * 3 + 4);
	r = evm_b64_decode(clean, k, out, len_r);
	free(clean);
	if (r < 0 || *len_r == 0) {
		free(out);
		return -1;
	}
	*out_r = out;
	return 0;
}

int dkim_key_parse(const char *rec, size_t len, enum dkim_alg alg, EVP_PKEY **key_r, const char **error_r)
{
	struct dkim_tags t;
	const char *v, *h, *k, *s, *p;
	unsigned char *der = NULL;
	const unsigned char *q;
	size_t derlen = 0;
	EVP_PKEY *key = NULL;

	*key_r = NULL;
	if (dkim_tags_parse(&t, rec, len, error_r) < 0) {
		dkim_tags_free(&t);
		return -1;
	}
	v = dkim_tags_get(&t, "v");
	h = dkim_tags_get(&t, "h");
	k = dkim_tags_get(&t, "k");
	s = dkim_tags_get(&t, "s");
	p = dkim_tags_get(&t, "p");
	*error_r = NULL;
	if (v != NULL && (strcmp(v, "DKIM1") != 0 || strcmp(t.tag[0].name, "v") != 0))
		*error_r = "bad key record version";
	else if (h != NULL && !list_has(h, "sha256"))
		*error_r = "key does not allow sha256";
	else if (s != NULL && !list_has(s, "*") && !list_has(s, "email"))
		*error_r = "key is not for email";
	else if (k != NULL && strcmp(k, alg == DKIM_ALG_RSA_SHA256 ? "rsa" : "ed25519") != 0)
		*error_r = "key type does not match the algorithm";
	else if (k == NULL && alg != DKIM_ALG_RSA_SHA256)
		*error_r = "key type does not match the algorithm";   /* k= defaults to rsa */
	else if (p == NULL)
		*error_r = "key record without p=";
	else if (p[0] == '\0')
		*error_r = "key revoked";
	else if (b64_decode_fws(p, &der, &derlen) < 0)
		*error_r = "key is not base64";
	if (*error_r == NULL && alg == DKIM_ALG_ED25519_SHA256) {
		/* RFC 8463 4: the raw 32-octet public key */
		key = derlen == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, der, derlen) : NULL;
		if (key == NULL)
			*error_r = "bad Ed25519 key";
	} else if (*error_r == NULL) {
		/* SubjectPublicKeyInfo (RFC 6376 3.6.1), or a bare RSAPublicKey */
		q = der;
		key = d2i_PUBKEY(NULL, &q, (long)derlen);
		if (key == NULL) {
			q = der;
			key = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, (long)derlen);
		}
		if (key == NULL || EVP_PKEY_id(key) != EVP_PKEY_RSA)
			*error_r = "bad RSA key";
		else if (EVP_PKEY_bits(key) < DKIM_MIN_RSA_BITS)
			*error_r = "RSA key shorter than 1024 bits";
	}
	free(der);
	dkim_tags_free(&t);
	if (*error_r != NULL) {
		EVP_PKEY_free(key);
		return -1;
	}
	*key_r = key;
	return 0;
}

/* RFC 6376 3.4.3: the body with every trailing empty line removed and one CRLF at the end. */
static void canon_body_simple(const char *body, size_t len, struct buf *out)
{
	while (len >= 2 && body[len - 2] == '\r' && body[len - 1] == '\n')
		len -= 2;
	buf_append(out, body, len);
	buf_append(out, "\r\n", 2);
}

int dkim_body_check(const char *body, size_t len, const struct dkim_sig *sig, const char **error_r)
{
	struct buf canon = BUF_INIT;
	unsigned char md[32], *want = NULL;
	unsigned int mdlen = 0;
	size_t wantlen = 0, n;
	int r;

	buf_puts(&canon, "");
	if (sig->bcanon == DKIM_CANON_SIMPLE)
		canon_body_simple(body, len, &canon);
	else
		dkim_canon_body(body, len, &canon);
	n = canon.len;
	if (sig->l >= 0) {
		if ((unsigned long long)sig->l > canon.len) {
			buf_free(&canon);
			*error_r = "l= is longer than the body";   /* RFC 6376 6.1.3 */
			return -1;
		}
		n = (size_t)sig->l;
	}
	r = EVP_Digest(canon.data, n, md, &mdlen, EVP_sha256(), NULL) == 1 && mdlen == 32 &&
	    b64_decode_fws(sig->bh, &want, &wantlen) == 0 && wantlen == 32 && memcmp(md, want, 32) == 0;
	free(want);
	buf_free(&canon);
	return r;
}

void dkim_canon_field(const struct dkim_field *f, enum dkim_canon c, int strip_b, int crlf, struct buf *out)
{
	struct buf tmp = BUF_INIT;
	const char *p = f->p;
	size_t len = f->len;

	if (strip_b) {
		/* RFC 6376 3.7: the b= value, surrounding whitespace included, becomes empty. */
		size_t i = f->name_len, start;

		while (i < len && p[i] != ':')
			i++;
		buf_append(&tmp, p, i < len ? i + 1 : len);
		for (i++; i < len;) {
			size_t name, name_end;

			start = i;
			while (i < len && is_fws(p[i]))
				i++;
			name = i;
			while (i < len && p[i] != '=' && p[i] != ';' && !is_fws(p[i]))
				i++;
			name_end = i;
			while (i < len && p[i] != '=' && p[i] != ';')
				i++;
			if (i < len && p[i] == '=' && name_end - name == 1 && p[name] == 'b') {
				buf_append(&tmp, p + start, i + 1 - start);
				while (i < len && p[i] != ';')
					i++;
				start = i;
			}
			while (i < len && p[i] != ';')
				i++;
			if (i < len)
				i++;
			buf_append(&tmp, p + start, i - start);
		}
		p = tmp.data != NULL ? tmp.data : "";
		len = tmp.len;
	}
	if (c == DKIM_CANON_RELAXED) {
		dkim_canon_header(p, len, crlf, out);
	} else {
		buf_append(out, p, len);
		if (crlf)
			buf_append(out, "\r\n", 2);
	}
	buf_free(&tmp);
}

void dkim_header_input(const struct dkim_field *f, size_t n, const char *h, enum dkim_canon c,
		       const struct dkim_field *sig_field, struct buf *out)
{
	char *used = xcalloc(n + 1, 1);
	const char *p = h;

	while (*p != '\0') {
		const char *q;
		size_t nl;

		while (is_fws(*p))
			p++;
		q = strchr(p, ':');
		nl = q != NULL ? (size_t)(q - p) : strlen(p);
		while (nl > 0 && is_fws(p[nl - 1]))
			nl--;
		for (size_t i = n; nl > 0 && i-- > 0;) {
			if (!used[i] && f[i].name_len == nl && strncasecmp(f[i].p, p, nl) == 0) {
				used[i] = 1;
				dkim_canon_field(&f[i], c, 0, 1, out);
				break;
			}
		}
		if (q == NULL)
			break;
		p = q + 1;
	}
	free(used);
	dkim_canon_field(sig_field, c, 1, 0, out);
}

int dkim_signature_check(EVP_PKEY *key, enum dkim_alg alg, const char *data, size_t len, const char *b64)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *sig = NULL, md[32];
	unsigned int mdlen = 0;
	size_t siglen = 0;
	int ok = 0;

	if (ctx != NULL && b64_decode_fws(b64, &sig, &siglen) == 0) {
		if (alg == DKIM_ALG_ED25519_SHA256)
			ok = EVP_PKEY_id(key) == EVP_PKEY_ED25519 &&
			     EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1 &&
			     EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
			     EVP_DigestVerify(ctx, sig, siglen, md, mdlen) == 1;
		else
			ok = EVP_PKEY_id(key) == EVP_PKEY_RSA &&
			     EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
			     EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)data, len) == 1;
	}
	free(sig);
	EVP_MD_CTX_free(ctx);
	return ok;
}
