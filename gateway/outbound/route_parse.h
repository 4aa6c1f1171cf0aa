/* route_parse - the pure parts of routing: DNS rdata decoding, MX order
 * (RFC 5321 5.1), TLSA usability (RFC 7672), relay/route configuration
 * syntax. No I/O, no clock; unit-tested in test_route_parse.c. */
#ifndef EVM_ROUTE_PARSE_H
#define EVM_ROUTE_PARSE_H

#include "gateway/outbound/route.h"

#include <stddef.h>
#include <stdint.h>

struct route_mx {
	uint16_t pref;
	char name[ROUTE_NAME_MAX + 1];   /* lower case, no trailing dot; "" = the root (null MX) */
};

/* A name as a lower-case A-label text without the trailing dot ("" for
 * the root): 1 when valid (LDH labels of 1..63 octets, at most 253). */
int route_domain_normalize(const char *in, char out[ROUTE_NAME_MAX + 1]);
/* Uncompressed wire-format name at rd[*off] -> text ("" = root). */
int route_wire_name(const unsigned char *rd, size_t len, size_t *off, char out[ROUTE_NAME_MAX + 1]);
/* MX rdata (RFC 1035 3.3.9). */
int route_mx_parse(const unsigned char *rd, size_t len, struct route_mx *mx);
/* Ascending preference; equal preferences shuffled with *seed (xorshift32,
 * nonzero), so a fixed seed gives a fixed order (RFC 5321 5.1). Duplicate
 * names keep their first (lowest preference) place. Returns the new count. */
size_t route_mx_order(struct route_mx *mx, size_t n, uint32_t *seed);
/* A or AAAA rdata -> numeric text. */
int route_addr_text(int rrtype, const unsigned char *rd, size_t len, char out[48]);
/* TLSA rdata (RFC 6698 2.1): 1 usable for SMTP (RFC 7672 3.1: usage 2 or 3,
 * selector 0 or 1, mtype 1 (32 octets) or 2 (64 octets)), 0 unusable,
 * -1 malformed (also unusable). */
int route_tlsa_parse(const unsigned char *rd, size_t len, struct route_tlsa *t);
/* "host", "host:port", "[host]:port", "[v6]:port" -> host and port
 * (default_port when absent). */
int route_target_parse(const char *s, uint16_t default_port, char host[ROUTE_NAME_MAX + 1],
		       uint16_t *port_r, const char **error_r);
/* The target of domain in a "domain=target,..." list: 1 found (copied to
 * target), 0 not found, -1 the list is malformed (error_r). Domains are
 * compared without case and trailing dot. */
int route_transport_find(const char *routes, const char *domain, char *target, size_t size,
			 const char **error_r);
/* "none", "may", "encrypt", "verify". */
int route_tls_parse(const char *s, enum route_tls *tls_r);
const char *route_tls_name(enum route_tls tls);
const char *route_kind_name(enum route_kind kind);

#endif
