/* test_imap_auth_ext - SCRAM-SHA-256 math against the RFC 7677 3 test
 * vector, strict parsing of SCRAM messages and base64, then full
 * exchanges in one process against a real node over socketpairs:
 * AUTHENTICATE SCRAM-SHA-256 (with and without SASL-IR; wrong password,
 * unknown user, an account without SCRAM keys) and AUTHENTICATE LOGIN. */
#include "gateway/imap/imap_scram.h"
#include "common/base64.h"
#include "gateway/imap/imap_session_testutil.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---- the SCRAM math and parsing, no session ---- */

static void test_rfc7677_vector(void)
{
	struct imap_scram sc;
	unsigned char salt[32];
	size_t salt_len = 0;
	unsigned char sk[32], svk[32];
	char *sk64, *svk64, *final = NULL;
	const char *error = NULL, *sf;
	json_t *rec;
	static const char cf[] = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
	static const char cfin[] = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
				   "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

	CHECK_EQ_INT(evm_b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, &salt_len), 0);
	CHECK_EQ_INT(salt_len, 16);
	CHECK_EQ_INT(evm_scram_derive("pencil", salt, salt_len, 4096, sk, svk), 0);
	sk64 = evm_b64_encode(sk, 32);
	svk64 = evm_b64_encode(svk, 32);
	rec = json_pack("{s:s, s:i, s:s, s:s}", "salt", "W22ZaJ0SNY7soEsUEjb6gQ==", "iterations", 4096,
			"stored_key", sk64, "server_key", svk64);
	free(sk64);
	free(svk64);
	memset(&sc, 0, sizeof sc);
	CHECK_EQ_INT(imap_scram_client_first(&sc, cf, strlen(cf), &error), 0);
	CHECK_EQ_STR(sc.user, "user");
	imap_scram_set_keys(&sc, rec);
	json_decref(rec);
	CHECK(sc.known);
	sf = imap_scram_server_first(&sc, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
	CHECK_EQ_STR(sf, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	CHECK_EQ_INT(imap_scram_client_final(&sc, cfin, strlen(cfin), &final, &error), 1);
	CHECK_EQ_STR(final, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	free(final);
	imap_scram_clear(&sc);
}

static void test_scram_malformed(void)
{
	static const char *const bad_first[] = {
		"p=tls-unique,,n=user,r=abc",   /* channel binding required */
		"x,,n=user,r=abc", "n,n=user,r=abc", "n,,m=ext,n=user,r=abc", "n,,n=,r=abc",
		"n,,n=us=2Xer,r=abc", "n,,n=user", "n,,n=user,r=", "n,,n=user,r=a,b", "",
		"n,,n=us,er,r=abc",
	};
	struct imap_scram sc;
	const char *error = NULL;
	char *final = NULL;
	static const char wrong[] = "c=biws,r=abcSRV,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

	for (size_t i = 0; i < sizeof bad_first / sizeof bad_first[0]; i++) {
		memset(&sc, 0, sizeof sc);
		if (imap_scram_client_first(&sc, bad_first[i], strlen(bad_first[i]), &error) == 0) {
			fprintf(stderr, "accepted: %s\n", bad_first[i]);
			CHECK(0);
		}
		imap_scram_clear(&sc);
	}
	/* escapes, authzid, "y" flag */
	memset(&sc, 0, sizeof sc);
	CHECK_EQ_INT(imap_scram_client_first(&sc, "y,a=u=2Cv,n=u=2Cv=3D,r=abc", 26, &error), 0);
	CHECK_EQ_STR(sc.user, "u,v=");
	CHECK_EQ_STR(sc.authzid, "u,v");
	imap_scram_clear(&sc);
	/* unknown user: fake keys, any proof fails; bad binding / nonce: -1 */
	memset(&sc, 0, sizeof sc);
	CHECK_EQ_INT(imap_scram_client_first(&sc, "n,,n=user,r=abc", 15, &error), 0);
	imap_scram_set_keys(&sc, NULL);
	CHECK(!sc.known);
	imap_scram_server_first(&sc, "SRV");
	CHECK_EQ_INT(imap_scram_client_final(&sc, wrong, strlen(wrong), &final, &error), 0);
	CHECK(final == NULL);
	CHECK_EQ_INT(imap_scram_client_final(&sc, "c=eSws,r=abcSRV,p=AAAA", 22, &final, &error), -1);
	CHECK_EQ_INT(imap_scram_client_final(&sc, "c=biws,r=abcXXX,p=AAAA", 22, &final, &error), -1);
	CHECK_EQ_INT(imap_scram_client_final(&sc, "c=biws,r=abcSRV,p=AAAA", 22, &final, &error), -1);
	imap_scram_clear(&sc);
}

static void test_base64_and_record(void)
{
	unsigned char out[64];
	size_t n = 0;
	const char *error = NULL;
	json_t *rec;

	CHECK_EQ_INT(evm_b64_decode("Zm9v", 4, out, &n), 0);
	CHECK_EQ_INT(n, 3);
	CHECK_EQ_INT(evm_b64_decode("Zm8=", 4, out, &n), 0);
	CHECK_EQ_INT(n, 2);
	CHECK_EQ_INT(evm_b64_decode("Zm9=", 4, out, &n), -1);      /* not canonical */
	CHECK_EQ_INT(evm_b64_decode("Zm 9", 4, out, &n), -1);
	CHECK_EQ_INT(evm_b64_decode("Zm9", 3, out, &n), -1);
	CHECK_EQ_INT(evm_b64_decode("=m9v", 4, out, &n), -1);
	CHECK_EQ_INT(evm_b64_decode("", 0, out, &n), 0);
	rec = evm_scram_record_new("secret");
	CHECK(rec != NULL);
	CHECK_EQ_INT(evm_scram_record_parse(rec, NULL, NULL, NULL, NULL, NULL, &error), 0);
	CHECK_EQ_INT(json_integer_value(json_object_get(rec, "iterations")), 10000);
	json_object_set_new(rec, "iterations", json_integer(100));
	CHECK_EQ_INT(evm_scram_record_parse(rec, NULL, NULL, NULL, NULL, NULL, &error), -1);
	json_decref(rec);
}

/* ---- sessions against a real node ---- */

static char *b64s(const char *s)
{
	return evm_b64_encode((const unsigned char *)s, strlen(s));
}

/* The client side of SCRAM-SHA-256 (RFC 5802 3). ir: send the first
 * message as SASL-IR. Returns the tagged line (malloc'ed). */
static char *scram_login(struct client *c, const char *user, const char *pw, int ir)
{
	char bare[256], first[300], line[1024], final_wo[512], *b, *sf, *l;
	const char *r, *sa, *it;
	unsigned char salt[128], salted[32], ckey[32], stored[32], sig[32], proof[32], skey[32], ssig[32];
	size_t salt_len = 0;
	unsigned int hl = 0;
	struct buf auth = BUF_INIT;
	char *v, expect[128], *p64;

	snprintf(bare, sizeof bare, "n=%s,r=cl1entN0nce", user);
	snprintf(first, sizeof first, "n,,%s", bare);
	b = b64s(first);
	if (ir) {
		snprintf(line, sizeof line, "s1 AUTHENTICATE SCRAM-SHA-256 %s", b);
		send_line(c, line);
	} else {
		send_line(c, "s1 AUTHENTICATE SCRAM-SHA-256");
		free(until_line(c, "+"));
		send_line(c, b);
	}
	free(b);
	l = until_line(c, "");
	if (strncmp(l, "+ ", 2) != 0)
		return l;
	sf = xmalloc(strlen(l));
	evm_b64_decode(l + 2, strlen(l + 2), (unsigned char *)sf, &salt_len);
	free(l);
	r = strstr(sf, "r=");
	sa = strstr(sf, ",s=");
	it = strstr(sf, ",i=");
	if (r == NULL || sa == NULL || it == NULL)
		abort();
	evm_b64_decode(sa + 3, (size_t)(it - sa - 3), salt, &salt_len);
	PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)salt_len, atoi(it + 3), EVP_sha256(), 32, salted);
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Client Key", 10, ckey, &hl);
	HMAC(EVP_sha256(), salted, 32, (const unsigned char *)"Server Key", 10, skey, &hl);
	EVP_Digest(ckey, 32, stored, NULL, EVP_sha256(), NULL);
	snprintf(final_wo, sizeof final_wo, "c=biws,r=%.*s", (int)(sa - r - 2), r + 2);
	buf_printf(&auth, "%s,%s,%s", bare, sf, final_wo);
	HMAC(EVP_sha256(), stored, 32, (const unsigned char *)auth.data, auth.len, sig, &hl);
	HMAC(EVP_sha256(), skey, 32, (const unsigned char *)auth.data, auth.len, ssig, &hl);
	for (int i = 0; i < 32; i++)
		proof[i] = ckey[i] ^ sig[i];
	p64 = evm_b64_encode(proof, 32);
	snprintf(line, sizeof line, "%s,p=%s", final_wo, p64);
	free(p64);
	b = b64s(line);
	send_line(c, b);
	free(b);
	free(sf);
	buf_free(&auth);
	l = until_line(c, "");
	if (strncmp(l, "+ ", 2) != 0)
		return l;
	v = evm_b64_encode(ssig, 32);
	snprintf(expect, sizeof expect, "v=%s", v);
	free(v);
	b = b64s(expect);
	if (strcmp(l + 2, b) != 0) {
		fprintf(stderr, "server signature mismatch: %s\n", l);
		free(b);
		return l;
	}
	free(b);
	free(l);
	send_line(c, "");
	return until_line(c, "s1 ");
}

#define SCRAM(c, user, pw, ir, expect) do { char *l_ = scram_login((c), (user), (pw), (ir)); \
	int ok_ = HAS(l_, expect); if (!ok_) fprintf(stderr, "SCRAM %s: %s\n", (user), l_); \
	free(l_); CHECK(ok_); } while (0)

static void test_scram_session(void)
{
	struct client c;
	char *l;

	client_open(&c);
	l = until_line(&c, "* OK");
	CHECK(HAS(l, "AUTH=SCRAM-SHA-256") && HAS(l, "AUTH=LOGIN"));
	free(l);
	SCRAM(&c, "amy@acme.test", "wrong", 0, "s1 NO [AUTHENTICATIONFAILED]");
	SCRAM(&c, "nobody@acme.test", "secret", 1, "s1 NO [AUTHENTICATIONFAILED]");
	SCRAM(&c, "old@acme.test", "secret", 0, "s1 NO [AUTHENTICATIONFAILED]");
	/* cancel at the first step */
	send_line(&c, "x AUTHENTICATE SCRAM-SHA-256");
	free(until_line(&c, "+"));
	send_line(&c, "*");
	EXPECT(&c, "x ", "x BAD");
	send_line(&c, "y AUTHENTICATE SCRAM-SHA-256 bm90IGJhc2U2NA");   /* invalid base64 */
	EXPECT(&c, "y ", "y BAD");
	SCRAM(&c, "amy@acme.test", "secret", 0, "s1 OK [CAPABILITY");
	send_line(&c, "z SELECT INBOX");
	EXPECT(&c, "z ", "z OK");
	client_close(&c);
	greet(&c);
	SCRAM(&c, "AMY@acme.test", "secret", 1, "s1 OK");
	client_close(&c);
}

static void test_login_mech(void)
{
	struct client c;
	char *u = b64s("amy@acme.test"), *p = b64s("secret"), *w = b64s("nope"), line[256];

	greet(&c);
	send_line(&c, "a AUTHENTICATE LOGIN");
	EXPECT(&c, "+", "+ VXNlcm5hbWU6");
	send_line(&c, u);
	EXPECT(&c, "+", "+ UGFzc3dvcmQ6");
	send_line(&c, w);
	EXPECT(&c, "a ", "a NO [AUTHENTICATIONFAILED]");
	snprintf(line, sizeof line, "b AUTHENTICATE LOGIN %s", u);
	send_line(&c, line);
	EXPECT(&c, "+", "+ UGFzc3dvcmQ6");
	send_line(&c, p);
	EXPECT(&c, "b ", "b OK [CAPABILITY");
	client_close(&c);
	free(u);
	free(p);
	free(w);
}

int main(void)
{
	test_run("SCRAM-SHA-256: RFC 7677 test vector", test_rfc7677_vector);
	test_run("SCRAM-SHA-256: malformed messages", test_scram_malformed);
	test_run("strict base64, scram_sha256 records", test_base64_and_record);
	setup("imap-auth-ext-node");
	test_run("AUTHENTICATE SCRAM-SHA-256", test_scram_session);
	test_run("AUTHENTICATE LOGIN", test_login_mech);
	teardown();
	return test_done();
}
