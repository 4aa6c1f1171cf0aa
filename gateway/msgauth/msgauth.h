/* msgauth - inbound message authentication: SPF (RFC 7208, libspf2), DKIM
 * (RFC 6376 with RFC 8463's ed25519-sha256, common/dkim_verify.h), ARC
 * (RFC 8617) and DMARC (RFC 7489, libopendmarc), reported in one
 * Authentication-Results field (RFC 8601).
 *
 * msgauth_check runs synchronously and blocks on DNS through struct
 * msgauth_dns: the node runs it on a worker thread with its own libunbound
 * context (msgauth_node.c), unit tests with a table. It does not touch the
 * loop, the log or the view, and may run on several threads at once once
 * msgauth_init has run.
 *
 * Limits: SPF at most 10 DNS-querying terms and 2 void lookups (RFC 7208
 * 4.6.4); at most MSGAUTH_MAX_DKIM signatures checked; RSA keys of at
 * least 1024 bits; ARC chains of at most 50 sets (RFC 8617 4.2.1). */
#ifndef EVM_MSGAUTH_H
#define EVM_MSGAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/dkim_verify.h"

#define MSGAUTH_MAX_DKIM 5
#define MSGAUTH_MAX_RRS 64       /* records of one answer looked at */
#define MSGAUTH_MAX_FROM 8       /* distinct From domains evaluated (msgauth_dmarc.c) */

enum msgauth_dns_status {
	MSGAUTH_DNS_FOUND,       /* n >= 1 records */
	MSGAUTH_DNS_NXDOMAIN,
	MSGAUTH_DNS_NODATA,      /* the name exists, no record of the type */
	MSGAUTH_DNS_TEMPFAIL,    /* timeout, SERVFAIL, DNSSEC bogus, no resolver */
};

struct msgauth_rr {
	unsigned char *data;     /* rdata as on the wire (names uncompressed) */
	size_t len;
};

struct msgauth_dns {
	/* Asks (name, rrtype IN); the records in *rrs_r (free with
	 * msgauth_rrs_free), at most MSGAUTH_MAX_RRS. Returns a status. */
	enum msgauth_dns_status (*query)(void *ctx, const char *name, int rrtype,
					 struct msgauth_rr **rrs_r, size_t *n_r);
	void *ctx;
};

void msgauth_rrs_free(struct msgauth_rr *rrs, size_t n);
/* TXT records of name, each's character-strings joined (RFC 7208 3.3);
 * records holding a NUL are skipped. *txt_r: malloc'ed strings in a
 * malloc'ed array (msgauth_txt_free). */
enum msgauth_dns_status msgauth_txt(const struct msgauth_dns *dns, const char *name,
				    char ***txt_r, size_t *n_r);
void msgauth_txt_free(char **txt, size_t n);

/* Once per process before any check (reads the public suffix list for
 * DMARC's organisational domains). -1 with the reason. */
int msgauth_init(const char *public_suffix_file, const char **error_r);

struct msgauth_request {
	const char *authserv_id;  /* our host name (RFC 8601 2.5) */
	const char *peer_ip;      /* the client's address, text */
	const char *helo;         /* "" when none */
	const char *mail_from;    /* reverse path without <>, "" for the null sender */
	const char *msg;          /* the message as received, CRLF lines */
	size_t len;
	int64_t now;              /* seconds since the epoch, for x= */
	unsigned pct_roll;        /* 0..99 uniformly at random: DMARC pct sampling (RFC 7489 6.6.4) */
	const char *arc_trusted_sealers;  /* "a.example,b.example" (inbound.arc_trusted_sealers); NULL or "": none */
};

enum msgauth_action { MSGAUTH_ACCEPT, MSGAUTH_QUARANTINE, MSGAUTH_REJECT };

struct msgauth_dkim_result {
	char result[12];          /* pass fail neutral temperror permerror */
	char domain[256];         /* d= ("" when unparsable) */
	char selector[64];
	char b[9];                /* header.b: the first 8 characters of b= */
};

struct msgauth_result {
	char spf[12];             /* pass fail softfail neutral none temperror permerror */
	char spf_domain[256];     /* the domain checked */
	int spf_helo;             /* 1: the HELO identity was checked (null sender) */
	struct msgauth_dkim_result dkim[MSGAUTH_MAX_DKIM];
	size_t ndkim;
	char arc[8];              /* pass fail none */
	int arc_instances;        /* a passing chain: its sets (i= of the newest) */
	int arc_oldest_pass;      /* a passing chain: RFC 8617 5.2's oldest-pass (0: every AMS valid) */
	int dmarc_override;       /* a DMARC failure accepted: the ARC chain passed and every
				   * sealer is trusted (RFC 7489 7.2 local policy, RFC 8617 7.2) */
	char dmarc[12];           /* pass fail none temperror permerror */
	char from_domain[256];
	char dmarc_policy[12];    /* none quarantine reject: the published one applied (p or sp) */
	enum msgauth_action action;  /* what DMARC asks for, after pct (and the ARC override) */
};

/* An ARC chain's evaluation (RFC 8617 5.2). */
struct msgauth_arc {
	char result[8];           /* pass fail none */
	int instances;            /* pass: N, the newest set's instance */
	int oldest_pass;          /* pass: the oldest AMS instance valid from the top, 0 when all are */
	int trusted;              /* pass: every ARC-Seal's d= is in the trusted list */
	char sealer[256];         /* pass: the newest seal's d= */
};

/* Runs every check. Never fails: DNS trouble is temperror in the result. */
void msgauth_check(const struct msgauth_request *req, const struct msgauth_dns *dns,
		   struct msgauth_result *res);

/* The field "Authentication-Results: <id>; spf=..; dkim=..; dmarc=..;
 * arc=..\r\n" (RFC 8601 2.2) appended to out. */
void msgauth_ar_field(const char *authserv_id, const struct msgauth_result *res, struct buf *out);

/* The field "Received-SPF: <result> (<authserv_id>: ...) client-ip=..;
 * envelope-from=..; helo=..; receiver=..; identity=mailfrom|helo\r\n"
 * (RFC 7208 9.1) appended to out; values are dot-atoms or quoted strings,
 * never a raw CR or LF. */
void msgauth_received_spf(const struct msgauth_request *req, const struct msgauth_result *res, struct buf *out);

/* The stored message: field, then msg without its Authentication-Results
 * fields whose authserv-id is ours (RFC 8601 5), appended to out. */
void msgauth_rewrite(const char *msg, size_t len, const char *authserv_id, const char *field,
		     struct buf *out);

/* msgauth_spf.c: SPF (RFC 7208) of mail_from, or of postmaster@helo for
 * the null sender (RFC 7208 2.4), through libspf2 with dns as its DNS layer. */
void msgauth_spf_check(const struct msgauth_dns *dns, const char *ip, const char *helo,
		       const char *mail_from, struct msgauth_result *res);
/* msgauth_dkim.c: up to MSGAUTH_MAX_DKIM DKIM-Signature fields, top down. */
void msgauth_dkim_check(const struct msgauth_dns *dns, const char *msg, size_t len, int64_t now,
			struct msgauth_result *res);
/* msgauth_arc.c: the ARC chain's evaluation into *arc; trusted: the
 * comma-separated sealer domains trusted (NULL: none). */
void msgauth_arc_evaluate(const struct msgauth_dns *dns, const char *msg, size_t len, const char *trusted,
			  struct msgauth_arc *arc);
/* Only the result: "pass", "fail" or "none" (RFC 8617 5.2). */
const char *msgauth_arc_check(const struct msgauth_dns *dns, const char *msg, size_t len);
/* The i= of an ARC-Authentication-Results value ("i=N; ..."), 1..50, or -1. */
int msgauth_arc_instance(const char *value, size_t len);
/* msgauth_ar.c: 1 when an Authentication-Results value's authserv-id
 * (RFC 8601 2.2, after CFWS, a token or quoted-string) is id. */
int msgauth_ar_is_ours(const char *value, size_t len, const char *id);
/* msgauth_dmarc.c: DMARC from SPF's and DKIM's results already in res;
 * several From domains: the strictest outcome of them (see the file). */
void msgauth_dmarc_check(const struct msgauth_dns *dns, const struct msgauth_request *req,
			 struct msgauth_result *res);
/* A DKIM or ARC public key of selector._domainkey.domain for alg:
 * 1 found, 0 permanent failure (absent, malformed), -1 temporary. */
int msgauth_key_fetch(const struct msgauth_dns *dns, const char *selector, const char *domain,
		      enum dkim_alg alg, EVP_PKEY **key_r);

#endif
