/* test_password - yescrypt hashing and verification. */
#include "common/password.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

static void test_hash_verify(void)
{
	char *h1 = NULL, *h2 = NULL;
	const char *error = NULL;

	CHECK_EQ_INT(evm_password_hash("correct horse", &h1, &error), 0);
	CHECK(strncmp(h1, "$y$", 3) == 0);
	CHECK(evm_password_hash_valid(h1));
	CHECK_EQ_INT(evm_password_verify("correct horse", h1, &error), 1);
	CHECK_EQ_INT(evm_password_verify("correct horsE", h1, &error), 0);
	CHECK_EQ_INT(evm_password_verify("correct hors", h1, &error), 0);
	CHECK_EQ_INT(evm_password_verify("correct horse ", h1, &error), 0);
	CHECK_EQ_INT(evm_password_verify("", h1, &error), 0);
	/* A fresh salt every time. */
	CHECK_EQ_INT(evm_password_hash("correct horse", &h2, &error), 0);
	CHECK(strcmp(h1, h2) != 0);
	CHECK_EQ_INT(evm_password_verify("correct horse", h2, &error), 1);
	free(h1);
	free(h2);
}

static void test_utf8_password(void)
{
	char *h = NULL;
	const char *error;

	CHECK_EQ_INT(evm_password_hash("p\xc3\xa4ssw\xc3\xb6rd", &h, &error), 0);
	CHECK_EQ_INT(evm_password_verify("p\xc3\xa4ssw\xc3\xb6rd", h, &error), 1);
	CHECK_EQ_INT(evm_password_verify("passwort", h, &error), 0);
	free(h);
}

/* Hashes made elsewhere (other schemes) verify too. */
static void test_foreign_hashes(void)
{
	const char *error;
	/* crypt("x", ...) computed with libxcrypt. */
	const char *sha512 = "$6$rounds=5000$abc$K4v3HcZ8yAmpRfxML6S46NCcqy9r4/KdbQpFvqSWsBf4dgySOEOo1DHJTrmn2BsJK2aNmPN8Tfb826D2o9.z51";
	const char *bcrypt = "$2b$05$abcdefghijklmnopqrstuuhKF09ZYWwH2zP/0fwE1X8e/Q1YNx/hO";

	CHECK(evm_password_hash_valid(bcrypt));
	CHECK_EQ_INT(evm_password_verify("x", bcrypt, &error), 1);
	CHECK_EQ_INT(evm_password_verify("y", bcrypt, &error), 0);
	/* '=' is outside crypt's alphabet, so a rounds= setting is refused. */
	CHECK(!evm_password_hash_valid(sha512));
	CHECK_EQ_INT(evm_password_verify("x", sha512, &error), -1);
}

static void test_garbage_hash(void)
{
	static const char *const bad[] = {
		"", "x", "$y$", "plaintextpassword123456", "$1$abcdefgh$abcdefghijklmnopqrstuv",
		"$y$j9T$abc def$ghijklmnopqrstuvwxyz", "$y$j9T$abc\n$ghijklmnopqrstuvwxyz",
		"$y$j9T$abc:$ghijklmnopqrstuvwxyz", "$y$j9T$abc\xc3\xa4$ghijklmnopqrstuvwxyz",
		"$y$short", "*0", "!$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m",
	};
	const char *error = NULL;
	char longhash[600];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (evm_password_hash_valid(bad[i]) || evm_password_verify("x", bad[i], &error) != -1)
			test_fail(__FILE__, __LINE__, bad[i]);
	}
	CHECK(!evm_password_hash_valid(NULL));
	CHECK_EQ_INT(evm_password_verify("x", NULL, &error), -1);
	/* Well-formed to our check, but not a setting crypt understands. */
	error = NULL;
	CHECK_EQ_INT(evm_password_verify("x", "$y$garbagegarbagegarbage", &error), -1);
	CHECK(error != NULL);
	/* Length bounds 20..512. */
	memcpy(longhash, "$y$", 3);
	memset(longhash + 3, 'a', sizeof longhash - 3);
	longhash[512] = '\0';
	CHECK(evm_password_hash_valid(longhash));
	longhash[512] = 'a';
	longhash[513] = '\0';
	CHECK(!evm_password_hash_valid(longhash));
	longhash[20] = '\0';
	CHECK(evm_password_hash_valid(longhash));
	longhash[19] = '\0';
	CHECK(!evm_password_hash_valid(longhash));
}

static void test_long_password(void)
{
	char pw[EVM_PASSWORD_MAX + 2];
	char *h = NULL;
	const char *error = NULL;

	/* 511 octets is libxcrypt's limit (CRYPT_MAX_PASSPHRASE_SIZE - 1). */
	memset(pw, 'p', 511);
	pw[511] = '\0';
	CHECK_EQ_INT(evm_password_hash(pw, &h, &error), 0);
	CHECK_EQ_INT(evm_password_verify(pw, h, &error), 1);
	pw[510] = '\0';
	CHECK_EQ_INT(evm_password_verify(pw, h, &error), 0);
	pw[510] = 'p';
	pw[511] = 'p';
	pw[512] = '\0';
	CHECK_EQ_INT(evm_password_verify(pw, h, &error), 0);
	free(h);
	h = NULL;
	CHECK_EQ_INT(evm_password_hash(pw, &h, &error), -1);
	CHECK(h == NULL);
	memset(pw, 'p', sizeof pw - 1);
	pw[sizeof pw - 1] = '\0';
	CHECK_EQ_INT(evm_password_hash(pw, &h, &error), -1);
	CHECK(h == NULL);
	CHECK_EQ_INT(evm_password_hash("", &h, &error), -1);
	CHECK_EQ_INT(evm_password_hash(NULL, &h, &error), -1);
}

int main(void)
{
	test_run("hash and verify", test_hash_verify);
	test_run("utf-8 password", test_utf8_password);
	test_run("foreign hashes", test_foreign_hashes);
	test_run("garbage hash", test_garbage_hash);
	test_run("long password", test_long_password);
	return test_done();
}
