/* cmd_dkim - evmailctl dkim create|list|show|remove: a domain's DKIM
 * signing keys (RFC 6376, RFC 8463). `create` makes the key pair here with
 * OpenSSL, stores it with a dkim.set directory command and prints the DNS
 * TXT record to publish. Nothing prints a private key. */
#include "admin/ctl.h"
#include "common/base64.h"
#include "admin/ctl_args.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/scram.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DKIM_USAGE "dkim create DOMAIN [--selector S] [--algorithm ed25519|rsa2048]\n" \
	"       dkim list [DOMAIN]\n" \
	"       dkim show DOMAIN SELECTOR\n" \
	"       dkim remove DOMAIN SELECTOR"
#define TXT_STRING_MAX 255   /* RFC 1035 3.3.14: one character-string */

/* The DNS record: NAME. IN TXT "v=DKIM1; k=...; p=..." cut into strings of
 * at most 255 octets (a 2048-bit RSA key needs two). */
static void dns_record(struct buf *out, const char *domain, const char *selector,
		       const char *algorithm, const char *pub)
{
	struct buf txt = BUF_INIT;

	buf_printf(&txt, "v=DKIM1; k=%s; p=%s", strcmp(algorithm, "ed25519-sha256") == 0 ? "ed25519" : "rsa",
		   pub);
	buf_printf(out, "%s._domainkey.%s. IN TXT", selector, domain);
	for (size_t off = 0; off < txt.len; off += TXT_STRING_MAX)
		buf_printf(out, " \"%.*s\"", (int)(txt.len - off < TXT_STRING_MAX ? txt.len - off : TXT_STRING_MAX),
			   txt.data + off);
	buf_free(&txt);
}

/* A new key pair: PEM (PKCS#8) private key and the p= value (RFC 8463
 * 4.2: the raw Ed25519 key; RSA: the DER SubjectPublicKeyInfo). */
static int make_key(int ed25519, char **pem_r, char **pub_r)
{
	EVP_PKEY *key = ed25519 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
				: EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	BIO *bio = BIO_new(BIO_s_mem());
	unsigned char raw[32], *der = NULL;
	size_t rawlen = sizeof raw;
	char *pem = NULL;
	long n;
	int dlen, ok = 0;

	if (key != NULL && bio != NULL && PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) == 1 &&
	    (n = BIO_get_mem_data(bio, &pem)) > 0) {
		*pem_r = xstrndup(pem, (size_t)n);
		if (ed25519 && EVP_PKEY_get_raw_public_key(key, raw, &rawlen) == 1) {
			*pub_r = evm_b64_encode(raw, rawlen);
			ok = 1;
		} else if (!ed25519 && (dlen = i2d_PUBKEY(key, &der)) > 0) {
			*pub_r = evm_b64_encode(der, (size_t)dlen);
			OPENSSL_free(der);
			ok = 1;
		}
		if (!ok) {
			OPENSSL_cleanse(*pem_r, strlen(*pem_r));
			free(*pem_r);
		}
	}
	BIO_free(bio);
	EVP_PKEY_free(key);
	return ok ? 0 : -1;
}

static int dkim_create(struct ctl *ctl, const struct ctl_args *a, const char *domain)
{
	const char *alg_opt = ctl_args_opt(a, "--algorithm"), *sel = ctl_args_opt(a, "--selector");
	char selector[64], *pem = NULL, *pub = NULL;
	struct buf msg = BUF_INIT;
	int ed = 1, ret;

	if (alg_opt != NULL && strcmp(alg_opt, "rsa2048") == 0)
		ed = 0;
	else if (alg_opt != NULL && strcmp(alg_opt, "ed25519") != 0)
		return ctl_fail("--algorithm must be ed25519 or rsa2048, not '%s'", alg_opt);
	if (sel != NULL) {
		if (strlen(sel) >= sizeof selector)
			return ctl_fail("selector '%s' is too long", sel);
		snprintf(selector, sizeof selector, "%s", sel);
	} else {
		/* evm<yyyymm>, plus "r" for RSA so a dual-signing pair can be made
		 * in the same month with the defaults. */
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		snprintf(selector, sizeof selector, "evm%04d%02d%s", tm.tm_year + 1900, tm.tm_mon + 1,
			 ed ? "" : "r");
	}
	if (make_key(ed, &pem, &pub) < 0)
		return ctl_fail("cannot generate the key pair (OpenSSL)");
	buf_printf(&msg, "DKIM key %s for %s created (%s). Publish this DNS record:\n", selector, domain,
		   ed ? "ed25519-sha256" : "rsa-sha256");
	dns_record(&msg, domain, selector, ed ? "ed25519-sha256" : "rsa-sha256", pub);
	ret = ctl_command(ctl, "dkim.set", "", "",
			  json_pack("{s:s,s:s,s:s,s:s,s:s}", "domain", domain, "selector", selector,
				    "algorithm", ed ? "ed25519-sha256" : "rsa-sha256", "private_key", pem,
				    "public_key", pub),
			  msg.data);
	OPENSSL_cleanse(pem, strlen(pem));
	free(pem);
	free(pub);
	buf_free(&msg);
	return ret;
}

/* Prints one key: selector, algorithm and its DNS record. */
static void print_key(json_t *k)
{
	const char *dom = json_string_value(json_object_get(k, "domain"));
	const char *sel = json_string_value(json_object_get(k, "selector"));
	const char *alg = json_string_value(json_object_get(k, "algorithm"));
	const char *pub = json_string_value(json_object_get(k, "public_key"));
	struct buf rec = BUF_INIT;

	if (dom == NULL || sel == NULL || alg == NULL || pub == NULL)
		return;
	dns_record(&rec, dom, sel, alg, pub);
	printf("%-30s %-20s %-15s\n  %s\n", dom, sel, alg, rec.data);
	buf_free(&rec);
}

int cmd_dkim(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--selector", "--algorithm", NULL };
	struct ctl_args a;
	const char *verb, *error = NULL;
	char dom[EVM_DOMAIN_MAX + 1], path[600], msg[400];
	json_t *reply = NULL, *k;
	size_t i;

	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, opts, NULL) < 0)
		return ctl_usage(DKIM_USAGE);
	verb = argv[0];
	if (a.npos >= 1 && evm_domain_normalize(a.pos[0], dom, &error) < 0)
		return ctl_fail("'%s' is not a valid domain: %s", a.pos[0], error);
	if (strcmp(verb, "create") == 0 && a.npos == 1)
		return dkim_create(ctl, &a, dom);
	if (strcmp(verb, "list") == 0 && a.npos <= 1) {
		snprintf(path, sizeof path, "/admin/dkim%s%s", a.npos ? "?domain=" : "",
			 a.npos ? ctl_escape(dom) : "");
		if (ctl_get(ctl, path, &reply) != CTL_OK)
			return CTL_FAIL;
		if (ctl->json) {
			ctl_print_json(reply);
			return CTL_OK;
		}
		json_array_foreach(reply, i, k)
			print_key(k);
		json_decref(reply);
		return CTL_OK;
	}
	if (a.npos != 2 || ctl_args_opt(&a, "--selector") != NULL || ctl_args_opt(&a, "--algorithm") != NULL)
		return ctl_usage(DKIM_USAGE);
	if (strcmp(verb, "show") == 0) {
		snprintf(path, sizeof path, "/admin/dkim/%s/", ctl_escape(dom));
		snprintf(path + strlen(path), sizeof path - strlen(path), "%s", ctl_escape(a.pos[1]));
		if (ctl_get(ctl, path, &reply) != CTL_OK)
			return CTL_FAIL;
		if (ctl->json) {
			ctl_print_json(reply);
			return CTL_OK;
		}
		print_key(reply);
		json_decref(reply);
		return CTL_OK;
	}
	if (strcmp(verb, "remove") == 0) {
		snprintf(msg, sizeof msg, "DKIM key %s for %s removed", a.pos[1], dom);
		return ctl_command(ctl, "dkim.remove", "", "",
				   json_pack("{s:s,s:s}", "domain", dom, "selector", a.pos[1]), msg);
	}
	return ctl_usage(DKIM_USAGE);
}
