/* route_report - a route as JSON (see route_report.h). */
#include "gateway/outbound/route_report.h"
#include "gateway/outbound/route_parse.h"

#include <stdio.h>

static json_t *host_json(const struct route_host *h)
{
	json_t *o = json_object(), *addrs = json_array(), *tlsa = json_array();

	for (unsigned i = 0; i < h->naddrs; i++)
		json_array_append_new(addrs, json_string(h->addrs[i]));
	for (unsigned i = 0; i < h->ntlsa; i++) {
		char text[16 + 2 * sizeof h->tlsa[i].data];
		int n = snprintf(text, sizeof text, "%u %u %u ", h->tlsa[i].usage, h->tlsa[i].selector,
				 h->tlsa[i].mtype);

		for (unsigned k = 0; k < h->tlsa[i].len; k++)
			n += snprintf(text + n, sizeof text - (size_t)n, "%02x", h->tlsa[i].data[k]);
		json_array_append_new(tlsa, json_string(text));
	}
	json_object_set_new(o, "name", json_string(h->name));
	json_object_set_new(o, "preference", json_integer(h->preference));
	json_object_set_new(o, "port", json_integer(h->port));
	json_object_set_new(o, "addresses", addrs);
	json_object_set_new(o, "tls", json_string(route_tls_name(h->tls)));
	json_object_set_new(o, "verify_name", json_string(h->verify_name));
	json_object_set_new(o, "tlsa", json_integer(h->ntlsa));
	json_object_set_new(o, "tlsa_records", tlsa);
	json_object_set_new(o, "auth", json_boolean(h->auth));
	if (h->error[0] != '\0')
		json_object_set_new(o, "error", json_string(h->error));
	return o;
}

json_t *route_report_json(const char *domain, enum route_status status, const struct route *r,
			  const char *error)
{
	json_t *o = json_object(), *hosts = json_array();

	json_object_set_new(o, "domain", json_string(r != NULL && r->domain[0] ? r->domain : domain));
	json_object_set_new(o, "status", json_string(status == ROUTE_OK ? "ok" :
						    status == ROUTE_PERMFAIL ? "permanent" : "temporary"));
	if (status != ROUTE_OK)
		json_object_set_new(o, "error", json_string(error ? error : ""));
	if (r != NULL) {
		json_object_set_new(o, "kind", json_string(route_kind_name(r->kind)));
		json_object_set_new(o, "mx_secure", json_boolean(r->mx_secure));
		json_object_set_new(o, "policy", json_string(r->policy));
		json_object_set_new(o, "sts_enforce", json_boolean(r->sts_enforce));
		json_object_set_new(o, "sts_testing", json_boolean(r->sts_testing));
		for (unsigned i = 0; i < r->nhosts; i++)
			json_array_append_new(hosts, host_json(&r->hosts[i]));
	}
	json_object_set_new(o, "hosts", hosts);
	return o;
}
