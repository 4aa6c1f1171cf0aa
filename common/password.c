/* password - see password.h */
#include "common/password.h"
#include "common/buf.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#define HASH_MIN 20
#define HASH_MAX 512

/* libxcrypt refuses passphrases of CRYPT_MAX_PASSPHRASE_SIZE (512) octets
 * or more, so that is the effective limit while it is below
 * EVM_PASSWORD_MAX. */
#if CRYPT_MAX_PASSPHRASE_SIZE - 1 < EVM_PASSWORD_MAX
#define PASSWORD_LIMIT (CRYPT_MAX_PASSPHRASE_SIZE - 1)
#else
#define PASSWORD_LIMIT EVM_PASSWORD_MAX
#endif

static const char *const hash_prefixes[] = { "$y$", "$gy$", "$7$", "$2b$", "$6$", "$5$" };

/* A password we are willing to hand to crypt: non-empty, bounded. (A C
 * string cannot carry a NUL, so an embedded NUL shows up as a shorter
 * password; callers decoding length-counted input must refuse NUL.) */
static int password_ok(const char *password, const char **error_r)
{
	size_t len;

	if (password == NULL) {
		*error_r = "password is missing";
		return 0;
	}
	len = strnlen(password, PASSWORD_LIMIT + 1);
	if (len == 0) {
		*error_r = "password is empty";
		return 0;
	}
	if (len > PASSWORD_LIMIT) {
		*error_r = "password is too long";
		return 0;
	}
	return 1;
}

/* evm_password_hash_valid - a crypt string of a scheme we accept. */
int evm_password_hash_valid(const char *hash)
{
	size_t len, i;
	int prefix_ok = 0;

	if (hash == NULL)
		return 0;
	len = strnlen(hash, HASH_MAX + 1);
	if (len < HASH_MIN || len > HASH_MAX)
		return 0;
	for (i = 0; i < sizeof hash_prefixes / sizeof hash_prefixes[0]; i++) {
		if (strncmp(hash, hash_prefixes[i], strlen(hash_prefixes[i])) == 0)
			prefix_ok = 1;
	}
	if (!prefix_ok)
		return 0;
	for (i = 0; i < len; i++) {
		char c = hash[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '/' || c == '$'))
			return 0;
	}
	return 1;
}

/* Runs crypt_rn into a heap crypt_data (it is ~32 KiB) and copies the
 * result out; the scratch space is wiped before it is freed. */
static char *crypt_dup(const char *password, const char *setting)
{
	struct crypt_data *data = xcalloc(1, sizeof *data);
	const char *out = crypt_rn(password, setting, data, (int)sizeof *data);
	char *ret = NULL;

	if (out != NULL && out[0] != '*')
		ret = xstrdup(out);
	explicit_bzero(data, sizeof *data);
	free(data);
	return ret;
}

/* evm_password_hash - a fresh yescrypt hash with a random salt. */
int evm_password_hash(const char *password, char **hash_r, const char **error_r)
{
	char *setting, *hash;

	*hash_r = NULL;
	if (!password_ok(password, error_r))
		return -1;
	setting = crypt_gensalt_ra("$y$", 0, NULL, 0);
	if (setting == NULL) {
		*error_r = "crypt_gensalt failed (no randomness?)";
		return -1;
	}
	hash = crypt_dup(password, setting);
	free(setting);
	if (hash == NULL) {
		*error_r = "crypt failed";
		return -1;
	}
	if (!evm_password_hash_valid(hash)) {
		explicit_bzero(hash, strlen(hash));
		free(hash);
		*error_r = "crypt returned an unexpected hash";
		return -1;
	}
	*hash_r = hash;
	return 0;
}

/* evm_password_verify - re-hash with the stored setting and compare in
 * constant time (the length is not secret: it follows from the scheme). */
int evm_password_verify(const char *password, const char *hash, const char **error_r)
{
	char *computed;
	size_t len;
	int match;

	if (!evm_password_hash_valid(hash)) {
		*error_r = "malformed password hash";
		return -1;
	}
	if (password == NULL || password[0] == '\0' ||
	    strnlen(password, PASSWORD_LIMIT + 1) > PASSWORD_LIMIT)
		return 0;
	computed = crypt_dup(password, hash);
	if (computed == NULL) {
		*error_r = "crypt failed (unsupported or malformed hash)";
		return -1;
	}
	len = strlen(hash);
	match = strlen(computed) == len && CRYPTO_memcmp(computed, hash, len) == 0;
	explicit_bzero(computed, strlen(computed));
	free(computed);
	return match ? 1 : 0;
}
