/* test_dkim - relaxed canonicalisation (RFC 6376 3.4.5), the RFC 8463
 * appendix A ed25519 signature reproduced exactly, and our rsa-sha256 and
 * ed25519-sha256 signatures verified with OpenSSL. */
#include "common/dkim.h"
#include "common/base64.h"
#include "common/scram.h"
#include "tests/unit/testlib.h"

#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

/* RFC 8463 A.1/A.2: the Ed25519 key (RFC 8032 7.1 test 1) and A.3's message. */
#define RFC8463_SEED "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A="
#define RFC8463_PUB "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define RFC8463_MSG \
	"From: Joe SixPack <joe@football.example.com>\r\n" \
	"To: Suzie Q <suzie@shopping.example.net>\r\n" \
	"Subject: Is dinner ready?\r\n" \
	"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n" \
	"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n" \
	"\r\n" \
	"Hi.\r\n" \
	"\r\n" \
	"We lost the game.  Are you hungry yet?\r\n" \
	"\r\n" \
	"Joe.\r\n"

/* RFC 6376 3.4.5: the header example. */
static void test_canon_header(void)
{
	struct buf out = BUF_INIT;

	buf_puts(&out, "");
	dkim_canon_header("A: X", 4, 1, &out);
	dkim_canon_header("B : Y\t\r\n\tZ  ", 12, 1, &out);
	CHECK_EQ_STR(out.data, "a:X\r\nb:Y Z\r\n");
	buf_truncate(&out, 0);
	dkim_canon_header("Subject:   lots   of\t space \r\n  here  ", 38, 0, &out);
	CHECK_EQ_STR(out.data, "subject:lots of space here");
	buf_truncate(&out, 0);
	dkim_canon_header("X-Empty:   ", 11, 1, &out);
	CHECK_EQ_STR(out.data, "x-empty:\r\n");
	buf_free(&out);
}

/* RFC 6376 3.4.5: the body example; trailing empty lines; no final CRLF. */
static void test_canon_body(void)
{
	struct buf out = BUF_INIT;
	static const char ex[] = " C \r\nD \t E\r\n\r\n\r\n";

	buf_puts(&out, "");
	dkim_canon_body(ex, sizeof ex - 1, &out);
	CHECK_EQ_STR(out.data, " C\r\nD E\r\n");
	buf_truncate(&out, 0);
	dkim_canon_body("", 0, &out);
	CHECK_EQ_STR(out.data, "");
	buf_truncate(&out, 0);
	dkim_canon_body("\r\n\r\n", 4, &out);
	CHECK_EQ_STR(out.data, "");
	buf_truncate(&out, 0);
	dkim_canon_body("a\r\n\r\nb", 6, &out);
	CHECK_EQ_STR(out.data, "a\r\n\r\nb\r\n");
	buf_free(&out);
}

static void test_body_hash(void)
{
	char bh[45];
	const char *error = NULL;

	CHECK_EQ_INT(dkim_body_hash(RFC8463_MSG, strlen(RFC8463_MSG), bh, &error), 0);
	CHECK_EQ_STR(bh, "2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=");
	/* Empty relaxed body: SHA-256 of nothing (RFC 6376 3.4.4). */
	CHECK_EQ_INT(dkim_body_hash("A: b\r\n\r\n", 8, bh, &error), 0);
	CHECK_EQ_STR(bh, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
}

static EVP_PKEY *rfc8463_key(void)
{
	unsigned char seed[64];
	size_t n = 0;

	if (evm_b64_decode(RFC8463_SEED, strlen(RFC8463_SEED), seed, &n) < 0 || n != 32)
		return NULL;
	return EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, n);
}

/* Ed25519 verification over SHA-256 of data with the RFC's public key. */
static int ed_verify(const struct buf *data, const char *b64sig)
{
	unsigned char pub[64], sig[128], md[32];
	size_t pn = 0, sn = 0;
	unsigned int mdn = 0;
	EVP_PKEY *pk;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (evm_b64_decode(RFC8463_PUB, strlen(RFC8463_PUB), pub, &pn) < 0 ||
	    evm_b64_decode(b64sig, strlen(b64sig), sig, &sn) < 0)
		return 0;
	pk = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, pn);
	EVP_Digest(data->data, data->len, md, &mdn, EVP_sha256(), NULL);
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pk) == 1 &&
	     EVP_DigestVerify(ctx, sig, sn, md, mdn) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pk);
	return ok;
}

/* RFC 8463 A.3: the same field and message give the same b= (Ed25519 is
 * deterministic), and it verifies. */
static void test_rfc8463_example(void)
{
	static const char field[] =
		"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
		" d=football.example.com; i=@football.example.com;\r\n"
		" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
		" subject : date : message-id : from : subject : date;\r\n"
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
		" b=";
	EVP_PKEY *key = rfc8463_key();
	char *b = NULL;
	const char *error = NULL;
	struct buf data = BUF_INIT;

	CHECK(key != NULL);
	CHECK_EQ_STR(dkim_key_algorithm(key), "ed25519-sha256");
	CHECK_EQ_INT(dkim_sign_fields(RFC8463_MSG, strlen(RFC8463_MSG),
				      "from : to : subject : date : message-id : from : subject : date",
				      field, key, &b, &error), 0);
	CHECK_EQ_STR(b, "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
	/* The data as RFC 6376 3.7 defines it, built here by hand. */
	buf_puts(&data, "from:Joe SixPack <joe@football.example.com>\r\n"
			"to:Suzie Q <suzie@shopping.example.net>\r\n"
			"subject:Is dinner ready?\r\n"
			"date:Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
			"message-id:<20030712040037.46341.5F8J@football.example.com>\r\n");
	dkim_canon_header(field, strlen(field), 0, &data);
	CHECK(ed_verify(&data, b));
	free(b);
	buf_free(&data);
	EVP_PKEY_free(key);
}

/* Every line of field within the folding width; the template up to "b=". */
static int check_lines(const char *field)
{
	const char *p = field;

	while (*p != '\0') {
		const char *e = strstr(p, "\r\n");
		if (e == NULL || (size_t)(e - p) > DKIM_FOLD_WIDTH)
			return 0;
		if (p != field && p[0] != ' ' && p[0] != '\t')
			return 0;
		p = e + 2;
	}
	return 1;
}

/* True when field, its folding whitespace ("\r\n ") removed, contains s. */
static int has_unfolded(const char *field, const char *s)
{
	struct buf u = BUF_INIT;
	int found;

	for (const char *p = field; *p != '\0'; p++) {
		if (p[0] == '\r' && p[1] == '\n' && p[2] == ' ')
			p += 2;
		else
			buf_append(&u, p, 1);
	}
	buf_puts(&u, "");
	found = strstr(u.data, s) != NULL;
	buf_free(&u);
	return found;
}

/* The b= value without folding whitespace, and the field with it emptied. */
static void split_b(const char *field, struct buf *tmpl, struct buf *b)
{
	const char *at = strstr(field, " b=");
	const char *end = field + strlen(field) - 2;   /* the final CRLF */

	buf_append(tmpl, field, (size_t)(at + 3 - field));
	buf_puts(b, "");
	for (const char *p = at + 3; p < end; p++) {
		if (*p != ' ' && *p != '\t' && *p != '\r' && *p != '\n')
			buf_append(b, p, 1);
	}
}

/* Our ed25519 signature of the RFC message: layout, tags, verification. */
static void test_sign_ed25519(void)
{
	EVP_PKEY *key = rfc8463_key();
	char *field = NULL;
	const char *error = NULL;
	struct buf tmpl = BUF_INIT, b = BUF_INIT, data = BUF_INIT;

	CHECK_EQ_INT(dkim_sign(RFC8463_MSG, strlen(RFC8463_MSG), "football.example.com", "brisbane",
			       key, 1528637909, &field, &error), 0);
	CHECK(strncmp(field, "DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;", 57) == 0);
	CHECK(check_lines(field));
	CHECK(has_unfolded(field, "h=from:from:to:subject:date:message-id;"));
	CHECK(strstr(field, "d=football.example.com;") != NULL);
	CHECK(strstr(field, "t=1528637909;") != NULL);
	CHECK(strstr(field, "bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;") != NULL);
	split_b(field, &tmpl, &b);
	buf_puts(&data, "from:Joe SixPack <joe@football.example.com>\r\n"
			"to:Suzie Q <suzie@shopping.example.net>\r\n"
			"subject:Is dinner ready?\r\n"
			"date:Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
			"message-id:<20030712040037.46341.5F8J@football.example.com>\r\n");
	dkim_canon_header(tmpl.data, tmpl.len, 0, &data);
	CHECK(ed_verify(&data, b.data));
	free(field);
	buf_free(&tmpl);
	buf_free(&b);
	buf_free(&data);
	EVP_PKEY_free(key);
}

/* rsa-sha256 with a fresh 2048-bit key, through PEM as the directory
 * stores it; verified with OpenSSL's RSASSA-PKCS1-v1_5. */
static void test_sign_rsa(void)
{
	static const char msg[] =
		"From: a@x.test\r\nSubject: two\r\nSubject: subjects\r\nCc: c@y.test\r\n"
		"X-Not-Signed: z\r\n\r\nbody \r\n";
	EVP_PKEY *gen = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048), *key = NULL;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL, *field = NULL;
	long pemlen;
	const char *error = NULL;
	struct buf tmpl = BUF_INIT, b = BUF_INIT, data = BUF_INIT;
	unsigned char sig[1024];
	size_t sn = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	CHECK(gen != NULL);
	CHECK(PEM_write_bio_PrivateKey(bio, gen, NULL, NULL, 0, NULL, NULL) == 1);
	pemlen = BIO_get_mem_data(bio, &pem);
	pem = strndup(pem, (size_t)pemlen);
	CHECK_EQ_INT(dkim_key_load(pem, &key, &error), 0);
	CHECK_EQ_STR(dkim_key_algorithm(key), "rsa-sha256");
	CHECK_EQ_INT(dkim_sign(msg, sizeof msg - 1, "x.test", "evm202501", key, 1700000000, &field,
			       &error), 0);
	CHECK(check_lines(field));
	CHECK(strstr(field, "a=rsa-sha256;") != NULL);
	CHECK(has_unfolded(field, "h=from:from:cc:subject:subject;"));
	split_b(field, &tmpl, &b);
	CHECK(evm_b64_decode(b.data, b.len, sig, &sn) == 0 && sn == 256);
	/* Bottom-up instances (RFC 6376 5.4.2): the second Subject first. */
	buf_puts(&data, "from:a@x.test\r\ncc:c@y.test\r\nsubject:subjects\r\nsubject:two\r\n");
	dkim_canon_header(tmpl.data, tmpl.len, 0, &data);
	CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, gen) == 1);
	CHECK(EVP_DigestVerify(ctx, sig, sn, (unsigned char *)data.data, data.len) == 1);
	/* One changed octet fails. */
	data.data[0] = 'F';
	CHECK(EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, gen) == 1);
	CHECK(EVP_DigestVerify(ctx, sig, sn, (unsigned char *)data.data, data.len) != 1);
	EVP_MD_CTX_free(ctx);
	free(field);
	free(pem);
	buf_free(&tmpl);
	buf_free(&b);
	buf_free(&data);
	BIO_free(bio);
	EVP_PKEY_free(key);
	EVP_PKEY_free(gen);
}

static void test_bad_keys(void)
{
	EVP_PKEY *key = NULL;
	const char *error = NULL;

	CHECK_EQ_INT(dkim_key_load("not a key", &key, &error), -1);
	CHECK(error != NULL);
	CHECK(key == NULL);
}

int main(void)
{
	test_run("canon_header", test_canon_header);
	test_run("canon_body", test_canon_body);
	test_run("body_hash", test_body_hash);
	test_run("rfc8463_example", test_rfc8463_example);
	test_run("sign_ed25519", test_sign_ed25519);
	test_run("sign_rsa", test_sign_rsa);
	test_run("bad_keys", test_bad_keys);
	return test_done();
}
