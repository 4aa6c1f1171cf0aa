/* embedded_record - see embedded_record.h */
#include "ingest/embedded_record.h"

#include <string.h>
#include <zlib.h>

/* Little-endian store of n bytes of v. */
static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Little-endian load of n bytes. */
static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n - 1; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* CRC32 of a byte range of any length (zlib takes uInt lengths). */
static uint32_t crc_of(const uint8_t *p, size_t len)
{
	uLong crc = crc32(0L, Z_NULL, 0);

	while (len > 0) {
		uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
		crc = crc32(crc, p, n);
		p += n;
		len -= n;
	}
	return (uint32_t)crc;
}

/* Bytes a record with these key and value lengths takes on disk. */
size_t emb_record_size(size_t key_len, size_t value_len)
{
	return EMB_RECORD_HEADER + key_len + value_len;
}

/* Appends one encoded record to out. */
void emb_record_encode(struct buf *out, int64_t offset, int64_t ts,
		       const void *key, size_t key_len, const void *value, size_t value_len)
{
	size_t size = emb_record_size(key_len, value_len);
	uint8_t *p;

	buf_reserve(out, size);
	p = (uint8_t *)out->data + out->len;
	put_le(p, size - 4, 4);
	put_le(p + 8, EMB_RECORD_VERSION, 2);
	put_le(p + 10, 0, 2);
	put_le(p + 12, (uint64_t)offset, 8);
	put_le(p + 20, (uint64_t)ts, 8);
	put_le(p + 28, key_len, 4);
	put_le(p + 32, value_len, 4);
	if (key_len > 0)
		memcpy(p + EMB_RECORD_HEADER, key, key_len);
	if (value_len > 0)
		memcpy(p + EMB_RECORD_HEADER + key_len, value, value_len);
	put_le(p + 4, crc_of(p + 8, size - 8), 4);
	out->len += size;
	out->data[out->len] = '\0';
}

/* Decodes the record at the start of data: 1 record, 0 need more, -1 bad. */
int emb_record_decode(const void *data, size_t avail, struct emb_record *rec_r,
		      size_t *size_r, const char **error_r)
{
	const uint8_t *p = data;
	uint64_t len, key_len, value_len;
	int64_t offset;

	*size_r = EMB_RECORD_HEADER;
	if (avail < 4)
		return 0;
	len = get_le(p, 4);
	if (len < EMB_RECORD_HEADER - 4 || len > EMB_RECORD_MAX - 4) {
		*error_r = "record length out of range";
		return -1;
	}
	*size_r = (size_t)len + 4;
	if (avail >= 12 && (get_le(p + 8, 2) != EMB_RECORD_VERSION || get_le(p + 10, 2) != 0)) {
		*error_r = "unknown record version or flags";
		return -1;
	}
	if (avail >= 20 && (int64_t)get_le(p + 12, 8) < 0) {
		*error_r = "negative record offset";
		return -1;
	}
	if (avail >= EMB_RECORD_HEADER) {
		key_len = get_le(p + 28, 4);
		value_len = get_le(p + 32, 4);
		if (key_len > EMB_KEY_MAX || value_len > EMB_VALUE_MAX ||
		    key_len + value_len + EMB_RECORD_HEADER - 4 != len) {
			*error_r = "record key/value lengths do not match its length";
			return -1;
		}
	}
	if (avail < len + 4)
		return 0;
	if (crc_of(p + 8, (size_t)len - 4) != (uint32_t)get_le(p + 4, 4)) {
		*error_r = "record checksum mismatch";
		return -1;
	}
	offset = (int64_t)get_le(p + 12, 8);
	rec_r->offset = offset;
	rec_r->ts = (int64_t)get_le(p + 20, 8);
	rec_r->key_len = (uint32_t)get_le(p + 28, 4);
	rec_r->value_len = (uint32_t)get_le(p + 32, 4);
	rec_r->key = p + EMB_RECORD_HEADER;
	rec_r->value = p + EMB_RECORD_HEADER + rec_r->key_len;
	return 1;
}

/* First valid record after start with offset >= min_offset, or -1. */
int64_t emb_record_find_next(const void *data, size_t len, size_t start, int64_t min_offset)
{
	int64_t max = min_offset > INT64_MAX - (int64_t)len ? INT64_MAX : min_offset + (int64_t)len;

	return emb_record_find_next_range(data, len, start, min_offset, max);
}

/* First valid record after start with an offset in [min_offset, max_offset], or -1. */
int64_t emb_record_find_next_range(const void *data, size_t len, size_t start,
				   int64_t min_offset, int64_t max_offset)
{
	const uint8_t *p = data;
	struct emb_record rec;
	const char *error;
	size_t size;

	for (size_t pos = start + 1; pos + EMB_RECORD_HEADER <= len; pos++) {
		/* Cheap filter before the checksum: a plausible offset. */
		int64_t off = (int64_t)get_le(p + pos + 12, 8);
		if (off < min_offset || off > max_offset)
			continue;
		if (emb_record_decode(p + pos, len - pos, &rec, &size, &error) == 1)
			return (int64_t)pos;
	}
	return -1;
}
