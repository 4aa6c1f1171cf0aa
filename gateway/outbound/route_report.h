/* route_report - a route as JSON, for `evmaild --route` and admin views. */
#ifndef EVM_ROUTE_REPORT_H
#define EVM_ROUTE_REPORT_H

#include "gateway/outbound/route.h"

#include <jansson.h>

/* {"domain","status":"ok"|"temporary"|"permanent","error"?,"kind",
 *  "mx_secure","policy","sts_enforce","sts_testing","hosts":[{"name",
 *  "preference","port","addresses":[...],"tls","verify_name","tlsa":n,
 *  "tlsa_records":["3 1 1 <hex>",...],"auth","error"?}]}; r may be NULL. */
json_t *route_report_json(const char *domain, enum route_status status, const struct route *r,
			  const char *error);

#endif
