/* webpush_ece - see webpush.h. The aes128gcm body (RFC 8188 2) of one
 * Web Push message: written by the sender, read by the user agent. */
#include "common/webpush_private.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The secrets of one message, wiped after use. */
struct secrets {
	unsigned char ecdh[32];
	unsigned char cek[16];
	unsigned char nonce[12];
};

/* AES-128-GCM of in[len] then the 0x02 delimiter (RFC 8188 2: the last
 * record, no padding) into out, the tag after it. */
static int seal(const struct secrets *s, const unsigned char *in, size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	static const unsigned char delim = 0x02;
	int n = 0, m = 0, f = 0, ok;

	ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, s->cek, s->nonce) == 1 &&
	     EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
	     EVP_EncryptUpdate(c, out + n, &m, &delim, 1) == 1 &&
	     EVP_EncryptFinal_ex(c, out + n + m, &f) == 1 && (size_t)(n + m + f) == len + 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, WEBPUSH_TAG_LEN, out + len + 1) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* The reverse of seal: in[len] is ciphertext then tag; out gets len - 16
 * octets (the plaintext with its padding). 0, or -1 when the tag fails. */
static int open_record(const struct secrets *s, const unsigned char *in, size_t len, unsigned char *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	size_t clen = len - WEBPUSH_TAG_LEN;
	int n = 0, f = 0, ok;

	ok = c != NULL && EVP_DecryptInit_ex(c, EVP_aes_128_gcm(), NULL, s->cek, s->nonce) == 1 &&
	     EVP_DecryptUpdate(c, out, &n, in, (int)clen) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, WEBPUSH_TAG_LEN, (void *)(in + clen)) == 1 &&
	     EVP_DecryptFinal_ex(c, out + n, &f) == 1 && (size_t)(n + f) == clen;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* A new P-256 key pair: the key, its public point in pub. */
static EVP_PKEY *new_ephemeral(unsigned char pub[WEBPUSH_P256_LEN])
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	size_t n = 0;

	if (key == NULL)
		return NULL;
	if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pub, WEBPUSH_P256_LEN,
					    &n) != 1 ||
	    n != WEBPUSH_P256_LEN || pub[0] != 0x04) {
		EVP_PKEY_free(key);
		return NULL;
	}
	return key;
}

int webpush_encrypt(const struct webpush_keys *k, const struct webpush_ephemeral *eph,
		    const unsigned char *salt, const void *plain, size_t len, struct buf *out,
		    const char **error_r)
{
	unsigned char header[WEBPUSH_HEADER_LEN], *rec = NULL;
	unsigned char *as_pub = header + WEBPUSH_SALT_LEN + 5;
	EVP_PKEY *as = NULL, *ua = NULL;
	struct secrets s;
	int ok;

	if (len > WEBPUSH_PLAIN_MAX) {
		*error_r = "push message too long to encrypt (RFC 8291 4: 4096 octets at most)";
		return -1;
	}
	/* RFC 8188 2.1: salt, rs (uint32 big-endian), idlen, keyid. */
	if (salt != NULL)
		memcpy(header, salt, WEBPUSH_SALT_LEN);
	else if (RAND_bytes(header, WEBPUSH_SALT_LEN) != 1) {
		*error_r = "no random salt";
		return -1;
	}
	header[16] = (unsigned char)(WEBPUSH_RS >> 24);
	header[17] = (unsigned char)(WEBPUSH_RS >> 16);
	header[18] = (unsigned char)(WEBPUSH_RS >> 8);
	header[19] = (unsigned char)WEBPUSH_RS;
	header[20] = WEBPUSH_P256_LEN;
	if (eph != NULL) {
		memcpy(as_pub, eph->pub, WEBPUSH_P256_LEN);
		as = webpush_p256_key(eph->pub, eph->priv);
	} else {
		/* RFC 8291 3.1: a new key pair for every message. */
		as = new_ephemeral(as_pub);
	}
	ua = webpush_p256_key(k->p256dh, NULL);
	rec = xmalloc(len + 1 + WEBPUSH_TAG_LEN);
	ok = as != NULL && ua != NULL && webpush_ecdh(as, ua, s.ecdh) == 0 &&
	     webpush_derive(s.ecdh, k->auth, k->p256dh, as_pub, header, s.cek, s.nonce) == 0 &&
	     seal(&s, plain, len, rec) == 0;
	OPENSSL_cleanse(&s, sizeof s);
	EVP_PKEY_free(as);
	EVP_PKEY_free(ua);
	if (ok) {
		buf_append(out, header, sizeof header);
		buf_append(out, rec, len + 1 + WEBPUSH_TAG_LEN);
	} else {
		*error_r = as == NULL ? "no sender key" : ua == NULL ? "p256dh: not a P-256 point" : "encryption failed";
	}
	free(rec);
	return ok ? 0 : -1;
}

/* The length of the plaintext in a decrypted record: what precedes the
 * last non-zero octet, which must be the 0x02 of a last record (RFC 8188
 * 2); -1 otherwise. */
static long unpad(const unsigned char *p, size_t len)
{
	while (len > 0 && p[len - 1] == 0x00)
		len--;
	if (len == 0 || p[len - 1] != 0x02)
		return -1;
	return (long)(len - 1);
}

int webpush_decrypt(const unsigned char ua_priv[WEBPUSH_PRIV_LEN], const struct webpush_keys *k,
		    const void *body, size_t len, struct buf *out, const char **error_r)
{
	const unsigned char *b = body;
	uint32_t rs;
	EVP_PKEY *as = NULL, *ua = NULL;
	unsigned char *plain = NULL;
	struct secrets s;
	long n = -1;

	if (len < WEBPUSH_SALT_LEN + 5 || len > WEBPUSH_BODY_MAX) {
		*error_r = len > WEBPUSH_BODY_MAX ? "aes128gcm: too long" : "aes128gcm: shorter than its header";
		return -1;
	}
	rs = (uint32_t)b[16] << 24 | (uint32_t)b[17] << 16 | (uint32_t)b[18] << 8 | b[19];
	if (b[20] != WEBPUSH_P256_LEN || len < WEBPUSH_HEADER_LEN + 1 + WEBPUSH_TAG_LEN) {
		*error_r = "aes128gcm: keyid is not a P-256 point, or no record";
		return -1;
	}
	/* RFC 8188 2: rs >= 18; RFC 8291 4: one record, so all of it fits. */
	if (rs < 18 || len - WEBPUSH_HEADER_LEN > rs) {
		*error_r = "aes128gcm: bad record size, or more than one record";
		return -1;
	}
	if ((as = webpush_p256_key(b + WEBPUSH_SALT_LEN + 5, NULL)) == NULL ||
	    (ua = webpush_p256_key(k->p256dh, ua_priv)) == NULL) {
		*error_r = "aes128gcm: a key is not on P-256";
		goto out;
	}
	plain = xmalloc(len - WEBPUSH_HEADER_LEN);
	if (webpush_ecdh(ua, as, s.ecdh) < 0 ||
	    webpush_derive(s.ecdh, k->auth, k->p256dh, b + WEBPUSH_SALT_LEN + 5, b, s.cek, s.nonce) < 0 ||
	    open_record(&s, b + WEBPUSH_HEADER_LEN, len - WEBPUSH_HEADER_LEN, plain) < 0) {
		*error_r = "aes128gcm: the record does not decrypt";
	} else if ((n = unpad(plain, len - WEBPUSH_HEADER_LEN - WEBPUSH_TAG_LEN)) < 0) {
		*error_r = "aes128gcm: no 0x02 padding delimiter";
	} else {
		buf_append(out, plain, (size_t)n);
	}
	OPENSSL_cleanse(&s, sizeof s);
out:
	free(plain);
	EVP_PKEY_free(as);
	EVP_PKEY_free(ua);
	return n >= 0 ? 0 : -1;
}
