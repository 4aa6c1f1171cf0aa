/* msgauth_dns - answers as the checks use them: TXT strings, DKIM keys. */
#include "gateway/msgauth/msgauth.h"
#include "gateway/outbound/dns.h"

#include <stdlib.h>
#include <string.h>

void msgauth_rrs_free(struct msgauth_rr *rrs, size_t n)
{
	for (size_t i = 0; rrs != NULL && i < n; i++)
		free(rrs[i].data);
	free(rrs);
}

/* One TXT rdata's character-strings joined (RFC 1035 3.3.14); NULL when
 * malformed or holding a NUL. */
static char *txt_join(const unsigned char *d, size_t len)
{
	char *s = xmalloc(len + 1);
	size_t i = 0, k = 0;

	while (i < len) {
		size_t n = d[i++];
		if (n > len - i || memchr(d + i, '\0', n) != NULL) {
			free(s);
			return NULL;
		}
		memcpy(s + k, d + i, n);
		k += n;
		i += n;
	}
	s[k] = '\0';
	return s;
}

enum msgauth_dns_status msgauth_txt(const struct msgauth_dns *dns, const char *name, char ***txt_r,
				    size_t *n_r)
{
	struct msgauth_rr *rrs = NULL;
	size_t n = 0, k = 0;
	enum msgauth_dns_status st = dns->query(dns->ctx, name, DNS_T_TXT, &rrs, &n);
	char **txt;

	*txt_r = NULL;
	*n_r = 0;
	if (st != MSGAUTH_DNS_FOUND) {
		msgauth_rrs_free(rrs, n);
		return st;
	}
	txt = xcalloc(n + 1, sizeof *txt);
	for (size_t i = 0; i < n; i++)
		if ((txt[k] = txt_join(rrs[i].data, rrs[i].len)) != NULL)
			k++;
	msgauth_rrs_free(rrs, n);
	*txt_r = txt;
	*n_r = k;
	return k > 0 ? MSGAUTH_DNS_FOUND : MSGAUTH_DNS_NODATA;
}

void msgauth_txt_free(char **txt, size_t n)
{
	for (size_t i = 0; txt != NULL && i < n; i++)
		free(txt[i]);
	free(txt);
}

int msgauth_key_fetch(const struct msgauth_dns *dns, const char *selector, const char *domain,
		      enum dkim_alg alg, EVP_PKEY **key_r)
{
	char name[600], **txt = NULL;
	const char *error = NULL;
	size_t n = 0;
	enum msgauth_dns_status st;
	int r = 0;

	*key_r = NULL;
	if ((size_t)snprintf(name, sizeof name, "%s._domainkey.%s", selector, domain) >= sizeof name ||
	    strlen(name) > 253)
		return 0;
	st = msgauth_txt(dns, name, &txt, &n);
	if (st == MSGAUTH_DNS_TEMPFAIL)
		return -1;
	/* RFC 6376 6.1.2: several records are allowed; the first good one is used. */
	for (size_t i = 0; i < n && r == 0; i++)
		if (dkim_key_parse(txt[i], strlen(txt[i]), alg, key_r, &error) == 0)
			r = 1;
	msgauth_txt_free(txt, n);
	return r;
}
