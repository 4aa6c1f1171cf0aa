/* queue_events - the event data the delivery worker appends (queue.attempt,
 * queue.notified), the report request of a plan, and destination domains
 * in A-label form. Pure; see queue_plan.h. */
#include "gateway/outbound/queue_plan.h"
#include "common/buf.h"

#include <idn2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* String member or "" when absent. */
static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "";
}

int queue_domain_alabel(const char *addr, char out[256], const char **error_r)
{
	const char *at = strrchr(addr, '@');
	const char *d = at != NULL ? at + 1 : "";
	size_t n = strlen(d);
	int ascii = 1;
	char *a = NULL;
	int rc;

	if (n == 0 || n > 255) {
		*error_r = "5.1.2 no or overlong destination domain";
		return -1;
	}
	if (d[0] == '[') {               /* address literal, RFC 5321 4.1.3 */
		snprintf(out, 256, "%s", d);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c >= 0x80)
			ascii = 0;
		else if (c <= 0x20 || c == 0x7f)
			goto bad;
	}
	if (ascii) {
		for (size_t i = 0; i <= n; i++)
			out[i] = (char)((d[i] >= 'A' && d[i] <= 'Z') ? d[i] + 32 : d[i]);
		return 0;
	}
	/* UTS 46 mapping (case folding, NFC) then IDNA2008 to A-labels. */
	rc = idn2_to_ascii_8z(d, &a, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
	if (rc != IDN2_OK || a == NULL || strlen(a) > 255) {
		idn2_free(a);
		goto bad;
	}
	snprintf(out, 256, "%s", a);
	idn2_free(a);
	return 0;
bad:
	*error_r = "5.1.2 bad destination domain";
	return -1;
}

json_t *queue_rcpt_result(const char *addr, const char *status, const char *reply,
			  const char *enhanced, const char *remote, int dsn_passed)
{
	char cut[QUEUE_REPLY_MAX + 1];
	size_t n;

	snprintf(cut, sizeof cut, "%s", reply != NULL ? reply : "");
	/* Never cut inside a UTF-8 sequence. */
	n = strlen(cut);
	if (n == QUEUE_REPLY_MAX) {
		while (n > 0 && ((unsigned char)cut[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)cut[n - 1] >= 0xc0)
			n--;
		cut[n] = '\0';
	}
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "addr", addr, "status", status, "reply", cut,
			 "enhanced", enhanced != NULL ? enhanced : "", "remote",
			 remote != NULL ? remote : "", "dsn_passed", dsn_passed);
}

json_t *queue_attempt_data(const char *id, const char *node, int64_t ts, json_t *rcpts,
			   int64_t next_try, const char *error)
{
	char cut[QUEUE_REPLY_MAX + 1];

	snprintf(cut, sizeof cut, "%s", error != NULL ? error : "");
	return json_pack("{s:s,s:s,s:I,s:o,s:I,s:s}", "id", id, "node", node, "ts", (json_int_t)ts,
			 "rcpts", rcpts, "next_try", (json_int_t)next_try, "error", cut);
}

json_t *queue_notified_data(json_t *item, const struct queue_plan *plan)
{
	json_t *rcpts = json_array(), *all = json_object_get(item, "rcpts");

	for (size_t i = 0; i < plan->nrcpts; i++)
		json_array_append_new(rcpts, json_string(jstr(json_array_get(all, plan->rcpts[i]), "addr")));
	return json_pack("{s:s,s:s,s:o}", "id", jstr(item, "id"), "kind",
			 plan->kind == QPLAN_DELAY ? "delay" : "dsn", "rcpts", rcpts);
}

int queue_plan_dsn_request(json_t *item, const struct queue_plan *plan, int64_t now_ms,
			   struct dsn_request *req_r, struct dsn_rcpt *rcpts_r, const char **error_r)
{
	json_t *all = json_object_get(item, "rcpts");

	if ((plan->kind != QPLAN_DSN && plan->kind != QPLAN_DELAY) || plan->nrcpts == 0) {
		*error_r = "the plan sends no report";
		return -1;
	}
	memset(req_r, 0, sizeof *req_r);
	for (size_t i = 0; i < plan->nrcpts; i++) {
		json_t *r = json_array_get(all, plan->rcpts[i]);
		rcpts_r[i].addr = jstr(r, "addr");
		rcpts_r[i].orcpt = jstr(r, "orcpt");
		rcpts_r[i].status = jstr(r, "enhanced");
		rcpts_r[i].reply = jstr(r, "reply");
		rcpts_r[i].remote = jstr(r, "remote");
		/* A delay is a transient state whatever the last reply said. */
		if (plan->kind == QPLAN_DELAY && rcpts_r[i].status[0] != '4')
			rcpts_r[i].status = "4.0.0";
	}
	req_r->kind = plan->dsn_kind;
	req_r->sender = jstr(item, "from");
	req_r->envid = jstr(item, "envid");
	req_r->ret = jstr(item, "ret");
	req_r->arrival_ms = json_integer_value(json_object_get(item, "arrival"));
	req_r->last_attempt_ms = json_integer_value(json_object_get(item, "last_attempt"));
	req_r->retry_until_ms = json_integer_value(json_object_get(item, "expire"));
	req_r->rcpts = rcpts_r;
	req_r->nrcpts = plan->nrcpts;
	req_r->now_ms = now_ms;
	return 0;
}
