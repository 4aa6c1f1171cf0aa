/* ids - see ids.h */
#include "common/ids.h"
#include "common/log.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <string.h>
#include <time.h>

uint32_t evm_fnv1a32(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

int32_t evm_partition_for(const void *key, size_t key_len, int32_t partitions)
{
	if (partitions <= 0)
		log_panic("evm_partition_for: %d partitions", partitions);
	return (int32_t)(evm_fnv1a32(key, key_len) % (uint32_t)partitions);
}

void evm_hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * n] = '\0';
}

int evm_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void evm_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		log_panic("SHA-256 failed");
	evm_hex_encode(md, 32, out);
}

void evm_random_id(char out[EVM_ID_HEX_LEN + 1])
{
	unsigned char raw[16];

	if (RAND_bytes(raw, sizeof raw) != 1)
		log_fatal("OpenSSL RAND_bytes failed: no entropy");
	evm_hex_encode(raw, sizeof raw, out);
}

int evm_id_valid(const char *s)
{
	if (s == NULL || strlen(s) != EVM_ID_HEX_LEN)
		return 0;
	for (const char *p = s; *p != '\0'; p++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	}
	return 1;
}

int64_t evm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t evm_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
