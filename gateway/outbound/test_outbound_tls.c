/* test_outbound_tls - STARTTLS of the SMTP client against the scripted
 * server with a self-signed certificate (made by `openssl req`): MAY and
 * ENCRYPT accept it, VERIFY checks the name against delivery.tls_ca_file,
 * DANE 3 1 1 matches the SPKI digest or not, a route demanding TLS never
 * sends mail in clear, AUTH only after TLS. */
#include "gateway/outbound/test_outbound_util.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static struct outbound *ob;
static struct tsrv srv;
static struct net_tls *tls;
static char cert_path[1100];
static unsigned char spki_sha256[32];

static void teardown(void)
{
	outbound_free(&ob);
	settle();
	if (srv.lis != NULL)
		tsrv_stop(&srv);
}

static struct route_host *start(int starttls, enum route_tls mode, const char *const *kv)
{
	struct tsrv_conf conf = { .starttls = starttls };

	route_reset();
	config_with(kv);
	tsrv_start(&srv, base, &conf, tls);
	ob = make_ob();
	return add_host("mx.test", srv.port, mode);
}

/* TLS came before any MAIL in the server's log. */
static int tls_before_mail(void)
{
	const char *t = strstr(srv.log.data, "TLS\n"), *m = strstr(srv.log.data, "MAIL");

	return t != NULL && m != NULL && t < m;
}

static void test_may_and_encrypt(void)
{
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	start(1, ROUTE_TLS_MAY, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK(tls_before_mail());
	/* EHLO again after TLS (RFC 3207 4.2) */
	CHECK(strstr(srv.log.data, "C: STARTTLS\nTLS\nC: EHLO client.test\n") != NULL);
	teardown();

	start(1, ROUTE_TLS_ENCRYPT, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK(tls_before_mail());
	teardown();

	/* MAY without STARTTLS offered: clear text is fine */
	start(0, ROUTE_TLS_MAY, NULL);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK_EQ_INT(srv.tls_sessions, 0);
	teardown();
}

/* Where the route demands TLS, a server without STARTTLS gets nothing. */
static void test_required_but_absent(void)
{
	static const enum route_tls modes[] = { ROUTE_TLS_ENCRYPT, ROUTE_TLS_VERIFY, ROUTE_TLS_DANE };
	static const char *const want[] = {
		"mx.test [127.0.0.1]: TLS required by encrypt but STARTTLS not offered",
		"mx.test [127.0.0.1]: TLS required by verify but STARTTLS not offered",
		"mx.test [127.0.0.1]: TLS required by DANE but STARTTLS not offered",
	};
	struct outbound_msg m = test_msg(1);
	struct outcome o;

	for (int i = 0; i < 3; i++) {
		struct route_host *h = start(0, modes[i], NULL);
		h->ntlsa = 1;
		h->tlsa[0] = (struct route_tlsa){ .usage = 3, .selector = 1, .mtype = 1, .len = 32 };
		memcpy(h->tlsa[0].data, spki_sha256, 32);
		CHECK(send_one(ob, &m, &o) == 0);
		CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
		CHECK_EQ_STR(o.r[0].reply, want[i]);
		CHECK(strstr(srv.log.data, "MAIL") == NULL);
		teardown();
	}
}

static void test_verify(void)
{
	const char *kv[] = { "delivery.tls_ca_file", cert_path, NULL };
	struct outbound_msg m = test_msg(1);
	struct outcome o;
	struct route_host *h;

	h = start(1, ROUTE_TLS_VERIFY, kv);
	snprintf(h->verify_name, sizeof h->verify_name, "mx.test");
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	teardown();

	h = start(1, ROUTE_TLS_VERIFY, kv);
	snprintf(h->verify_name, sizeof h->verify_name, "wrong.test");
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK(strstr(o.r[0].reply, "TLS certificate verification failed (verify, name wrong.test)") != NULL);
	CHECK_EQ_INT(srv.tls_sessions, 1);   /* the handshake was made, then nothing more */
	CHECK(strstr(srv.log.data, "MAIL") == NULL);
	teardown();

	/* the right name but a CA that did not sign it (the system store) */
	h = start(1, ROUTE_TLS_VERIFY, NULL);
	snprintf(h->verify_name, sizeof h->verify_name, "mx.test");
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK(strstr(srv.log.data, "MAIL") == NULL);
	teardown();
}

static void test_dane(void)
{
	struct outbound_msg m = test_msg(1);
	struct outcome o;
	struct route_host *h;

	h = start(1, ROUTE_TLS_DANE, NULL);
	h->ntlsa = 2;
	h->tlsa[0] = (struct route_tlsa){ .usage = 1, .selector = 1, .mtype = 1, .len = 32 };   /* PKIX-EE: ignored */
	h->tlsa[1] = (struct route_tlsa){ .usage = 3, .selector = 1, .mtype = 1, .len = 32 };
	memcpy(h->tlsa[1].data, spki_sha256, 32);
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK(tls_before_mail());
	teardown();

	h = start(1, ROUTE_TLS_DANE, NULL);
	h->ntlsa = 1;
	h->tlsa[0] = (struct route_tlsa){ .usage = 3, .selector = 1, .mtype = 1, .len = 32 };
	memcpy(h->tlsa[0].data, spki_sha256, 32);
	h->tlsa[0].data[7] ^= 0x5a;
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK(strstr(o.r[0].reply, "mx.test [127.0.0.1]: TLS certificate verification failed (DANE)") != NULL);
	CHECK(strstr(srv.log.data, "MAIL") == NULL);
	teardown();

	/* only unusable records: refused before the handshake */
	h = start(1, ROUTE_TLS_DANE, NULL);
	h->ntlsa = 1;
	h->tlsa[0] = (struct route_tlsa){ .usage = 0, .selector = 1, .mtype = 1, .len = 32 };
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK(strstr(o.r[0].reply, "DANE: no usable TLSA record for mx.test") != NULL);
	teardown();
}

static void test_auth(void)
{
	char pw[1200], want[200];
	const char *kv[] = { "delivery.relay_user", "relay-user", "delivery.relay_password_file", pw, NULL };
	struct outbound_msg m = test_msg(1);
	struct outcome o;
	struct route_host *h;
	FILE *f;

	snprintf(pw, sizeof pw, "%s/relay.pw", test_tmpdir("outbound-auth"));
	f = fopen(pw, "w");
	fputs("s3cret\n", f);
	fclose(f);
	/* AUTH PLAIN of "\0relay-user\0s3cret" */
	snprintf(want, sizeof want, "C: AUTH PLAIN AHJlbGF5LXVzZXIAczNjcmV0\n");

	h = start(1, ROUTE_TLS_ENCRYPT, kv);
	h->auth = 1;
	srv.conf.keywords = "PIPELINING\nAUTH PLAIN LOGIN";
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DELIVERED);
	CHECK(strstr(srv.log.data, want) != NULL);
	CHECK(strstr(srv.log.data, "TLS\n") < strstr(srv.log.data, "AUTH"));
	teardown();

	/* no TLS: no password on the wire */
	h = start(0, ROUTE_TLS_MAY, kv);
	h->auth = 1;
	srv.conf.keywords = "PIPELINING\nAUTH PLAIN LOGIN";
	CHECK(send_one(ob, &m, &o) == 0);
	CHECK_EQ_INT(o.r[0].status, OUTBOUND_DEFERRED);
	CHECK_EQ_STR(o.r[0].reply, "mx.test [127.0.0.1]: AUTH refused without TLS");
	CHECK(strstr(srv.log.data, "AUTH") == NULL);
	teardown();
}

/* SHA-256 of the certificate's SubjectPublicKeyInfo (TLSA selector 1). */
static int spki_digest(const char *path)
{
	FILE *f = fopen(path, "r");
	X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	unsigned char *der = NULL;
	unsigned int n = 0;
	int len;

	if (f != NULL)
		fclose(f);
	if (x == NULL)
		return -1;
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len <= 0 || EVP_Digest(der, (size_t)len, spki_sha256, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -1;
	OPENSSL_free(der);
	X509_free(x);
	return 0;
}

int main(void)
{
	const char *dir = test_tmpdir("outbound-tls"), *error = NULL;
	char cmd[4000], key[1100];

	snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
	snprintf(key, sizeof key, "%s/key.pem", dir);
	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout %s -out %s -days 2 -subj /CN=mx.test -addext subjectAltName=DNS:mx.test 2>/dev/null",
		 key, cert_path);
	if (system(cmd) != 0 || net_tls_load(cert_path, key, &tls, &error) < 0 || spki_digest(cert_path) < 0) {
		fprintf(stderr, "cannot make a test certificate: %s\n", error != NULL ? error : "openssl failed");
		return 1;
	}
	base = event_base_new();
	test_run("STARTTLS with MAY and ENCRYPT", test_may_and_encrypt);
	test_run("TLS required, STARTTLS absent: nothing in clear", test_required_but_absent);
	test_run("VERIFY: name and CA", test_verify);
	test_run("DANE 3 1 1 match and mismatch", test_dane);
	test_run("AUTH only over TLS", test_auth);
	net_tls_free(&tls);
	config_free(&cfg);
	event_base_free(base);
	return test_done();
}
