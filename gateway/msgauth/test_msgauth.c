/* test_msgauth - SPF, DKIM, ARC, DMARC and Authentication-Results over a
 * fake DNS table; DKIM and ARC vectors signed offline by dkimpy
 * (test_msgauth_vectors.h); the tag-list parser fed whole, byte by byte
 * and 7 bytes at a time. */
#include "gateway/msgauth/msgauth.h"
#include "gateway/outbound/dns.h"
#include "tests/unit/testlib.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gateway/msgauth/test_msgauth_vectors.h"

struct fake_rr {
	const char *name;
	int type;
	const char *text;        /* TXT text, an address, or "TEMPFAIL" */
};

static const struct fake_rr *zone;

static enum msgauth_dns_status fake_query(void *ctx, const char *name, int type, struct msgauth_rr **rrs_r,
					  size_t *n_r)
{
	int exists = 0;

	(void)ctx;
	*rrs_r = xcalloc(8, sizeof **rrs_r);
	*n_r = 0;
	for (const struct fake_rr *z = zone; z->name != NULL; z++) {
		struct msgauth_rr *r = &(*rrs_r)[*n_r];
		if (strcasecmp(z->name, name) != 0)
			continue;
		exists = 1;
		if (strcmp(z->text, "TEMPFAIL") == 0)
			return MSGAUTH_DNS_TEMPFAIL;
		if (z->type != type || *n_r == 8)
			continue;
		if (type == DNS_T_TXT) {
			size_t len = strlen(z->text), k = 0;
			r->data = xmalloc(len + len / 255 + 2);
			for (size_t i = 0; i < len || i == 0; i += 255) {
				size_t c = len - i < 255 ? len - i : 255;
				r->data[k++] = (unsigned char)c;
				memcpy(r->data + k, z->text + i, c);
				k += c;
			}
			r->len = k;
		} else {
			r->data = xmalloc(16);
			r->len = type == DNS_T_A ? 4 : 16;
			inet_pton(type == DNS_T_A ? AF_INET : AF_INET6, z->text, r->data);
		}
		(*n_r)++;
	}
	return *n_r > 0 ? MSGAUTH_DNS_FOUND : exists ? MSGAUTH_DNS_NODATA : MSGAUTH_DNS_NXDOMAIN;
}

static const struct msgauth_dns fake_dns = { .query = fake_query };

static char rsa_rec[600], ed_rec[100], arc2_rec[600];

static const struct fake_rr base_zone[] = {
	{ "sel._domainkey.example.org", DNS_T_TXT, rsa_rec },
	{ "ed._domainkey.example.org", DNS_T_TXT, ed_rec },
	{ "arc._domainkey.relay.example", DNS_T_TXT, rsa_rec },
	{ "arc._domainkey.hop1.example", DNS_T_TXT, arc2_rec },
	{ "arc._domainkey.hop2.example", DNS_T_TXT, arc2_rec },
	{ "example.org", DNS_T_TXT, "v=spf1 ip4:192.0.2.0/24 a:mail.example.org -all" },
	{ "mail.example.org", DNS_T_A, "198.51.100.7" },
	{ "_dmarc.example.org", DNS_T_TXT, "v=DMARC1; p=reject; sp=quarantine" },
	{ "voids.example", DNS_T_TXT, "v=spf1 a:n1.voids.example a:n2.voids.example a:n3.voids.example -all" },
	{ "soft.example", DNS_T_TXT, "v=spf1 ~all" },
	{ "loop.example", DNS_T_TXT, "v=spf1 ip4:127.0.0.0/8 -all" },
	{ "temp.example", DNS_T_TXT, "TEMPFAIL" },
	{ "_dmarc.half.example", DNS_T_TXT, "v=DMARC1; p=reject; pct=0" },
	{ "half.example", DNS_T_TXT, "v=spf1 -all" },
	{ NULL, 0, NULL },
};

static void setup(void)
{
	snprintf(rsa_rec, sizeof rsa_rec, "v=DKIM1; k=rsa; p=%s", RSA_PUB);
	snprintf(ed_rec, sizeof ed_rec, "v=DKIM1; k=ed25519; p=%s", ED_PUB);
	snprintf(arc2_rec, sizeof arc2_rec, "v=DKIM1; k=rsa; p=%s", ARC2_PUB);
	zone = base_zone;
}

/* The tag list parsed whole, byte by byte and 7 bytes at a time gives the same tags. */
static void test_tags_splits(void)
{
	static const char *in = " v = 1 ;a=rsa-sha256; h = from : to;\r\n\tb=abc\r\n def ; z=|x ;";
	size_t len = strlen(in);

	for (size_t step = 1; step <= len; step = step == 1 ? 7 : step == 7 ? len : len + 1) {
		struct dkim_tags t;
		const char *error = NULL;
		dkim_tags_init(&t);
		for (size_t i = 0; i < len; i += step)
			dkim_tags_feed(&t, in + i, i + step <= len ? step : len - i);
		CHECK(dkim_tags_finish(&t, &error) == 0);
		CHECK_EQ_INT(t.n, 5);
		CHECK_EQ_STR(dkim_tags_get(&t, "v"), "1");
		CHECK_EQ_STR(dkim_tags_get(&t, "h"), "from : to");
		CHECK_EQ_STR(dkim_tags_get(&t, "b"), "abc\r\n def");
		CHECK_EQ_STR(dkim_tags_get(&t, "z"), "|x");
		dkim_tags_free(&t);
	}
}

/* Duplicates, bad names, missing '=' and oversized values are errors. */
static void test_tags_errors(void)
{
	struct dkim_tags t;
	const char *error = NULL;
	char *big = xmalloc(DKIM_TAG_VALUE_MAX + 10);

	CHECK(dkim_tags_parse(&t, "a=1; a=2", 8, &error) < 0);
	dkim_tags_free(&t);
	CHECK(dkim_tags_parse(&t, "1a=1", 4, &error) < 0);
	dkim_tags_free(&t);
	CHECK(dkim_tags_parse(&t, "a=1; b", 6, &error) < 0);
	dkim_tags_free(&t);
	CHECK(dkim_tags_parse(&t, "a=\001", 3, &error) < 0);
	dkim_tags_free(&t);
	memset(big, 'x', DKIM_TAG_VALUE_MAX + 10);
	memcpy(big, "p=", 2);
	CHECK(dkim_tags_parse(&t, big, DKIM_TAG_VALUE_MAX + 10, &error) < 0);
	CHECK_EQ_STR(error, "tag value too long");
	dkim_tags_free(&t);
	free(big);
}

static void run(const char *msg, const char *ip, const char *from, unsigned roll, struct msgauth_result *res)
{
	struct msgauth_request req = { .authserv_id = "mx.test", .peer_ip = ip, .helo = "client.example",
				       .mail_from = from, .msg = msg, .len = strlen(msg), .now = 1800000000,
				       .pct_roll = roll };

	msgauth_check(&req, &fake_dns, res);
}

/* dkimpy's ed25519 relaxed and rsa simple/simple l= signatures pass; SPF passes by ip4. */
static void test_dkim_pass(void)
{
	struct msgauth_result res;

	run(SIGNED_MSG, "192.0.2.9", "alice@example.org", 0, &res);
	CHECK_EQ_INT(res.ndkim, 2);
	CHECK_EQ_STR(res.dkim[0].result, "pass");
	CHECK_EQ_STR(res.dkim[1].result, "pass");
	CHECK_EQ_STR(res.dkim[0].domain, "example.org");
	CHECK_EQ_STR(res.spf, "pass");
	CHECK_EQ_STR(res.dmarc, "pass");
	CHECK_EQ_STR(res.arc, "none");
	CHECK_EQ_INT(res.action, MSGAUTH_ACCEPT);
}

/* A changed header breaks both; text after l= breaks only the full-body one. */
static void test_dkim_altered(void)
{
	struct msgauth_result res;
	struct buf b = BUF_INIT;
	char *p = strdup(SIGNED_MSG), *s = strstr(p, "Subject: hello");

	s[9] = 'j';
	run(p, "203.0.113.1", "alice@example.org", 0, &res);
	CHECK_EQ_STR(res.dkim[0].result, "fail");
	CHECK_EQ_STR(res.dkim[1].result, "fail");
	CHECK_EQ_STR(res.spf, "fail");
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_STR(res.dmarc_policy, "reject");
	CHECK_EQ_INT(res.action, MSGAUTH_REJECT);
	free(p);
	buf_puts(&b, SIGNED_MSG);
	buf_puts(&b, "appended\r\n");
	run(b.data, "203.0.113.1", "alice@example.org", 0, &res);
	CHECK_EQ_STR(res.dkim[0].result, "fail");
	CHECK_EQ_STR(res.dkim[1].result, "pass");
	CHECK_EQ_STR(res.dmarc, "pass");
	buf_free(&b);
}

/* A missing key is permerror, a DNS failure temperror, a revoked key permerror. */
static void test_dkim_keys(void)
{
	static const struct fake_rr z[] = {
		{ "ed._domainkey.example.org", DNS_T_TXT, "TEMPFAIL" },
		{ "sel._domainkey.example.org", DNS_T_TXT, "v=DKIM1; p=" },
		{ NULL, 0, NULL },
	};
	struct msgauth_result res;
	EVP_PKEY *key = NULL;
	const char *error = NULL;

	zone = z;
	run(SIGNED_MSG, "192.0.2.9", "alice@example.org", 0, &res);
	CHECK_EQ_STR(res.dkim[0].result, "temperror");
	CHECK_EQ_STR(res.dkim[1].result, "permerror");
	setup();
	CHECK(dkim_key_parse(ed_rec, strlen(ed_rec), DKIM_ALG_RSA_SHA256, &key, &error) < 0);
	CHECK(dkim_key_parse(rsa_rec, strlen(rsa_rec), DKIM_ALG_RSA_SHA256, &key, &error) == 0);
	EVP_PKEY_free(key);
	CHECK(dkim_key_parse("v=DKIM1; s=tlsrpt; p=AAAA", 25, DKIM_ALG_RSA_SHA256, &key, &error) < 0);
}

/* RFC 8463 A.3: the signed example message verifies with A.2's key record;
 * a changed Subject does not. */
static void test_rfc8463_example(void)
{
	static const char msg[] =
		"DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
		" d=football.example.com; i=@football.example.com;\r\n"
		" q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
		" subject : date : message-id : from : subject : date;\r\n"
		" bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;\r\n"
		" b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==\r\n"
		"From: Joe SixPack <joe@football.example.com>\r\n"
		"To: Suzie Q <suzie@shopping.example.net>\r\n"
		"Subject: Is dinner ready?\r\n"
		"Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
		"Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
		"\r\n"
		"Hi.\r\n"
		"\r\n"
		"We lost the game.  Are you hungry yet?\r\n"
		"\r\n"
		"Joe.\r\n";
	static const struct fake_rr z[] = {
		{ "brisbane._domainkey.football.example.com", DNS_T_TXT,
		  "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=" },
		{ NULL, 0, NULL },
	};
	struct msgauth_result res;
	char *p = strdup(msg);

	zone = z;
	memset(&res, 0, sizeof res);
	msgauth_dkim_check(&fake_dns, msg, strlen(msg), 1800000000, &res);
	CHECK_EQ_INT(res.ndkim, 1);
	CHECK_EQ_STR(res.dkim[0].result, "pass");
	CHECK_EQ_STR(res.dkim[0].b, "/gCrinpc");
	strstr(p, "dinner")[0] = 'D';
	msgauth_dkim_check(&fake_dns, p, strlen(p), 1800000000, &res);
	CHECK_EQ_STR(res.dkim[0].result, "fail");
	free(p);
	setup();
}

/* SPF: ip4, a:, softfail, void lookup limit, temporary failure, null sender (HELO). */
static void test_spf(void)
{
	struct msgauth_result res;

	memset(&res, 0, sizeof res);
	msgauth_spf_check(&fake_dns, "198.51.100.7", "client.example", "x@example.org", &res);
	CHECK_EQ_STR(res.spf, "pass");
	msgauth_spf_check(&fake_dns, "198.51.100.8", "client.example", "x@example.org", &res);
	CHECK_EQ_STR(res.spf, "fail");
	msgauth_spf_check(&fake_dns, "198.51.100.8", "client.example", "x@soft.example", &res);
	CHECK_EQ_STR(res.spf, "softfail");
	msgauth_spf_check(&fake_dns, "198.51.100.8", "client.example", "x@voids.example", &res);
	CHECK_EQ_STR(res.spf, "permerror");
	msgauth_spf_check(&fake_dns, "198.51.100.8", "client.example", "x@temp.example", &res);
	CHECK_EQ_STR(res.spf, "temperror");
	msgauth_spf_check(&fake_dns, "192.0.2.1", "example.org", "", &res);
	CHECK_EQ_STR(res.spf, "pass");
	CHECK_EQ_INT(res.spf_helo, 1);
	CHECK_EQ_STR(res.spf_domain, "example.org");
	msgauth_spf_check(&fake_dns, "192.0.2.1", "client.example", "x@nowhere.example", &res);
	CHECK_EQ_STR(res.spf, "none");
	/* loopback gets no free pass (libspf2's own local policy is bypassed) */
	msgauth_spf_check(&fake_dns, "127.0.0.1", "client.example", "x@example.org", &res);
	CHECK_EQ_STR(res.spf, "fail");
	msgauth_spf_check(&fake_dns, "127.0.0.1", "client.example", "x@loop.example", &res);
	CHECK_EQ_STR(res.spf, "pass");
	msgauth_spf_check(&fake_dns, "127.0.0.1", "client.example", "x@nowhere.example", &res);
	CHECK_EQ_STR(res.spf, "none");
	msgauth_spf_check(&fake_dns, "127.0.0.1", "client.example", "x@temp.example", &res);
	CHECK_EQ_STR(res.spf, "temperror");
}

/* DMARC: sp= for a subdomain found at the organisational domain; pct sampling. */
static void test_dmarc(void)
{
	static const char sub[] = "From: a@news.example.org\r\nSubject: x\r\n\r\nbody\r\n";
	static const char half[] = "From: a@half.example\r\nSubject: x\r\n\r\nbody\r\n";
	static const char two[] = "From: a@half.example, b@example.org\r\n\r\nbody\r\n";
	struct msgauth_result res;

	run(sub, "203.0.113.1", "a@news.example.org", 0, &res);
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_STR(res.dmarc_policy, "quarantine");
	CHECK_EQ_INT(res.action, MSGAUTH_QUARANTINE);
	run(half, "203.0.113.1", "a@half.example", 0, &res);
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_INT(res.action, MSGAUTH_QUARANTINE);   /* pct=0: reject becomes quarantine */
	/* several From domains: the strictest outcome (example.org's reject
	 * beats half.example's quarantine), reported with its domain */
	run(two, "203.0.113.1", "a@half.example", 0, &res);
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_STR(res.dmarc_policy, "reject");
	CHECK_EQ_STR(res.from_domain, "example.org");
	CHECK_EQ_INT(res.action, MSGAUTH_REJECT);
	/* an unprotected co-author does not wash out the protected one */
	run("From: a@nodmarc.example, \"Ann, B\" <b@news.example.org>\r\n\r\nx\r\n", "203.0.113.1",
	    "a@nodmarc.example", 0, &res);
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_STR(res.from_domain, "news.example.org");
	CHECK_EQ_INT(res.action, MSGAUTH_QUARANTINE);
	/* several addresses of one domain: that domain, as for one address */
	run("From: a@half.example, (x, y) \"c,d\" <B@HALF.example>\r\n\r\nx\r\n", "203.0.113.1",
	    "a@half.example", 0, &res);
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_STR(res.from_domain, "half.example");
	CHECK_EQ_INT(res.action, MSGAUTH_QUARANTINE);
	/* several From fields, an address without a domain, too many domains: malformed */
	run("From: a@half.example\r\nFrom: b@example.org\r\n\r\nx\r\n", "203.0.113.1", "", 0, &res);
	CHECK_EQ_STR(res.dmarc, "permerror");
	CHECK_EQ_INT(res.action, MSGAUTH_ACCEPT);
	run("From: a@half.example, nobody\r\n\r\nx\r\n", "203.0.113.1", "", 0, &res);
	CHECK_EQ_STR(res.dmarc, "permerror");
	run("From: a@d1.example, a@d2.example, a@d3.example, a@d4.example, a@d5.example, a@d6.example, "
	    "a@d7.example, a@d8.example, a@d9.example\r\n\r\nx\r\n", "203.0.113.1", "", 0, &res);
	CHECK_EQ_STR(res.dmarc, "permerror");
	run("From: a@nodmarc.example\r\n\r\nx\r\n", "203.0.113.1", "", 0, &res);
	CHECK_EQ_STR(res.dmarc, "none");
}

/* ARC: dkimpy's sealed message passes; a changed seal or a missing set fails. */
static void test_arc(void)
{
	char *p = strdup(ARC_MSG), *cv;

	CHECK_EQ_STR(msgauth_arc_check(&fake_dns, p, strlen(p)), "pass");
	cv = strstr(p, "t=17");
	cv[3] = cv[3] == '9' ? '8' : '9';
	CHECK_EQ_STR(msgauth_arc_check(&fake_dns, p, strlen(p)), "fail");
	free(p);
	p = strdup(ARC_MSG);
	memcpy(strstr(p, "ARC-Seal:"), "XRC-Seal:", 9);
	CHECK_EQ_STR(msgauth_arc_check(&fake_dns, p, strlen(p)), "fail");
	free(p);
	CHECK_EQ_INT(msgauth_arc_instance(" i = 12 ; x", 11), 12);
	CHECK_EQ_INT(msgauth_arc_instance("i=51;", 5), -1);
	CHECK_EQ_INT(msgauth_arc_instance("i=1", 3), -1);
}

/* RFC 8617 5.2: oldest-pass is 0 when every AMS validates, else the
 * instance above the newest one that fails; the sealers' trust. */
static void test_arc_oldest_pass(void)
{
	struct msgauth_arc arc;
	char *p;

	msgauth_arc_evaluate(&fake_dns, ARC_MSG, strlen(ARC_MSG), NULL, &arc);
	CHECK_EQ_STR(arc.result, "pass");
	CHECK_EQ_INT(arc.instances, 1);
	CHECK_EQ_INT(arc.oldest_pass, 0);
	CHECK_EQ_INT(arc.trusted, 0);
	CHECK_EQ_STR(arc.sealer, "relay.example");
	msgauth_arc_evaluate(&fake_dns, ARC_MSG, strlen(ARC_MSG), "other.example, RELAY.example", &arc);
	CHECK_EQ_INT(arc.trusted, 1);
	msgauth_arc_evaluate(&fake_dns, ARC_MSG, strlen(ARC_MSG), "relay.example.evil,elay.example", &arc);
	CHECK_EQ_INT(arc.trusted, 0);
	/* hop2 changed the Subject: its own AMS holds, hop1's does not */
	msgauth_arc_evaluate(&fake_dns, ARC2_MSG, strlen(ARC2_MSG), "hop2.example", &arc);
	CHECK_EQ_STR(arc.result, "pass");
	CHECK_EQ_INT(arc.instances, 2);
	CHECK_EQ_INT(arc.oldest_pass, 2);
	CHECK_EQ_STR(arc.sealer, "hop2.example");
	CHECK_EQ_INT(arc.trusted, 0);      /* hop1 is not trusted */
	msgauth_arc_evaluate(&fake_dns, ARC2_MSG, strlen(ARC2_MSG), "hop1.example,hop2.example", &arc);
	CHECK_EQ_INT(arc.trusted, 1);
	/* a change after hop2 sealed breaks the newest AMS: the chain fails */
	p = strdup(ARC2_MSG);
	memcpy(strstr(p, "see you"), "SEE", 3);
	msgauth_arc_evaluate(&fake_dns, p, strlen(p), "hop1.example,hop2.example", &arc);
	CHECK_EQ_STR(arc.result, "fail");
	CHECK_EQ_INT(arc.trusted, 0);
	free(p);
}

/* A DMARC failure with a passing chain from trusted sealers is accepted,
 * and the field says so; untrusted sealers change nothing. */
static void test_arc_override(void)
{
	struct msgauth_request req = { .authserv_id = "mx.test", .peer_ip = "203.0.113.1", .helo = "relay.example",
				       .mail_from = "bounce@relay.example", .now = 1800000000 };
	struct msgauth_result res;
	struct buf out = BUF_INIT;
	char *p = strdup(ARC_MSG), *b;

	/* both DKIM signatures broken (the seal and AMS do not cover them) */
	for (b = p; (b = strstr(b, " b=")) != NULL; b += 3)
		if (b > strstr(p, "DKIM-Signature:"))
			b[3] = b[3] == 'A' ? 'B' : 'A';
	req.msg = p;
	req.len = strlen(p);
	msgauth_check(&req, &fake_dns, &res);
	CHECK_EQ_STR(res.arc, "pass");
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_INT(res.action, MSGAUTH_REJECT);
	CHECK_EQ_INT(res.dmarc_override, 0);
	req.arc_trusted_sealers = "relay.example";
	msgauth_check(&req, &fake_dns, &res);
	CHECK_EQ_STR(res.dmarc, "fail");
	CHECK_EQ_INT(res.action, MSGAUTH_ACCEPT);
	CHECK_EQ_INT(res.dmarc_override, 1);
	msgauth_ar_field("mx.test", &res, &out);
	CHECK(strstr(out.data, "dmarc=fail (p=reject; policy.override=trusted_forwarder arc=pass) "
			       "header.from=example.org;\r\n\tarc=pass (i=1) header.oldest-pass=0\r\n") != NULL);
	buf_free(&out);
	/* an intact message passes DMARC: nothing to override */
	req.msg = ARC_MSG;
	req.len = strlen(ARC_MSG);
	msgauth_check(&req, &fake_dns, &res);
	CHECK_EQ_STR(res.dmarc, "pass");
	CHECK_EQ_INT(res.dmarc_override, 0);
	free(p);
}

/* Our Authentication-Results copies go, others stay; ours is first. */
static void test_ar(void)
{
	static const char msg[] = "Authentication-Results: mx.test; spf=pass\r\n"
				  "Authentication-Results: (c) \"MX.test\" ; dkim=pass\r\n"
				  "Authentication-Results: mx.test.evil; spf=pass\r\n"
				  "Authentication-Results: other;\r\n spf=pass\r\n"
				  "Subject: x\r\n\r\nAuthentication-Results: mx.test; body\r\n";
	struct buf out = BUF_INIT;

	CHECK(msgauth_ar_is_ours(" mx.test;", 9, "mx.test"));
	CHECK(!msgauth_ar_is_ours(" mx.tes", 7, "mx.test"));
	CHECK(msgauth_ar_is_ours("(a (nested) comment) mx.test", 28, "mx.test"));
	msgauth_rewrite(msg, strlen(msg), "mx.test", "Authentication-Results: mx.test; spf=none\r\n", &out);
	CHECK_EQ_STR(out.data, "Authentication-Results: mx.test; spf=none\r\n"
			       "Authentication-Results: mx.test.evil; spf=pass\r\n"
			       "Authentication-Results: other;\r\n spf=pass\r\n"
			       "Subject: x\r\n\r\nAuthentication-Results: mx.test; body\r\n");
	buf_free(&out);
}

/* Received-SPF (RFC 7208 9.1, quoted as in its examples): result, comment, key-value pairs; values
 * that are not dot-atoms are quoted, and nothing breaks the field. */
static void test_received_spf(void)
{
	struct msgauth_request req = { .authserv_id = "mx.test", .peer_ip = "192.0.2.9", .helo = "client.example",
				       .mail_from = "alice@example.org" };
	struct msgauth_result res;
	struct buf out = BUF_INIT;

	run(SIGNED_MSG, "192.0.2.9", "alice@example.org", 0, &res);
	msgauth_received_spf(&req, &res, &out);
	CHECK_EQ_STR(out.data, "Received-SPF: pass (mx.test: domain of example.org)\r\n"
			       "\tclient-ip=192.0.2.9; envelope-from=\"alice@example.org\"; helo=client.example;\r\n"
			       "\treceiver=mx.test; identity=mailfrom\r\n");
	buf_truncate(&out, 0);
	req.peer_ip = "2001:db8::1";
	req.mail_from = "";
	req.helo = "odd\"helo\r\n";
	snprintf(res.spf, sizeof res.spf, "none");
	snprintf(res.spf_domain, sizeof res.spf_domain, "x)y");
	res.spf_helo = 1;
	msgauth_received_spf(&req, &res, &out);
	CHECK_EQ_STR(out.data, "Received-SPF: none (mx.test: domain of the sender)\r\n"
			       "\tclient-ip=\"2001:db8::1\"; envelope-from=\"\"; helo=\"odd\\\"helo\";\r\n"
			       "\treceiver=mx.test; identity=helo\r\n");
	buf_free(&out);
}

/* The field names every method and folds its lines. */
static void test_ar_field(void)
{
	struct msgauth_result res;
	struct buf out = BUF_INIT;

	run(SIGNED_MSG, "192.0.2.9", "alice@example.org", 0, &res);
	msgauth_ar_field("mx.test", &res, &out);
	CHECK(strncmp(out.data, "Authentication-Results: mx.test;\r\n\tspf=pass smtp.mailfrom=example.org;\r\n"
				"\tdkim=pass header.d=example.org header.b=", 111) == 0);
	CHECK(strstr(out.data, "dmarc=pass (p=none) header.from=example.org;\r\n\tarc=none\r\n") != NULL);
	buf_free(&out);
}

int main(void)
{
	const char *error = NULL;

	if (msgauth_init("/usr/share/publicsuffix/public_suffix_list.dat", &error) < 0) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	setup();
	test_run("test_tags_splits", test_tags_splits);
	test_run("test_tags_errors", test_tags_errors);
	test_run("test_dkim_pass", test_dkim_pass);
	test_run("test_dkim_altered", test_dkim_altered);
	test_run("test_dkim_keys", test_dkim_keys);
	test_run("test_rfc8463_example", test_rfc8463_example);
	test_run("test_spf", test_spf);
	test_run("test_dmarc", test_dmarc);
	test_run("test_received_spf", test_received_spf);
	test_run("test_arc", test_arc);
	test_run("test_arc_oldest_pass", test_arc_oldest_pass);
	test_run("test_arc_override", test_arc_override);
	test_run("test_ar", test_ar);
	test_run("test_ar_field", test_ar_field);
	return test_done();
}
