/* test_outbound_util - the client side of the outbound tests: a fake
 * resolver (routes to 127.0.0.1, answered later on the loop), a config
 * with short timeouts, a message, and waiting for a send's callback with
 * a bound on the time. */
#ifndef EVM_TEST_OUTBOUND_UTIL_H
#define EVM_TEST_OUTBOUND_UTIL_H

#include "gateway/outbound/outbound.h"
#include "gateway/outbound/test_outbound_server.h"
#include "tests/unit/testlib.h"

static struct event_base *base;
static struct evm_config cfg;
static struct route the_route;
static enum route_status the_status;
static char the_error[200];
static int resolves;

struct later_resolve {
	route_cb *cb;
	void *ctx;
};

static inline void resolve_now(evutil_socket_t fd, short what, void *arg)
{
	struct later_resolve *p = arg;

	p->cb(p->ctx, the_status, the_status == ROUTE_OK ? &the_route : NULL, the_error);
	free(p);
}

static inline void fake_resolve(void *ctx, const char *domain, route_cb *cb, void *cb_ctx)
{
	struct later_resolve *p = calloc(1, sizeof *p);
	struct timeval tv = { 0, 0 };

	resolves++;
	p->cb = cb;
	p->ctx = cb_ctx;
	event_base_once(base, -1, EV_TIMEOUT, resolve_now, p, &tv);
}

static inline void route_reset(void)
{
	memset(&the_route, 0, sizeof the_route);
	snprintf(the_route.domain, sizeof the_route.domain, "example.test");
	the_status = ROUTE_OK;
	the_error[0] = '\0';
}

static inline struct route_host *add_host(const char *name, unsigned port, enum route_tls tls)
{
	struct route_host *h = &the_route.hosts[the_route.nhosts++];

	snprintf(h->name, sizeof h->name, "%s", name);
	snprintf(h->addrs[0], sizeof h->addrs[0], "127.0.0.1");
	h->naddrs = 1;
	h->port = (uint16_t)port;
	h->tls = tls;
	return h;
}

/* The config for one test: defaults, then "key=value" pairs. */
static inline void config_with(const char *const *kv)
{
	const char *error = NULL;

	config_free(&cfg);
	if (config_load(NULL, &cfg, &error) < 0)
		abort();
	config_set(&cfg, "node.id", "client.test", &error);
	config_set(&cfg, "delivery.command_timeout_s", "20", &error);
	config_set(&cfg, "delivery.connect_timeout_s", "20", &error);
	for (; kv != NULL && kv[0] != NULL; kv += 2)
		if (config_set(&cfg, kv[0], kv[1], &error) < 0) {
			fprintf(stderr, "%s: %s\n", kv[0], error);
			abort();
		}
}

static inline struct outbound *make_ob(void)
{
	struct outbound_resolver r = { fake_resolve, NULL };
	struct outbound *ob = NULL;
	const char *error = NULL;

	if (outbound_create(base, &cfg, &r, &ob, &error) < 0) {
		fprintf(stderr, "outbound_create: %s\n", error);
		abort();
	}
	return ob;
}

/* The outbound whose waiting count on_done records (NULL: none). */
static struct outbound *probe_ob;
static int done_seq;

struct outcome {
	int done;
	int seq;                     /* order of completion */
	size_t waiting;              /* outbound_waiting(probe_ob) at completion */
	size_t n;
	struct outbound_result r[8];
	char error[513];
};

static inline void on_done(void *ctx, const struct outbound_result *res, size_t n, const char *error)
{
	struct outcome *o = ctx;

	o->done++;
	o->seq = ++done_seq;
	o->waiting = probe_ob != NULL ? outbound_waiting(probe_ob) : 0;
	o->n = n;
	memcpy(o->r, res, (n < 8 ? n : 8) * sizeof *res);
	snprintf(o->error, sizeof o->error, "%s", error);
}

static int waited_out;

static inline void wait_bound(evutil_socket_t fd, short what, void *arg)
{
	waited_out = 1;
	event_base_loopbreak(base);
}

/* Runs the loop until every outcome is done (at most 60 s: a bound, not a
 * measurement). Returns 0, or -1 when the bound was hit. */
static inline int wait_all(struct outcome *o, size_t n)
{
	struct event *bound = evtimer_new(base, wait_bound, NULL);
	struct timeval tv = { 60, 0 };
	int all;

	waited_out = 0;
	evtimer_add(bound, &tv);
	do {
		all = 1;
		for (size_t i = 0; i < n; i++)
			all &= o[i].done > 0;
		if (!all)
			event_base_loop(base, EVLOOP_ONCE);
	} while (!all && !waited_out);
	event_free(bound);
	return all ? 0 : -1;
}

/* Lets pending work (closes, QUIT answers) run for a few loop turns. */
static inline void settle(void)
{
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

static const char test_body[] = "From: s@src.test\r\nSubject: hi\r\n\r\nline one\r\n.dot line\r\n..two\r\nend\r\n";

static struct outbound_rcpt test_rcpts[4] = {
	{ "a@example.test", "", "" },
	{ "b@example.test", "rfc822;b@example.test", "SUCCESS,FAILURE" },
	{ "c@example.test", "", "NEVER" },
	{ "d@example.test", "", "" },
};

static inline struct outbound_msg test_msg(size_t nrcpts)
{
	struct outbound_msg m = { 0 };

	m.from = "s@src.test";
	m.domain = "example.test";
	m.rcpts = test_rcpts;
	m.nrcpts = nrcpts;
	m.ret = "HDRS";
	m.envid = "id 1";
	m.data = test_body;
	m.len = sizeof test_body - 1;
	return m;
}

/* Sends one message and waits for its outcome. */
static inline int send_one(struct outbound *ob, const struct outbound_msg *m, struct outcome *o)
{
	memset(o, 0, sizeof *o);
	outbound_send(ob, m, on_done, o);
	if (o->done != 0)
		return -1;   /* the callback must never run inside outbound_send */
	return wait_all(o, 1);
}

#endif
