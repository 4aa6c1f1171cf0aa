/* queue_plan - the next action for one due queue item (see queue_plan.h). */
#include "gateway/outbound/queue_plan.h"
#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* String member or "" when absent. */
static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

/* A recipient still to deliver. */
static int rcpt_pending(json_t *r)
{
	const char *st = jstr(r, "status");

	return strcmp(st, "queued") == 0 || strcmp(st, "deferred") == 0;
}

/* RFC 3461 4.1: NOTIFY absent means FAILURE,DELAY; NEVER means nothing. */
static int rcpt_wants_delay(json_t *r)
{
	const char *n = jstr(r, "notify");
	char buf[64], *save = NULL;

	if (n[0] == '\0')
		return 1;
	snprintf(buf, sizeof buf, "%s", n);
	for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(t, "DELAY") == 0)
			return 1;
	}
	return 0;
}

int64_t queue_backoff_ms(const struct queue_plan_cfg *cfg, int64_t attempts)
{
	int64_t min = cfg->retry_min_s > 0 ? cfg->retry_min_s : 1;
	int64_t max = cfg->retry_max_s > min ? cfg->retry_max_s : min;
	int64_t s = min;

	for (int64_t i = 0; i < attempts && s < max; i++)
		s *= 2;
	return (s < max ? s : max) * 1000;
}

/* "5 days", "3 hours", "10 minutes", "30 seconds". */
static void format_lifetime(int64_t ms, char *out, size_t size)
{
	int64_t s = ms > 0 ? ms / 1000 : 0;

	if (s >= 86400)
		snprintf(out, size, "%lld day%s", (long long)(s / 86400), s / 86400 == 1 ? "" : "s");
	else if (s >= 3600)
		snprintf(out, size, "%lld hour%s", (long long)(s / 3600), s / 3600 == 1 ? "" : "s");
	else if (s >= 60)
		snprintf(out, size, "%lld minute%s", (long long)(s / 60), s / 60 == 1 ? "" : "s");
	else
		snprintf(out, size, "%lld second%s", (long long)s, s == 1 ? "" : "s");
}

/* Appends index i to a growing array. */
static void push_index(size_t **arr, size_t *n, size_t i)
{
	*arr = xrealloc(*arr, (*n + 1) * sizeof **arr);
	(*arr)[(*n)++] = i;
}

/* 1. a report is due for some recipients. */
static int plan_dsn(json_t *item, json_t *rcpts, struct queue_plan *p)
{
	const char *kind = NULL;
	size_t i;
	json_t *r;

	json_array_foreach(rcpts, i, r) {
		const char *due = jstr(r, "dsn_due");
		if (due[0] == '\0')
			continue;
		if (kind == NULL)
			kind = due;
		if (strcmp(due, kind) == 0)
			push_index(&p->rcpts, &p->nrcpts, i);
	}
	if (kind == NULL)
		return 0;
	p->kind = QPLAN_DSN;
	p->dsn_kind = strcmp(kind, "success") == 0 ? DSN_SUCCESS :
		      strcmp(kind, "relayed") == 0 ? DSN_RELAYED : DSN_FAILURE;
	p->dsn_silent = jstr(item, "from")[0] == '\0' || json_is_true(json_object_get(item, "dsn"));
	return 1;
}

/* 2. past its lifetime: every pending recipient fails in one attempt. */
static int plan_expire(json_t *item, json_t *rcpts, int64_t now_ms, const char *node_id,
		       struct queue_plan *p)
{
	int64_t expire = json_integer_value(json_object_get(item, "expire"));
	int64_t arrival = json_integer_value(json_object_get(item, "arrival"));
	json_t *results, *r;
	char life[64], reply[QUEUE_REPLY_MAX + 1];
	size_t i;

	if (expire <= 0 || now_ms <= expire)
		return 0;
	format_lifetime(expire - arrival, life, sizeof life);
	results = json_array();
	json_array_foreach(rcpts, i, r) {
		const char *last = jstr(r, "reply");
		if (!rcpt_pending(r))
			continue;
		if (last[0] != '\0')
			snprintf(reply, sizeof reply, "message expired after %s; last error: %s", life, last);
		else
			snprintf(reply, sizeof reply, "message expired after %s", life);
		json_array_append_new(results, queue_rcpt_result(jstr(r, "addr"), "failed", reply,
								 "4.4.7", jstr(r, "remote"), 0));
	}
	if (json_array_size(results) == 0) {
		json_decref(results);
		return 0;
	}
	snprintf(reply, sizeof reply, "message expired after %s", life);
	p->kind = QPLAN_EXPIRE;
	p->attempt = queue_attempt_data(jstr(item, "id"), node_id, now_ms, results, now_ms, reply);
	return 1;
}

/* 3. the one delay notice (RFC 3464 Action: delayed). */
static int plan_delay(json_t *item, json_t *rcpts, int64_t now_ms, struct queue_plan *p)
{
	int64_t warn = json_integer_value(json_object_get(item, "delay_warn"));
	json_t *r;
	size_t i;

	if (warn <= 0 || now_ms < warn || json_is_true(json_object_get(item, "delay_notified")) ||
	    jstr(item, "from")[0] == '\0' || json_is_true(json_object_get(item, "dsn")))
		return 0;
	json_array_foreach(rcpts, i, r) {
		if (rcpt_pending(r) && rcpt_wants_delay(r))
			push_index(&p->rcpts, &p->nrcpts, i);
	}
	if (p->nrcpts == 0)
		return 0;
	p->kind = QPLAN_DELAY;
	p->dsn_kind = DSN_DELAY;
	return 1;
}

/* 4. pending recipients by destination domain. */
static int plan_send(json_t *rcpts, struct queue_plan *p)
{
	json_t *r;
	size_t i;

	json_array_foreach(rcpts, i, r) {
		char domain[256];
		const char *error;
		size_t g;

		if (!rcpt_pending(r))
			continue;
		if (queue_domain_alabel(jstr(r, "addr"), domain, &error) < 0) {
			push_index(&p->invalid, &p->ninvalid, i);
			continue;
		}
		for (g = 0; g < p->ngroups; g++) {
			if (strcmp(p->groups[g].domain, domain) == 0)
				break;
		}
		if (g == p->ngroups) {
			p->groups = xrealloc(p->groups, (p->ngroups + 1) * sizeof *p->groups);
			memset(&p->groups[g], 0, sizeof p->groups[g]);
			snprintf(p->groups[g].domain, sizeof p->groups[g].domain, "%s", domain);
			p->ngroups++;
		}
		push_index(&p->groups[g].rcpts, &p->groups[g].n, i);
	}
	if (p->ngroups == 0 && p->ninvalid == 0)
		return 0;
	p->kind = QPLAN_SEND;
	return 1;
}

int queue_plan_make(json_t *item, int64_t now_ms, const struct queue_plan_cfg *cfg,
		    const char *node_id, struct queue_plan *plan_r, const char **error_r)
{
	json_t *rcpts = json_object_get(item, "rcpts");

	memset(plan_r, 0, sizeof *plan_r);
	if (!json_is_object(item) || !json_is_array(rcpts) || jstr(item, "id")[0] == '\0') {
		*error_r = "queue item without id or rcpts";
		return -1;
	}
	if (plan_dsn(item, rcpts, plan_r))
		return 0;
	if (json_is_true(json_object_get(item, "held")))
		return 0;
	if (plan_expire(item, rcpts, now_ms, node_id, plan_r) ||
	    plan_delay(item, rcpts, now_ms, plan_r))
		return 0;
	/* While a DSN was due, next_try was pulled forward; the recipients
	 * themselves are due at retry_at (projector/queue.h). */
	if (json_integer_value(json_object_get(item, "retry_at")) > now_ms)
		return 0;
	if (plan_send(rcpts, plan_r))
		return 0;
	plan_r->kind = QPLAN_NONE;
	return 0;
}

void queue_plan_free(struct queue_plan *plan)
{
	for (size_t g = 0; g < plan->ngroups; g++)
		free(plan->groups[g].rcpts);
	free(plan->groups);
	free(plan->rcpts);
	free(plan->invalid);
	json_decref(plan->attempt);
	memset(plan, 0, sizeof *plan);
}
