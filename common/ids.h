/* ids - identifiers, partition choice and time.
 *
 * evm_partition_for() is the ONE place that maps a key (an account id, a
 * blob id) to a partition. It is FNV-1a 32-bit over the key's bytes, mod the
 * partition count: stable across versions, platforms and client libraries.
 * Changing it would move accounts between partitions and break the total
 * order of their events, so its output is pinned by unit test vectors. */
#ifndef EVM_IDS_H
#define EVM_IDS_H

#include <stddef.h>
#include <stdint.h>

#define EVM_ID_HEX_LEN 32

uint32_t evm_fnv1a32(const void *data, size_t len);
int32_t evm_partition_for(const void *key, size_t key_len, int32_t partitions);

/* Lower-case hex of in[0..n) into out: 2n digits and a NUL. */
void evm_hex_encode(const unsigned char *in, size_t n, char *out);
/* The value of a hex digit of either case, or -1. */
int evm_hex_value(int c);
/* SHA-256 of data as 64 lower-case hex digits and a NUL (blob ids). */
void evm_sha256_hex(const void *data, size_t len, char out[65]);

/* 128 random bits from OpenSSL's CSPRNG as 32 lower-case hex digits + NUL. */
void evm_random_id(char out[EVM_ID_HEX_LEN + 1]);
/* True when s is exactly 32 lower-case hex digits. */
int evm_id_valid(const char *s);

/* Wall-clock milliseconds since the epoch (for event ts only: never for
 * anything a projector writes). */
int64_t evm_now_ms(void);
/* Monotonic milliseconds, for timeouts. */
int64_t evm_mono_ms(void);

#endif
