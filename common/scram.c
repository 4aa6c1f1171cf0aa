/* scram - SCRAM-SHA-256 key derivation and strict base64 (see scram.h). */
#include "common/scram.h"
#include "common/base64.h"
#include "common/buf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/* evm_scram_derive - StoredKey and ServerKey of a password (RFC 5802 3). */
int evm_scram_derive(const char *password, const unsigned char *salt, size_t salt_len,
		     unsigned iterations, unsigned char stored_key[EVM_SCRAM_KEY_LEN],
		     unsigned char server_key[EVM_SCRAM_KEY_LEN])
{
	unsigned char salted[EVM_SCRAM_KEY_LEN], client_key[EVM_SCRAM_KEY_LEN];
	unsigned int hlen = 0;
	int ok;

	ok = PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, (int)salt_len, (int)iterations,
			       EVP_sha256(), EVM_SCRAM_KEY_LEN, salted) == 1 &&
	     HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *)"Client Key", 10,
		  client_key, &hlen) != NULL &&
	     EVP_Digest(client_key, sizeof client_key, stored_key, NULL, EVP_sha256(), NULL) == 1 &&
	     HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *)"Server Key", 10,
		  server_key, &hlen) != NULL;
	OPENSSL_cleanse(salted, sizeof salted);
	OPENSSL_cleanse(client_key, sizeof client_key);
	return ok ? 0 : -1;
}

/* evm_scram_record_new - the directory's scram_sha256 object for a password. */
json_t *evm_scram_record_new(const char *password)
{
	unsigned char salt[EVM_SCRAM_SALT_LEN], sk[EVM_SCRAM_KEY_LEN], svk[EVM_SCRAM_KEY_LEN];
	char *s1, *s2, *s3;
	json_t *rec;

	if (RAND_bytes(salt, sizeof salt) != 1 ||
	    evm_scram_derive(password, salt, sizeof salt, EVM_SCRAM_ITERATIONS, sk, svk) < 0)
		return NULL;
	s1 = evm_b64_encode(salt, sizeof salt);
	s2 = evm_b64_encode(sk, sizeof sk);
	s3 = evm_b64_encode(svk, sizeof svk);
	rec = json_pack("{s:s, s:i, s:s, s:s}", "salt", s1, "iterations", EVM_SCRAM_ITERATIONS,
			"stored_key", s2, "server_key", s3);
	free(s1);
	free(s2);
	free(s3);
	return rec;
}

/* One base64 member of exactly min..max decoded octets. */
static int b64_member(json_t *rec, const char *name, unsigned char *out, size_t min, size_t max,
		      size_t *len_r)
{
	const char *v = json_string_value(json_object_get(rec, name));
	unsigned char tmp[EVM_SCRAM_SALT_MAX * 2];
	size_t n = 0;

	if (v == NULL || strlen(v) > (max + 2) / 3 * 4 || evm_b64_decode(v, strlen(v), tmp, &n) < 0 ||
	    n < min || n > max)
		return -1;
	if (out != NULL)
		memcpy(out, tmp, n);
	if (len_r != NULL)
		*len_r = n;
	return 0;
}

/* evm_scram_record_parse - strict validation of a scram_sha256 object. */
int evm_scram_record_parse(json_t *rec, unsigned char *salt, size_t *salt_len_r,
			   unsigned *iterations_r, unsigned char stored_key[EVM_SCRAM_KEY_LEN],
			   unsigned char server_key[EVM_SCRAM_KEY_LEN], const char **error_r)
{
	json_t *it = json_object_get(rec, "iterations");

	if (!json_is_object(rec) || json_object_size(rec) != 4) {
		*error_r = "must be an object of salt, iterations, stored_key, server_key";
		return -1;
	}
	if (b64_member(rec, "salt", salt, EVM_SCRAM_SALT_MIN, EVM_SCRAM_SALT_MAX, salt_len_r) < 0) {
		*error_r = "salt: base64 of 8 to 64 octets expected";
		return -1;
	}
	if (!json_is_integer(it) || json_integer_value(it) < EVM_SCRAM_ITER_MIN ||
	    json_integer_value(it) > EVM_SCRAM_ITER_MAX) {
		*error_r = "iterations: an integer from 4096 to 1000000 expected";
		return -1;
	}
	if (iterations_r != NULL)
		*iterations_r = (unsigned)json_integer_value(it);
	if (b64_member(rec, "stored_key", stored_key, EVM_SCRAM_KEY_LEN, EVM_SCRAM_KEY_LEN, NULL) < 0 ||
	    b64_member(rec, "server_key", server_key, EVM_SCRAM_KEY_LEN, EVM_SCRAM_KEY_LEN, NULL) < 0) {
		*error_r = "stored_key, server_key: base64 of 32 octets expected";
		return -1;
	}
	return 0;
}
