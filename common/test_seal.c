/* test_seal - AES-256-GCM sealing (a NIST vector, round trips, tampering)
 * and master key files (hex, base64, bad content, permissive modes). */
#include "common/seal.h"
#include "tests/unit/testlib.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Decodes hex into out; returns the octet count. */
static size_t unhex(const char *hex, unsigned char *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;
		sscanf(hex + 2 * i, "%2x", &v);
		out[i] = (unsigned char)v;
	}
	return n;
}

/* The GCM specification's Test Case 16 (AES-256, 96-bit IV, with AAD),
 * as published with NIST SP 800-38D: nonce || C || T opens to P. */
static void test_nist_vector(void)
{
	unsigned char key[32], aad[20], sealed[12 + 60 + 16], pt[60];
	struct buf out = BUF_INIT;
	const char *error = NULL;
	size_t n;

	unhex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", key);
	unhex("feedfacedeadbeeffeedfacedeadbeefabaddad2", aad);
	n = unhex("cafebabefacedbaddecaf888", sealed);
	n += unhex("522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
		   "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662", sealed + n);
	n += unhex("76fc6ece0f4e1768cddf8853bb2d551b", sealed + n);
	CHECK_EQ_INT(n, sizeof sealed);
	unhex("d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39", pt);
	CHECK_EQ_INT(seal_open(key, aad, sizeof aad, sealed, sizeof sealed, &out, &error), 0);
	CHECK_EQ_INT(out.len, sizeof pt);
	CHECK(memcmp(out.data, pt, sizeof pt) == 0);
	/* Without the AAD it does not authenticate. */
	buf_truncate(&out, 0);
	CHECK_EQ_INT(seal_open(key, NULL, 0, sealed, sizeof sealed, &out, &error), -1);
	CHECK_EQ_STR(error, "sealed data does not authenticate");
	CHECK_EQ_INT(out.len, 0);
	buf_free(&out);
}

/* Seal then open, fresh nonces, appending after existing content. */
static void test_round_trip(void)
{
	unsigned char key[SEAL_KEY_LEN];
	struct buf a = BUF_INIT, b = BUF_INIT, pt = BUF_INIT;
	const char *error = NULL;
	const char msg[] = "Subject: hello\r\n\r\nbody";

	CHECK_EQ_INT(seal_random_key(key, &error), 0);
	buf_puts(&a, "xy");
	CHECK_EQ_INT(seal_close(key, "ad", 2, msg, sizeof msg - 1, &a, &error), 0);
	CHECK_EQ_INT(a.len, 2 + sizeof msg - 1 + SEAL_OVERHEAD);
	CHECK(memcmp(a.data, "xy", 2) == 0);
	CHECK_EQ_INT(seal_close(key, "ad", 2, msg, sizeof msg - 1, &b, &error), 0);
	CHECK(memcmp(a.data + 2, b.data, b.len) != 0);  /* another nonce */
	buf_puts(&pt, "p:");
	CHECK_EQ_INT(seal_open(key, "ad", 2, a.data + 2, a.len - 2, &pt, &error), 0);
	CHECK_EQ_STR(pt.data, "p:Subject: hello\r\n\r\nbody");
	/* The empty plaintext too. */
	buf_truncate(&b, 0);
	buf_truncate(&pt, 0);
	CHECK_EQ_INT(seal_close(key, NULL, 0, "", 0, &b, &error), 0);
	CHECK_EQ_INT(b.len, SEAL_OVERHEAD);
	CHECK_EQ_INT(seal_open(key, NULL, 0, b.data, b.len, &pt, &error), 0);
	CHECK_EQ_INT(pt.len, 0);
	CHECK_EQ_INT(seal_open(key, NULL, 0, b.data, SEAL_OVERHEAD - 1, &pt, &error), -1);
	CHECK_EQ_STR(error, "sealed data too short");
	buf_free(&a);
	buf_free(&b);
	buf_free(&pt);
}

/* Every bit of every octet changed, a wrong key or wrong AAD: refused,
 * and nothing appended. */
static void test_tamper(void)
{
	unsigned char key[SEAL_KEY_LEN], other[SEAL_KEY_LEN];
	struct buf s = BUF_INIT, pt = BUF_INIT;
	const char *error = NULL;

	CHECK_EQ_INT(seal_random_key(key, &error), 0);
	CHECK_EQ_INT(seal_random_key(other, &error), 0);
	CHECK_EQ_INT(seal_close(key, "aad", 3, "secret content", 14, &s, &error), 0);
	for (size_t i = 0; i < s.len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			s.data[i] ^= (char)(1 << bit);
			CHECK_EQ_INT(seal_open(key, "aad", 3, s.data, s.len, &pt, &error), -1);
			CHECK_EQ_INT(pt.len, 0);
			s.data[i] ^= (char)(1 << bit);
		}
	}
	CHECK_EQ_INT(seal_open(other, "aad", 3, s.data, s.len, &pt, &error), -1);
	CHECK_EQ_INT(seal_open(key, "aae", 3, s.data, s.len, &pt, &error), -1);
	CHECK_EQ_INT(seal_open(key, "aad", 2, s.data, s.len, &pt, &error), -1);
	CHECK_EQ_INT(seal_open(key, "aad", 3, s.data, s.len - 1, &pt, &error), -1);
	CHECK_EQ_INT(pt.len, 0);
	CHECK_EQ_INT(seal_open(key, "aad", 3, s.data, s.len, &pt, &error), 0);
	CHECK_EQ_INT(pt.len, 14);
	buf_free(&s);
	buf_free(&pt);
}

/* Writes text to a file of the given mode; returns its path (static). */
static const char *key_file(const char *name, const char *text, mode_t mode)
{
	static char path[1100];
	int fd;

	snprintf(path, sizeof path, "%s/%s", test_tmpdir(name), name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	fchmod(fd, mode);
	close(fd);
	return path;
}

static void test_kek_files(void)
{
	unsigned char kek[SEAL_KEY_LEN], want[SEAL_KEY_LEN];
	char id[SEAL_KEK_ID_LEN + 1], id2[SEAL_KEK_ID_LEN + 1];
	const char *error = NULL;
	const char *hex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

	for (int i = 0; i < SEAL_KEY_LEN; i++)
		want[i] = (unsigned char)i;
	CHECK_EQ_INT(seal_kek_load(key_file("k1", hex, 0600), kek, id, &error), 0);
	CHECK(memcmp(kek, want, sizeof kek) == 0);
	/* The id is the start of SHA-256 of the key (computed with sha256sum). */
	CHECK_EQ_STR(id, "630dcd2966c43366");
	seal_kek_id(want, id2);
	CHECK_EQ_STR(id2, id);
	/* Upper-case hex with a newline, base64 with CRLF: the same key. */
	CHECK_EQ_INT(seal_kek_load(key_file("k2", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F\n",
					    0400), kek, id, &error), 0);
	CHECK(memcmp(kek, want, sizeof kek) == 0);
	CHECK_EQ_INT(seal_kek_load(key_file("k3", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\r\n", 0600),
				   kek, id, &error), 0);
	CHECK(memcmp(kek, want, sizeof kek) == 0);
	CHECK_EQ_STR(id, "630dcd2966c43366");
}

static void test_kek_bad_files(void)
{
	static const char *const bad[] = {
		"",
		"00010203",
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",      /* 62 */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f00",  /* 66 */
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g",
		" 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"0001020304050607 8090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",     /* no padding */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",    /* non-canonical bits */
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nextra",
		"-AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	};
	unsigned char kek[SEAL_KEY_LEN];
	char id[SEAL_KEK_ID_LEN + 1], big[300];
	const char *error = NULL;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		error = NULL;
		CHECK_EQ_INT(seal_kek_load(key_file("bad", bad[i], 0600), kek, id, &error), -1);
		CHECK(strstr(error, "64 hex digits") != NULL);
	}
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	CHECK_EQ_INT(seal_kek_load(key_file("big", big, 0600), kek, id, &error), -1);
	CHECK(strstr(error, "too long") != NULL);
	/* Readable by the group or others: refused whatever it holds. */
	CHECK_EQ_INT(seal_kek_load(key_file("m1", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
					    0644), kek, id, &error), -1);
	CHECK(strstr(error, "read by others") != NULL);
	CHECK_EQ_INT(seal_kek_load(key_file("m2", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
					    0640), kek, id, &error), -1);
	/* A symbolic link (a mounted secret) is followed; the mode checked is
	 * the key file's. */
	{
		char link[1200];
		const char *target = key_file("t", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0400);
		snprintf(link, sizeof link, "%s.link", target);
		CHECK_EQ_INT(symlink(target, link), 0);
		CHECK_EQ_INT(seal_kek_load(link, kek, id, &error), 0);
		CHECK_EQ_STR(id, "630dcd2966c43366");
		CHECK_EQ_INT(chmod(target, 0604), 0);
		CHECK_EQ_INT(seal_kek_load(link, kek, id, &error), -1);
	}
	CHECK_EQ_INT(seal_kek_load("/nonexistent/kek", kek, id, &error), -1);
	CHECK(strstr(error, "cannot open") != NULL);
	CHECK_EQ_INT(seal_kek_load(test_tmpdir("dir"), kek, id, &error), -1);
}

int main(void)
{
	test_run("nist_vector", test_nist_vector);
	test_run("round_trip", test_round_trip);
	test_run("tamper", test_tamper);
	test_run("kek_files", test_kek_files);
	test_run("kek_bad_files", test_kek_bad_files);
	return test_done();
}
