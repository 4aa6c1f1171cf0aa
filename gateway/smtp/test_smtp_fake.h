/* test_smtp_fake - a fake delivery backend and a socketpair client for the
 * session and TLS tests (header-only, included by test_*.c). */
#ifndef EVM_TEST_SMTP_FAKE_H
#define EVM_TEST_SMTP_FAKE_H

#include "gateway/smtp/smtp_session.h"
#include "common/buf.h"
#include "common/ids.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Recipients: a, b, full (552 at delivery) @x.test; alias@x.test -> a, b;
 * a+tag -> a; temp -> 451; disabled -> 550 5.2.1; other @x.test unknown;
 * any other domain is not local. */
struct fake {
	struct event_base *base;
	int calls;
	int fail_all;           /* every target 451 */
	int delay_ms;
	char *from, *received, *dsn, *actor;
	struct buf data;
	size_t ntargets;
	char targets[16][EVM_ADDRESS_MAX + 1];
	int callbacks;
};

static enum deliver_rcpt_status fake_resolve(void *ctx, const char *rcpt, struct deliver_target **t_r, size_t *n_r)
{
	static const char *const ok[] = { "a@x.test", "b@x.test", "full@x.test" };
	const char *acc[2] = { NULL, NULL };
	size_t n = 0;

	if (strcasecmp(rcpt, "alias@x.test") == 0) {
		acc[0] = "a@x.test";
		acc[1] = "b@x.test";
		n = 2;
	} else if (strcasecmp(rcpt, "a+tag@x.test") == 0) {
		acc[0] = "a@x.test";
		n = 1;
	} else {
		for (size_t i = 0; i < 3; i++) {
			if (strcasecmp(rcpt, ok[i]) == 0) {
				acc[0] = ok[i];
				n = 1;
			}
		}
	}
	if (n == 0) {
		const char *at = strrchr(rcpt, '@');
		if (strcasecmp(rcpt, "temp@x.test") == 0)
			return RCPT_TEMPFAIL;
		if (strcasecmp(rcpt, "disabled@x.test") == 0)
			return RCPT_DISABLED;
		if (at == NULL)
			return RCPT_INVALID;
		return strcasecmp(at, "@x.test") == 0 ? RCPT_UNKNOWN : RCPT_NOT_LOCAL;
	}
	*t_r = calloc(n, sizeof **t_r);
	for (size_t i = 0; i < n; i++) {
		snprintf((*t_r)[i].account, sizeof (*t_r)[i].account, "%s", acc[i]);
		snprintf((*t_r)[i].tenant, sizeof (*t_r)[i].tenant, "t1");
		snprintf((*t_r)[i].rcpt, sizeof (*t_r)[i].rcpt, "%s", rcpt);
	}
	*n_r = n;
	return RCPT_OK;
}

struct fake_pending {
	struct fake *f;
	deliver_done_cb *cb;
	void *ctx;
	size_t n;
	struct deliver_result results[16];
};

static void fake_fire(evutil_socket_t fd, short what, void *arg)
{
	struct fake_pending *p = arg;

	p->f->callbacks++;
	p->cb(p->ctx, p->results, p->n);
	free(p);
}

static void fake_deliver(void *ctx, const struct deliver_request *req, deliver_done_cb *cb, void *cb_ctx)
{
	struct fake *f = ctx;
	struct fake_pending *p = calloc(1, sizeof *p);
	struct timeval tv = { 0, f->delay_ms * 1000 };

	f->calls++;
	free(f->from);
	free(f->received);
	free(f->dsn);
	free(f->actor);
	f->from = strdup(req->mail_from);
	f->received = strdup(req->received);
	f->actor = strdup(req->actor);
	f->dsn = req->dsn != NULL ? json_dumps(req->dsn, JSON_SORT_KEYS | JSON_COMPACT) : NULL;
	buf_truncate(&f->data, 0);
	buf_append(&f->data, req->data, req->len);
	f->ntargets = req->ntargets;
	p->f = f;
	p->cb = cb;
	p->ctx = cb_ctx;
	p->n = req->ntargets;
	for (size_t i = 0; i < req->ntargets && i < 16; i++) {
		struct deliver_result *r = &p->results[i];
		snprintf(f->targets[i], sizeof f->targets[i], "%s", req->targets[i].account);
		if (f->fail_all)
			*r = (struct deliver_result){ 0, "451", "4.3.0", "Log unavailable" };
		else if (strcmp(req->targets[i].account, "full@x.test") == 0)
			*r = (struct deliver_result){ 0, "552", "5.2.2", "Mailbox full" };
		else
			*r = (struct deliver_result){ 1, "250", "2.0.0", "Ok" };
	}
	event_base_once(f->base, -1, EV_TIMEOUT, fake_fire, p, &tv);
}

static void fake_free(struct fake *f)
{
	free(f->from);
	free(f->received);
	free(f->dsn);
	free(f->actor);
	buf_free(&f->data);
	memset(f, 0, sizeof *f);
}

#endif
