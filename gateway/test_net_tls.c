/* Unit tests: the server TLS policy (versions, ciphers) and certificate
 * reload: a new context for new sessions, the old one alive for sessions
 * that started on it, a bad file leaving the current one in use. The
 * handshakes run in memory (a BIO pair), no sockets. */
#include "gateway/net.h"
#include "tests/unit/testlib.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char cert_path[1100], key_path[1100];

/* A fresh self-signed certificate with subject CN=cn, written to path
 * prefix dir/name-{cert,key}.pem. 0 or -1. */
static int make_cert(const char *dir, const char *name, const char *cn)
{
	char cmd[3000];

	snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
		 "-keyout %s/%s-key.pem -out %s/%s-cert.pem -days 2 -subj /CN=%s 2>/dev/null",
		 dir, name, dir, name, cn);
	return system(cmd) == 0 ? 0 : -1;
}

/* Copies dir/name-{cert,key}.pem over the paths the server loads. */
static int install_cert(const char *dir, const char *name)
{
	char cmd[3000];

	snprintf(cmd, sizeof cmd, "cp %s/%s-cert.pem %s && cp %s/%s-key.pem %s", dir, name, cert_path, dir,
		 name, key_path);
	return system(cmd) == 0 ? 0 : -1;
}

/* The subject CN of cert into out ("" if none). */
static void cert_cn(X509 *cert, char *out, size_t size)
{
	out[0] = '\0';
	if (cert != NULL)
		X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, out, (int)size);
}

/* A client context that offers exactly the versions [minv, maxv]. */
static SSL_CTX *client_ctx(int minv, int maxv)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	SSL_CTX_set_security_level(ctx, 0);   /* so that TLS 1.0/1.1 are really offered */
	SSL_CTX_set_min_proto_version(ctx, minv);
	SSL_CTX_set_max_proto_version(ctx, maxv);
	if (maxv < TLS1_2_VERSION)
		SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	return ctx;
}

/* Runs a handshake between server and a new client of cctx in memory.
 * Returns 1 on success, 0 on failure with *server_reason_r the server's
 * OpenSSL error reason (0 if the server saw none). *cn_r: the CN of the
 * certificate the client received. Frees server. */
static int handshake(SSL *server, SSL_CTX *cctx, int *server_reason_r, char *cn_r, size_t cn_size)
{
	SSL *client = SSL_new(cctx);
	BIO *cb = NULL, *sb = NULL;
	int ok = 0;

	*server_reason_r = 0;
	cn_r[0] = '\0';
	BIO_new_bio_pair(&cb, 0, &sb, 0);
	SSL_set_bio(client, cb, cb);
	SSL_set_bio(server, sb, sb);
	SSL_set_connect_state(client);
	SSL_set_accept_state(server);
	ERR_clear_error();
	for (int i = 0; i < 50; i++) {
		int rc = SSL_do_handshake(client), rs, es;

		if (rc <= 0 && SSL_get_error(client, rc) != SSL_ERROR_WANT_READ)
			break;
		rs = SSL_do_handshake(server);
		es = rs <= 0 ? SSL_get_error(server, rs) : SSL_ERROR_NONE;
		if (es == SSL_ERROR_SSL) {
			*server_reason_r = ERR_GET_REASON(ERR_peek_last_error());
			break;
		}
		if (rc == 1 && rs == 1) {
			X509 *peer = SSL_get1_peer_certificate(client);
			cert_cn(peer, cn_r, cn_size);
			X509_free(peer);
			ok = 1;
			break;
		}
	}
	ERR_clear_error();
	SSL_free(client);
	SSL_free(server);
	return ok;
}

static void test_policy(void)
{
	const char *error = NULL;
	struct net_tls_policy p = { .min_version = "1.1" };

	CHECK(net_tls_policy_check(&p, &error) < 0);
	CHECK(strstr(error, "tls.min_version") != NULL);
	p = (struct net_tls_policy){ .ciphers = "NO-SUCH-CIPHER" };
	CHECK(net_tls_policy_check(&p, &error) < 0);
	CHECK(strstr(error, "tls.ciphers") != NULL);
	p = (struct net_tls_policy){ .ciphersuites = "TLS_NO_SUCH_SUITE" };
	CHECK(net_tls_policy_check(&p, &error) < 0);
	CHECK(strstr(error, "tls.ciphersuites") != NULL);
	p = (struct net_tls_policy){ .min_version = "1.3", .ciphers = "ECDHE-RSA-AES128-GCM-SHA256" };
	CHECK(net_tls_policy_check(&p, &error) == 0);
	p = (struct net_tls_policy){ 0 };
	CHECK(net_tls_policy_check(&p, &error) == 0);
}

/* TLS 1.0 and 1.1 are refused by the server (the client offers them);
 * 1.2 and 1.3 are accepted; min_version 1.3 refuses 1.2. */
static void test_versions(void)
{
	const char *dir = test_tmpdir("net_tls_versions"), *error = NULL;
	struct net_tls *tls = NULL, *tls13 = NULL;
	struct net_tls_policy p13 = { .min_version = "1.3" };
	char cn[64];
	int reason;
	SSL_CTX *c10 = client_ctx(TLS1_VERSION, TLS1_VERSION), *c11 = client_ctx(TLS1_1_VERSION, TLS1_1_VERSION);
	SSL_CTX *c12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION), *c13 = client_ctx(TLS1_3_VERSION, TLS1_3_VERSION);

	snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
	snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
	CHECK(make_cert(dir, "a", "a.example") == 0 && install_cert(dir, "a") == 0);
	CHECK(net_tls_load(cert_path, key_path, &tls, &error) == 0);
	CHECK(net_tls_load_policy(cert_path, key_path, &p13, &tls13, &error) == 0);
	CHECK(!handshake(net_tls_ssl_new(tls), c10, &reason, cn, sizeof cn));
	CHECK_EQ_INT(reason, SSL_R_UNSUPPORTED_PROTOCOL);
	CHECK(!handshake(net_tls_ssl_new(tls), c11, &reason, cn, sizeof cn));
	CHECK_EQ_INT(reason, SSL_R_UNSUPPORTED_PROTOCOL);
	CHECK(handshake(net_tls_ssl_new(tls), c12, &reason, cn, sizeof cn));
	CHECK_EQ_STR(cn, "a.example");
	CHECK(handshake(net_tls_ssl_new(tls), c13, &reason, cn, sizeof cn));
	CHECK(!handshake(net_tls_ssl_new(tls13), c12, &reason, cn, sizeof cn));
	CHECK_EQ_INT(reason, SSL_R_UNSUPPORTED_PROTOCOL);
	CHECK(handshake(net_tls_ssl_new(tls13), c13, &reason, cn, sizeof cn));
	net_tls_free(&tls);
	net_tls_free(&tls13);
	CHECK(tls == NULL);
	SSL_CTX_free(c10);
	SSL_CTX_free(c11);
	SSL_CTX_free(c12);
	SSL_CTX_free(c13);
}

/* Reload: new sessions get the new certificate; a session made before the
 * reload completes its handshake with the old one after the reload; a
 * broken file or a key of another certificate keeps the current context. */
static void test_reload(void)
{
	const char *dir = test_tmpdir("net_tls_reload"), *error = NULL;
	struct net_tls *tls = NULL;
	SSL_CTX *cctx = client_ctx(TLS1_2_VERSION, TLS1_3_VERSION);
	SSL *before;
	char cn[64], cmd[2400];
	int reason;

	snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
	snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
	CHECK(make_cert(dir, "a", "a.example") == 0 && make_cert(dir, "b", "b.example") == 0);
	CHECK(install_cert(dir, "a") == 0);
	CHECK(net_tls_load(cert_path, key_path, &tls, &error) == 0);
	CHECK_EQ_INT(net_tls_generation(tls), 0);
	before = net_tls_ssl_new(tls);
	CHECK(before != NULL);

	CHECK(install_cert(dir, "b") == 0);
	CHECK(net_tls_reload(tls, &error) == 0);
	CHECK_EQ_INT(net_tls_generation(tls), 1);
	CHECK(handshake(net_tls_ssl_new(tls), cctx, &reason, cn, sizeof cn));
	CHECK_EQ_STR(cn, "b.example");
	/* The old context's last reference is the session's own. */
	CHECK(handshake(before, cctx, &reason, cn, sizeof cn));
	CHECK_EQ_STR(cn, "a.example");

	/* Not PEM: refused, b stays. */
	snprintf(cmd, sizeof cmd, "echo garbage > %s", cert_path);
	CHECK(system(cmd) == 0);
	CHECK(net_tls_reload(tls, &error) < 0);
	CHECK(strstr(error, "tls.cert") != NULL);
	CHECK_EQ_INT(net_tls_generation(tls), 1);
	CHECK(handshake(net_tls_ssl_new(tls), cctx, &reason, cn, sizeof cn));
	CHECK_EQ_STR(cn, "b.example");
	/* a's certificate with b's key: refused. */
	snprintf(cmd, sizeof cmd, "cp %s/a-cert.pem %s", dir, cert_path);
	CHECK(system(cmd) == 0);
	CHECK(net_tls_reload(tls, &error) < 0);
	CHECK(strstr(error, "tls.key") != NULL);   /* OpenSSL: key values mismatch */
	/* A missing key file: refused. */
	CHECK(install_cert(dir, "a") == 0);
	CHECK(remove(key_path) == 0);
	CHECK(net_tls_reload_all() >= 1);
	CHECK_EQ_INT(net_tls_generation(tls), 1);
	CHECK(handshake(net_tls_ssl_new(tls), cctx, &reason, cn, sizeof cn));
	CHECK_EQ_STR(cn, "b.example");
	/* Fixed: reload_all picks it up. */
	CHECK(install_cert(dir, "a") == 0);
	CHECK_EQ_INT(net_tls_reload_all(), 0);
	CHECK_EQ_INT(net_tls_generation(tls), 2);
	CHECK(handshake(net_tls_ssl_new(tls), cctx, &reason, cn, sizeof cn));
	CHECK_EQ_STR(cn, "a.example");
	net_tls_free(&tls);
	net_tls_free(&tls);   /* NULL: nothing */
	SSL_CTX_free(cctx);
}

/* The certificate new sessions of tls get (a pointer: the same object
 * means the same read of the file), and its CN into cn. */
static X509 *current_cert(struct net_tls *tls, char *cn, size_t size)
{
	SSL *ssl = net_tls_ssl_new(tls);
	X509 *x = ssl != NULL ? SSL_get_certificate(ssl) : NULL;

	cert_cn(x, cn, size);
	SSL_free(ssl);   /* the context still holds x */
	return x;
}

/* SIGHUP with several listeners: each file pair is read once and every
 * listener on it gets a context made from that one read (the very same
 * certificate object), so a file replaced during the reload cannot split
 * them; the listeners of a pair switch together or not at all, and a
 * broken pair does not hold back another. */
static void test_reload_shared(void)
{
	const char *dir = test_tmpdir("net_tls_reload_shared"), *error = NULL;
	const struct net_tls_policy tls13 = { .min_version = "1.3" };
	struct net_tls *imap = NULL, *smtp = NULL, *http = NULL;
	char cn[64], cmd[3000], other_cert[1100], other_key[1100];
	X509 *a, *b;

	snprintf(cert_path, sizeof cert_path, "%s/cert.pem", dir);
	snprintf(key_path, sizeof key_path, "%s/key.pem", dir);
	snprintf(other_cert, sizeof other_cert, "%s/other-cert.pem", dir);
	snprintf(other_key, sizeof other_key, "%s/other-key.pem", dir);
	CHECK(make_cert(dir, "a", "a.example") == 0 && make_cert(dir, "b", "b.example") == 0 &&
	      make_cert(dir, "c", "c.example") == 0);
	CHECK(install_cert(dir, "a") == 0);
	snprintf(cmd, sizeof cmd, "cp %s/c-cert.pem %s && cp %s/c-key.pem %s", dir, other_cert, dir, other_key);
	CHECK(system(cmd) == 0);
	/* two listeners on the same files (different policies), one on others */
	CHECK(net_tls_load(cert_path, key_path, &imap, &error) == 0);
	CHECK(net_tls_load_policy(cert_path, key_path, &tls13, &smtp, &error) == 0);
	CHECK(net_tls_load(other_cert, other_key, &http, &error) == 0);
	CHECK(current_cert(imap, cn, sizeof cn) != current_cert(smtp, cn, sizeof cn));   /* two loads, two reads */

	CHECK(install_cert(dir, "b") == 0);
	CHECK_EQ_INT(net_tls_reload_all(), 0);
	a = current_cert(imap, cn, sizeof cn);
	CHECK_EQ_STR(cn, "b.example");
	b = current_cert(smtp, cn, sizeof cn);
	CHECK_EQ_STR(cn, "b.example");
	CHECK(a == b);                       /* one read for both */
	CHECK_EQ_INT(net_tls_generation(imap), 1);
	CHECK_EQ_INT(net_tls_generation(smtp), 1);
	CHECK(current_cert(http, cn, sizeof cn) != a);
	CHECK_EQ_STR(cn, "c.example");

	/* the shared pair broken (a's certificate, b's key): neither of its
	 * listeners switches; the other pair reloads */
	snprintf(cmd, sizeof cmd, "cp %s/a-cert.pem %s", dir, cert_path);
	CHECK(system(cmd) == 0);
	CHECK_EQ_INT(net_tls_reload_all(), 2);
	CHECK_EQ_INT(net_tls_generation(imap), 1);
	CHECK_EQ_INT(net_tls_generation(smtp), 1);
	CHECK_EQ_INT(net_tls_generation(http), 2);
	current_cert(imap, cn, sizeof cn);
	CHECK_EQ_STR(cn, "b.example");
	current_cert(smtp, cn, sizeof cn);
	CHECK_EQ_STR(cn, "b.example");
	net_tls_free(&imap);
	net_tls_free(&smtp);
	net_tls_free(&http);
}

int main(void)
{
	test_run("policy", test_policy);
	test_run("versions", test_versions);
	test_run("reload", test_reload);
	test_run("reload shared by listeners", test_reload_shared);
	return test_done();
}
