/* seal - AES-256-GCM sealing and master key files (see seal.h). */
#include "common/seal.h"
#include "common/ids.h"
#include "common/base64.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A KEK file holds one key: 64 hex digits or 44 base64 characters, plus a
 * little trailing whitespace; anything longer is not a key file. */
#define KEK_FILE_MAX 128

/* Fills key with random octets from OpenSSL's CSPRNG. */
int seal_random_key(unsigned char key[SEAL_KEY_LEN], const char **error_r)
{
	if (RAND_bytes(key, SEAL_KEY_LEN) != 1) {
		*error_r = "no random octets for a key (RAND_bytes)";
		return -1;
	}
	return 0;
}

/* nonce || AES-256-GCM(pt) || tag, appended to out. */
int seal_close(const unsigned char key[SEAL_KEY_LEN], const void *aad, size_t aad_len,
	       const void *pt, size_t pt_len, struct buf *out, const char **error_r)
{
	EVP_CIPHER_CTX *c;
	unsigned char *dst;
	size_t start = out->len;
	int n = 0, fin = 0, ok;

	if (pt_len > INT_MAX - SEAL_OVERHEAD || aad_len > INT_MAX) {
		*error_r = "data too large to seal";
		return -1;
	}
	if ((c = EVP_CIPHER_CTX_new()) == NULL) {
		*error_r = "cannot allocate a cipher context";
		return -1;
	}
	buf_reserve(out, pt_len + SEAL_OVERHEAD);
	dst = (unsigned char *)out->data + start;
	ok = RAND_bytes(dst, SEAL_NONCE_LEN) == 1 &&
	     EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, key, dst) == 1 &&
	     (aad_len == 0 || EVP_EncryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1) &&
	     EVP_EncryptUpdate(c, dst + SEAL_NONCE_LEN, &n, pt, (int)pt_len) == 1 &&
	     EVP_EncryptFinal_ex(c, dst + SEAL_NONCE_LEN + n, &fin) == 1 &&
	     (size_t)n + (size_t)fin == pt_len &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
				 dst + SEAL_NONCE_LEN + pt_len) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		OPENSSL_cleanse(dst, pt_len + SEAL_OVERHEAD);
		*error_r = "sealing failed (OpenSSL)";
		return -1;
	}
	out->len = start + pt_len + SEAL_OVERHEAD;
	out->data[out->len] = '\0';
	return 0;
}

/* Checks the tag and appends the plaintext; nothing on failure. */
int seal_open(const unsigned char key[SEAL_KEY_LEN], const void *aad, size_t aad_len,
	      const void *sealed, size_t len, struct buf *out, const char **error_r)
{
	const unsigned char *in = sealed;
	EVP_CIPHER_CTX *c;
	unsigned char *dst;
	size_t start = out->len, ct_len;
	int n = 0, fin = 0, ok;

	if (len < SEAL_OVERHEAD) {
		*error_r = "sealed data too short";
		return -1;
	}
	ct_len = len - SEAL_OVERHEAD;
	if (ct_len > INT_MAX || aad_len > INT_MAX) {
		*error_r = "sealed data too large";
		return -1;
	}
	if ((c = EVP_CIPHER_CTX_new()) == NULL) {
		*error_r = "cannot allocate a cipher context";
		return -1;
	}
	buf_reserve(out, ct_len + 1);
	dst = (unsigned char *)out->data + start;
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) == 1 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, key, in) == 1 &&
	     (aad_len == 0 || EVP_DecryptUpdate(c, NULL, &n, aad, (int)aad_len) == 1) &&
	     EVP_DecryptUpdate(c, dst, &n, in + SEAL_NONCE_LEN, (int)ct_len) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN,
				 (void *)(in + SEAL_NONCE_LEN + ct_len)) == 1 &&
	     EVP_DecryptFinal_ex(c, dst + n, &fin) == 1 &&
	     (size_t)n + (size_t)fin == ct_len;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		/* Unauthenticated plaintext never leaves this function. */
		OPENSSL_cleanse(dst, ct_len);
		out->data[start] = '\0';
		*error_r = "sealed data does not authenticate";
		return -1;
	}
	out->len = start + ct_len;
	out->data[out->len] = '\0';
	return 0;
}

/* The id of a KEK: hex of the first 8 octets of SHA-256(kek). */
void seal_kek_id(const unsigned char kek[SEAL_KEY_LEN], char kek_id[SEAL_KEK_ID_LEN + 1])
{
	unsigned char md[SHA256_DIGEST_LENGTH];

	SHA256(kek, SEAL_KEY_LEN, md);
	evm_hex_encode(md, SEAL_KEK_ID_LEN / 2, kek_id);
}

/* The key in text[0..len): 64 hex digits or 44 base64 characters. */
static int kek_parse(const char *text, size_t len, unsigned char kek[SEAL_KEY_LEN])
{
	unsigned char tmp[SEAL_KEY_LEN + 4];
	size_t n = 0;

	if (len == 2 * SEAL_KEY_LEN) {
		for (size_t i = 0; i < SEAL_KEY_LEN; i++) {
			int hi = evm_hex_value((unsigned char)text[2 * i]);
			int lo = evm_hex_value((unsigned char)text[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return -1;
			kek[i] = (unsigned char)(hi << 4 | lo);
		}
		return 0;
	}
	if (len == 44 && evm_b64_decode(text, len, tmp, &n) == 0 && n == SEAL_KEY_LEN) {
		memcpy(kek, tmp, SEAL_KEY_LEN);
		OPENSSL_cleanse(tmp, sizeof tmp);
		return 0;
	}
	OPENSSL_cleanse(tmp, sizeof tmp);
	return -1;
}

/* Reads, checks the mode of, and parses a KEK file. */
int seal_kek_load(const char *path, unsigned char kek[SEAL_KEY_LEN],
		  char kek_id[SEAL_KEK_ID_LEN + 1], const char **error_r)
{
	char text[KEK_FILE_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, ret;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		*error_r = "cannot open the master key file";
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*error_r = "the master key file is not a regular file";
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		close(fd);
		*error_r = "the master key file may be read by others (chmod 600 it)";
		return -1;
	}
	while (len < sizeof text && (n = read(fd, text + len, sizeof text - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			OPENSSL_cleanse(text, sizeof text);
			*error_r = "cannot read the master key file";
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > KEK_FILE_MAX) {
		OPENSSL_cleanse(text, sizeof text);
		*error_r = "the master key file is too long for a key";
		return -1;
	}
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' ||
			   text[len - 1] == ' ' || text[len - 1] == '\t'))
		len--;
	ret = kek_parse(text, len, kek);
	OPENSSL_cleanse(text, sizeof text);
	if (ret < 0) {
		*error_r = "the master key file must hold 32 octets as 64 hex digits or 44 base64 characters";
		return -1;
	}
	seal_kek_id(kek, kek_id);
	return 0;
}
