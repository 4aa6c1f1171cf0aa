/* outbound_send - one send: the route, the walk over hosts and addresses,
 * the policy checks before a transaction, the per-recipient results. */
#include "gateway/outbound/outbound_private.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A leading RFC 3463 code ("5.1.10 null MX...") into out, else "". */
static void lead_enhanced(const char *text, char *out, size_t size)
{
	size_t n = strspn(text, "0123456789.");

	out[0] = '\0';
	if (n >= 5 && n < size && (text[0] == '2' || text[0] == '4' || text[0] == '5') && text[1] == '.' &&
	    (text[n] == ' ' || text[n] == '\0')) {
		memcpy(out, text, n);
		out[n] = '\0';
	}
}

void ob_send_complete(struct ob_send *s)
{
	struct outbound *ob = s->ob;

	s->conn = NULL;
	s->state = SEND_DONE;
	TAILQ_REMOVE(&ob->active, s, link);
	TAILQ_INSERT_TAIL(&ob->done, s, link);
	ob_kick(ob);
}

void ob_send_result(struct ob_send *s, size_t i, enum outbound_status st, const struct smtp_reply *r,
		    const char *reply, const char *enhanced)
{
	struct outbound_result *res = &s->results[i];

	if (s->final[i])
		return;
	s->final[i] = 1;
	res->status = st;
	if (r != NULL) {
		smtp_reply_format(r, res->reply, sizeof res->reply);
		snprintf(res->enhanced, sizeof res->enhanced, "%s", r->enhanced);
	} else {
		snprintf(res->reply, sizeof res->reply, "%s", reply);
		snprintf(res->enhanced, sizeof res->enhanced, "%s", enhanced != NULL ? enhanced : "");
	}
	if (s->conn != NULL)
		snprintf(res->remote, sizeof res->remote, "%s", s->conn->remote);
}

void ob_send_finish_open(struct ob_send *s, enum outbound_status st, const char *reply, const char *enhanced)
{
	for (size_t i = 0; i < s->msg.nrcpts; i++)
		ob_send_result(s, i, st, NULL, reply, enhanced);
	ob_send_complete(s);
}

/* RFC 8689 5: REQUIRETLS only toward an authenticated (DANE or VERIFY)
 * host. Returns a refusal or NULL. */
static const char *requiretls_refusal(const struct ob_send *s, const struct route_host *h)
{
	static __thread char why[OB_ERR_MAX];

	if (!s->msg.requiretls || h->tls == ROUTE_TLS_VERIFY || h->tls == ROUTE_TLS_DANE)
		return NULL;
	snprintf(why, sizeof why, "%s: REQUIRETLS needs a verified TLS route (DANE or MTA-STS), policy is %s",
		 h->name, ob_tls_mode_name(h->tls));
	return why;
}

/* No host left: any host in trouble defers with the last trouble; only
 * policy refusals from every host fail the open recipients. */
static void exhausted(struct ob_send *s)
{
	if (s->temp_error[0] != '\0') {
		snprintf(s->error, sizeof s->error, "%s", s->temp_error);
		ob_send_finish_open(s, OUTBOUND_DEFERRED, s->temp_error,
				    s->temp_enhanced[0] != '\0' ? s->temp_enhanced : "4.4.1");
	} else if (s->perm_error[0] != '\0') {
		ob_send_finish_open(s, OUTBOUND_FAILED, s->perm_error, s->perm_enhanced);
	} else {
		snprintf(s->error, sizeof s->error, "no usable host for %s", s->domain);
		ob_send_finish_open(s, OUTBOUND_DEFERRED, s->error, "4.4.4");
	}
}

/* Tries the current host/address (from the pool when allowed), or the
 * next ones; when none is left, the open recipients get the last error. */
static void try_next(struct ob_send *s, int use_pool)
{
	struct outbound *ob = s->ob;
	const struct route *r = s->route;

	for (;;) {
		const struct route_host *h;
		const char *refusal;
		struct ob_conn *c;

		if (s->host_i >= r->nhosts) {
			exhausted(s);
			return;
		}
		h = &r->hosts[s->host_i];
		if (s->addr_i == 0 && (refusal = requiretls_refusal(s, h)) != NULL) {
			snprintf(s->perm_error, sizeof s->perm_error, "%s", refusal);
			snprintf(s->perm_enhanced, sizeof s->perm_enhanced, "5.7.10");
			s->host_i++;
			continue;
		}
		if (s->addr_i >= h->naddrs) {
			if (h->naddrs == 0) {
				snprintf(s->temp_error, sizeof s->temp_error, "%s: %s", h->name,
					 h->error[0] != '\0' ? h->error : "no address");
				snprintf(s->temp_enhanced, sizeof s->temp_enhanced, "4.4.4");
			}
			s->host_i++;
			s->addr_i = 0;
			continue;
		}
		if (use_pool && s->addr_i == 0 && (c = ob_conn_find_idle(ob, h)) != NULL) {
			s->conn = c;
			ob_conn_reuse(c, s);
			return;
		}
		s->conn = ob_conn_open(ob, s, h, h->addrs[s->addr_i]);
		return;
	}
}

/* route_cb: the route of the send's domain. */
static void on_route(void *ctx, enum route_status st, const struct route *r, const char *error)
{
	struct ob_send *s = ctx;
	char enh[12];

	if (s->state == SEND_ORPHAN) {
		ob_send_free_orphan(s);
		return;
	}
	s->state = SEND_ACTIVE;
	if (error == NULL || error[0] == '\0')
		error = st == ROUTE_OK ? "" : "route lookup failed";
	lead_enhanced(error, enh, sizeof enh);
	if (st != ROUTE_OK || r == NULL) {
		snprintf(s->error, sizeof s->error, "%s", error);
		ob_send_finish_open(s, st == ROUTE_PERMFAIL ? OUTBOUND_FAILED : OUTBOUND_DEFERRED, error,
				    enh[0] != '\0' ? enh : st == ROUTE_PERMFAIL ? "5.1.2" : "4.4.3");
		return;
	}
	s->route = xmalloc(sizeof *s->route);
	*s->route = *r;
	if (s->route->nhosts > ROUTE_MAX_HOSTS)
		s->route->nhosts = ROUTE_MAX_HOSTS;
	for (unsigned i = 0; i < s->route->nhosts; i++)
		if (s->route->hosts[i].naddrs > ROUTE_MAX_ADDRS)
			s->route->hosts[i].naddrs = ROUTE_MAX_ADDRS;
	try_next(s, 1);
}

void ob_send_start(struct ob_send *s)
{
	struct outbound *ob = s->ob;

	s->state = SEND_RESOLVING;
	if (s->msg.nrcpts == 0) {
		s->state = SEND_ACTIVE;
		snprintf(s->error, sizeof s->error, "no recipients");
		ob_send_complete(s);
		return;
	}
	ob->resolver.resolve(ob->resolver.ctx, s->msg.domain, on_route, s);
}

void ob_send_host_failed(struct ob_send *s, const char *why, const char *enhanced, int perm)
{
	const struct route_host *h = &s->route->hosts[s->host_i];

	log_info("outbound: %s: %s", s->domain, why);
	s->conn = NULL;
	if (perm) {
		snprintf(s->perm_error, sizeof s->perm_error, "%s", why);
		snprintf(s->perm_enhanced, sizeof s->perm_enhanced, "%s", enhanced != NULL ? enhanced : "");
	} else {
		snprintf(s->temp_error, sizeof s->temp_error, "%s", why);
		snprintf(s->temp_enhanced, sizeof s->temp_enhanced, "%s", enhanced != NULL ? enhanced : "");
	}
	if (perm || ++s->addr_i >= h->naddrs) {
		s->host_i++;
		s->addr_i = 0;
	}
	try_next(s, 1);
}

void ob_send_reuse_failed(struct ob_send *s)
{
	s->conn = NULL;
	try_next(s, 0);
}

/* Refuses what this server cannot take (RFC 6531 3.2, RFC 6152 3,
 * RFC 8689 4.1, RFC 1870 6); NULL when the transaction may start. */
static const char *server_refusal(const struct ob_send *s, const struct ob_conn *c, const char **enh_r)
{
	static __thread char why[OB_ERR_MAX];

	why[0] = '\0';
	if (s->msg.requiretls && (!c->tls || !c->ext.requiretls))
		*enh_r = "5.7.10", snprintf(why, sizeof why, "%s: REQUIRETLS not offered", c->remote);
	else if (s->msg.smtputf8 && !c->ext.smtputf8)
		*enh_r = "5.6.7", snprintf(why, sizeof why, "%s: SMTPUTF8 needed but not offered (RFC 6531 3.2)", c->remote);
	else if (s->msg.body8bit && !c->ext.eightbitmime)
		*enh_r = "5.6.3", snprintf(why, sizeof why, "%s: 8-bit body but 8BITMIME not offered", c->remote);
	else if (c->ext.size_max > 0 && s->msg.len > c->ext.size_max)
		*enh_r = "5.3.4", snprintf(why, sizeof why, "%s: message of %zu bytes over the server's SIZE %llu",
					   c->remote, s->msg.len, (unsigned long long)c->ext.size_max);
	return why[0] != '\0' ? why : NULL;
}

void ob_send_conn_ready(struct ob_send *s, struct ob_conn *c)
{
	const char *enh = NULL, *why = server_refusal(s, c, &enh);
	char copy[OB_ERR_MAX];

	if (why != NULL) {
		snprintf(copy, sizeof copy, "%s", why);
		ob_conn_release(c, 1);
		ob_send_host_failed(s, copy, enh, 1);
		return;
	}
	ob_txn_start(c);
}
