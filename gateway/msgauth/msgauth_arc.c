/* msgauth_arc - ARC chain validation (RFC 8617 5.2): the sets 1..N all
 * present once, the newest seal's cv= not "fail", the newest
 * ARC-Message-Signature valid, and every ARC-Seal valid with cv=none on
 * instance 1 and cv=pass above. Signatures go through
 * common/dkim_verify.h (relaxed canonicalisation, RFC 8617 4.1.3).
 * For a passing chain also the oldest-pass (RFC 8617 5.2 step 5) and
 * whether every sealer (each ARC-Seal's d=) is in a trusted list. */
#include "gateway/msgauth/msgauth.h"
#include "common/dkim_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARC_MAX 50   /* RFC 8617 4.2.1 */

struct arc_set {
	const struct dkim_field *aar, *ams, *as;
};

enum { ARC_AAR, ARC_AMS, ARC_AS };

/* Which ARC field f is (-1: none). */
static int arc_kind(const struct dkim_field *f)
{
	if (f->name_len == 26 && strncasecmp(f->p, "ARC-Authentication-Results", 26) == 0)
		return ARC_AAR;
	if (f->name_len == 21 && strncasecmp(f->p, "ARC-Message-Signature", 21) == 0)
		return ARC_AMS;
	if (f->name_len == 8 && strncasecmp(f->p, "ARC-Seal", 8) == 0)
		return ARC_AS;
	return -1;
}

/* The field's value (after the colon) and its length. */
static const char *field_value(const struct dkim_field *f, size_t *len_r)
{
	const char *v = memchr(f->p, ':', f->len);

	v = v != NULL ? v + 1 : f->p + f->len;
	*len_r = f->len - (size_t)(v - f->p);
	return v;
}

/* see msgauth.h */
int msgauth_arc_instance(const char *value, size_t len)
{
	size_t i = 0;
	int n = 0, digits = 0;

	while (i < len && strchr(" \t\r\n", value[i]) != NULL)
		i++;
	if (i >= len || value[i++] != 'i')
		return -1;
	while (i < len && strchr(" \t\r\n", value[i]) != NULL)
		i++;
	if (i >= len || value[i++] != '=')
		return -1;
	while (i < len && strchr(" \t\r\n", value[i]) != NULL)
		i++;
	while (i < len && value[i] >= '0' && value[i] <= '9' && digits < 3) {
		n = n * 10 + (value[i++] - '0');
		digits++;
	}
	while (i < len && strchr(" \t\r\n", value[i]) != NULL)
		i++;
	if (digits == 0 || i >= len || value[i] != ';' || n < 1 || n > ARC_MAX)
		return -1;
	return n;
}

/* The instance of an AMS or AS value (its i= tag), or -1. */
static int tag_instance(const char *value, size_t len)
{
	struct dkim_tags t;
	const char *error = NULL, *v;
	int n = -1;

	if (dkim_tags_parse(&t, value, len, &error) == 0 && (v = dkim_tags_get(&t, "i")) != NULL &&
	    strlen(v) <= 2 && strspn(v, "0123456789") == strlen(v) && v[0] != '\0')
		n = atoi(v);
	dkim_tags_free(&t);
	return n >= 1 && n <= ARC_MAX ? n : -1;
}

/* 1 when the seal of instance i verifies with cv as RFC 8617 5.1.1 wants;
 * its d= into sealer (256 bytes). */
static int seal_ok(const struct msgauth_dns *dns, const struct arc_set *sets, int i, char *sealer)
{
	struct dkim_tags t;
	const char *error = NULL, *a, *b, *d, *s, *cv, *value;
	struct buf data = BUF_INIT;
	EVP_PKEY *key = NULL;
	enum dkim_alg alg;
	size_t len;
	int ok = 0;

	value = field_value(sets[i].as, &len);
	if (dkim_tags_parse(&t, value, len, &error) < 0)
		goto out;
	a = dkim_tags_get(&t, "a");
	b = dkim_tags_get(&t, "b");
	d = dkim_tags_get(&t, "d");
	s = dkim_tags_get(&t, "s");
	cv = dkim_tags_get(&t, "cv");
	if (a == NULL || b == NULL || d == NULL || s == NULL || cv == NULL || dkim_tags_get(&t, "h") != NULL)
		goto out;   /* RFC 8617 4.1.3: h= is not allowed in a seal */
	snprintf(sealer, 256, "%s", d);
	if (strcmp(cv, i == 1 ? "none" : "pass") != 0)
		goto out;
	if (strcmp(a, "rsa-sha256") == 0)
		alg = DKIM_ALG_RSA_SHA256;
	else if (strcmp(a, "ed25519-sha256") == 0)
		alg = DKIM_ALG_ED25519_SHA256;
	else
		goto out;
	if (msgauth_key_fetch(dns, s, d, alg, &key) != 1)
		goto out;
	/* RFC 8617 5.1.1: every set from 1 to i, AAR, AMS, AS, the last seal
	 * with an empty b= and no final CRLF. */
	buf_puts(&data, "");
	for (int j = 1; j <= i; j++) {
		dkim_canon_field(sets[j].aar, DKIM_CANON_RELAXED, 0, 1, &data);
		dkim_canon_field(sets[j].ams, DKIM_CANON_RELAXED, 0, 1, &data);
		dkim_canon_field(sets[j].as, DKIM_CANON_RELAXED, j == i, j != i, &data);
	}
	ok = dkim_signature_check(key, alg, data.data, data.len, b) == 1;
out:
	EVP_PKEY_free(key);
	buf_free(&data);
	dkim_tags_free(&t);
	return ok;
}

/* 1 when the AMS of the newest set verifies (a DKIM signature with i=). */
static int ams_ok(const struct msgauth_dns *dns, const struct dkim_field *f, size_t n,
		  const struct dkim_field *ams, const char *body, size_t body_len)
{
	struct dkim_sig sig;
	const char *error = NULL, *value;
	struct buf data = BUF_INIT;
	EVP_PKEY *key = NULL;
	size_t len;
	int ok = 0;

	value = field_value(ams, &len);
	if (dkim_sig_parse(value, len, 1, &sig, &error) < 0)
		return 0;
	if (msgauth_key_fetch(dns, sig.s, sig.d, sig.alg, &key) == 1 &&
	    dkim_body_check(body, body_len, &sig, &error) == 1) {
		buf_puts(&data, "");
		dkim_header_input(f, n, sig.h, sig.hcanon, ams, &data);
		ok = dkim_signature_check(key, sig.alg, data.data, data.len, sig.b) == 1;
	}
	EVP_PKEY_free(key);
	buf_free(&data);
	dkim_sig_free(&sig);
	return ok;
}

/* 1 when domain (case aside) is an entry of the comma-separated list. */
static int in_list(const char *list, const char *domain)
{
	size_t dl = strlen(domain);

	for (const char *p = list; *p != '\0';) {
		size_t n;
		p += strspn(p, ", \t");
		n = strcspn(p, ", \t");
		if (n > 0 && n == dl && strncasecmp(p, domain, n) == 0)
			return 1;
		p += n;
	}
	return 0;
}

/* RFC 8617 5.2 step 5: from the newest set down, the instance of the
 * oldest AMS still valid when an older one fails; 0 when all validate. */
static int oldest_pass(const struct msgauth_dns *dns, const struct dkim_field *f, size_t n,
		       const struct arc_set *sets, int top, const char *body, size_t body_len)
{
	for (int i = top - 1; i >= 1; i--)
		if (!ams_ok(dns, f, n, sets[i].ams, body, body_len))
			return i + 1;
	return 0;
}

void msgauth_arc_evaluate(const struct msgauth_dns *dns, const char *msg, size_t len, const char *trusted,
			  struct msgauth_arc *arc)
{
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof *f);
	struct arc_set sets[ARC_MAX + 1];
	size_t body = 0, n = dkim_header_split(msg, len, f, DKIM_MAX_FIELDS, &body);
	const char *result = "fail", *cv;
	char sealer[256];
	int top = 0, any = 0, trusted_all = 1;

	memset(arc, 0, sizeof *arc);
	memset(sets, 0, sizeof sets);
	for (size_t i = 0; i < n; i++) {
		int kind = arc_kind(&f[i]), inst;
		const struct dkim_field **slot;
		size_t vlen;
		const char *v;

		if (kind < 0)
			continue;
		any = 1;
		v = field_value(&f[i], &vlen);
		inst = kind == ARC_AAR ? msgauth_arc_instance(v, vlen) : tag_instance(v, vlen);
		if (inst < 0)
			goto out;
		slot = kind == ARC_AAR ? &sets[inst].aar : kind == ARC_AMS ? &sets[inst].ams : &sets[inst].as;
		if (*slot != NULL)
			goto out;     /* RFC 8617 5.2 step 2: duplicate instance */
		*slot = &f[i];
		if (inst > top)
			top = inst;
	}
	if (!any) {
		result = "none";
		goto out;
	}
	for (int i = 1; i <= top; i++)
		if (sets[i].aar == NULL || sets[i].ams == NULL || sets[i].as == NULL)
			goto out;
	{
		struct dkim_tags t;
		const char *error = NULL, *v;
		size_t vlen;
		int failed;

		v = field_value(sets[top].as, &vlen);
		failed = dkim_tags_parse(&t, v, vlen, &error) < 0 || (cv = dkim_tags_get(&t, "cv")) == NULL ||
			 strcmp(cv, "fail") == 0;
		dkim_tags_free(&t);
		if (failed)
			goto out;
	}
	if (!ams_ok(dns, f, n, sets[top].ams, msg + body, len - body))
		goto out;
	for (int i = top; i >= 1; i--) {
		sealer[0] = '\0';
		if (!seal_ok(dns, sets, i, sealer))
			goto out;
		if (i == top)
			snprintf(arc->sealer, sizeof arc->sealer, "%s", sealer);
		if (trusted == NULL || !in_list(trusted, sealer))
			trusted_all = 0;
	}
	result = "pass";
	arc->instances = top;
	arc->oldest_pass = oldest_pass(dns, f, n, sets, top, msg + body, len - body);
	arc->trusted = trusted_all;
out:
	snprintf(arc->result, sizeof arc->result, "%s", result);
	free(f);
}

const char *msgauth_arc_check(const struct msgauth_dns *dns, const char *msg, size_t len)
{
	struct msgauth_arc arc;

	msgauth_arc_evaluate(dns, msg, len, NULL, &arc);
	return strcmp(arc.result, "pass") == 0 ? "pass" : strcmp(arc.result, "none") == 0 ? "none" : "fail";
}
