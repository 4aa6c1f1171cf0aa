/* webpush_private - what webpush.c (keys, derivation) and webpush_ece.c
 * (the aes128gcm record) share. */
#ifndef EVM_WEBPUSH_PRIVATE_H
#define EVM_WEBPUSH_PRIVATE_H

#include <openssl/evp.h>

#include "common/webpush.h"

/* A P-256 key from an uncompressed point (checked on the curve) and, when
 * priv is not NULL, its private scalar: a new key, or NULL. */
EVP_PKEY *webpush_p256_key(const unsigned char pub[WEBPUSH_P256_LEN], const unsigned char *priv);
/* The ECDH shared secret (the x coordinate, 32 octets) of priv and peer. */
int webpush_ecdh(EVP_PKEY *priv, EVP_PKEY *peer, unsigned char secret[32]);

#endif
