/* test_arc_seal - ARC sets (RFC 8617): i=1 with cv=none, a second set
 * with cv=pass over the first, each signature verified with OpenSSL from
 * the fields as written (b= removed, relaxed canonicalisation), and the
 * refusals: broken chains, cv not fitting, non-RSA keys, line breaks.
 * tests/e2e/test_forward.py checks the same sets with dkimpy's arc_verify. */
#include "common/arc_seal.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/dkim.h"
#include "common/scram.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MSG \
	"Received: from a.example by b.example; Thu, 1 Jan 2026 00:00:00 +0000\r\n" \
	"From: Alice <alice@example.org>\r\n" \
	"To: list@fwd.example\r\n" \
	"Subject: ARC test\r\n" \
	"Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n" \
	"Message-ID: <1@example.org>\r\n" \
	"\r\n" \
	"Hello,  world.\r\n\r\n"

static EVP_PKEY *rsa_key;

/* The unfolded field named name (first instance with "i=N;"), malloc'ed. */
static char *find_field(const char *msg, const char *name, int i)
{
	char tag[16];
	size_t nl = strlen(name);

	snprintf(tag, sizeof tag, "i=%d;", i);
	for (const char *p = msg; *p != '\0' && !(p[0] == '\r' && p[1] == '\n');) {
		const char *end = p;
		while (*end != '\0' && !(end[0] == '\r' && end[1] == '\n' && end[2] != ' ' && end[2] != '\t'))
			end++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			char *f = strndup(p, (size_t)(end - p));
			if (strstr(f, tag) != NULL)
				return f;
			free(f);
		}
		p = *end != '\0' ? end + 2 : end;
	}
	return NULL;
}

/* field with its b= value cut (b= is the last tag), and that value. */
static void split_b(const char *field, char **no_b_r, char **b_r)
{
	const char *b = strstr(field, "b=");

	/* the last "b=" preceded by WSP (not "bh=") */
	for (const char *p = field; (p = strstr(p, "b=")) != NULL; p++) {
		if (p > field && (p[-1] == ' ' || p[-1] == '\t'))
			b = p;
	}
	*no_b_r = strndup(field, (size_t)(b - field) + 2);
	*b_r = xcalloc(1, strlen(b) + 1);
	for (const char *p = b + 2, *q; *p != '\0'; p++) {
		q = p;
		if (*q != ' ' && *q != '\t' && *q != '\r' && *q != '\n')
			strncat(*b_r, q, 1);
	}
}

/* RSA-SHA256 verification of data against base64 b. */
static int rsa_verify(const struct buf *data, const char *b)
{
	unsigned char sig[1024];
	size_t sn = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (evm_b64_decode(b, strlen(b), sig, &sn) < 0) {
		EVP_MD_CTX_free(ctx);
		return 0;
	}
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, rsa_key) == 1 &&
	     EVP_DigestVerify(ctx, sig, sn, (unsigned char *)data->data, data->len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The AMS of instance i in msg verifies over its h= fields. */
static int ams_ok(const char *msg, int i)
{
	char *f = find_field(msg, "ARC-Message-Signature", i), *nob, *b, *h, *e;
	struct buf data = BUF_INIT;
	int ok;

	if (f == NULL)
		return 0;
	split_b(f, &nob, &b);
	h = strdup(strstr(f, "h=") + 2);
	e = strchr(h, ';');
	*e = '\0';
	/* dkim_sign_fields' field selection is what we sign with; the data
	 * the verifier rebuilds: the h= fields, bottom up per name. */
	buf_puts(&data, "");
	{
		char *save = NULL;
		for (char *name = strtok_r(h, ":", &save); name != NULL; name = strtok_r(NULL, ":", &save)) {
			char *field = NULL;
			/* each name once in this test's message */
			for (const char *p = msg; *p != '\0' && !(p[0] == '\r' && p[1] == '\n');) {
				const char *end = strstr(p, "\r\n");
				while (end[2] == ' ' || end[2] == '\t')
					end = strstr(end + 2, "\r\n");
				while (*name == ' ' || *name == '\t' || *name == '\r' || *name == '\n')
					name++;
				if (strncasecmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ':')
					field = strndup(p, (size_t)(end - p));
				p = end + 2;
			}
			if (field != NULL)
				dkim_canon_header(field, strlen(field), 1, &data);
			free(field);
		}
	}
	dkim_canon_header(nob, strlen(nob), 0, &data);
	ok = rsa_verify(&data, b);
	buf_free(&data);
	free(f);
	free(nob);
	free(b);
	free(h);
	return ok;
}

/* The AS of instance n verifies over sets 1..n. */
static int as_ok(const char *msg, int n)
{
	struct buf data = BUF_INIT;
	char *f, *nob, *b;
	int ok = 0;

	buf_puts(&data, "");
	for (int i = 1; i <= n; i++) {
		static const char *const names[3] = { "ARC-Authentication-Results", "ARC-Message-Signature",
						      "ARC-Seal" };
		for (int k = 0; k < 3; k++) {
			f = find_field(msg, names[k], i);
			if (f == NULL) {
				buf_free(&data);
				return 0;
			}
			if (i == n && k == 2) {
				split_b(f, &nob, &b);
				dkim_canon_header(nob, strlen(nob), 0, &data);
				ok = rsa_verify(&data, b);
				free(nob);
				free(b);
			} else {
				dkim_canon_header(f, strlen(f), 1, &data);
			}
			free(f);
		}
	}
	buf_free(&data);
	return ok;
}

static char *seal(const char *msg, const char *cv, int *i_r, const char **error_r)
{
	struct arc_seal_request req = {
		.msg = msg, .len = strlen(msg), .domain = "fwd.example", .selector = "arc",
		.key = rsa_key, .t = 1767225600, .authserv_id = "mx.fwd.example",
		.results = "spf=pass smtp.mailfrom=example.org; arc=none", .cv = cv,
	};
	char *fields = NULL, *out;

	if (arc_seal(&req, &fields, i_r, error_r) < 0)
		return NULL;
	out = xmalloc(strlen(fields) + strlen(msg) + 1);
	strcpy(out, fields);
	strcat(out, msg);
	free(fields);
	return out;
}

static void test_first_set(void)
{
	const char *error = NULL;
	int i = 0, n = -1;
	char *m = seal(MSG, "none", &i, &error);

	CHECK(m != NULL);
	CHECK_EQ_INT(i, 1);
	CHECK(strncmp(m, "ARC-Seal: i=1; a=rsa-sha256; t=1767225600; cv=none;", 51) == 0);
	CHECK(strstr(m, "ARC-Authentication-Results: i=1; mx.fwd.example;\r\n\tspf=pass") != NULL);
	CHECK(ams_ok(m, 1));
	CHECK(as_ok(m, 1));
	CHECK_EQ_INT(arc_chain_instances(m, strlen(m), &n, &error), 0);
	CHECK_EQ_INT(n, 1);
	/* A changed subject breaks the AMS, not the seal. */
	{
		char *t = strdup(m), *s = strstr(t, "ARC test");
		s[0] = 'a';
		CHECK(!ams_ok(t, 1));
		CHECK(as_ok(t, 1));
		free(t);
	}
	free(m);
}

static void test_second_set(void)
{
	const char *error = NULL;
	int i = 0, n = 0;
	char *m1 = seal(MSG, "none", &i, &error), *m2;

	CHECK(m1 != NULL);
	CHECK(seal(m1, "none", &i, &error) == NULL);        /* cv=none only for i=1 */
	CHECK(strstr(error, "cv") != NULL);
	m2 = seal(m1, "pass", &i, &error);
	CHECK(m2 != NULL);
	CHECK_EQ_INT(i, 2);
	CHECK(strstr(m2, "cv=pass;") != NULL);
	CHECK(ams_ok(m2, 2));
	CHECK(as_ok(m2, 2));
	CHECK(as_ok(m2, 1));
	CHECK_EQ_INT(arc_chain_instances(m2, strlen(m2), &n, &error), 0);
	CHECK_EQ_INT(n, 2);
	/* Changing set 1 breaks set 2's seal. */
	{
		char *t = strdup(m2), *s = strstr(t, "i=1; mx.fwd.example");
		s[6] = 'M';
		CHECK(!as_ok(t, 2));
		free(t);
	}
	free(m1);
	free(m2);
}

static void test_refusals(void)
{
	const char *error = NULL;
	int i, n;
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	struct arc_seal_request req = {
		.msg = MSG, .len = strlen(MSG), .domain = "fwd.example", .selector = "arc", .key = ed,
		.t = 1, .authserv_id = "mx", .results = "arc=none", .cv = "none",
	};
	char *fields = NULL;

	CHECK(seal(MSG, "pass", &i, &error) == NULL);        /* no chain: cv must be none */
	CHECK_EQ_INT(arc_seal(&req, &fields, &i, &error), -1);  /* not RSA */
	req.key = rsa_key;
	req.results = "arc=none\r\nX-Injected: 1";
	CHECK_EQ_INT(arc_seal(&req, &fields, &i, &error), -1);
	CHECK(fields == NULL);
	EVP_PKEY_free(ed);

	/* A seal without the other two fields of its set. */
	CHECK_EQ_INT(arc_chain_instances("ARC-Seal: i=1; cv=none\r\n" MSG, strlen(MSG) + 24, &n, &error), -1);
	/* Instance 2 without 1. */
	{
		const char *m = "ARC-Seal: i=2; cv=pass\r\nARC-Message-Signature: i=2; a=x\r\n"
				"ARC-Authentication-Results: i=2; h; arc=pass\r\n\r\nbody\r\n";
		CHECK_EQ_INT(arc_chain_instances(m, strlen(m), &n, &error), -1);
	}
	/* A bad or missing i=. */
	{
		const char *m = "ARC-Seal: i=x; cv=none\r\n\r\n";
		CHECK_EQ_INT(arc_chain_instances(m, strlen(m), &n, &error), -1);
		m = "ARC-Seal: cv=none\r\n\r\n";
		CHECK_EQ_INT(arc_chain_instances(m, strlen(m), &n, &error), -1);
		m = "ARC-Seal: i=51; cv=none\r\n\r\n";
		CHECK_EQ_INT(arc_chain_instances(m, strlen(m), &n, &error), -1);
	}
	/* Fields in the body are not the chain. */
	{
		const char *m = "Subject: x\r\n\r\nARC-Seal: i=1; cv=none\r\n";
		CHECK_EQ_INT(arc_chain_instances(m, strlen(m), &n, &error), 0);
		CHECK_EQ_INT(n, 0);
	}
}

int main(void)
{
	int r;

	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (rsa_key == NULL)
		return 1;
	test_run("first set", test_first_set);
	test_run("second set", test_second_set);
	test_run("refusals", test_refusals);
	r = test_done();
	EVP_PKEY_free(rsa_key);
	return r;
}
