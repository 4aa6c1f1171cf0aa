/* msgauth_spf - SPF (RFC 7208) through libspf2, whose DNS layer
 * (SPF_dns_server_t) is ours: every query goes to struct msgauth_dns, so
 * the node's libunbound resolver answers, never libresolv. libspf2 keeps
 * RFC 7208 4.6.4's limit of 10 DNS-querying terms; the limit of 2 void
 * lookups is counted here (libspf2 predates it). */
#include "gateway/msgauth/msgauth.h"
#include "gateway/outbound/dns.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netinet/in.h>

#include <spf2/spf.h>
#include <spf2/spf_dns.h>
#include <spf2/spf_dns_rr.h>

#define SPF_MAX_VOID 2      /* RFC 7208 4.6.4 */
#define SPF_MAX_TERMS 10

struct spf_layer {
	const struct msgauth_dns *dns;
	unsigned voids;
	int temp;               /* a temporary DNS failure happened */
};

/* A wire-format name (uncompressed) as text into out; -1 when malformed. */
static int wire_name(const unsigned char *d, size_t len, char *out, size_t size)
{
	size_t i = 0, k = 0;

	while (i < len && d[i] != 0) {
		size_t n = d[i++];
		if (n > 63 || n > len - i || k + n + 2 > size)
			return -1;
		if (k > 0)
			out[k++] = '.';
		memcpy(out + k, d + i, n);
		k += n;
		i += n;
	}
	if (i >= len)
		return -1;
	out[k] = '\0';
	return 0;
}

/* Puts one record of type into slot idx of rr; 0 when it does not fit the type. */
static int rr_put(SPF_dns_rr_t *rr, int idx, ns_type type, const struct msgauth_rr *r)
{
	char name[256];
	size_t n;

	switch (type) {
	case ns_t_a:
		if (r->len != 4 || SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in_addr)) != SPF_E_SUCCESS)
			return 0;
		memcpy(&rr->rr[idx]->a, r->data, 4);
		return 1;
	case ns_t_aaaa:
		if (r->len != 16 || SPF_dns_rr_buf_realloc(rr, idx, sizeof(struct in6_addr)) != SPF_E_SUCCESS)
			return 0;
		memcpy(&rr->rr[idx]->aaaa, r->data, 16);
		return 1;
	case ns_t_mx:
	case ns_t_ptr: {
		size_t skip = type == ns_t_mx ? 2 : 0;    /* MX: preference first */
		if (r->len <= skip || wire_name(r->data + skip, r->len - skip, name, sizeof name) < 0)
			return 0;
		n = strlen(name) + 1;
		if (SPF_dns_rr_buf_realloc(rr, idx, n) != SPF_E_SUCCESS)
			return 0;
		memcpy(rr->rr[idx]->mx, name, n);
		return 1;
	}
	case ns_t_txt: {
		size_t i = 0, k = 0;
		if (SPF_dns_rr_buf_realloc(rr, idx, r->len + 1) != SPF_E_SUCCESS)
			return 0;
		while (i < r->len) {
			size_t c = r->data[i++];
			if (c > r->len - i)
				return 0;
			memcpy(rr->rr[idx]->txt + k, r->data + i, c);
			k += c;
			i += c;
		}
		rr->rr[idx]->txt[k] = '\0';
		return strlen(rr->rr[idx]->txt) == k;
	}
	default:
		return 0;
	}
}

/* libspf2's lookup: the answer of our resolver in its form. */
static SPF_dns_rr_t *layer_lookup(SPF_dns_server_t *server, const char *domain, ns_type type, int cache)
{
	struct spf_layer *l = server->hook;
	struct msgauth_rr *rrs = NULL;
	size_t n = 0;
	enum msgauth_dns_status st;
	SPF_dns_rr_t *rr;
	int k = 0;

	(void)cache;
	if (l->voids > SPF_MAX_VOID)
		return SPF_dns_rr_new_init(server, domain, type, 0, HOST_NOT_FOUND);
	st = l->dns->query(l->dns->ctx, domain, (int)type, &rrs, &n);
	if (st == MSGAUTH_DNS_TEMPFAIL) {
		l->temp = 1;
		msgauth_rrs_free(rrs, n);
		return SPF_dns_rr_new_init(server, domain, type, 0, TRY_AGAIN);
	}
	rr = SPF_dns_rr_new_init(server, domain, type, 0, NETDB_SUCCESS);
	for (size_t i = 0; rr != NULL && st == MSGAUTH_DNS_FOUND && i < n && i < MSGAUTH_MAX_RRS; i++)
		k += rr_put(rr, k, type, &rrs[i]);
	msgauth_rrs_free(rrs, n);
	if (rr == NULL)
		return NULL;
	rr->num_rr = k;
	if (k == 0) {
		rr->herrno = st == MSGAUTH_DNS_NXDOMAIN ? HOST_NOT_FOUND : NO_DATA;
		l->voids++;
	}
	return rr;
}

static const char *result_name(SPF_result_t r)
{
	switch (r) {
	case SPF_RESULT_PASS: return "pass";
	case SPF_RESULT_FAIL: return "fail";
	case SPF_RESULT_SOFTFAIL: return "softfail";
	case SPF_RESULT_NEUTRAL: return "neutral";
	case SPF_RESULT_NONE: return "none";
	case SPF_RESULT_TEMPERROR: return "temperror";
	default: return "permerror";
	}
}

/* libspf2 passes loopback clients (127/8, ::1) by a local policy of its
 * own (SPF_REASON_LOCALHOST); RFC 7208 has no such rule, so for them the
 * record is fetched and interpreted by hand, as query_mailfrom would. */
static SPF_response_t *query_loopback(SPF_server_t *server, SPF_request_t *req, SPF_response_t *resp)
{
	SPF_record_t *record = NULL;
	SPF_errcode_t err;

	SPF_response_free(resp);
	resp = SPF_response_new(req);
	req->cur_dom = req->env_from_dp;
	err = SPF_server_get_record(server, req, resp, &record);
	if (err == SPF_E_SUCCESS && record != NULL) {
		resp->spf_record_exp = record;   /* for exp= (RFC 7208 6.2), as libspf2 does */
		SPF_record_interpret(record, req, resp, 0);
		resp->spf_record_exp = NULL;
	}
	else    /* as SPF_request_query_record maps them */
		SPF_i_done(resp, err == SPF_E_DNS_ERROR ? SPF_RESULT_TEMPERROR
				 : err == SPF_E_NOT_SPF ? SPF_RESULT_NONE : SPF_RESULT_PERMERROR,
			   SPF_REASON_FAILURE, err);
	if (record != NULL)
		SPF_record_free(record);
	return resp;
}

void msgauth_spf_check(const struct msgauth_dns *dns, const char *ip, const char *helo,
		       const char *mail_from, struct msgauth_result *res)
{
	struct spf_layer l = { .dns = dns };
	SPF_dns_server_t layer = { .lookup = layer_lookup, .name = "evmail", .hook = &l };
	SPF_server_t *server = NULL;
	SPF_request_t *req = NULL;
	SPF_response_t *resp = NULL;
	char from[600];
	const char *at, *result = "temperror";
	int bad_ip;

	res->spf_helo = mail_from[0] == '\0';
	if (res->spf_helo)
		snprintf(from, sizeof from, "postmaster@%s", helo);
	else
		snprintf(from, sizeof from, "%s", mail_from);
	at = strrchr(from, '@');
	snprintf(res->spf_domain, sizeof res->spf_domain, "%s", at != NULL ? at + 1 : from);
	if (res->spf_helo && helo[0] == '\0') {
		snprintf(res->spf, sizeof res->spf, "none");
		return;
	}
	server = SPF_server_new_dns(&layer, 0);
	if (server == NULL)
		goto out;
	SPF_server_set_max_dns_mech(server, SPF_MAX_TERMS);
	req = SPF_request_new(server);
	bad_ip = strchr(ip, ':') != NULL ? SPF_request_set_ipv6_str(req, ip) != SPF_E_SUCCESS
					 : SPF_request_set_ipv4_str(req, ip) != SPF_E_SUCCESS;
	if (bad_ip || (helo[0] != '\0' && SPF_request_set_helo_dom(req, helo) != SPF_E_SUCCESS) ||
	    SPF_request_set_env_from(req, from) != 0) {
		result = "permerror";
		goto out;
	}
	SPF_request_query_mailfrom(req, &resp);
	if (resp != NULL && SPF_response_reason(resp) == SPF_REASON_LOCALHOST)
		resp = query_loopback(server, req, resp);
	result = resp != NULL ? result_name(SPF_response_result(resp)) : "temperror";
	if (l.voids > SPF_MAX_VOID)
		result = "permerror";     /* RFC 7208 4.6.4 */
	else if (l.temp && strcmp(result, "pass") != 0)
		result = "temperror";
out:
	snprintf(res->spf, sizeof res->spf, "%s", result);
	SPF_response_free(resp);
	SPF_request_free(req);
	if (server != NULL)
		SPF_server_free(server);
}
