/* net - the shared network layer of every protocol listener: TCP
 * listeners on libevent, OpenSSL for implicit TLS and STARTTLS, limits on
 * connections (total and per client IP). A protocol session gets a
 * bufferevent and never reads the socket itself (STYLE.md: push parsers).
 *
 * Backpressure: sessions set a high read watermark and stop reading while
 * their output is over its limit (libevent sample/le-proxy.c's pattern). */
#ifndef EVM_NET_H
#define EVM_NET_H

#include <event2/bufferevent.h>
#include <event2/event.h>

struct net_tls;
struct net_listener;
struct evm_config;
struct ssl_st;

/* The server TLS policy (config tls.min_version, tls.ciphers,
 * tls.ciphersuites). NULL or "" fields take the defaults below. */
struct net_tls_policy {
	const char *min_version;     /* "1.2" or "1.3" */
	const char *ciphers;         /* TLS 1.2 cipher list, OpenSSL syntax */
	const char *ciphersuites;    /* TLS 1.3 suites, OpenSSL syntax */
};
/* Mozilla's "intermediate" configuration (ssl-config.mozilla.org, v5.7). */
#define NET_TLS_DEFAULT_CIPHERS \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305"
#define NET_TLS_DEFAULT_CIPHERSUITES \
	"TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"

/* Loads a PEM certificate chain and key into a server SSL_CTX with the
 * default policy (TLS 1.2+, the ciphers above, server cipher preference,
 * no compression, no renegotiation). Returns 0 or -1. The paths are kept
 * for net_tls_reload. */
int net_tls_load(const char *cert_path, const char *key_path, struct net_tls **tls_r,
		 const char **error_r);
/* The same with a policy (copied; the caller keeps its strings). */
int net_tls_load_policy(const char *cert_path, const char *key_path, const struct net_tls_policy *policy,
			struct net_tls **tls_r, const char **error_r);
/* net_tls_load_policy with tls.cert, tls.key and the tls.* policy keys. */
int net_tls_load_config(const struct evm_config *cfg, struct net_tls **tls_r, const char **error_r);
/* Checks a policy without a certificate (config checks). 0 or -1. */
int net_tls_policy_check(const struct net_tls_policy *policy, const char **error_r);
/* Re-reads the certificate and key into a NEW context that later
 * connections get; sessions in progress keep the context they started
 * with (each SSL holds a reference, so it is freed with the last of them).
 * On failure the current context stays and -1 is returned. Any thread. */
int net_tls_reload(struct net_tls *tls, const char **error_r);
/* net_tls_reload on every net_tls alive in the process (SIGHUP), each
 * failure logged, with each certificate/key file pair read ONCE and every
 * listener on it given a context made from that read; the listeners of a
 * pair switch together or none does. Returns how many failed (0: all
 * reloaded). */
unsigned net_tls_reload_all(void);
/* A new server SSL on the current context (it holds its own reference to
 * that context); NULL on failure, logged. The caller owns the SSL. */
struct ssl_st *net_tls_ssl_new(struct net_tls *tls);
/* How many times tls got a new context (tests, logs). */
unsigned net_tls_generation(struct net_tls *tls);
void net_tls_free(struct net_tls **tls);

/* A new connection. bev is owned by the callee (free it when done and
 * call net_conn_closed). tls is 1 for implicit TLS listeners. */
typedef void net_accept_cb(void *ctx, struct net_listener *l, struct bufferevent *bev,
			   const char *peer_ip, int tls);

struct net_listener_settings {
	const char *name;            /* "smtp", "lmtp", "imap": for logs */
	const char *listen;          /* "host:port" ("[::1]:port") */
	struct net_tls *tls;         /* for implicit TLS (implicit_tls=1) or STARTTLS */
	int implicit_tls;
	unsigned max_connections;    /* 0 = unlimited */
	unsigned max_per_ip;         /* 0 = unlimited */
	net_accept_cb *accept;
	void *ctx;
};

/* Over a limit, the connection is closed at once after writing reject_line
 * (e.g. "421 4.7.0 too many connections\r\n"). */
int net_listen(struct event_base *base, const struct net_listener_settings *s,
	       const char *reject_line, struct net_listener **l_r, const char **error_r);
void net_listener_free(struct net_listener **l);
/* A session ends: releases its slot in the limits. */
void net_conn_closed(struct net_listener *l, const char *peer_ip);
/* STARTTLS: wraps bev in a TLS server filter and returns the new
 * bufferevent (the old one is owned by it). NULL on failure. */
struct bufferevent *net_starttls(struct event_base *base, struct bufferevent *bev,
				 struct net_tls *tls);
/* The session read part of a request (a literal, a message body, a line)
 * and waits for the rest with nothing to send: acknowledge what arrived now
 * (Linux TCP_QUICKACK; it is not sticky, so call it after every such read).
 * A client that sends a literal and its closing CRLF in two writes (Python's
 * imaplib) has Nagle's algorithm hold the CRLF until that ACK; a delayed
 * ACK (~40 ms) would stall every APPEND (issue 9). Any layer (TLS,
 * COMPRESS) above the socket is fine. Returns 1 when an ACK was requested,
 * 0 when not possible (no TCP socket, not Linux). */
int net_quickack(struct bufferevent *bev);
/* How many ACKs net_quickack requested since start (all threads). */
unsigned long long net_quickack_count(void);
/* Splits "host:port" / "[v6]:port". Returns 0 or -1. */
int net_split_hostport(const char *s, char *host, size_t hsize, unsigned *port_r);

#endif
