/* net - see net.h */
#include "gateway/net.h"
#include "common/buf.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define NET_WRITE_MAX (256 * 1024)

#define NET_IP_BUCKETS 1024

struct ip_count {
	struct ip_count *next;
	unsigned n;
	char ip[INET6_ADDRSTRLEN];
};

struct net_listener {
	struct event_base *base;
	struct evconnlistener *evl;
	struct event *resume;        /* re-enables accepting after EMFILE */
	char *name;
	struct net_tls *tls;
	int implicit_tls;
	unsigned max_connections, max_per_ip;
	net_accept_cb *accept;
	void *ctx;
	char *reject_line;
	unsigned count;
	struct ip_count *ips[NET_IP_BUCKETS];
};

int net_split_hostport(const char *s, char *host, size_t hsize, unsigned *port_r)
{
	const char *colon, *h = s;
	size_t hlen;
	char *end;
	unsigned long port;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':')
			return -1;
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -1;
		hlen = (size_t)(colon - s);
	}
	if (hlen >= hsize || colon[1] == '\0')
		return -1;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port > 65535 || colon[1] < '0' || colon[1] > '9')
		return -1;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	*port_r = (unsigned)port;
	return 0;
}

static unsigned ip_hash(const char *ip)
{
	unsigned h = 2166136261u;

	for (; *ip != '\0'; ip++)
		h = (h ^ (unsigned char)*ip) * 16777619u;
	return h % NET_IP_BUCKETS;
}

static struct ip_count **ip_find(struct net_listener *l, const char *ip)
{
	struct ip_count **p = &l->ips[ip_hash(ip)];

	while (*p != NULL && strcmp((*p)->ip, ip) != 0)
		p = &(*p)->next;
	return p;
}

void net_conn_closed(struct net_listener *l, const char *peer_ip)
{
	struct ip_count **p = ip_find(l, peer_ip), *c = *p;

	if (l->count > 0)
		l->count--;
	if (c == NULL)
		return;
	if (--c->n == 0) {
		*p = c->next;
		free(c);
	}
}

/* The peer's address as text; IPv4-mapped IPv6 shown as IPv4. */
static void peer_string(const struct sockaddr *sa, char *out, size_t size)
{
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)size);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], out, (socklen_t)size);
		else
			inet_ntop(AF_INET6, a, out, (socklen_t)size);
	} else {
		snprintf(out, size, "unknown");
	}
}

/* Replies leave at once: every protocol here answers from a buffer that
 * is flushed once per loop turn, so Nagle only delays the last segment of
 * a large reply (a FETCH of thousands of lines) until the peer's delayed
 * ACK, 40 ms on Linux. Dovecot sets TCP_NODELAY on its sockets too. And a
 * reply goes out in writes of up to NET_WRITE_MAX, not libevent's 16 KiB
 * per loop turn. */
static void net_tune_socket(evutil_socket_t fd, struct bufferevent *bev)
{
	int on = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
	(void)bufferevent_set_max_single_write(bev, NET_WRITE_MAX);
}

static void on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *ctx)
{
	struct net_listener *l = ctx;
	char ip[INET6_ADDRSTRLEN];
	struct ip_count **p, *c;
	struct bufferevent *bev;

	peer_string(sa, ip, sizeof ip);
	p = ip_find(l, ip);
	c = *p;
	if ((l->max_connections > 0 && l->count >= l->max_connections) ||
	    (l->max_per_ip > 0 && c != NULL && c->n >= l->max_per_ip)) {
		log_warn("%s: connection from [%s] refused: %s", l->name, ip,
			 l->max_connections > 0 && l->count >= l->max_connections ? "too many connections"
										 : "too many connections from this address");
		/* Best effort, never blocking: the socket buffer is empty. For
		 * implicit TLS a plain-text line would be noise: just close. */
		if (!l->implicit_tls && l->reject_line != NULL)
			(void)!send(fd, l->reject_line, strlen(l->reject_line), MSG_NOSIGNAL | MSG_DONTWAIT);
		evutil_closesocket(fd);
		return;
	}
	if (l->implicit_tls) {
		SSL *ssl = net_tls_ssl_new(l->tls);
		if (ssl == NULL) {
			evutil_closesocket(fd);
			return;
		}
		bev = bufferevent_openssl_socket_new(l->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						     BEV_OPT_CLOSE_ON_FREE);
		if (bev != NULL)
			bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	} else {
		bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	}
	if (bev == NULL) {
		log_error("%s: cannot create a bufferevent for [%s]", l->name, ip);
		evutil_closesocket(fd);
		return;
	}
	net_tune_socket(fd, bev);
	if (c == NULL) {
		c = xcalloc(1, sizeof *c);
		snprintf(c->ip, sizeof c->ip, "%s", ip);
		*p = c;
	}
	c->n++;
	l->count++;
	l->accept(l->ctx, l, bev, ip, l->implicit_tls);
}

static void on_resume(evutil_socket_t fd, short what, void *ctx)
{
	struct net_listener *l = ctx;

	evconnlistener_enable(l->evl);
}

/* accept() failed (EMFILE, ENFILE, ENOBUFS): pause a second instead of spinning. */
static void on_accept_error(struct evconnlistener *evl, void *ctx)
{
	struct net_listener *l = ctx;
	struct timeval tv = { 1, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	log_warn("%s: accept: %s", l->name, evutil_socket_error_to_string(err));
	if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
		evconnlistener_disable(l->evl);
		evtimer_add(l->resume, &tv);
	}
}

int net_listen(struct event_base *base, const struct net_listener_settings *s,
	       const char *reject_line, struct net_listener **l_r, const char **error_r)
{
	static __thread char err[300];
	struct addrinfo hints, *res = NULL;
	struct net_listener *l;
	char host[256], port[8];
	unsigned portnum;
	int rc;

	if (net_split_hostport(s->listen, host, sizeof host, &portnum) < 0) {
		snprintf(err, sizeof err, "%s: bad listen address \"%s\" (host:port)", s->name, s->listen);
		*error_r = err;
		return -1;
	}
	if (s->implicit_tls && s->tls == NULL) {
		snprintf(err, sizeof err, "%s: implicit TLS needs tls.cert and tls.key", s->name);
		*error_r = err;
		return -1;
	}
	snprintf(port, sizeof port, "%u", portnum);
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host[0] != '\0' ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, sizeof err, "%s: %s: %s", s->name, s->listen, gai_strerror(rc));
		*error_r = err;
		return -1;
	}
	l = xcalloc(1, sizeof *l);
	l->base = base;
	l->name = xstrdup(s->name != NULL ? s->name : "listener");
	l->tls = s->tls;
	l->implicit_tls = s->implicit_tls;
	l->max_connections = s->max_connections;
	l->max_per_ip = s->max_per_ip;
	l->accept = s->accept;
	l->ctx = s->ctx;
	l->reject_line = reject_line != NULL ? xstrdup(reject_line) : NULL;
	l->evl = evconnlistener_new_bind(base, on_accept, l,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
					 512, res->ai_addr, (int)res->ai_addrlen);
	freeaddrinfo(res);
	if (l->evl == NULL) {
		int e = errno;

		snprintf(err, sizeof err, "%s: cannot listen on %s: %s%s", s->name, s->listen, strerror(e),
			 e == EACCES && portnum < 1024 ? " (a port below 1024 needs root or CAP_NET_BIND_SERVICE)"
						       : "");
		*error_r = err;
		free(l->reject_line);
		free(l->name);
		free(l);
		return -1;
	}
	l->resume = evtimer_new(base, on_resume, l);
	evconnlistener_set_error_cb(l->evl, on_accept_error);
	log_info("%s: listening on %s%s", l->name, s->listen, l->implicit_tls ? " (TLS)" : "");
	*l_r = l;
	return 0;
}

void net_listener_free(struct net_listener **lp)
{
	struct net_listener *l = *lp;

	if (l == NULL)
		return;
	evconnlistener_free(l->evl);
	event_free(l->resume);
	for (size_t i = 0; i < NET_IP_BUCKETS; i++) {
		while (l->ips[i] != NULL) {
			struct ip_count *c = l->ips[i];
			l->ips[i] = c->next;
			free(c);
		}
	}
	free(l->reject_line);
	free(l->name);
	free(l);
	*lp = NULL;
}

/* The socket under bev and its filters (STARTTLS, COMPRESS); -1 if none. */
static evutil_socket_t bev_socket(struct bufferevent *bev)
{
	for (; bev != NULL; bev = bufferevent_get_underlying(bev)) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

static unsigned long long quickacks;

unsigned long long net_quickack_count(void)
{
	return __atomic_load_n(&quickacks, __ATOMIC_RELAXED);
}

int net_quickack(struct bufferevent *bev)
{
#ifdef TCP_QUICKACK
	evutil_socket_t fd = bev_socket(bev);
	int on = 1;

	/* Not sticky (tcp(7)): the kernel returns to delayed ACKs once we
	 * send again; setting it sends the ACK that is pending now. */
	if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on) == 0) {
		__atomic_add_fetch(&quickacks, 1, __ATOMIC_RELAXED);
		return 1;
	}
#else
	(void)bev;
#endif
	return 0;
}

struct bufferevent *net_starttls(struct event_base *base, struct bufferevent *bev,
				 struct net_tls *tls)
{
	SSL *ssl = net_tls_ssl_new(tls);
	struct bufferevent *nbev;

	if (ssl == NULL)
		return NULL;
	nbev = bufferevent_openssl_filter_new(base, bev, ssl, BUFFEREVENT_SSL_ACCEPTING,
					      BEV_OPT_CLOSE_ON_FREE);
	if (nbev == NULL)
		return NULL;   /* libevent freed ssl (BEV_OPT_CLOSE_ON_FREE) */
	bufferevent_openssl_set_allow_dirty_shutdown(nbev, 1);
	return nbev;
}
