/* imap_scram - SCRAM-SHA-256 server exchange (see imap_scram.h). */
#include "gateway/imap/imap_scram.h"
#include "common/base64.h"
#include "common/buf.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>

/* Per-process key of the made-up salts of unknown users. */
static unsigned char fake_secret[32];
static int fake_secret_set;

/* Unescapes a saslname (RFC 5802 5.1: "=2C" is ',', "=3D" is '='; no
 * other '='). 0, or -1. */
static int saslname(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (len == 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		char c = in[i];

		if (c == '=') {
			if (i + 3 > len)
				return -1;
			if (strncmp(in + i, "=2C", 3) == 0)
				c = ',';
			else if (strncmp(in + i, "=3D", 3) == 0)
				c = '=';
			else
				return -1;
			i += 2;
		} else if (c == '\0' || c == ',') {
			return -1;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/* A nonce: printable ASCII except ',' (RFC 5802 7). */
static int nonce_ok(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x21 || s[i] > 0x7e || s[i] == ',')
			return 0;
	}
	return 1;
}

/* Optional extensions: *("," ALPHA "=" value) from p to end (RFC 5802 7). */
static int extensions_ok(const char *p, const char *end)
{
	while (p < end) {
		const char *next;

		if (*p != ',' || end - p < 3 || !((p[1] >= 'a' && p[1] <= 'z') || (p[1] >= 'A' && p[1] <= 'Z')) ||
		    p[2] != '=')
			return 0;
		next = memchr(p + 1, ',', (size_t)(end - p - 1));
		p = next != NULL ? next : end;
	}
	return 1;
}

/* imap_scram_client_first - gs2-header client-first-message-bare. */
int imap_scram_client_first(struct imap_scram *sc, const char *msg, size_t len, const char **error_r)
{
	const char *p = msg, *end = msg + len, *comma, *bare, *user, *nonce;
	size_t ulen;

	*error_r = "Malformed SCRAM client-first-message";
	if (len == 0 || len > IMAP_SCRAM_MSG_MAX || memchr(msg, '\0', len) != NULL)
		return -1;
	if (p[0] == 'p') {
		*error_r = "Channel binding is not supported";
		return -1;
	}
	if ((p[0] != 'n' && p[0] != 'y') || len < 3 || p[1] != ',')
		return -1;
	p += 2;
	if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
		return -1;
	if (comma > p) {
		if (comma - p < 3 || strncmp(p, "a=", 2) != 0 ||
		    saslname(p + 2, (size_t)(comma - p - 2), sc->authzid, sizeof sc->authzid) < 0)
			return -1;
	}
	bare = comma + 1;
	if ((size_t)(bare - msg) >= sizeof sc->gs2)
		return -1;
	memcpy(sc->gs2, msg, (size_t)(bare - msg));
	sc->gs2[bare - msg] = '\0';
	/* reserved-mext "m=" is a mandatory extension we do not know. */
	if (end - bare < 2 || strncmp(bare, "n=", 2) != 0)
		return -1;
	user = bare + 2;
	if ((comma = memchr(user, ',', (size_t)(end - user))) == NULL)
		return -1;
	ulen = (size_t)(comma - user);
	if (saslname(user, ulen, sc->user, sizeof sc->user) < 0)
		return -1;
	if (end - comma < 3 || strncmp(comma + 1, "r=", 2) != 0)
		return -1;
	nonce = comma + 3;
	comma = memchr(nonce, ',', (size_t)(end - nonce));
	/* extensions after the nonce are ignored (RFC 5802 7) */
	if (!nonce_ok(nonce, (size_t)((comma ? comma : end) - nonce)) ||
	    (size_t)((comma ? comma : end) - nonce) > 256 || (comma != NULL && !extensions_ok(comma, end)))
		return -1;
	memcpy(sc->nonce, nonce, (size_t)((comma ? comma : end) - nonce));
	sc->nonce[(comma ? comma : end) - nonce] = '\0';
	sc->client_first_bare = xstrndup(bare, (size_t)(end - bare));
	return 0;
}

/* imap_scram_set_keys - real keys from the record, or made-up ones. */
void imap_scram_set_keys(struct imap_scram *sc, json_t *rec)
{
	const char *error = NULL;
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int mlen = 0;

	if (rec != NULL && evm_scram_record_parse(rec, sc->salt, &sc->salt_len, &sc->iterations,
						  sc->stored_key, sc->server_key, &error) == 0) {
		sc->known = 1;
		return;
	}
	sc->known = 0;
	if (!fake_secret_set && RAND_bytes(fake_secret, sizeof fake_secret) == 1)
		fake_secret_set = 1;
	HMAC(EVP_sha256(), fake_secret, sizeof fake_secret, (const unsigned char *)sc->user,
	     strlen(sc->user), mac, &mlen);
	memcpy(sc->salt, mac, EVM_SCRAM_SALT_LEN);
	sc->salt_len = EVM_SCRAM_SALT_LEN;
	sc->iterations = EVM_SCRAM_ITERATIONS;
	if (RAND_bytes(sc->stored_key, sizeof sc->stored_key) != 1)
		memset(sc->stored_key, 0, sizeof sc->stored_key);
	memset(sc->server_key, 0, sizeof sc->server_key);
}

/* imap_scram_server_first - r=<client+server nonce>,s=<salt>,i=<count>. */
const char *imap_scram_server_first(struct imap_scram *sc, const char *server_nonce)
{
	unsigned char rnd[24];
	char *mine = NULL, *salt;
	struct buf b = BUF_INIT;

	if (server_nonce == NULL) {
		if (RAND_bytes(rnd, sizeof rnd) != 1)
			memset(rnd, 0, sizeof rnd);   /* the exchange then fails: keys are random too */
		mine = evm_b64_encode(rnd, sizeof rnd);
		server_nonce = mine;
	}
	snprintf(sc->nonce + strlen(sc->nonce), sizeof sc->nonce - strlen(sc->nonce), "%s", server_nonce);
	free(mine);
	salt = evm_b64_encode(sc->salt, sc->salt_len);
	buf_printf(&b, "r=%s,s=%s,i=%u", sc->nonce, salt, sc->iterations);
	free(salt);
	free(sc->server_first);
	sc->server_first = buf_steal(&b);
	return sc->server_first;
}

/* imap_scram_client_final - c=<gs2>,r=<nonce>[,ext],p=<proof>. */
int imap_scram_client_final(struct imap_scram *sc, const char *msg, size_t len, char **server_final_r,
			    const char **error_r)
{
	const char *end = msg + len, *proof, *nonce, *comma;
	char *cbind;
	unsigned char p[EVM_SCRAM_SALT_MAX * 2], csig[EVP_MAX_MD_SIZE], ssig[EVP_MAX_MD_SIZE];
	unsigned char ckey[EVM_SCRAM_KEY_LEN], stored[EVM_SCRAM_KEY_LEN];
	unsigned int l = 0;
	size_t plen = 0, wplen;
	struct buf auth = BUF_INIT;
	int ok;

	*error_r = "Malformed SCRAM client-final-message";
	*server_final_r = NULL;
	if (sc->server_first == NULL || len == 0 || len > IMAP_SCRAM_MSG_MAX || memchr(msg, '\0', len))
		return -1;
	/* channel-binding: base64 of the gs2 header exactly (no cbind data) */
	cbind = evm_b64_encode((const unsigned char *)sc->gs2, strlen(sc->gs2));
	ok = len > 2 + strlen(cbind) && strncmp(msg, "c=", 2) == 0 &&
	     strncmp(msg + 2, cbind, strlen(cbind)) == 0 && msg[2 + strlen(cbind)] == ',';
	nonce = msg + 3 + strlen(cbind);
	free(cbind);
	if (!ok || end - nonce < 2 || strncmp(nonce, "r=", 2) != 0)
		return -1;
	comma = memchr(nonce, ',', (size_t)(end - nonce));
	if (comma == NULL || (size_t)(comma - nonce - 2) != strlen(sc->nonce) ||
	    memcmp(nonce + 2, sc->nonce, strlen(sc->nonce)) != 0) {
		*error_r = "SCRAM nonce mismatch";
		return -1;
	}
	/* the proof is the last attribute */
	for (proof = end; proof > comma && proof[-1] != ','; proof--)
		;
	if (end - proof < 2 || strncmp(proof, "p=", 2) != 0 || !extensions_ok(comma, proof - 1) ||
	    (size_t)(end - proof - 2) > sizeof p / 2 ||
	    evm_b64_decode(proof + 2, (size_t)(end - proof - 2), p, &plen) < 0 || plen != EVM_SCRAM_KEY_LEN)
		return -1;
	wplen = (size_t)(proof - 1 - msg);
	/* AuthMessage = client-first-bare "," server-first "," client-final-without-proof */
	buf_printf(&auth, "%s,%s,", sc->client_first_bare, sc->server_first);
	buf_append(&auth, msg, wplen);
	HMAC(EVP_sha256(), sc->stored_key, EVM_SCRAM_KEY_LEN, (const unsigned char *)auth.data, auth.len,
	     csig, &l);
	for (size_t i = 0; i < EVM_SCRAM_KEY_LEN; i++)
		ckey[i] = p[i] ^ csig[i];
	EVP_Digest(ckey, sizeof ckey, stored, NULL, EVP_sha256(), NULL);
	ok = CRYPTO_memcmp(stored, sc->stored_key, EVM_SCRAM_KEY_LEN) == 0 && sc->known;
	if (ok) {
		char *v;

		HMAC(EVP_sha256(), sc->server_key, EVM_SCRAM_KEY_LEN, (const unsigned char *)auth.data,
		     auth.len, ssig, &l);
		v = evm_b64_encode(ssig, EVM_SCRAM_KEY_LEN);
		*server_final_r = xmalloc(strlen(v) + 3);
		snprintf(*server_final_r, strlen(v) + 3, "v=%s", v);
		free(v);
	}
	OPENSSL_cleanse(ckey, sizeof ckey);
	buf_free(&auth);
	return ok ? 1 : 0;
}

/* imap_scram_clear - wipes the keys and frees the messages. */
void imap_scram_clear(struct imap_scram *sc)
{
	free(sc->client_first_bare);
	free(sc->server_first);
	OPENSSL_cleanse(sc, sizeof *sc);
}
