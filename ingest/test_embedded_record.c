/* Unit tests of the embedded log's record codec. */
#include "ingest/embedded_record.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

/* Encodes one record with a key and a value of the given sizes. */
static void encode(struct buf *b, int64_t offset, size_t key_len, size_t value_len)
{
	char *key = xmalloc(key_len + 1), *value = xmalloc(value_len + 1);

	for (size_t i = 0; i < key_len; i++)
		key[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < value_len; i++)
		value[i] = (char)(i * 7);
	emb_record_encode(b, offset, 1700000000000 + offset, key, key_len, value, value_len);
	free(key);
	free(value);
}

static void test_roundtrip(void)
{
	size_t sizes[][2] = { { 0, 0 }, { 1, 0 }, { 0, 1 }, { 32, 1000 }, { EMB_KEY_MAX, EMB_VALUE_MAX } };

	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		struct buf b = BUF_INIT;
		struct emb_record rec;
		const char *error;
		size_t size;

		encode(&b, (int64_t)i * 1000, sizes[i][0], sizes[i][1]);
		CHECK_EQ_INT(b.len, emb_record_size(sizes[i][0], sizes[i][1]));
		CHECK_EQ_INT(emb_record_decode(b.data, b.len, &rec, &size, &error), 1);
		CHECK_EQ_INT(size, b.len);
		CHECK_EQ_INT(rec.offset, (int64_t)i * 1000);
		CHECK_EQ_INT(rec.ts, 1700000000000 + (int64_t)i * 1000);
		CHECK_EQ_INT(rec.key_len, sizes[i][0]);
		CHECK_EQ_INT(rec.value_len, sizes[i][1]);
		if (rec.value_len > 0)
			CHECK(rec.value[rec.value_len - 1] == (uint8_t)((rec.value_len - 1) * 7));
		buf_free(&b);
	}
}

/* Every proper prefix of a valid record is "need more", never an error. */
static void test_every_prefix(void)
{
	struct buf b = BUF_INIT;
	struct emb_record rec;
	const char *error;
	size_t size;

	encode(&b, 42, 10, 300);
	for (size_t n = 0; n < b.len; n++) {
		int r = emb_record_decode(b.data, n, &rec, &size, &error);
		if (r != 0) {
			fprintf(stderr, "prefix %zu: %d\n", n, r);
			CHECK(0);
		}
		if (n >= 4)
			CHECK_EQ_INT(size, b.len);
	}
	CHECK_EQ_INT(emb_record_decode(b.data, b.len, &rec, &size, &error), 1);
	buf_free(&b);
}

/* Records decode one after another from one buffer. */
static void test_sequence(void)
{
	struct buf b = BUF_INIT;
	size_t pos = 0;

	for (int i = 0; i < 50; i++)
		encode(&b, i, (size_t)i, (size_t)(i * 13));
	for (int i = 0; i < 50; i++) {
		struct emb_record rec;
		const char *error;
		size_t size;
		CHECK_EQ_INT(emb_record_decode(b.data + pos, b.len - pos, &rec, &size, &error), 1);
		CHECK_EQ_INT(rec.offset, i);
		pos += size;
	}
	CHECK_EQ_INT(pos, b.len);
	buf_free(&b);
}

/* Every single bit flip of a small record is refused (or waits for more
 * bytes when it grows the length); never decoded as a record. */
static void test_every_bit_flip(void)
{
	struct buf b = BUF_INIT;

	encode(&b, 7, 5, 40);
	for (size_t bit = 0; bit < b.len * 8; bit++) {
		struct emb_record rec;
		const char *error;
		size_t size;
		b.data[bit / 8] ^= (char)(1 << (bit % 8));
		int r = emb_record_decode(b.data, b.len, &rec, &size, &error);
		b.data[bit / 8] ^= (char)(1 << (bit % 8));
		if (r == 1) {
			fprintf(stderr, "bit %zu flip accepted\n", bit);
			CHECK(0);
		}
	}
	buf_free(&b);
}

/* Random multi-bit damage of larger records is never accepted. */
static void test_random_flips(void)
{
	struct buf b = BUF_INIT;

	srand(12345);
	encode(&b, 99, 20, 5000);
	for (int round = 0; round < 2000; round++) {
		struct buf c = BUF_INIT;
		struct emb_record rec;
		const char *error;
		size_t size;
		int flips = 1 + rand() % 4;
		buf_append(&c, b.data, b.len);
		for (int f = 0; f < flips; f++) {
			size_t bit = (size_t)rand() % (c.len * 8);
			c.data[bit / 8] ^= (char)(1 << (bit % 8));
		}
		if (memcmp(c.data, b.data, b.len) != 0)
			CHECK(emb_record_decode(c.data, c.len, &rec, &size, &error) != 1);
		buf_free(&c);
	}
	buf_free(&b);
}

static void test_limits(void)
{
	unsigned char hdr[EMB_RECORD_HEADER] = { 0 };
	struct emb_record rec;
	const char *error;
	size_t size;

	/* Length too small, too large. */
	hdr[0] = 3;
	CHECK_EQ_INT(emb_record_decode(hdr, sizeof hdr, &rec, &size, &error), -1);
	hdr[0] = 0xff; hdr[1] = 0xff; hdr[2] = 0xff; hdr[3] = 0x7f;
	CHECK_EQ_INT(emb_record_decode(hdr, sizeof hdr, &rec, &size, &error), -1);
	/* All zeroes (a preallocated or zero-filled tail) is refused at once. */
	memset(hdr, 0, sizeof hdr);
	CHECK_EQ_INT(emb_record_decode(hdr, sizeof hdr, &rec, &size, &error), -1);
}

static void test_find_next(void)
{
	struct buf b = BUF_INIT;

	encode(&b, 5, 3, 30);
	size_t first = b.len;
	buf_append(&b, "garbage!garbage!", 16);
	size_t second = b.len;
	encode(&b, 6, 3, 30);
	CHECK_EQ_INT(emb_record_find_next(b.data, b.len, first, 6), (int64_t)second);
	CHECK_EQ_INT(emb_record_find_next(b.data, b.len, first, 7), -1);
	CHECK_EQ_INT(emb_record_find_next(b.data, second, first, 6), -1);
	buf_free(&b);
}

int main(void)
{
	test_run("record roundtrip", test_roundtrip);
	test_run("record every prefix needs more", test_every_prefix);
	test_run("record sequence", test_sequence);
	test_run("record every bit flip refused", test_every_bit_flip);
	test_run("record random flips refused", test_random_flips);
	test_run("record limits", test_limits);
	test_run("record find next valid", test_find_next);
	return test_done();
}
