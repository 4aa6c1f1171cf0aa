/* arc_seal - adds one ARC set (RFC 8617 4.1) to a message that leaves us
 * again (a forwarded message): ARC-Authentication-Results,
 * ARC-Message-Signature and ARC-Seal with instance i = the existing
 * chain's highest instance + 1.
 *
 *   AAR  "i=N; <authserv-id>; <results>" (RFC 8617 4.1.1): the results
 *        are the caller's (the Authentication-Results payload of our
 *        inbound checks, RFC 8601), never computed here.
 *   AMS  a DKIM signature without v= and with i= (RFC 8617 4.1.2),
 *        relaxed/relaxed, over the present DKIM_SIGNED_HEADERS (common/
 *        dkim.h) and the body; ARC fields are never signed by it.
 *   AS   over every ARC set in instance order, each AAR, AMS, AS, the new
 *        AS last with an empty b= (RFC 8617 5.1.1), relaxed header
 *        canonicalisation; cv (RFC 8617 4.1.3) is "none" for i=1, else the
 *        caller's verdict on the incoming chain ("pass" or "fail"): the
 *        verification itself is not this module's (see forward.h).
 *
 * Only rsa-sha256 is used (the one algorithm RFC 8617 deployments verify;
 * DKIM's ed25519 is not defined for ARC). Canonicalisation and signing are
 * common/dkim.c's, every hash and signature OpenSSL EVP. */
#ifndef EVM_ARC_SEAL_H
#define EVM_ARC_SEAL_H

#include <openssl/evp.h>
#include <stddef.h>
#include <stdint.h>

#define ARC_MAX_INSTANCES 50      /* RFC 8617 4.2.1 */

/* The existing chain of msg (CRLF header, as dkim.h): *n_r = the number of
 * ARC sets, 0 when there is none. -1 with *error_r when the chain is
 * structurally broken (an ARC-Seal without a usable i=, duplicate or
 * missing instances, more than ARC_MAX_INSTANCES): such a chain cannot be
 * extended (RFC 8617 5.1.2: it is a fail). */
int arc_chain_instances(const char *msg, size_t len, int *n_r, const char **error_r);

struct arc_seal_request {
	const char *msg;             /* the message as it will be sent */
	size_t len;
	const char *domain;          /* d= */
	const char *selector;        /* s= */
	EVP_PKEY *key;               /* RSA */
	int64_t t;                   /* t=, seconds */
	const char *authserv_id;     /* our host name (RFC 8601 2.5) */
	const char *results;         /* the AAR's results, e.g. "arc=none" */
	const char *cv;              /* "none" when msg has no chain, else "pass" or "fail" */
};

/* The three fields of the new set, "ARC-Seal: ...\r\nARC-Message-
 * Signature: ...\r\nARC-Authentication-Results: ...\r\n", to be put on top
 * of msg (*fields_r malloc'ed; *i_r the instance). -1 with *error_r: a
 * broken or full chain, a cv not fitting the chain, a non-RSA key,
 * results with CR or LF, a signing failure. */
int arc_seal(const struct arc_seal_request *req, char **fields_r, int *i_r, const char **error_r);

#endif
