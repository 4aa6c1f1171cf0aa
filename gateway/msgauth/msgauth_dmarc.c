/* msgauth_dmarc - DMARC (RFC 7489) through libopendmarc: the From domain,
 * its policy record (looked up here through struct msgauth_dns, at the
 * From domain and then at its organisational domain, RFC 7489 6.6.3, and
 * handed to the library), identifier alignment of SPF and DKIM, p/sp and
 * pct sampling (RFC 7489 6.6.4: a message not sampled gets the next
 * weaker policy). */
#include "gateway/msgauth/msgauth.h"
#include "common/address.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opendmarc/dmarc.h>

/* libopendmarc exports it without declaring it in dmarc.h. */
int opendmarc_get_tld(u_char *domain, u_char *tld, size_t tld_len);

/* The domain of one address ("Name <a@d>", "a@d (c)") normalised into
 * out; -1 without a valid domain. piece is modified. */
static int address_domain(char *piece, char *out)
{
	char *addr = strrchr(piece, '<'), *end, *at;
	const char *error = NULL;

	addr = addr != NULL ? addr + 1 : piece;
	if ((end = strchr(addr, '>')) != NULL)
		*end = '\0';
	if ((at = strrchr(addr, '@')) == NULL)
		return -1;
	end = at + 1 + strcspn(at + 1, " \t\r\n();");
	*end = '\0';
	return evm_domain_normalize(at + 1, out, &error);
}

/* The distinct domains of the From field's addresses (RFC 7489 6.6.1), at
 * most MSGAUTH_MAX_FROM; -1 when there is no From, several From fields (a
 * malformed message), an address without a valid domain, or too many. */
static int from_domains(const char *msg, size_t len, char out[][256], size_t *n_r)
{
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof *f);
	size_t body = 0, n = dkim_header_split(msg, len, f, DKIM_MAX_FIELDS, &body), nfrom = 0, vl = 0;
	char value[1000], *piece;
	int quoted = 0, angle = 0, comment = 0;

	*n_r = 0;
	value[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *c;
		if (f[i].name_len != 4 || strncasecmp(f[i].p, "From", 4) != 0)
			continue;
		nfrom++;
		c = memchr(f[i].p, ':', f[i].len) + 1;
		vl = f[i].len - (size_t)(c - f[i].p);
		if (vl >= sizeof value)
			vl = 0;
		memcpy(value, c, vl);
		value[vl] = '\0';
	}
	free(f);
	if (nfrom != 1 || value[0] == '\0')
		return -1;
	/* split at the commas outside quotes, angle brackets and comments */
	piece = value;
	for (char *p = value;; p++) {
		if (*p == '\\' && (quoted || comment > 0) && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"' && comment == 0)
			quoted = !quoted;
		else if (!quoted && *p == '(' && comment < 8)
			comment++;
		else if (!quoted && *p == ')' && comment > 0)
			comment--;
		else if (!quoted && comment == 0 && *p == '<')
			angle = 1;
		else if (!quoted && comment == 0 && *p == '>')
			angle = 0;
		if (*p != '\0' && (quoted || angle || comment > 0 || *p != ','))
			continue;
		{
			char domain[256], last = *p;
			size_t k;

			*p = '\0';
			if (address_domain(piece, domain) < 0)
				return -1;
			for (k = 0; k < *n_r && strcmp(out[k], domain) != 0; k++)
				;
			if (k == *n_r) {
				if (*n_r == MSGAUTH_MAX_FROM)
					return -1;
				memcpy(out[(*n_r)++], domain, sizeof domain);
			}
			if (last == '\0')
				break;
			piece = p + 1;
		}
	}
	return *n_r > 0 ? 0 : -1;
}

/* The one "v=DMARC1" record of _dmarc.domain (RFC 7489 6.6.3): 1 with
 * *rec_r (malloc'ed), 0 none, -1 temporary failure. */
static int dmarc_record(const struct msgauth_dns *dns, const char *domain, char **rec_r)
{
	char name[300], **txt = NULL;
	size_t n = 0, found = 0;
	enum msgauth_dns_status st;

	*rec_r = NULL;
	if ((size_t)snprintf(name, sizeof name, "_dmarc.%s", domain) >= sizeof name)
		return 0;
	st = msgauth_txt(dns, name, &txt, &n);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(txt[i], "v=DMARC1", 8) != 0 || strchr(" \t;", txt[i][8]) == NULL)
			continue;
		found++;
		free(*rec_r);
		*rec_r = strdup(txt[i]);
	}
	msgauth_txt_free(txt, n);
	if (found != 1) {
		free(*rec_r);
		*rec_r = NULL;
	}
	return st == MSGAUTH_DNS_TEMPFAIL ? -1 : found == 1;
}

static int spf_outcome(const char *r)
{
	if (strcmp(r, "pass") == 0)
		return DMARC_POLICY_SPF_OUTCOME_PASS;
	if (strcmp(r, "temperror") == 0)
		return DMARC_POLICY_SPF_OUTCOME_TMPFAIL;
	if (strcmp(r, "fail") == 0 || strcmp(r, "softfail") == 0)
		return DMARC_POLICY_SPF_OUTCOME_FAIL;
	return DMARC_POLICY_SPF_OUTCOME_NONE;
}

static int dkim_outcome(const char *r)
{
	if (strcmp(r, "pass") == 0)
		return DMARC_POLICY_DKIM_OUTCOME_PASS;
	if (strcmp(r, "temperror") == 0)
		return DMARC_POLICY_DKIM_OUTCOME_TMPFAIL;
	return DMARC_POLICY_DKIM_OUTCOME_FAIL;
}

/* One From domain's evaluation. */
struct dmarc_one {
	char result[12];             /* pass fail none temperror permerror */
	char policy[12];             /* the published policy applied */
	enum msgauth_action action;
};

/* DMARC for the From domain dom, with the SPF and DKIM results in res. */
static void dmarc_one(const struct msgauth_dns *dns, const struct msgauth_request *req,
		      const struct msgauth_result *res, const char *dom, struct dmarc_one *one)
{
	char org[256] = "", *rec = NULL;
	const char *used;
	DMARC_POLICY_T *pctx = NULL;
	int r, policy, p = 0, pct = 100, dkim_al = 0, spf_al = 0;

	one->action = MSGAUTH_ACCEPT;
	snprintf(one->policy, sizeof one->policy, "none");
	if (opendmarc_get_tld((u_char *)dom, (u_char *)org, sizeof org) != 0 || org[0] == '\0')
		snprintf(org, sizeof org, "%s", dom);
	r = dmarc_record(dns, dom, &rec);
	used = dom;
	if (r == 0 && strcasecmp(org, dom) != 0) {
		r = dmarc_record(dns, org, &rec);
		used = org;
	}
	if (r <= 0) {
		snprintf(one->result, sizeof one->result, r < 0 ? "temperror" : "none");
		return;
	}
	pctx = opendmarc_policy_connect_init((u_char *)req->peer_ip,
					     strchr(req->peer_ip, ':') != NULL ? DMARC_POLICY_IP_TYPE_IPV6
									       : DMARC_POLICY_IP_TYPE_IPV4);
	if (pctx == NULL ||
	    opendmarc_policy_store_from_domain(pctx, (u_char *)dom) != DMARC_PARSE_OKAY ||
	    opendmarc_policy_store_dmarc(pctx, (u_char *)rec, (u_char *)dom,
					 used == org ? (u_char *)org : NULL) != DMARC_PARSE_OKAY) {
		snprintf(one->result, sizeof one->result, "permerror");
		goto out;
	}
	opendmarc_policy_store_spf(pctx, (u_char *)res->spf_domain, spf_outcome(res->spf),
				   res->spf_helo ? DMARC_POLICY_SPF_ORIGIN_HELO : DMARC_POLICY_SPF_ORIGIN_MAILFROM,
				   NULL);
	for (size_t i = 0; i < res->ndkim; i++)
		if (res->dkim[i].domain[0] != '\0')
			opendmarc_policy_store_dkim(pctx, (u_char *)res->dkim[i].domain,
						    (u_char *)res->dkim[i].selector,
						    dkim_outcome(res->dkim[i].result), NULL);
	policy = opendmarc_get_policy_to_enforce(pctx);
	opendmarc_policy_fetch_alignment(pctx, &dkim_al, &spf_al);
	opendmarc_policy_fetch_pct(pctx, &pct);
	if (dkim_al == DMARC_POLICY_DKIM_ALIGNMENT_PASS || spf_al == DMARC_POLICY_SPF_ALIGNMENT_PASS ||
	    policy == DMARC_POLICY_PASS) {
		snprintf(one->result, sizeof one->result, "pass");
		goto out;
	}
	snprintf(one->result, sizeof one->result, "fail");
	/* the policy that applies: sp for a subdomain of the record's domain */
	if (policy == DMARC_POLICY_REJECT)
		p = DMARC_RECORD_P_REJECT;
	else if (policy == DMARC_POLICY_QUARANTINE)
		p = DMARC_RECORD_P_QUARANTINE;
	else
		p = DMARC_RECORD_P_NONE;
	snprintf(one->policy, sizeof one->policy, "%s",
		 p == DMARC_RECORD_P_REJECT ? "reject" : p == DMARC_RECORD_P_QUARANTINE ? "quarantine" : "none");
	if (pct < 0 || pct > 100)
		pct = 100;
	if (req->pct_roll >= (unsigned)pct)   /* not sampled: one step weaker */
		p = p == DMARC_RECORD_P_REJECT ? DMARC_RECORD_P_QUARANTINE : DMARC_RECORD_P_NONE;
	one->action = p == DMARC_RECORD_P_REJECT ? MSGAUTH_REJECT
		      : p == DMARC_RECORD_P_QUARANTINE ? MSGAUTH_QUARANTINE : MSGAUTH_ACCEPT;
out:
	free(rec);
	if (pctx != NULL)
		opendmarc_policy_connect_shutdown(pctx);
}

/* How strongly an outcome weighs when several From domains differ. */
static int result_rank(const char *r)
{
	static const char *const order[] = { "pass", "none", "permerror", "temperror", "fail" };

	for (int i = 4; i > 0; i--)
		if (strcmp(r, order[i]) == 0)
			return i;
	return 0;
}

/* RFC 7489 6.6.1 leaves a From field with several addresses to the
 * receiver. Ours: when their domains differ, each is evaluated and the
 * strictest outcome applies (the strictest action, then the worst result),
 * so adding a second author from an unprotected domain cannot wash out a
 * p=reject; the Authentication-Results names the deciding domain. Several
 * From fields stay a permerror (a malformed message, RFC 5322 3.6). */
void msgauth_dmarc_check(const struct msgauth_dns *dns, const struct msgauth_request *req,
			 struct msgauth_result *res)
{
	char domains[MSGAUTH_MAX_FROM][256];
	struct dmarc_one best, one;
	size_t n = 0, chosen = 0;

	res->action = MSGAUTH_ACCEPT;
	snprintf(res->dmarc_policy, sizeof res->dmarc_policy, "none");
	if (from_domains(req->msg, req->len, domains, &n) < 0) {
		snprintf(res->dmarc, sizeof res->dmarc, "permerror");
		return;
	}
	dmarc_one(dns, req, res, domains[0], &best);
	for (size_t i = 1; i < n; i++) {
		dmarc_one(dns, req, res, domains[i], &one);
		if (one.action > best.action ||
		    (one.action == best.action && result_rank(one.result) > result_rank(best.result))) {
			best = one;
			chosen = i;
		}
	}
	snprintf(res->from_domain, sizeof res->from_domain, "%s", domains[chosen]);
	snprintf(res->dmarc, sizeof res->dmarc, "%s", best.result);
	snprintf(res->dmarc_policy, sizeof res->dmarc_policy, "%s", best.policy);
	res->action = best.action;
}
