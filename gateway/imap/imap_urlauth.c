/* imap_urlauth - see imap_urlauth.h */
#include "gateway/imap/imap_urlauth.h"
#include "common/ids.h"
#include "projector/mail.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <string.h>
#include <strings.h>

/* 64 hex digits -> 32 octets (already validated by the projector). */
static void from_hex(const char *hex, unsigned char out[32])
{
	for (size_t i = 0; i < 32; i++) {
		unsigned v = 0;

		for (size_t k = 0; k < 2; k++)
			v = v * 16 + (unsigned)evm_hex_value((unsigned char)hex[2 * i + k]);
		out[i] = (unsigned char)v;
	}
}

/* HMAC-SHA256(key, data) into out (32 octets). 0 or -1. */
static int hmac256(const unsigned char key[32], const void *data, size_t len, unsigned char out[32])
{
	unsigned int n = 0;

	if (HMAC(EVP_sha256(), key, 32, data, len, out, &n) == NULL || n != 32)
		return -1;
	return 0;
}

int imap_urlauth_new_key(char hex_r[65])
{
	unsigned char key[32];

	if (RAND_bytes(key, sizeof key) != 1)
		return -1;
	evm_hex_encode(key, sizeof key, hex_r);
	OPENSSL_cleanse(key, sizeof key);
	return 0;
}

/* The mailbox access key (RFC 4467 3): 1, 0 without any key, -1 error. */
static int mailbox_key(struct view *view, const char *owner, const char *mailbox_id, unsigned char key[32],
		       const char **error_r)
{
	char hex[65], label[64];
	unsigned char base[32];
	int r;

	if ((r = mail_urlauth_key(view, owner, mailbox_id, hex, error_r)) != 0) {
		if (r > 0)
			from_hex(hex, key);
		return r;
	}
	if ((r = mail_urlauth_key(view, owner, "", hex, error_r)) <= 0)
		return r;
	from_hex(hex, base);
	snprintf(label, sizeof label, "evmail-urlauth/%s", mailbox_id);
	r = hmac256(base, label, strlen(label), key) < 0 ? -1 : 1;
	OPENSSL_cleanse(base, sizeof base);
	OPENSSL_cleanse(hex, sizeof hex);
	if (r < 0)
		*error_r = "HMAC failed";
	return r;
}

int imap_urlauth_verifier(struct view *view, const char *owner, const char *mailbox_id, const char *rump,
			  size_t len, char hex_r[65], const char **error_r)
{
	unsigned char key[32], mac[32];
	int r;

	if ((r = mailbox_key(view, owner, mailbox_id, key, error_r)) <= 0)
		return r;
	r = hmac256(key, rump, len, mac);
	OPENSSL_cleanse(key, sizeof key);
	if (r < 0) {
		*error_r = "HMAC failed";
		return -1;
	}
	evm_hex_encode(mac, sizeof mac, hex_r);
	return 1;
}

/* RFC 4467 3: may who (a session of that account, or a submission server
 * acting for it) use a URL with this access identifier? */
static int access_ok(const char *access, const char *who, int submit)
{
	if (strcasecmp(access, "anonymous") == 0)
		return 1;
	if (strcasecmp(access, "authuser") == 0)
		return who != NULL;
	if (strncasecmp(access, "user+", 5) == 0)
		return !submit && who != NULL && strcasecmp(access + 5, who) == 0;
	if (strncasecmp(access, "submit+", 7) == 0)
		return submit && who != NULL && strcasecmp(access + 7, who) == 0;
	return 0;
}

int imap_urlauth_fetch(struct view *view, const char *who, int submit, int64_t now_ms, const char *url,
		       size_t len, struct buf *out)
{
	char id[33], want[65] = "";
	const char *error = NULL;
	struct buf data = BUF_INIT;
	struct imap_url u;
	json_t *box = NULL;
	int ret = -1;

	if (imap_url_parse(url, len, &u, &error) < 0)
		return -1;
	if (u.user == NULL || u.token == NULL || strcasecmp(u.mech, IMAP_URLAUTH_MECH) != 0 ||
	    strlen(u.token) != 64 || (u.expire && now_ms >= u.expire_ms) || !access_ok(u.access, who, submit))
		goto out;
	if (mail_mailbox_by_name(view, u.user, u.mailbox, &box, &error) <= 0)
		goto out;
	if (json_string_value(json_object_get(box, "id")) == NULL)
		goto out;
	snprintf(id, sizeof id, "%s", json_string_value(json_object_get(box, "id")));
	if (imap_urlauth_verifier(view, u.user, id, url, u.rump_len, want, &error) <= 0 ||
	    CRYPTO_memcmp(want, u.token, 64) != 0)
		goto out;
	if (imap_url_read(view, u.user, &u, &data, NULL) < 0)
		goto out;
	buf_append(out, data.data != NULL ? data.data : "", data.len);
	ret = 0;
out:
	OPENSSL_cleanse(want, sizeof want);
	buf_free(&data);
	json_decref(box);
	imap_url_free(&u);
	return ret;
}
