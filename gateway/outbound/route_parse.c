/* route_parse - the pure parts of routing (see route_parse.h). */
#include "gateway/outbound/route_parse.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int route_domain_normalize(const char *in, char out[ROUTE_NAME_MAX + 1])
{
	size_t len = strlen(in), label = 0;

	if (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > 253)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == '.') {
			if (label == 0 || in[i - 1] == '-')
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '_' || (c == '-' && label > 0)) {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
		out[i] = (char)tolower(c);
	}
	if (in[len - 1] == '-')
		return 0;
	out[len] = '\0';
	return 1;
}

int route_wire_name(const unsigned char *rd, size_t len, size_t *off, char out[ROUTE_NAME_MAX + 1])
{
	size_t o = *off, n = 0;

	for (;;) {
		size_t l;

		if (o >= len)
			return 0;
		l = rd[o++];
		if (l == 0)
			break;
		if (l > 63 || o + l > len || n + l + 1 > 254)
			return 0;       /* compression pointers never appear in rdata here */
		if (n > 0)
			out[n++] = '.';
		for (size_t i = 0; i < l; i++) {
			unsigned char c = rd[o + i];

			if (!isalnum(c) && c != '-' && c != '_')
				return 0;
			out[n++] = (char)tolower(c);
		}
		o += l;
	}
	out[n] = '\0';
	*off = o;
	return 1;
}

int route_mx_parse(const unsigned char *rd, size_t len, struct route_mx *mx)
{
	size_t off = 2;

	if (len < 3)
		return 0;
	mx->pref = (uint16_t)(rd[0] << 8 | rd[1]);
	return route_wire_name(rd, len, &off, mx->name) && off == len;
}

static uint32_t xorshift32(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

static int mx_cmp(const void *a, const void *b)
{
	const struct route_mx *x = a, *y = b;

	return (int)x->pref - (int)y->pref;
}

size_t route_mx_order(struct route_mx *mx, size_t n, uint32_t *seed)
{
	size_t out = 0;

	/* qsort is not stable; the shuffle below makes that irrelevant. */
	qsort(mx, n, sizeof *mx, mx_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && mx[j].pref == mx[i].pref)
			j++;
		for (size_t k = j - 1; k > i; k--) {     /* Fisher-Yates within [i, j) */
			size_t r = i + xorshift32(seed) % (k - i + 1);
			struct route_mx t = mx[k];

			mx[k] = mx[r];
			mx[r] = t;
		}
		i = j;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < out && strcmp(mx[k].name, mx[i].name) != 0; k++)
			;
		if (k == out)
			mx[out++] = mx[i];
	}
	return out;
}

int route_addr_text(int rrtype, const unsigned char *rd, size_t len, char out[48])
{
	if (rrtype == 1 && len == 4)
		return inet_ntop(AF_INET, rd, out, 48) != NULL;
	if (rrtype == 28 && len == 16)
		return inet_ntop(AF_INET6, rd, out, 48) != NULL;
	return 0;
}

int route_tlsa_parse(const unsigned char *rd, size_t len, struct route_tlsa *t)
{
	size_t dlen;

	if (len < 4)
		return -1;
	memset(t, 0, sizeof *t);
	t->usage = rd[0];
	t->selector = rd[1];
	t->mtype = rd[2];
	dlen = len - 3;
	if ((t->usage != 2 && t->usage != 3) || t->selector > 1)
		return 0;
	if (!((t->mtype == 1 && dlen == 32) || (t->mtype == 2 && dlen == 64)))
		return 0;
	memcpy(t->data, rd + 3, dlen);
	t->len = (uint8_t)dlen;
	return 1;
}

int route_target_parse(const char *s, uint16_t default_port, char host[ROUTE_NAME_MAX + 1],
		       uint16_t *port_r, const char **error_r)
{
	const char *h = s, *end, *colon;
	size_t hlen;
	char tmp[ROUTE_NAME_MAX + 1];
	unsigned char bin[16];

	*port_r = default_port;
	if (*s == '[') {
		h = s + 1;
		end = strchr(h, ']');
		if (end == NULL) {
			*error_r = "missing ']'";
			return -1;
		}
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL) {
			*error_r = "garbage after ']'";
			return -1;
		}
	} else {
		colon = strrchr(s, ':');
		end = colon ? colon : s + strlen(s);
		if (colon != NULL && strchr(s, ':') != colon) {
			*error_r = "an IPv6 address needs brackets: [addr]:port";
			return -1;
		}
	}
	if (colon != NULL) {
		char *e;
		long p = strtol(colon + 1, &e, 10);

		if (colon[1] == '\0' || *e != '\0' || p < 1 || p > 65535) {
			*error_r = "bad port";
			return -1;
		}
		*port_r = (uint16_t)p;
	}
	hlen = (size_t)(end - h);
	if (hlen == 0 || hlen > ROUTE_NAME_MAX) {
		*error_r = "bad host";
		return -1;
	}
	memcpy(tmp, h, hlen);
	tmp[hlen] = '\0';
	if (inet_pton(AF_INET6, tmp, bin) == 1 || inet_pton(AF_INET, tmp, bin) == 1) {
		memcpy(host, tmp, hlen + 1);
		return 0;
	}
	if (!route_domain_normalize(tmp, host)) {
		*error_r = "bad host name";
		return -1;
	}
	return 0;
}

int route_transport_find(const char *routes, const char *domain, char *target, size_t size,
			 const char **error_r)
{
	const char *p = routes;
	char want[ROUTE_NAME_MAX + 1], have[ROUTE_NAME_MAX + 1];
	int found = 0;

	if (!route_domain_normalize(domain, want))
		want[0] = '\0';
	while (*p != '\0') {
		const char *comma = strchr(p, ','), *eq;
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char entry[2 * ROUTE_NAME_MAX + 8];

		if (len == 0 || len >= sizeof entry) {
			*error_r = len ? "delivery.routes: entry too long" : "delivery.routes: empty entry";
			return -1;
		}
		memcpy(entry, p, len);
		entry[len] = '\0';
		eq = strchr(entry, '=');
		if (eq == NULL || eq == entry || eq[1] == '\0') {
			*error_r = "delivery.routes: an entry is not domain=host:port";
			return -1;
		}
		entry[eq - entry] = '\0';
		if (!route_domain_normalize(entry, have)) {
			*error_r = "delivery.routes: bad domain";
			return -1;
		}
		if (!found && want[0] != '\0' && strcmp(have, want) == 0) {
			snprintf(target, size, "%s", eq + 1);
			found = 1;
		}
		p += len + (comma ? 1 : 0);
		if (comma != NULL && *p == '\0') {
			*error_r = "delivery.routes: empty entry";
			return -1;
		}
	}
	return found;
}

int route_tls_parse(const char *s, enum route_tls *tls_r)
{
	static const struct { const char *name; enum route_tls tls; } modes[] = {
		{ "none", ROUTE_TLS_NONE }, { "may", ROUTE_TLS_MAY },
		{ "encrypt", ROUTE_TLS_ENCRYPT }, { "verify", ROUTE_TLS_VERIFY },
	};

	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		if (strcasecmp(s, modes[i].name) == 0) {
			*tls_r = modes[i].tls;
			return 0;
		}
	}
	return -1;
}

const char *route_tls_name(enum route_tls tls)
{
	switch (tls) {
	case ROUTE_TLS_NONE: return "none";
	case ROUTE_TLS_MAY: return "may";
	case ROUTE_TLS_ENCRYPT: return "encrypt";
	case ROUTE_TLS_VERIFY: return "verify";
	case ROUTE_TLS_DANE: return "dane";
	}
	return "?";
}

const char *route_kind_name(enum route_kind kind)
{
	switch (kind) {
	case ROUTE_MX: return "mx";
	case ROUTE_IMPLICIT_MX: return "implicit-mx";
	case ROUTE_RELAY: return "relay";
	case ROUTE_TRANSPORT: return "transport";
	}
	return "?";
}
