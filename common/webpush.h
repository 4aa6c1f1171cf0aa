/* webpush - Message Encryption for Web Push (RFC 8291): one push message
 * encrypted with the aes128gcm content coding (RFC 8188) to a user agent's
 * P-256 public key and auth secret, with OpenSSL only (EVP: ECDH on P-256,
 * HKDF-SHA256 through EVP_KDF, AES-128-GCM).
 *
 * The sender (RFC 8291 3): a new ephemeral P-256 key and a random 16-octet
 * salt for every message; the shared secret of ECDH with the user agent's
 * key, mixed with the auth secret into the IKM (3.3, 3.4), from which
 * RFC 8188 2.2/2.3 derive the content encryption key and the nonce. The
 * message is one record (RFC 8291 4) ended by the 0x02 padding delimiter
 * after a header of salt (16), rs (4, big-endian), idlen (1) and keyid =
 * the sender's public key (65, uncompressed).
 *
 * Pure functions: nothing kept between calls, safe on any thread. The salt
 * and the ephemeral key can be given (tests reproduce RFC 8291 Appendix A);
 * NULL draws them from OpenSSL's generator. webpush_decrypt is the user
 * agent's side (tests and tools; the server only encrypts). */
#ifndef EVM_WEBPUSH_H
#define EVM_WEBPUSH_H

#include <stddef.h>

#include "common/buf.h"

#define WEBPUSH_P256_LEN 65        /* an uncompressed P-256 point: 0x04 x y */
#define WEBPUSH_PRIV_LEN 32        /* a P-256 private scalar */
#define WEBPUSH_AUTH_LEN 16        /* RFC 8291 3.2: the auth secret */
#define WEBPUSH_SALT_LEN 16        /* RFC 8188 2.1 */
#define WEBPUSH_TAG_LEN 16         /* AEAD_AES_128_GCM expansion */
#define WEBPUSH_HEADER_LEN (WEBPUSH_SALT_LEN + 4 + 1 + WEBPUSH_P256_LEN)
#define WEBPUSH_RS 4096            /* the record size written (RFC 8291 Appendix A) */
/* RFC 8291 4: a push service need not take more than 4096 octets of
 * body; less the header, the delimiter and the tag that leaves 3993
 * octets of plaintext. */
#define WEBPUSH_PLAIN_MAX (4096 - WEBPUSH_HEADER_LEN - 1 - WEBPUSH_TAG_LEN)
/* The longest body webpush_decrypt reads (RFC 8030 7.2 lets push
 * services refuse more than 4096 octets; a user agent may be lenient). */
#define WEBPUSH_BODY_MAX 65536
/* The longest base64url text of a key accepted (with padding). */
#define WEBPUSH_KEY_TEXT_MAX 128

/* A subscription's keys (RFC 8620 7.2 "keys", RFC 8291 3.2). */
struct webpush_keys {
	unsigned char p256dh[WEBPUSH_P256_LEN];
	unsigned char auth[WEBPUSH_AUTH_LEN];
};

/* The sender's key pair of one message (tests; NULL: a new one). */
struct webpush_ephemeral {
	unsigned char priv[WEBPUSH_PRIV_LEN];
	unsigned char pub[WEBPUSH_P256_LEN];
};

/* The keys a client gives (base64url text): p256dh must be a 65-octet
 * uncompressed point on P-256, auth 16 octets. 0 with *k, or -1 with
 * *error_r (a static string naming the member). */
int webpush_keys_parse(const char *p256dh, const char *auth, struct webpush_keys *k, const char **error_r);

/* RFC 8291 3.3, 3.4 and RFC 8188 2.2, 2.3: from the ECDH shared secret,
 * the auth secret, both public keys and the salt, the content encryption
 * key and the nonce of the first record. 0, or -1 (OpenSSL failed). */
int webpush_derive(const unsigned char ecdh[32], const unsigned char auth[WEBPUSH_AUTH_LEN],
		   const unsigned char ua_pub[WEBPUSH_P256_LEN], const unsigned char as_pub[WEBPUSH_P256_LEN],
		   const unsigned char salt[WEBPUSH_SALT_LEN], unsigned char cek[16], unsigned char nonce[12]);

/* Encrypts plain[len] (at most WEBPUSH_PLAIN_MAX octets) to k and appends
 * the aes128gcm body (header then the one record) to out. eph and salt
 * NULL: fresh random ones (always, outside tests). 0, or -1 with
 * *error_r (out unchanged). */
int webpush_encrypt(const struct webpush_keys *k, const struct webpush_ephemeral *eph,
		    const unsigned char *salt, const void *plain, size_t len, struct buf *out,
		    const char **error_r);

/* The user agent's side: decrypts body[len] (one aes128gcm record whose
 * keyid is the sender's P-256 key, RFC 8291 4) with its private key
 * ua_priv and its keys k, and appends the plaintext to out. 0, or -1 with
 * *error_r (longer than WEBPUSH_BODY_MAX, a malformed header, a key off
 * the curve, a failed tag, bad padding). */
int webpush_decrypt(const unsigned char ua_priv[WEBPUSH_PRIV_LEN], const struct webpush_keys *k,
		    const void *body, size_t len, struct buf *out, const char **error_r);

#endif
