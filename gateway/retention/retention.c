/* retention - see retention.h. */
#include "gateway/retention/retention.h"
#include "gateway/command.h"
#include "gateway/decider.h"
#include "common/address.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/json_fast.h"
#include "projector/directory.h"
#include "projector/keys.h"
#include "projector/mail.h"
#include "projector/retention.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETENTION_COMMAND_TIMEOUT_MS 30000

/* One round's expunges in flight. Outlives the enforcer when it is
 * stopped meanwhile (rt NULL): the last report frees it. */
struct round {
	struct retention *rt;
	char next[EVM_ADDRESS_MAX + 1];  /* the cursor once every expunge is applied */
	int more;                        /* stopped short: go on at once */
	int failed;                      /* an expunge's fate is unknown: same place next time */
	size_t pending;                  /* submits not reported yet, plus the round's own */
	size_t events;                   /* expunges submitted */
};

struct retention {
	struct node *node;
	struct event *timer;
	struct round *round;             /* NULL when idle */
	char cursor[EVM_ADDRESS_MAX + 1];  /* first account of the next round ("": the start) */
	uint64_t rounds, events, expunged, failures;
	int64_t last_pass_ms;            /* wall clock of the last round that reached the end */
};

/* What a decision must have seen to its end: the rules and the messages. */
static const char *const retention_topics[] = { "mail", "directory", NULL };

/* One report less; the last one ends the round. */
static void round_report(struct round *r)
{
	struct retention *rt = r->rt;

	if (--r->pending > 0)
		return;
	if (rt != NULL) {
		rt->round = NULL;
		if (!r->failed) {
			snprintf(rt->cursor, sizeof rt->cursor, "%s", r->next);
			if (!r->more)
				rt->last_pass_ms = evm_now_ms();
			else
				event_active(rt->timer, EV_TIMEOUT, 0);  /* the rest of the pass */
		}
	}
	free(r);
}

/* Messages in an outcome's "expunged" ranges [[lo, hi], ...]. */
static uint64_t ranges_count(json_t *ranges)
{
	uint64_t n = 0;
	json_t *rg;
	size_t i;

	json_array_foreach(ranges, i, rg) {
		json_int_t lo = json_integer_value(json_array_get(rg, 0)), hi = json_integer_value(json_array_get(rg, 1));

		if (hi >= lo)
			n += (uint64_t)(hi - lo + 1);
	}
	return n;
}

/* An expunge's outcome (applied here) or its unknown fate. */
static void expunge_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct round *r = ctx;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	if (status < 0) {
		r->failed = 1;
		if (r->rt != NULL) {
			log_warn("retention: an expunge was not applied: %s", error);
			r->rt->failures++;
		}
	} else if (r->rt != NULL && st != NULL && strcmp(st, "accepted") == 0) {
		r->rt->events++;
		r->rt->expunged += ranges_count(json_object_get(outcome, "expunged"));
	}
	/* Rejected: the mailbox went meanwhile; nothing to do. */
	round_report(r);
}

static int cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted, merged UID ranges [[lo, hi], ...] of uids (sorted in place). */
static json_t *uid_ranges(uint32_t *uids, size_t n)
{
	json_t *out = json_array();
	size_t i = 0;

	qsort(uids, n, sizeof *uids, cmp_uid);
	while (i < n) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] <= uids[j] + 1)
			j++;
		json_array_append_new(out, json_pack("[I,I]", (json_int_t)uids[i], (json_int_t)uids[j]));
		i = j + 1;
	}
	return out;
}

/* Submits message.expunge {mailbox_id, uids} for the account. 0 or -1. */
static int expunge_submit(struct round *r, const char *tenant, const char *account, const char *mailbox_id,
			  uint32_t *uids, size_t n)
{
	const char *error = NULL;
	struct evm_event ev;

	if (evm_event_init(&ev, "message.expunge", tenant, account, "retention",
			   json_pack("{s:s, s:o}", "mailbox_id", mailbox_id, "uids", uid_ranges(uids, n)), &error) < 0) {
		log_warn("retention: expunge in %s of %s: %s", mailbox_id, account, error);
		return -1;
	}
	r->pending++;
	r->events++;
	command_submit(r->rt->node, &ev, EVM_TOPIC_MAIL, account, RETENTION_COMMAND_TIMEOUT_MS, expunge_done, r);
	return 0;
}

/* The tenant's rules, cached for the round in rules (tenant -> rules or
 * null). Borrowed; NULL: none. */
static json_t *tenant_rules(struct node *node, json_t *cache, const char *tenant)
{
	json_t *t = NULL, *v = json_object_get(cache, tenant);
	const char *error = NULL;

	if (v == NULL) {
		if (directory_tenant_get(node->view, tenant, &t, &error) < 0)
			log_warn("retention: tenant %s: %s", tenant, error);
		v = json_object_get(t, "retention");
		json_object_set_new(cache, tenant, v != NULL ? json_incref(v) : json_null());
		json_decref(t);
		v = json_object_get(cache, tenant);
	}
	return json_is_object(v) ? v : NULL;
}

/* The account's expired messages, one expunge per mailbox. Returns 1 when
 * the account is done, 0 when a mailbox had more than one event's worth
 * (look again), -1 on a view error. */
static int account_round(struct round *r, json_t *cache, json_t *account, int64_t now)
{
	struct node *node = r->rt->node;
	const char *address = json_string_value(json_object_get(account, "address"));
	const char *tenant = json_string_value(json_object_get(account, "tenant")), *error = NULL;
	json_t *rules, *boxes = NULL, *m;
	uint32_t *uids = NULL;
	int done = 1;
	size_t i;

	if (address == NULL || tenant == NULL)
		return 1;
	rules = tenant_rules(node, cache, tenant);
	if (mail_mailboxes(node->view, address, &boxes, &error) < 0) {
		log_warn("retention: mailboxes of %s: %s", address, error);
		return -1;
	}
	json_array_foreach(boxes, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		int64_t age = retention_max_age(rules, m, NULL);
		size_t n = 0;

		if (id == NULL || age <= 0)
			continue;
		if (uids == NULL)
			uids = xcalloc(RETENTION_EVENT_UIDS, sizeof *uids);
		if (retention_expired(node->view, address, id, now - age, uids, RETENTION_EVENT_UIDS, &n, &error) < 0) {
			log_warn("retention: %s of %s: %s", id, address, error);
			done = -1;
			break;
		}
		if (n == 0)
			continue;
		if (expunge_submit(r, tenant, address, id, uids, n) < 0) {
			done = -1;
			break;
		}
		if (n == RETENTION_EVENT_UIDS)
			done = 0;
	}
	free(uids);
	json_decref(boxes);
	return done;
}

struct account_list {
	json_t *list;
	size_t plen;
};

/* One dir/account/ record into the list. */
static int account_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct account_list *al = ctx;
	json_t *a = evm_json_loadb(val, vlen, 0, NULL);

	(void)key;
	(void)klen;
	if (json_is_object(a))
		json_array_append(al->list, a);
	json_decref(a);
	return json_array_size(al->list) >= RETENTION_ACCOUNTS_PER_ROUND + 1;
}

/* The round's accounts from the cursor on, one more than a round takes
 * (to know whether the pass ends). NULL on a view error. */
static json_t *accounts_from(struct retention *rt)
{
	struct account_list al = { json_array(), strlen(KEY_ACCOUNT) };
	struct buf start = BUF_INIT;
	const char *error = NULL;
	int ret;

	buf_printf(&start, "%s%s", KEY_ACCOUNT, rt->cursor);
	ret = view_scan_from(rt->node->view, KEY_ACCOUNT, al.plen, start.data, start.len, account_cb, &al, &error);
	buf_free(&start);
	if (ret < 0) {
		log_error("retention: the accounts: %s", error);
		json_decref(al.list);
		return NULL;
	}
	return al.list;
}

/* The timer: expunge what is older than its rule now. */
static void retention_tick(evutil_socket_t fd, short what, void *ctx)
{
	struct retention *rt = ctx;
	struct node *node = rt->node;
	int64_t now = evm_now_ms();
	json_t *accounts, *cache, *a;
	struct round *r;
	size_t i, n;

	(void)fd;
	(void)what;
	if (rt->round != NULL || !decider_is_me(node) || !decider_caught_up(node, retention_topics))
		return;
	if ((accounts = accounts_from(rt)) == NULL) {
		rt->failures++;
		return;
	}
	rt->rounds++;
	cache = json_object();
	r = xcalloc(1, sizeof *r);
	r->rt = rt;
	/* One report of our own, so the round cannot end inside this loop. */
	r->pending = 1;
	rt->round = r;
	n = json_array_size(accounts);
	json_array_foreach(accounts, i, a) {
		const char *address = json_string_value(json_object_get(a, "address"));
		int done;

		if (i == RETENTION_ACCOUNTS_PER_ROUND || r->events >= RETENTION_EVENTS_PER_ROUND) {
			snprintf(r->next, sizeof r->next, "%s", address != NULL ? address : "");
			r->more = 1;
			break;
		}
		if ((done = account_round(r, cache, a, now)) <= 0) {
			/* More of this account, or a view error: the next round
			 * starts here again (the error at the next interval). */
			snprintf(r->next, sizeof r->next, "%s", address != NULL ? address : "");
			r->more = done == 0;
			if (done < 0) {
				rt->failures++;
				r->failed = 1;
			}
			break;
		}
	}
	if (i == n)
		r->next[0] = '\0';  /* the pass reached the last account */
	if (r->events > 0)
		log_info("retention: %zu expunge(s) decided", r->events);
	json_decref(cache);
	json_decref(accounts);
	round_report(r);
}

int retention_start(struct node *node, struct retention **rt_r, const char **error_r)
{
	struct retention *rt;
	struct timeval tv = { .tv_sec = node->cfg->retention_interval_s };

	(void)error_r;
	*rt_r = NULL;
	if (node->cfg->retention_interval_s == 0)
		return 0;
	rt = xcalloc(1, sizeof *rt);
	rt->node = node;
	rt->timer = event_new(node->base, -1, EV_PERSIST, retention_tick, rt);
	event_add(rt->timer, &tv);
	*rt_r = rt;
	return 0;
}

void retention_stop(struct retention **rtp)
{
	struct retention *rt = *rtp;

	if (rt == NULL)
		return;
	if (rt->round != NULL)
		rt->round->rt = NULL;
	event_free(rt->timer);
	free(rt);
	*rtp = NULL;
}

/* One counter line. */
static void counter(struct buf *out, const char *name, const char *help, uint64_t v)
{
	buf_printf(out, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		   (unsigned long long)v);
}

void retention_metrics(struct retention *rt, struct buf *out)
{
	if (rt == NULL)
		return;
	counter(out, "evmail_retention_rounds_total", "Retention rounds this node ran as the decider.", rt->rounds);
	counter(out, "evmail_retention_expunge_events_total", "message.expunge events retention logged and applied.",
		rt->events);
	counter(out, "evmail_retention_expunged_total", "Messages expunged by retention (decided by this node).",
		rt->expunged);
	counter(out, "evmail_retention_failures_total", "Expunges whose fate is unknown, and view errors.",
		rt->failures);
	buf_printf(out, "# HELP evmail_retention_last_pass_seconds When the last complete pass over the accounts "
		   "ended (unix time).\n# TYPE evmail_retention_last_pass_seconds gauge\n"
		   "evmail_retention_last_pass_seconds %lld\n", (long long)(rt->last_pass_ms / 1000));
}
