/* outbound_tls - the client side of STARTTLS: one SSL_CTX, and per
 * connection the checks its route_tls demands (RFC 7672 DANE through
 * OpenSSL's SSL_dane_* API, PKIX with the name checked for VERIFY). */
#include "gateway/outbound/outbound_private.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static __thread char tls_error[300];

const char *ob_tls_mode_name(enum route_tls t)
{
	switch (t) {
	case ROUTE_TLS_NONE: return "none";
	case ROUTE_TLS_MAY: return "may";
	case ROUTE_TLS_ENCRYPT: return "encrypt";
	case ROUTE_TLS_VERIFY: return "verify";
	case ROUTE_TLS_DANE: return "DANE";
	}
	return "?";
}

int ob_tls_ctx_create(const struct evm_config *cfg, SSL_CTX **ctx_r, const char **error_r)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int ok;

	if (ctx == NULL) {
		*error_r = "outbound: cannot create the TLS context";
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* Verification results are read after the handshake (ob_tls_check),
	 * so a failure is reported in words and nothing is sent. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (cfg->delivery_tls_ca_file[0] != '\0')
		ok = SSL_CTX_load_verify_locations(ctx, cfg->delivery_tls_ca_file, NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1 || SSL_CTX_dane_enable(ctx) <= 0) {
		snprintf(tls_error, sizeof tls_error, "outbound: CA file %s: %s",
			 cfg->delivery_tls_ca_file[0] != '\0' ? cfg->delivery_tls_ca_file : "(system)",
			 ERR_reason_error_string(ERR_peek_last_error()));
		ERR_clear_error();
		SSL_CTX_free(ctx);
		*error_r = tls_error;
		return -1;
	}
	*ctx_r = ctx;
	return 0;
}

/* RFC 7672 2.2 / 3.1.3: DANE-TA(2) and DANE-EE(3) records are used;
 * PKIX-TA(0) and PKIX-EE(1) are unusable for SMTP. Returns the usable count. */
static int add_tlsa(SSL *ssl, const struct route_host *h)
{
	int usable = 0;

	for (unsigned i = 0; i < h->ntlsa && i < ROUTE_MAX_TLSA; i++) {
		const struct route_tlsa *t = &h->tlsa[i];
		if (t->usage != 2 && t->usage != 3)
			continue;
		if (SSL_dane_tlsa_add(ssl, t->usage, t->selector, t->mtype, t->data, t->len) > 0)
			usable++;
	}
	ERR_clear_error();
	return usable;
}

SSL *ob_tls_new(SSL_CTX *ctx, const struct route_host *h, char *err, size_t errsize)
{
	const char *name = h->verify_name[0] != '\0' ? h->verify_name : h->name;
	SSL *ssl = SSL_new(ctx);

	if (ssl == NULL) {
		snprintf(err, errsize, "cannot create a TLS session");
		return NULL;
	}
	SSL_set_tlsext_host_name(ssl, h->name);   /* SNI always */
	if (h->tls == ROUTE_TLS_DANE) {
		/* RFC 7672 3.2.2: the reference identifier is the MX host name */
		if (SSL_dane_enable(ssl, h->name) <= 0 || add_tlsa(ssl, h) == 0) {
			snprintf(err, errsize, "DANE: no usable TLSA record for %s", h->name);
			SSL_free(ssl);
			ERR_clear_error();
			return NULL;
		}
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (strcmp(name, h->name) != 0)
			SSL_add1_host(ssl, name);
	} else if (h->tls == ROUTE_TLS_VERIFY) {
		SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(SSL_get0_param(ssl), name, 0) != 1) {
			snprintf(err, errsize, "bad name to verify: %s", name);
			SSL_free(ssl);
			ERR_clear_error();
			return NULL;
		}
	}
	return ssl;
}

int ob_tls_check(SSL *ssl, const struct route_host *h, char *err, size_t errsize)
{
	long v;

	if (h->tls != ROUTE_TLS_VERIFY && h->tls != ROUTE_TLS_DANE)
		return 0;
	if (ssl == NULL || SSL_get0_peer_certificate(ssl) == NULL) {
		snprintf(err, errsize, "TLS: no server certificate");
		return -1;
	}
	if ((v = SSL_get_verify_result(ssl)) != X509_V_OK) {
		int verify = h->tls == ROUTE_TLS_VERIFY;
		snprintf(err, errsize, "TLS certificate verification failed (%s%s%s): %s", ob_tls_mode_name(h->tls),
			 verify ? ", name " : "", verify ? (h->verify_name[0] ? h->verify_name : h->name) : "",
			 X509_verify_cert_error_string(v));
		return -1;
	}
	if (h->tls == ROUTE_TLS_DANE && SSL_get0_dane_authority(ssl, NULL, NULL) < 0) {
		snprintf(err, errsize, "TLS certificate matches no TLSA record (DANE)");
		return -1;
	}
	return 0;
}
