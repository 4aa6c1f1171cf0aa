/* imap_scram - the server side of SASL SCRAM-SHA-256 (RFC 5802 5, RFC
 * 7677) as a small state machine over the decoded messages, with no I/O:
 * imap_auth_ext.c feeds it from AUTHENTICATE, the tests feed it directly.
 *
 * Channel binding is not offered: the gs2 header must be "n,," or "y,,"
 * (optionally with "a=<authzid>" equal to the user); "p=" is refused.
 * Unknown users and accounts without SCRAM keys get a made-up salt (the
 * same for the same name, from a per-process secret) and always fail at
 * the final step, so the exchange does not tell whether a user exists. */
#ifndef EVM_IMAP_SCRAM_H
#define EVM_IMAP_SCRAM_H

#include <jansson.h>
#include <stddef.h>

#include "common/address.h"
#include "common/scram.h"

#define IMAP_SCRAM_MSG_MAX 2048          /* a longer client message is refused */

struct imap_scram {
	char user[EVM_ADDRESS_MAX + 1];     /* the saslname, unescaped */
	char authzid[EVM_ADDRESS_MAX + 1];  /* "" when none */
	char gs2[EVM_ADDRESS_MAX + 16];     /* the gs2 header as sent */
	char *client_first_bare;
	char *server_first;
	char nonce[256 + 64];               /* client nonce + server nonce */
	unsigned char salt[EVM_SCRAM_SALT_MAX];
	size_t salt_len;
	unsigned iterations;
	unsigned char stored_key[EVM_SCRAM_KEY_LEN], server_key[EVM_SCRAM_KEY_LEN];
	int known;                          /* real keys */
};

/* Parses client-first-message (RFC 5802 7): gs2 header, n=, r=. 0, or -1
 * with *error_r. */
int imap_scram_client_first(struct imap_scram *sc, const char *msg, size_t len, const char **error_r);
/* The account's scram_sha256 record (NULL or invalid: fake keys). */
void imap_scram_set_keys(struct imap_scram *sc, json_t *rec);
/* server-first-message "r=<nonce>,s=<salt>,i=<n>" (owned by sc);
 * server_nonce NULL: 24 random octets in base64 (tests pass RFC 7677's). */
const char *imap_scram_server_first(struct imap_scram *sc, const char *server_nonce);
/* Checks client-final-message: 1 proof valid (*server_final_r malloc'ed
 * "v=..."), 0 wrong proof or fake keys, -1 malformed (*error_r). */
int imap_scram_client_final(struct imap_scram *sc, const char *msg, size_t len, char **server_final_r,
			    const char **error_r);
/* Wipes and frees what sc holds (not sc itself). */
void imap_scram_clear(struct imap_scram *sc);

#endif
