/* dns - asynchronous DNS queries through libunbound on a libevent loop. */
#include "gateway/outbound/dns.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unbound.h>
#include <unistd.h>

struct dns_query {
	struct dns_query *prev, *next;
	struct dns *dns;
	int async_id;                /* 0 when not submitted to libunbound */
	struct event *timer;         /* the bound; or 0 s to report a submit error */
	char error[200];             /* submit error, answered from the timer */
	dns_cb *cb;
	void *ctx;
};

struct dns {
	struct ub_ctx *ub;
	struct event *ev;
	struct dns_query *queries;   /* pending */
};

/* Per thread: dns_ub_configure runs on the loop and on other threads;
 * *error_r stays valid until the thread's next failing call. */
static _Thread_local char dns_error[256];

static void query_unlink_free(struct dns_query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		q->dns->queries = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	event_free(q->timer);
	free(q);
}

/* libunbound's answer (inside ub_process, loop thread). */
static void answered(void *arg, int err, struct ub_result *ub)
{
	struct dns_query *q = arg;
	struct dns_result res;
	dns_cb *cb = q->cb;
	void *ctx = q->ctx;

	memset(&res, 0, sizeof res);
	if (err != 0 || ub == NULL) {
		res.rcode = DNS_R_SERVFAIL;
		snprintf(res.why, sizeof res.why, "resolver: %s", ub_strerror(err));
	} else {
		res.rcode = ub->rcode;
		res.secure = ub->secure;
		res.bogus = ub->bogus;
		if (ub->bogus)
			snprintf(res.why, sizeof res.why, "%s", ub->why_bogus ? ub->why_bogus : "validation failure");
		if (ub->havedata && ub->data != NULL) {
			while (ub->data[res.n] != NULL)
				res.n++;
			res.rdata = (const unsigned char *const *)ub->data;
			res.rdlen = ub->len;
		}
	}
	query_unlink_free(q);
	cb(ctx, &res);
	if (ub != NULL)
		ub_resolve_free(ub);
}

/* The bound: cancels the query and answers a timeout; or a submit error. */
static void timed_out(evutil_socket_t fd, short what, void *arg)
{
	struct dns_query *q = arg;
	struct dns_result res;
	dns_cb *cb = q->cb;
	void *ctx = q->ctx;

	memset(&res, 0, sizeof res);
	res.rcode = DNS_R_SERVFAIL;
	if (q->async_id != 0) {
		ub_cancel(q->dns->ub, q->async_id);
		res.timeout = 1;
		snprintf(res.why, sizeof res.why, "no answer within %d s", DNS_TIMEOUT_S);
	} else {
		snprintf(res.why, sizeof res.why, "%s", q->error);
	}
	query_unlink_free(q);
	cb(ctx, &res);
}

static void readable(evutil_socket_t fd, short what, void *arg)
{
	struct dns *dns = arg;

	ub_process(dns->ub);
}

/* "ip[@port],ip[@port]" -> one ub_ctx_set_fwd per entry. */
static int set_forwarders(struct ub_ctx *ub, const char *resolvers, const char **error_r)
{
	char *list = xstrdup(resolvers), *save = NULL, *tok;
	int ret = 0, r;

	for (tok = strtok_r(list, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		if ((r = ub_ctx_set_fwd(ub, tok)) != 0) {
			snprintf(dns_error, sizeof dns_error, "dns.resolvers: %s: %s", tok, ub_strerror(r));
			*error_r = dns_error;
			ret = -1;
			break;
		}
	}
	free(list);
	return ret;
}

static int configure(struct ub_ctx *ub, const char *resolvers, const char *ta_file,
		     const char **error_r)
{
	int r;

	if ((r = ub_ctx_async(ub, 1)) != 0) {
		snprintf(dns_error, sizeof dns_error, "libunbound async: %s", ub_strerror(r));
		*error_r = dns_error;
		return -1;
	}
	/* Forwarders on loopback (a local cache such as 127.0.0.53, or the
	 * tests' server) are meant to be asked. */
	(void)ub_ctx_set_option(ub, "do-not-query-localhost:", "no");
	if (resolvers[0] != '\0') {
		if (set_forwarders(ub, resolvers, error_r) < 0)
			return -1;
	} else if ((r = ub_ctx_resolvconf(ub, NULL)) != 0) {
		snprintf(dns_error, sizeof dns_error, "/etc/resolv.conf: %s", ub_strerror(r));
		*error_r = dns_error;
		return -1;
	}
	if (ta_file[0] != '\0' && access(ta_file, R_OK) == 0 && (r = ub_ctx_add_ta_file(ub, ta_file)) != 0) {
		snprintf(dns_error, sizeof dns_error, "dns.trust_anchor_file %s: %s", ta_file, ub_strerror(r));
		*error_r = dns_error;
		return -1;
	}
	return 0;
}

int dns_ub_configure(struct ub_ctx *ub, const char *resolvers, const char *ta_file, const char **error_r)
{
	return configure(ub, resolvers != NULL ? resolvers : "", ta_file != NULL ? ta_file : "", error_r);
}

int dns_create(struct event_base *base, const char *resolvers, const char *ta_file,
	       struct dns **dns_r, const char **error_r)
{
	struct dns *dns;
	struct ub_ctx *ub = ub_ctx_create();
	int fd;

	if (ub == NULL) {
		*error_r = "cannot create the libunbound context";
		return -1;
	}
	if (configure(ub, resolvers ? resolvers : "", ta_file ? ta_file : "", error_r) < 0) {
		ub_ctx_delete(ub);
		return -1;
	}
	fd = ub_fd(ub);
	if (fd < 0) {
		ub_ctx_delete(ub);
		*error_r = "libunbound has no file descriptor";
		return -1;
	}
	dns = xcalloc(1, sizeof *dns);
	dns->ub = ub;
	dns->ev = event_new(base, fd, EV_READ | EV_PERSIST, readable, dns);
	event_add(dns->ev, NULL);
	*dns_r = dns;
	return 0;
}

void dns_resolve(struct dns *dns, const char *name, int rrtype, dns_cb *cb, void *ctx)
{
	struct dns_query *q = xcalloc(1, sizeof *q);
	struct timeval tv = { DNS_TIMEOUT_S, 0 };
	int r;

	q->dns = dns;
	q->cb = cb;
	q->ctx = ctx;
	q->timer = evtimer_new(event_get_base(dns->ev), timed_out, q);
	q->next = dns->queries;
	if (dns->queries != NULL)
		dns->queries->prev = q;
	dns->queries = q;
	r = ub_resolve_async(dns->ub, name, rrtype, 1 /* IN */, q, answered, &q->async_id);
	if (r != 0) {
		q->async_id = 0;
		snprintf(q->error, sizeof q->error, "resolver: %s", ub_strerror(r));
		tv.tv_sec = 0;
	}
	evtimer_add(q->timer, &tv);
}

void dns_free(struct dns **dnsp)
{
	struct dns *dns = *dnsp;

	if (dns == NULL)
		return;
	while (dns->queries != NULL) {
		if (dns->queries->async_id != 0)
			ub_cancel(dns->ub, dns->queries->async_id);
		query_unlink_free(dns->queries);
	}
	event_free(dns->ev);
	ub_ctx_delete(dns->ub);
	free(dns);
	*dnsp = NULL;
}
