/* webpush - see webpush.h. base64url, the subscription's keys, P-256 keys
 * and ECDH, and the RFC 8291 key derivation. */
#include "common/webpush_private.h"
#include "common/base64.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <string.h>

EVP_PKEY *webpush_p256_key(const unsigned char pub[WEBPUSH_P256_LEN], const unsigned char *priv)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL), *check = NULL;
	OSSL_PARAM *params = NULL;
	BIGNUM *d = priv != NULL ? BN_secure_new() : NULL;
	EVP_PKEY *key = NULL;
	int ok;

	/* Only the uncompressed form: RFC 8291 3.1 (and 4's keyid). */
	ok = bld != NULL && ctx != NULL && pub[0] == 0x04 && (priv == NULL || d != NULL) &&
	     OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
	     OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, WEBPUSH_P256_LEN) == 1;
	if (ok && priv != NULL)
		ok = BN_bin2bn(priv, WEBPUSH_PRIV_LEN, d) != NULL &&
		     OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) == 1;
	ok = ok && (params = OSSL_PARAM_BLD_to_param(bld)) != NULL && EVP_PKEY_fromdata_init(ctx) == 1 &&
	     EVP_PKEY_fromdata(ctx, &key, priv != NULL ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) == 1;
	/* The point is on the curve and not the identity (SEC 1 3.2.2). */
	ok = ok && (check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) != NULL &&
	     EVP_PKEY_public_check(check) == 1;
	if (!ok) {
		EVP_PKEY_free(key);
		key = NULL;
	}
	EVP_PKEY_CTX_free(check);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return key;
}

int webpush_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, unsigned char secret[32])
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, priv, NULL);
	size_t n = 32;
	int ok;

	ok = ctx != NULL && EVP_PKEY_derive_init(ctx) == 1 && EVP_PKEY_derive_set_peer(ctx, peer) == 1 &&
	     EVP_PKEY_derive(ctx, secret, &n) == 1 && n == 32;
	EVP_PKEY_CTX_free(ctx);
	return ok ? 0 : -1;
}

int webpush_keys_parse(const char *p256dh, const char *auth, struct webpush_keys *k, const char **error_r)
{
	size_t n = 0;
	EVP_PKEY *key;

	if (strlen(p256dh) > WEBPUSH_KEY_TEXT_MAX ||
	    evm_b64url_decode(p256dh, strlen(p256dh), k->p256dh, sizeof k->p256dh, &n) < 0 ||
	    n != WEBPUSH_P256_LEN || k->p256dh[0] != 0x04) {
		*error_r = "keys/p256dh: the base64url of a 65-octet uncompressed P-256 point expected";
		return -1;
	}
	if ((key = webpush_p256_key(k->p256dh, NULL)) == NULL) {
		*error_r = "keys/p256dh: not a point on P-256";
		return -1;
	}
	EVP_PKEY_free(key);
	if (strlen(auth) > WEBPUSH_KEY_TEXT_MAX ||
	    evm_b64url_decode(auth, strlen(auth), k->auth, sizeof k->auth, &n) < 0 || n != WEBPUSH_AUTH_LEN) {
		*error_r = "keys/auth: the base64url of 16 octets expected (RFC 8291 3.2)";
		return -1;
	}
	return 0;
}

/* HKDF-SHA256 (RFC 5869), extract then expand, into out[outlen]. */
static int hkdf(const unsigned char *salt, size_t saltlen, const unsigned char *ikm, size_t ikmlen,
		const void *info, size_t infolen, unsigned char *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM p[5];
	int ok;

	p[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	p[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)ikm, ikmlen);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, infolen);
	p[4] = OSSL_PARAM_construct_end();
	ok = ctx != NULL && EVP_KDF_derive(ctx, out, outlen, p) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

int webpush_derive(const unsigned char ecdh[32], const unsigned char auth[WEBPUSH_AUTH_LEN],
		   const unsigned char ua_pub[WEBPUSH_P256_LEN], const unsigned char as_pub[WEBPUSH_P256_LEN],
		   const unsigned char salt[WEBPUSH_SALT_LEN], unsigned char cek[16], unsigned char nonce[12])
{
	/* RFC 8291 3.4: key_info = "WebPush: info" || 0x00 || ua_public ||
	 * as_public; the strings' NULs below are the 0x00 octets. */
	static const char label[] = "WebPush: info";
	static const char cek_info[] = "Content-Encoding: aes128gcm";   /* RFC 8188 2.2 */
	static const char nonce_info[] = "Content-Encoding: nonce";     /* RFC 8188 2.3 */
	unsigned char info[sizeof label + 2 * WEBPUSH_P256_LEN], ikm[32];
	int ok;

	memcpy(info, label, sizeof label);
	memcpy(info + sizeof label, ua_pub, WEBPUSH_P256_LEN);
	memcpy(info + sizeof label + WEBPUSH_P256_LEN, as_pub, WEBPUSH_P256_LEN);
	/* 3.3: IKM = HKDF(salt = auth_secret, IKM = ecdh_secret, key_info, 32). */
	ok = hkdf(auth, WEBPUSH_AUTH_LEN, ecdh, 32, info, sizeof info, ikm, sizeof ikm) == 0 &&
	     hkdf(salt, WEBPUSH_SALT_LEN, ikm, sizeof ikm, cek_info, sizeof cek_info, cek, 16) == 0 &&
	     hkdf(salt, WEBPUSH_SALT_LEN, ikm, sizeof ikm, nonce_info, sizeof nonce_info, nonce, 12) == 0;
	OPENSSL_cleanse(ikm, sizeof ikm);
	return ok ? 0 : -1;
}
