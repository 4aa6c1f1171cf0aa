/* outbound - the SMTP client of the delivery role: sends one message to the
 * recipients of one destination domain and reports per recipient.
 *
 * outbound_send() resolves the domain (route.h), then tries its hosts in
 * order (each address of a host in order) until one gives a final answer:
 *   - connect (delivery.connect_timeout_s), greeting, EHLO (HELO when EHLO
 *     is refused, RFC 5321 3.2), STARTTLS per the host's route_tls (DANE
 *     through OpenSSL's SSL_dane_* API, VERIFY through the PKIX chain with
 *     the host name checked, SNI always set), EHLO again, AUTH PLAIN/LOGIN
 *     for a relay with credentials (never without TLS);
 *   - MAIL FROM with SIZE, BODY=8BITMIME, SMTPUTF8, RET/ENVID (RFC 3461) and
 *     REQUIRETLS (RFC 8689) as the message needs and the server offers;
 *     RCPT TO with NOTIFY/ORCPT when DSN is offered; DATA (dot-stuffed) or
 *     BDAT (CHUNKING); with PIPELINING the MAIL/RCPT/DATA group is sent in
 *     one write (RFC 2920 3.1);
 *   - replies read by a push parser (multiline, limits) with
 *     delivery.command_timeout_s per reply.
 * Host-level failures (connect refused/timeout, greeting 4xx/5xx, TLS
 * failure, garbage, connection dropped, 421) move on to the next address or
 * host; when none is left every recipient is DEFERRED with the last error.
 * A 5xx to RCPT fails that recipient; a 4xx defers it; a 5xx to MAIL or to
 * the data fails every recipient still open; a 4xx defers them. Ordering
 * of TLS rules: where the route demands TLS (ENCRYPT, VERIFY, DANE) a
 * server without STARTTLS or a failed verification is a host failure, and
 * the message is never sent in clear. A message with requiretls goes only
 * to a host with VERIFY or DANE that offers REQUIRETLS; otherwise its
 * recipients fail with 5.7.10 (RFC 8689 5). A message that needs SMTPUTF8
 * to a server without it fails with 5.6.7 (RFC 6531 3.2); an 8-bit body to
 * a server without 8BITMIME fails with 5.6.3.
 *
 * Connections are reused: after a message the connection stays open (RSET
 * between messages) for the next message to the same host, at most
 * delivery.messages_per_connection messages and a few seconds idle. At most
 * delivery.concurrency_per_domain connections per destination domain and
 * delivery.concurrency in total; sends beyond that wait in FIFO order.
 *
 * Nothing here touches the log or the view: the queue worker turns results
 * into events. Thread: the loop thread of the base given at creation. */
#ifndef EVM_OUTBOUND_H
#define EVM_OUTBOUND_H

#include <event2/event.h>
#include <stddef.h>

#include "common/config.h"
#include "gateway/outbound/route.h"

enum outbound_status { OUTBOUND_DELIVERED, OUTBOUND_DEFERRED, OUTBOUND_FAILED };

struct outbound_rcpt {
	const char *addr;            /* the recipient, no <> */
	const char *orcpt;           /* RFC 3461 ORCPT value ("rfc822;a@b") or "" */
	const char *notify;          /* "" or "SUCCESS,FAILURE,DELAY" or "NEVER" */
};

struct outbound_msg {
	const char *from;            /* "" = null sender */
	const char *domain;          /* every rcpt is at this domain (A-label form) */
	const struct outbound_rcpt *rcpts;
	size_t nrcpts;
	const char *ret;             /* "FULL", "HDRS" or "" */
	const char *envid;           /* "" if none */
	int smtputf8;                /* the envelope or headers need SMTPUTF8 */
	int body8bit;                /* the body has 8-bit octets */
	int requiretls;              /* RFC 8689 */
	const char *data;            /* the message, CRLF line ends, NOT dot-stuffed */
	size_t len;
};

struct outbound_result {
	enum outbound_status status;
	char reply[513];             /* the server's reply (one line, joined) or our reason */
	char enhanced[12];           /* "5.1.1", or "" when unknown */
	char remote[300];            /* "mx.example.com [192.0.2.1]" or "" */
	int dsn_passed;              /* the server offered DSN and got NOTIFY/ORCPT */
};

/* results has msg->nrcpts entries in order; valid during the call. error is
 * "" or why the attempt as a whole did not reach a final answer. */
typedef void outbound_done_cb(void *ctx, const struct outbound_result *results, size_t n,
			      const char *error);

struct outbound;

/* How outbound finds routes: route_resolve() in the node (the queue worker
 * passes { route_resolve_fn, rr }), a fake in unit tests. resolve has
 * route_resolve()'s contract (cb exactly once, later, on the loop). */
struct outbound_resolver {
	void (*resolve)(void *ctx, const char *domain, route_cb *cb, void *cb_ctx);
	void *ctx;
};

/* resolver is copied; its ctx must outlive ob. outbound makes its own
 * client SSL_CTX (CA file delivery.tls_ca_file, else the system's). */
int outbound_create(struct event_base *base, const struct evm_config *cfg,
		    const struct outbound_resolver *resolver, struct outbound **ob_r,
		    const char **error_r);
/* Copies msg (the caller may free it after the call). cb runs exactly once,
 * later, on the loop; never inside this call. */
void outbound_send(struct outbound *ob, const struct outbound_msg *msg, outbound_done_cb *cb,
		   void *ctx);
/* Open connections (metrics) and sends waiting for a connection slot. */
size_t outbound_connections(const struct outbound *ob);
size_t outbound_waiting(const struct outbound *ob);
/* Closes every connection; sends in progress get DEFERRED "shutting down". */
void outbound_free(struct outbound **ob);

#endif
