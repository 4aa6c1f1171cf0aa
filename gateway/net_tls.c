/* net_tls - the server TLS contexts of every listener: one policy (TLS 1.2+,
 * Mozilla "intermediate" ciphers, server preference, no compression, no
 * renegotiation) and certificate reload (SIGHUP) into a new SSL_CTX while
 * sessions in progress keep theirs. See net.h.
 *
 * A reload reads each certificate/key file pair once (struct material)
 * and builds every listener's new context from that one read, then swaps
 * the contexts of the listeners sharing those files together (all or
 * none), so a file replaced during the reload cannot leave two listeners
 * serving different certificates. */
#include "gateway/net.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/log.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct net_tls {
	pthread_mutex_t lock;        /* guards ctx and generation */
	SSL_CTX *ctx;                /* the context new sessions get; one reference is ours */
	unsigned generation;
	char *cert_path, *key_path;
	char *min_version, *ciphers, *ciphersuites;
	struct net_tls *next;        /* the registry of live contexts (net_tls_reload_all) */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct net_tls *registry;

/* The oldest queued OpenSSL error as text, and the queue cleared. */
static const char *ssl_error(void)
{
	static __thread char msg[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown TLS error";
	ERR_error_string_n(e, msg, sizeof msg);
	ERR_clear_error();
	return msg;
}

/* "" or NULL: the default. */
static const char *or_default(const char *s, const char *def)
{
	return s != NULL && s[0] != '\0' ? s : def;
}

/* Applies the protocol and cipher policy to ctx. 0 or -1 with err. */
static int apply_policy(SSL_CTX *ctx, const struct net_tls_policy *p, char *err, size_t errsize)
{
	const char *minv = or_default(p->min_version, "1.2");
	const char *ciphers = or_default(p->ciphers, NET_TLS_DEFAULT_CIPHERS);
	const char *suites = or_default(p->ciphersuites, NET_TLS_DEFAULT_CIPHERSUITES);
	int version;

	/* RFC 8996: TLS 1.0 and 1.1 are deprecated; nothing older than 1.2. */
	if (strcmp(minv, "1.2") == 0) {
		version = TLS1_2_VERSION;
	} else if (strcmp(minv, "1.3") == 0) {
		version = TLS1_3_VERSION;
	} else {
		snprintf(err, errsize, "tls.min_version \"%s\": must be 1.2 or 1.3", minv);
		return -1;
	}
	if (SSL_CTX_set_min_proto_version(ctx, version) != 1) {
		snprintf(err, errsize, "tls.min_version %s: %s", minv, ssl_error());
		return -1;
	}
	if (SSL_CTX_set_cipher_list(ctx, ciphers) != 1) {
		snprintf(err, errsize, "tls.ciphers \"%s\": no usable cipher (%s)", ciphers, ssl_error());
		return -1;
	}
	if (SSL_CTX_set_ciphersuites(ctx, suites) != 1) {
		snprintf(err, errsize, "tls.ciphersuites \"%s\": no usable suite (%s)", suites, ssl_error());
		return -1;
	}
	/* RFC 7457 2.6 (CRIME): no compression; RFC 5746 renegotiation is
	 * refused outright (no client needs it for mail). */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
				 SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_dh_auto(ctx, 1);   /* the DHE suites: RFC 7919 groups */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return 0;
}

/* One read of a certificate chain file and its key file. */
struct material {
	const char *cert_path, *key_path;   /* borrowed from the net_tls that asked first */
	X509 *leaf;
	STACK_OF(X509) *chain;              /* the intermediates, in file order */
	EVP_PKEY *key;
	int failed;                         /* unreadable: err says why */
	char err[700];
};

static void material_clear(struct material *m)
{
	X509_free(m->leaf);
	sk_X509_pop_free(m->chain, X509_free);
	EVP_PKEY_free(m->key);
	m->leaf = NULL;
	m->chain = NULL;
	m->key = NULL;
}

/* Reads the files once: the leaf, the chain after it, the key. 0 or -1 (m->err). */
static int material_load(struct material *m)
{
	BIO *in = BIO_new_file(m->cert_path, "r");
	X509 *x;

	m->chain = sk_X509_new_null();
	if (in == NULL || m->chain == NULL || (m->leaf = PEM_read_bio_X509_AUX(in, NULL, NULL, NULL)) == NULL) {
		snprintf(m->err, sizeof m->err, "tls.cert %s: %s", m->cert_path, ssl_error());
		goto fail;
	}
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL)) != NULL)
		if (sk_X509_push(m->chain, x) <= 0) {
			X509_free(x);
			snprintf(m->err, sizeof m->err, "tls.cert %s: out of memory", m->cert_path);
			goto fail;
		}
	ERR_clear_error();   /* the end of the file */
	BIO_free(in);
	if ((in = BIO_new_file(m->key_path, "r")) == NULL ||
	    (m->key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)) == NULL) {
		snprintf(m->err, sizeof m->err, "tls.key %s: %s", m->key_path, ssl_error());
		goto fail;
	}
	BIO_free(in);
	return 0;
fail:
	BIO_free(in);
	material_clear(m);
	m->failed = 1;
	return -1;
}

/* A new server context with the policy and the material's chain and key. */
static int build_ctx_from(const struct material *m, const struct net_tls_policy *p, SSL_CTX **ctx_r,
			  const char **error_r)
{
	static __thread char err[700];
	SSL_CTX *ctx;

	if (m->failed) {
		snprintf(err, sizeof err, "%s", m->err);
		*error_r = err;
		return -1;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		*error_r = "SSL_CTX_new failed";
		return -1;
	}
	if (apply_policy(ctx, p, err, sizeof err) < 0)
		goto fail;
	if (X509_check_private_key(m->leaf, m->key) != 1) {
		snprintf(err, sizeof err, "tls.key %s does not match tls.cert %s", m->key_path, m->cert_path);
		goto fail;
	}
	/* override 1: the chain replaces any; the objects are shared, counted */
	if (SSL_CTX_use_cert_and_key(ctx, m->leaf, m->key, m->chain, 1) != 1) {
		snprintf(err, sizeof err, "tls.cert %s: %s", m->cert_path, ssl_error());
		goto fail;
	}
	*ctx_r = ctx;
	return 0;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	*error_r = err;
	return -1;
}

/* A new server context with the policy, certificate chain and key, read now. */
static int build_ctx(const char *cert_path, const char *key_path, const struct net_tls_policy *p,
		     SSL_CTX **ctx_r, const char **error_r)
{
	struct material m = { .cert_path = cert_path, .key_path = key_path };
	int rc;

	(void)material_load(&m);
	rc = build_ctx_from(&m, p, ctx_r, error_r);
	material_clear(&m);
	return rc;
}

/* The policy tls was loaded with. */
static struct net_tls_policy tls_policy(const struct net_tls *tls)
{
	return (struct net_tls_policy){
		.min_version = tls->min_version,
		.ciphers = tls->ciphers,
		.ciphersuites = tls->ciphersuites,
	};
}

int net_tls_policy_check(const struct net_tls_policy *policy, const char **error_r)
{
	static __thread char err[600];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	int rc;

	if (ctx == NULL) {
		*error_r = "SSL_CTX_new failed";
		return -1;
	}
	rc = apply_policy(ctx, policy, err, sizeof err);
	SSL_CTX_free(ctx);
	if (rc < 0)
		*error_r = err;
	return rc;
}

int net_tls_load_policy(const char *cert_path, const char *key_path, const struct net_tls_policy *policy,
			struct net_tls **tls_r, const char **error_r)
{
	struct net_tls *tls;
	SSL_CTX *ctx;

	if (build_ctx(cert_path, key_path, policy, &ctx, error_r) < 0)
		return -1;
	tls = xcalloc(1, sizeof *tls);
	pthread_mutex_init(&tls->lock, NULL);
	tls->ctx = ctx;
	tls->cert_path = xstrdup(cert_path);
	tls->key_path = xstrdup(key_path);
	tls->min_version = xstrdup(or_default(policy->min_version, ""));
	tls->ciphers = xstrdup(or_default(policy->ciphers, ""));
	tls->ciphersuites = xstrdup(or_default(policy->ciphersuites, ""));
	pthread_mutex_lock(&registry_lock);
	tls->next = registry;
	registry = tls;
	pthread_mutex_unlock(&registry_lock);
	*tls_r = tls;
	return 0;
}

int net_tls_load(const char *cert_path, const char *key_path, struct net_tls **tls_r,
		 const char **error_r)
{
	const struct net_tls_policy defaults = { 0 };

	return net_tls_load_policy(cert_path, key_path, &defaults, tls_r, error_r);
}

int net_tls_load_config(const struct evm_config *cfg, struct net_tls **tls_r, const char **error_r)
{
	const struct net_tls_policy p = {
		.min_version = cfg->tls_min_version,
		.ciphers = cfg->tls_ciphers,
		.ciphersuites = cfg->tls_ciphersuites,
	};

	return net_tls_load_policy(cfg->tls_cert, cfg->tls_key, &p, tls_r, error_r);
}

/* Puts ctx in place for new sessions. Our reference to the old one only
 * goes: every SSL made from it holds its own, so it lives until the last
 * session on it ends. */
static void swap_ctx(struct net_tls *tls, SSL_CTX *ctx)
{
	SSL_CTX *old;

	pthread_mutex_lock(&tls->lock);
	old = tls->ctx;
	tls->ctx = ctx;
	tls->generation++;
	pthread_mutex_unlock(&tls->lock);
	SSL_CTX_free(old);
}

int net_tls_reload(struct net_tls *tls, const char **error_r)
{
	const struct net_tls_policy p = tls_policy(tls);
	SSL_CTX *ctx;

	/* Built outside the lock: reading files must not stall SSL_new. */
	if (build_ctx(tls->cert_path, tls->key_path, &p, &ctx, error_r) < 0)
		return -1;
	swap_ctx(tls, ctx);
	return 0;
}

/* One listener's part of a reload: its files' material and its new context. */
struct reload_slot {
	struct net_tls *tls;
	size_t material;
	SSL_CTX *ctx;              /* NULL: not built */
};

unsigned net_tls_reload_all(void)
{
	struct reload_slot *slots = NULL;
	struct material *mats = NULL;
	size_t n = 0, nmats = 0, k = 0;
	unsigned failed = 0, done = 0;

	pthread_mutex_lock(&registry_lock);
	for (struct net_tls *tls = registry; tls != NULL; tls = tls->next)
		n++;
	slots = xcalloc(n + 1, sizeof *slots);
	mats = xcalloc(n + 1, sizeof *mats);
	/* 1. each file pair read once; every listener's context built from it */
	for (struct net_tls *tls = registry; tls != NULL; tls = tls->next, k++) {
		const struct net_tls_policy p = tls_policy(tls);
		const char *error = NULL;
		size_t m;

		for (m = 0; m < nmats; m++)
			if (strcmp(mats[m].cert_path, tls->cert_path) == 0 && strcmp(mats[m].key_path, tls->key_path) == 0)
				break;
		if (m == nmats) {
			mats[m].cert_path = tls->cert_path;
			mats[m].key_path = tls->key_path;
			(void)material_load(&mats[m]);
			nmats++;
		}
		slots[k].tls = tls;
		slots[k].material = m;
		/* a failure marks the pair: none of its listeners switches */
		if (build_ctx_from(&mats[m], &p, &slots[k].ctx, &error) < 0 && !mats[m].failed) {
			snprintf(mats[m].err, sizeof mats[m].err, "%s", error);
			mats[m].failed = 1;
		}
	}
	/* 2. the listeners of a file pair switch together, or none of them */
	for (k = 0; k < n; k++) {
		if (mats[slots[k].material].failed) {
			SSL_CTX_free(slots[k].ctx);
			log_error("TLS reload failed, the current certificate stays: %s", mats[slots[k].material].err);
			failed++;
		} else {
			swap_ctx(slots[k].tls, slots[k].ctx);
			done++;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	for (size_t m = 0; m < nmats; m++)
		material_clear(&mats[m]);
	free(mats);
	free(slots);
	log_info("TLS reload: %u context(s) reloaded, %u failed (%zu certificate file pair(s) read once)", done,
		 failed, nmats);
	return failed;
}

unsigned net_tls_generation(struct net_tls *tls)
{
	unsigned g;

	pthread_mutex_lock(&tls->lock);
	g = tls->generation;
	pthread_mutex_unlock(&tls->lock);
	return g;
}

SSL *net_tls_ssl_new(struct net_tls *tls)
{
	SSL *ssl;

	pthread_mutex_lock(&tls->lock);
	ssl = SSL_new(tls->ctx);
	pthread_mutex_unlock(&tls->lock);
	if (ssl == NULL)
		log_error("SSL_new: %s", ssl_error());
	return ssl;
}

void net_tls_free(struct net_tls **tlsp)
{
	struct net_tls *tls = *tlsp;

	if (tls == NULL)
		return;
	pthread_mutex_lock(&registry_lock);
	for (struct net_tls **p = &registry; *p != NULL; p = &(*p)->next) {
		if (*p == tls) {
			*p = tls->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	SSL_CTX_free(tls->ctx);
	pthread_mutex_destroy(&tls->lock);
	free(tls->cert_path);
	free(tls->key_path);
	free(tls->min_version);
	free(tls->ciphers);
	free(tls->ciphersuites);
	free(tls);
	*tlsp = NULL;
}
