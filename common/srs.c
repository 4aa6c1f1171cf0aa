/* srs - see srs.h. */
#include "common/srs.h"
#include "common/buf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";   /* RFC 4648 6 */

/* The value of one base32 character in either case, -1 if none. */
static int b32_value(char c)
{
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* The day stamp: (now_s / 86400) mod 1024 as two base32 characters. */
static void day_stamp(int64_t now_s, char out[3])
{
	unsigned day = (unsigned)((now_s / 86400) % 1024);

	out[0] = b32[day >> 5];
	out[1] = b32[day & 31];
	out[2] = '\0';
}

/* HHHHHHHH for stamp, domain and local: base32 of the first 40 bits of
 * HMAC-SHA256(secret, lower-case "stamp=domain=local"). */
static int srs_hash(const unsigned char *secret, size_t secret_len, const char *stamp,
		    const char *domain, const char *local, char out[SRS_HASH_LEN + 1],
		    const char **error_r)
{
	struct buf data = BUF_INIT;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	uint64_t bits = 0;

	buf_printf(&data, "%s=%s=%s", stamp, domain, local);
	for (size_t i = 0; i < data.len; i++) {
		if (data.data[i] >= 'A' && data.data[i] <= 'Z')
			data.data[i] = (char)(data.data[i] + 32);
	}
	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, secret, secret_len,
		      (unsigned char *)data.data, data.len, mac, sizeof mac, &mac_len) == NULL ||
	    mac_len < 5) {
		buf_free(&data);
		*error_r = "srs: HMAC-SHA256 failed";
		return -1;
	}
	buf_free(&data);
	for (int i = 0; i < 5; i++)
		bits = bits << 8 | mac[i];
	for (int i = 0; i < SRS_HASH_LEN; i++)
		out[i] = b32[(bits >> (35 - 5 * i)) & 31];
	out[SRS_HASH_LEN] = '\0';
	OPENSSL_cleanse(mac, sizeof mac);
	return 0;
}

int srs_forward(const unsigned char *secret, size_t secret_len, const char *sender,
		const char *srs_domain, int64_t now_s, char out[EVM_ADDRESS_MAX + 1],
		const char **error_r)
{
	const char *at = sender != NULL ? strrchr(sender, '@') : NULL;
	char stamp[3], hash[SRS_HASH_LEN + 1], local[EVM_LOCAL_MAX + 1];
	int n;

	if (secret_len < SRS_SECRET_MIN) {
		*error_r = "srs: the secret is too short";
		return -1;
	}
	if (at == NULL || at == sender || at[1] == '\0' || (size_t)(at - sender) > EVM_LOCAL_MAX) {
		*error_r = "srs: not an address";
		return -1;
	}
	snprintf(local, sizeof local, "%.*s", (int)(at - sender), sender);
	day_stamp(now_s, stamp);
	if (srs_hash(secret, secret_len, stamp, at + 1, local, hash, error_r) < 0)
		return -1;
	/* "SRS0=" hash "=" TT "=" domain "=" local */
	n = snprintf(out, EVM_ADDRESS_MAX + 1, "SRS0=%s=%s=%s=%s", hash, stamp, at + 1, local);
	if (n < 0 || (size_t)n > EVM_LOCAL_MAX) {
		*error_r = "srs: the rewritten local part would be longer than 64 octets";
		return -1;
	}
	n = snprintf(out + n, EVM_ADDRESS_MAX + 1 - (size_t)n, "@%s", srs_domain);
	if (n < 0 || strlen(out) > EVM_ADDRESS_MAX) {
		*error_r = "srs: the rewritten address is too long";
		return -1;
	}
	return 0;
}

int srs_reverse(const unsigned char *secret, size_t secret_len, const char *address,
		int64_t now_s, char out[EVM_ADDRESS_MAX + 1], const char **error_r)
{
	const char *at = address != NULL ? strrchr(address, '@') : NULL;
	const char *p, *domain, *local, *eq;
	char hash[SRS_HASH_LEN + 1], want[SRS_HASH_LEN + 1], stamp[3], dom[EVM_DOMAIN_MAX + 1];
	char orig[EVM_ADDRESS_MAX + 1], lp[EVM_LOCAL_MAX + 1];
	unsigned day, today, age;
	int v0, v1, ok;

	if (at == NULL || (size_t)(at - address) < 5 || strncasecmp(address, "SRS0=", 5) != 0)
		return 0;
	if ((size_t)(at - address) > EVM_LOCAL_MAX) {
		*error_r = "srs: local part too long";
		return -1;
	}
	snprintf(lp, sizeof lp, "%.*s", (int)(at - address), address);
	p = lp + 5;
	/* HHHHHHHH=TT=domain=local */
	if (strlen(p) < SRS_HASH_LEN + 1 + 2 + 1 + 1 + 1 + 1 || p[SRS_HASH_LEN] != '=' ||
	    p[SRS_HASH_LEN + 3] != '=') {
		*error_r = "srs: malformed SRS0 address";
		return -1;
	}
	for (int i = 0; i < SRS_HASH_LEN; i++) {
		int v = b32_value(p[i]);
		if (v < 0) {
			*error_r = "srs: malformed hash";
			return -1;
		}
		hash[i] = b32[v];     /* upper case: the compare ignores case */
	}
	hash[SRS_HASH_LEN] = '\0';
	v0 = b32_value(p[SRS_HASH_LEN + 1]);
	v1 = b32_value(p[SRS_HASH_LEN + 2]);
	if (v0 < 0 || v1 < 0) {
		*error_r = "srs: malformed time stamp";
		return -1;
	}
	stamp[0] = b32[v0];
	stamp[1] = b32[v1];
	stamp[2] = '\0';
	domain = p + SRS_HASH_LEN + 4;
	eq = strchr(domain, '=');
	if (eq == NULL || eq == domain || eq[1] == '\0') {
		*error_r = "srs: malformed SRS0 address";
		return -1;
	}
	local = eq + 1;
	snprintf(dom, sizeof dom, "%.*s", (int)(eq - domain), domain);
	if (srs_hash(secret, secret_len, stamp, dom, local, want, error_r) < 0)
		return -1;
	ok = CRYPTO_memcmp(hash, want, SRS_HASH_LEN) == 0;
	if (!ok) {
		*error_r = "srs: wrong hash (forged address)";
		return -1;
	}
	/* RFC-less but standard SRS rule: the stamp is at most max age old,
	 * days counted mod 1024 (a stamp from the future reads as very old). */
	day = (unsigned)(v0 << 5 | v1);
	today = (unsigned)((now_s / 86400) % 1024);
	age = (today + 1024 - day) % 1024;
	if (age > SRS_MAX_AGE_DAYS) {
		*error_r = "srs: the address has expired";
		return -1;
	}
	if (snprintf(orig, sizeof orig, "%s@%s", local, dom) >= (int)sizeof orig ||
	    evm_address_normalize(orig, out, error_r) < 0) {
		*error_r = "srs: the original sender is not a valid address";
		return -1;
	}
	return 1;
}
