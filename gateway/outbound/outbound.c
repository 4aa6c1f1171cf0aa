/* outbound - the SMTP client's object: creation, the FIFO of sends waiting
 * for a connection slot, the deferred work (callbacks, frees), shutdown. */
#include "gateway/outbound/outbound_private.h"
#include "common/log.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static __thread char create_error[300];

size_t ob_domain_active(const struct outbound *ob, const char *domain)
{
	const struct ob_send *s;
	size_t n = 0;

	TAILQ_FOREACH(s, &ob->active, link)
		if (strcmp(s->domain, domain) == 0)
			n++;
	return n;
}

static size_t active_count(const struct outbound *ob)
{
	const struct ob_send *s;
	size_t n = 0;

	TAILQ_FOREACH(s, &ob->active, link)
		n++;
	return n;
}

/* Starts, in FIFO order, every waiting send that fits the limits
 * (delivery.concurrency and delivery.concurrency_per_domain). */
static void pump(struct outbound *ob)
{
	struct ob_send *s, *next;
	size_t total = active_count(ob);

	for (s = TAILQ_FIRST(&ob->waiting); s != NULL && total < (size_t)ob->cfg->delivery_concurrency; s = next) {
		next = TAILQ_NEXT(s, link);
		if (ob_domain_active(ob, s->domain) >= (size_t)ob->cfg->delivery_concurrency_per_domain)
			continue;
		TAILQ_REMOVE(&ob->waiting, s, link);
		ob->nwaiting--;
		TAILQ_INSERT_TAIL(&ob->active, s, link);
		total++;
		ob_send_start(s);
	}
}

/* Runs the callback of a finished send and frees it. */
static void send_free(struct ob_send *s)
{
	free(s->route);
	free(s->results);
	free(s->final);
	free(s->rcpts);
	free(s->strings);
	free(s);
}

static void run_done(struct ob_send *s)
{
	s->cb(s->cb_ctx, s->results, s->msg.nrcpts, s->error);
	send_free(s);
}

/* The deferred work: free dead connections, run finished sends' callbacks
 * (a callback may call outbound_send or even outbound_free), start waiting
 * sends. */
static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct outbound *ob = ctx;
	struct ob_conn *c;
	struct ob_send *s;

	while ((c = TAILQ_FIRST(&ob->dead)) != NULL) {
		TAILQ_REMOVE(&ob->dead, c, link);
		free(c->expect);
		free(c->expect_rcpt);
		free(c->rcpt_ok);
		free(c);
	}
	pump(ob);
	/* Last: a callback may free ob. One at a time, re-kicking. */
	if ((s = TAILQ_FIRST(&ob->done)) != NULL) {
		TAILQ_REMOVE(&ob->done, s, link);
		if (TAILQ_FIRST(&ob->done) != NULL)
			ob_kick(ob);
		run_done(s);
	}
}

void ob_kick(struct outbound *ob)
{
	event_active(ob->tick, EV_TIMEOUT, 0);
}

/* The first line of the relay password file, or NULL with an error. */
static char *read_password(const char *path, const char **error_r)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL) {
		snprintf(create_error, sizeof create_error, "delivery.relay_password_file %s: %s", path, strerror(errno));
		*error_r = create_error;
		return NULL;
	}
	if (fgets(line, sizeof line, f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	line[n] = '\0';
	return xstrdup(line);
}

int outbound_create(struct event_base *base, const struct evm_config *cfg,
		    const struct outbound_resolver *resolver, struct outbound **ob_r, const char **error_r)
{
	struct outbound *ob = xcalloc(1, sizeof *ob);
	const char *helo = cfg->delivery_helo_name[0] != '\0' ? cfg->delivery_helo_name
			   : cfg->smtp_hostname[0] != '\0' ? cfg->smtp_hostname : cfg->node_id;

	ob->base = base;
	ob->cfg = cfg;
	ob->resolver = *resolver;
	snprintf(ob->helo, sizeof ob->helo, "%s", helo);
	TAILQ_INIT(&ob->waiting);
	TAILQ_INIT(&ob->active);
	TAILQ_INIT(&ob->done);
	TAILQ_INIT(&ob->conns);
	TAILQ_INIT(&ob->dead);
	if (cfg->delivery_relay_user[0] != '\0' && cfg->delivery_relay_password_file[0] != '\0' &&
	    (ob->relay_password = read_password(cfg->delivery_relay_password_file, error_r)) == NULL) {
		free(ob);
		return -1;
	}
	if (ob_tls_ctx_create(cfg, &ob->ssl_ctx, error_r) < 0) {
		free(ob->relay_password);
		free(ob);
		return -1;
	}
	ob->tick = event_new(base, -1, 0, on_tick, ob);
	*ob_r = ob;
	return 0;
}

/* Copies the strings of msg into one allocation. */
static void copy_msg(struct ob_send *s, const struct outbound_msg *m)
{
	struct buf b = BUF_INIT;
	size_t *offs = xcalloc(m->nrcpts * 3 + 5, sizeof *offs), k = 0;
	const char *strs[4] = { m->from, m->domain, m->ret, m->envid };

	for (int i = 0; i < 4; i++) {
		offs[k++] = b.len;
		buf_puts(&b, strs[i] != NULL ? strs[i] : "");
		buf_append(&b, "", 1);
	}
	for (size_t i = 0; i < m->nrcpts; i++) {
		const char *r[3] = { m->rcpts[i].addr, m->rcpts[i].orcpt, m->rcpts[i].notify };
		for (int j = 0; j < 3; j++) {
			offs[k++] = b.len;
			buf_puts(&b, r[j] != NULL ? r[j] : "");
			buf_append(&b, "", 1);
		}
	}
	offs[k] = b.len;
	buf_append(&b, m->data, m->len);
	s->strings = buf_steal(&b);
	s->msg = *m;
	s->msg.from = s->strings + offs[0];
	s->msg.domain = s->strings + offs[1];
	s->msg.ret = s->strings + offs[2];
	s->msg.envid = s->strings + offs[3];
	s->msg.data = s->strings + offs[k];
	s->rcpts = xcalloc(m->nrcpts + 1, sizeof *s->rcpts);
	for (size_t i = 0; i < m->nrcpts; i++) {
		s->rcpts[i].addr = s->strings + offs[4 + 3 * i];
		s->rcpts[i].orcpt = s->strings + offs[5 + 3 * i];
		s->rcpts[i].notify = s->strings + offs[6 + 3 * i];
	}
	s->msg.rcpts = s->rcpts;
	free(offs);
}

void outbound_send(struct outbound *ob, const struct outbound_msg *msg, outbound_done_cb *cb, void *ctx)
{
	struct ob_send *s = xcalloc(1, sizeof *s);

	s->ob = ob;
	s->cb = cb;
	s->cb_ctx = ctx;
	copy_msg(s, msg);
	s->results = xcalloc(msg->nrcpts + 1, sizeof *s->results);
	s->final = xcalloc(msg->nrcpts + 1, 1);
	for (size_t i = 0; s->msg.domain[i] != '\0' && i < ROUTE_NAME_MAX; i++)
		s->domain[i] = (char)tolower((unsigned char)s->msg.domain[i]);
	s->state = SEND_WAITING;
	TAILQ_INSERT_TAIL(&ob->waiting, s, link);
	ob->nwaiting++;
	ob_kick(ob);
}

size_t outbound_connections(const struct outbound *ob)
{
	return ob->nconns;
}

size_t outbound_waiting(const struct outbound *ob)
{
	return ob->nwaiting;
}

/* A send that never got a final answer: DEFERRED "shutting down". */
static void shut_send(struct ob_send *s)
{
	for (size_t i = 0; i < s->msg.nrcpts; i++)
		if (!s->final[i]) {
			s->results[i].status = OUTBOUND_DEFERRED;
			snprintf(s->results[i].reply, sizeof s->results[i].reply, "shutting down");
			snprintf(s->results[i].enhanced, sizeof s->results[i].enhanced, "4.3.2");
		}
	snprintf(s->error, sizeof s->error, "shutting down");
}

void outbound_free(struct outbound **obp)
{
	struct outbound *ob = *obp;
	struct ob_send *s;
	struct ob_conn *c;

	if (ob == NULL)
		return;
	*obp = NULL;
	ob_conn_close_all(ob);
	while ((c = TAILQ_FIRST(&ob->dead)) != NULL) {
		TAILQ_REMOVE(&ob->dead, c, link);
		free(c->expect);
		free(c->expect_rcpt);
		free(c->rcpt_ok);
		free(c);
	}
	/* Callbacks run after ob is unusable: collect first. */
	while ((s = TAILQ_FIRST(&ob->waiting)) != NULL) {
		TAILQ_REMOVE(&ob->waiting, s, link);
		TAILQ_INSERT_TAIL(&ob->done, s, link);
		shut_send(s);
	}
	while ((s = TAILQ_FIRST(&ob->active)) != NULL) {
		TAILQ_REMOVE(&ob->active, s, link);
		shut_send(s);
		if (s->state == SEND_RESOLVING) {
			/* the resolver still owes its callback: it frees the orphan */
			s->cb(s->cb_ctx, s->results, s->msg.nrcpts, s->error);
			s->state = SEND_ORPHAN;
			s->ob = NULL;
			continue;
		}
		TAILQ_INSERT_TAIL(&ob->done, s, link);
	}
	event_free(ob->tick);
	SSL_CTX_free(ob->ssl_ctx);
	free(ob->relay_password);
	while ((s = TAILQ_FIRST(&ob->done)) != NULL) {
		TAILQ_REMOVE(&ob->done, s, link);
		s->ob = NULL;
		run_done(s);
	}
	free(ob);
}

/* An orphan's resolver callback arrived after outbound_free. */
void ob_send_free_orphan(struct ob_send *s)
{
	send_free(s);
}
