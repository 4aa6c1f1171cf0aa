/* pushsub_sender_curl - the push POST over libcurl (runs on the sender's
 * worker thread, blocking, bounded by jmap.push_timeout_s) and the check
 * of a url a client gives. RFC 8620 7.2: the POST carries the JSON object
 * as application/json, or encrypted (RFC 8291) with Content-Encoding:
 * aes128gcm, and a TTL header (RFC 8030 5.2). A client chooses
 * the url, so the server must not become its way into internal services:
 * every address curl is about to connect to is checked (loopback,
 * private, link-local, multicast and unspecified ones are refused unless
 * jmap.push_allow_private), no redirects are followed, no proxy is used,
 * and TLS peers are verified. */
#include "gateway/pushsub_sender.h"
#include "projector/mail.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

/* The most of a push service's answer read (and thrown away). */
#define RESPONSE_MAX (64 * 1024)

void pushsub_curl_settings(const struct evm_config *cfg, struct pushsub_curl *c)
{
	c->allow_http = cfg->jmap_push_allow_http != 0;
	c->allow_private = cfg->jmap_push_allow_private != 0;
	c->timeout_s = (long)cfg->jmap_push_timeout_s;
}

int pushsub_url_check(const struct evm_config *cfg, const char *url, const char **error_r)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL;
	int ok;

	if (strlen(url) > MAIL_PUSHSUB_URL_MAX) {
		*error_r = "url: too long";
		curl_url_cleanup(u);
		return -1;
	}
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
			*error_r = "url: printable ASCII without spaces expected";
			curl_url_cleanup(u);
			return -1;
		}
	}
	ok = u != NULL && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	     curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK && host[0] != '\0';
	if (!ok)
		*error_r = "url: not an absolute URL";
	else if (strcmp(scheme, "https") != 0 && !(cfg->jmap_push_allow_http && strcmp(scheme, "http") == 0))
		/* RFC 8620 7.2: "This MUST begin with https://". */
		*error_r = cfg->jmap_push_allow_http ? "url: https:// or http:// expected"
						      : "url: must begin with https:// (RFC 8620 7.2)";
	else if (strncmp(url, scheme, strlen(scheme)) != 0 || strncmp(url + strlen(scheme), "://", 3) != 0)
		*error_r = "url: must be absolute, scheme first";
	else
		ok = 2;
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return ok == 2 ? 0 : -1;
}

/* An IPv4 address (host order) a push must not reach. */
static int private_v4(uint32_t a)
{
	return (a >> 24) == 0 || (a >> 24) == 10 || (a >> 24) == 127 || (a & 0xffc00000u) == 0x64400000u ||
	       (a & 0xffff0000u) == 0xa9fe0000u || (a & 0xfff00000u) == 0xac100000u ||
	       (a & 0xffff0000u) == 0xc0a80000u || (a >> 28) >= 14;
}

/* The same for any socket address (IPv4-mapped IPv6 as IPv4). */
static int private_addr(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return private_v4(ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr));
	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
		const uint8_t *b = a->s6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a))
			return private_v4((uint32_t)b[12] << 24 | (uint32_t)b[13] << 16 | (uint32_t)b[14] << 8 | b[15]);
		return IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
		       IN6_IS_ADDR_MULTICAST(a) || (b[0] & 0xfe) == 0xfc;
	}
	return 1;
}

/* curl's socket opener: refuses the addresses a push must not reach. */
static curl_socket_t open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *addr)
{
	const struct pushsub_curl *c = ctx;

	(void)purpose;
	if (!c->allow_private && private_addr(&addr->addr))
		return CURL_SOCKET_BAD;
	return socket(addr->family, addr->socktype, addr->protocol);
}

/* The answer's body: counted, not kept. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	size_t *seen = arg, n = size * nmemb;

	(void)data;
	if (*seen + n > RESPONSE_MAX)
		return 0;
	*seen += n;
	return n;
}

int pushsub_curl_post(void *ctx, const struct pushsub_post *p, char *err, size_t errsize)
{
	const struct pushsub_curl *c = ctx;
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char ttl[32];
	size_t seen = 0;
	long status = 0;
	CURLcode rc;

	if (h == NULL) {
		snprintf(err, errsize, "cannot create a curl handle");
		return -1;
	}
	snprintf(ttl, sizeof ttl, "TTL: %d", PUSHSUB_TTL_S);
	if (p->encrypted) {
		/* RFC 8291 4: the aes128gcm content coding (RFC 8188); the
		 * JSON inside is the user agent's to read. */
		hdrs = curl_slist_append(hdrs, "Content-Encoding: aes128gcm");
		hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
	} else {
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
	}
	hdrs = curl_slist_append(hdrs, ttl);
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_URL, p->url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->allow_http ? "https,http" : "https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(h, CURLOPT_PROXY, "");   /* never an environment proxy */
	curl_easy_setopt(h, CURLOPT_USERAGENT, "evmail-jmap-push");
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, (void *)c);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, p->body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)p->len);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &seen);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (rc == CURLE_COULDNT_CONNECT && !c->allow_private)
		snprintf(err, errsize, "%s (a private or loopback address is refused)", curl_easy_strerror(rc));
	else if (rc != CURLE_OK)
		snprintf(err, errsize, "%s", curl_easy_strerror(rc));
	else if (status < 200 || status > 299)
		snprintf(err, errsize, "HTTP status %ld", status);
	else
		return 0;
	return -1;
}
