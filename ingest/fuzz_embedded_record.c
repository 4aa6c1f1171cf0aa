/* libFuzzer target for the embedded log's record decoder. Build:
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -I. \
 *     ingest/fuzz_embedded_record.c ingest/embedded_record.c common/buf.c common/log.c -lz
 * Each input is decoded as a run of records, as the recovery scan does; a
 * decoded record must re-encode to exactly its bytes. */
#include "ingest/embedded_record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		struct emb_record rec;
		const char *error;
		size_t used;
		int r = emb_record_decode(data + pos, size - pos, &rec, &used, &error);
		if (r != 1) {
			if (r < 0) {
				(void)emb_record_find_next(data, size, pos, 0);
				(void)emb_record_find_next_range(data, size, pos, 0, INT64_MAX);
			}
			break;
		}
		if (used > size - pos || used != emb_record_size(rec.key_len, rec.value_len))
			abort();
		struct buf b = BUF_INIT;
		emb_record_encode(&b, rec.offset, rec.ts, rec.key, rec.key_len, rec.value, rec.value_len);
		if (b.len != used || memcmp(b.data, data + pos, used) != 0)
			abort();
		buf_free(&b);
		pos += used;
	}
	return 0;
}
