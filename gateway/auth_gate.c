/* auth_gate - see auth_gate.h. */
#include "gateway/auth_gate.h"
#include "gateway/auth_throttle.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdlib.h>

/* One failure answer waiting for its delay. */
struct gate_wait {
	struct gate_wait *prev, *next;
	struct event *timer;
	auth_gate_cb *cb;
	void *ctx;
};

/* The node's throttle (NULL before setup: nothing throttled), its delay,
 * the answers waiting, and the counters. Loop thread only. */
static struct auth_throttle *gate;
static unsigned gate_delay_ms;
static struct gate_wait *gate_waiting;
static struct auth_gate_stats gate_stats;

int auth_gate_setup(const struct evm_config *cfg, const char **error_r)
{
	struct auth_throttle_settings set = {
		.max_failures_ip = (unsigned)cfg->auth_max_failures_ip,
		.max_failures_account = (unsigned)cfg->auth_max_failures_account,
		.window_s = (unsigned)cfg->auth_window_s,
		.lockout_s = (unsigned)cfg->auth_lockout_s,
		.max_entries = (unsigned)cfg->auth_throttle_size,
		.exempt = cfg->auth_throttle_exempt,
	};
	struct auth_throttle *t = NULL;

	if (auth_throttle_new(&set, &t, error_r) < 0)
		return -1;
	auth_throttle_free(&gate);
	gate = t;
	gate_delay_ms = (unsigned)cfg->auth_failure_delay_ms;
	return 0;
}

/* Unlinks w and answers it. */
static void wait_finish(struct gate_wait *w)
{
	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		gate_waiting = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
	event_free(w->timer);
	w->cb(w->ctx);
	free(w);
}

void auth_gate_teardown(void)
{
	while (gate_waiting != NULL)
		wait_finish(gate_waiting);
	auth_throttle_free(&gate);
	gate_delay_ms = 0;
}

/* The delay is over. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	wait_finish(arg);
}

void auth_gate_delay(struct event_base *base, auth_gate_cb *cb, void *ctx)
{
	struct gate_wait *w = xcalloc(1, sizeof *w);
	struct timeval tv = { gate_delay_ms / 1000, (gate_delay_ms % 1000) * 1000 };

	w->cb = cb;
	w->ctx = ctx;
	w->timer = evtimer_new(base, on_timer, w);
	if (w->timer == NULL || evtimer_add(w->timer, &tv) < 0)
		log_panic("auth: cannot arm the failure delay timer");
	w->next = gate_waiting;
	if (gate_waiting != NULL)
		gate_waiting->prev = w;
	gate_waiting = w;
	if (gate_delay_ms > 0)
		gate_stats.delayed++;
}

int auth_gate_allowed(const char *ip, const char *account)
{
	enum auth_throttle_verdict v;

	if (gate == NULL)
		return 1;
	v = auth_throttle_check(gate, ip, account, evm_mono_ms());
	if (v == AUTH_THROTTLE_ALLOW)
		return 1;
	if (v == AUTH_THROTTLE_REFUSE_IP)
		gate_stats.refused_ip++;
	else
		gate_stats.refused_account++;
	log_info("auth: refused %s from [%s]: too many failures (%s)", account[0] ? account : "(no account)",
		 ip, v == AUTH_THROTTLE_REFUSE_IP ? "client" : "account");
	return 0;
}

void auth_gate_success(const char *ip, const char *account)
{
	if (gate != NULL)
		auth_throttle_success(gate, ip, account, evm_mono_ms());
}

void auth_gate_failed(struct event_base *base, const char *ip, const char *account,
		      auth_gate_cb *cb, void *ctx)
{
	if (gate != NULL) {
		auth_throttle_failure(gate, ip, account, evm_mono_ms());
		gate_stats.failures++;
	}
	auth_gate_delay(base, cb, ctx);
}

void auth_gate_malformed(struct event_base *base, const char *ip, auth_gate_cb *cb, void *ctx)
{
	if (auth_gate_allowed(ip, ""))
		auth_gate_failed(base, ip, "", cb, ctx);
	else
		auth_gate_delay(base, cb, ctx);
}

void auth_gate_get_stats(struct auth_gate_stats *stats_r)
{
	*stats_r = gate_stats;
	stats_r->clients = stats_r->accounts = 0;
	if (gate != NULL)
		auth_throttle_entries(gate, &stats_r->clients, &stats_r->accounts);
}
