/* Unit tests: partition choice is stable (pinned vectors), ids are valid. */
#include "common/ids.h"
#include "tests/unit/testlib.h"

/* These values pin evm_partition_for(): if this test fails, accounts would
 * move between partitions on upgrade and lose their total order. Never
 * "fix" the expected values; fix the function. FNV-1a 32 reference:
 * fnv1a32("") = 0x811c9dc5, fnv1a32("a") = 0xe40c292c. */
static void test_partition_vectors(void)
{
	CHECK_EQ_INT(evm_fnv1a32("", 0), 0x811c9dc5u);
	CHECK_EQ_INT(evm_fnv1a32("a", 1), 0xe40c292cu);
	CHECK_EQ_INT(evm_fnv1a32("foobar", 6), 0xbf9cf968u);
	CHECK_EQ_INT(evm_partition_for("bob@acme.test", 13, 16), evm_fnv1a32("bob@acme.test", 13) % 16);
	CHECK_EQ_INT(evm_partition_for("bob@acme.test", 13, 16), 0);
	CHECK_EQ_INT(evm_partition_for("alice@example.org", 17, 16), 1);
	CHECK_EQ_INT(evm_partition_for("alice@example.org", 17, 1), 0);
	CHECK_EQ_INT(evm_partition_for("x", 1, 7), 0xfd0c5087u % 7);
}

static void test_partition_spread(void)
{
	int counts[16] = { 0 };
	char key[64];

	for (int i = 0; i < 16000; i++) {
		int n = snprintf(key, sizeof key, "user%d@example.org", i);
		int32_t p = evm_partition_for(key, (size_t)n, 16);
		CHECK(p >= 0 && p < 16);
		counts[p]++;
	}
	for (int p = 0; p < 16; p++)
		CHECK(counts[p] > 700 && counts[p] < 1300);
}

static void test_random_id(void)
{
	char a[EVM_ID_HEX_LEN + 1], b[EVM_ID_HEX_LEN + 1];

	evm_random_id(a);
	evm_random_id(b);
	CHECK(evm_id_valid(a));
	CHECK(evm_id_valid(b));
	CHECK(strcmp(a, b) != 0);
	CHECK(!evm_id_valid("0123"));
	CHECK(!evm_id_valid("0123456789abcdef0123456789abcdeg"));
	CHECK(!evm_id_valid(NULL));
}

/* The hex helpers: encoding, digit values, SHA-256 (FIPS 180-2 "abc"). */
static void test_hex(void)
{
	const unsigned char raw[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[65];

	evm_hex_encode(raw, sizeof raw, out);
	CHECK_EQ_STR(out, "000fa5ff");
	evm_hex_encode(raw, 0, out);
	CHECK_EQ_STR(out, "");
	CHECK_EQ_INT(evm_hex_value('0'), 0);
	CHECK_EQ_INT(evm_hex_value('9'), 9);
	CHECK_EQ_INT(evm_hex_value('a'), 10);
	CHECK_EQ_INT(evm_hex_value('F'), 15);
	CHECK_EQ_INT(evm_hex_value('g'), -1);
	CHECK_EQ_INT(evm_hex_value('/'), -1);
	CHECK_EQ_INT(evm_hex_value(0xff), -1);
	evm_sha256_hex("abc", 3, out);
	CHECK_EQ_STR(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	evm_sha256_hex("", 0, out);
	CHECK_EQ_STR(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

int main(void)
{
	test_run("partition vectors", test_partition_vectors);
	test_run("partition spread", test_partition_spread);
	test_run("random id", test_random_id);
	test_run("hex and SHA-256 helpers", test_hex);
	return test_done();
}
