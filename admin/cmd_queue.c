/* cmd_queue - `evmailctl queue ...`: the outbound queue as this node's view
 * sees it, and the operator's decisions about its items (each one an
 * event on the queue topic, answered once applied; projector/queue.h). */
#include "admin/ctl.h"
#include "admin/ctl_args.h"
#include "common/ids.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_USAGE \
	"queue list [--limit N] [--json]\n" \
	"       evmailctl queue show ID [--json]\n" \
	"       evmailctl queue retry ID|--all\n" \
	"       evmailctl queue hold|release ID\n" \
	"       evmailctl queue delete ID [--bounce]"

static const char *jstr(json_t *o, const char *member)
{
	const char *s = json_string_value(json_object_get(o, member));

	return s ? s : "";
}

static long long jint(json_t *o, const char *member)
{
	return (long long)json_integer_value(json_object_get(o, member));
}

/* A duration in its largest whole unit: "45s", "12m", "3h", "2d". */
static void fmt_duration(long long ms, char *out, size_t size)
{
	long long s = ms / 1000;

	if (s < 120)
		snprintf(out, size, "%llds", s);
	else if (s < 7200)
		snprintf(out, size, "%lldm", s / 60);
	else if (s < 172800)
		snprintf(out, size, "%lldh", s / 3600);
	else
		snprintf(out, size, "%lldd", s / 86400);
}

/* When the item is next tried, relative to now. */
static void fmt_next(json_t *item, long long now, char *out, size_t size)
{
	long long next = jint(item, "next_try");
	char d[32];

	if (json_is_true(json_object_get(item, "held"))) {
		snprintf(out, size, "held");
	} else if (next <= now) {
		snprintf(out, size, "now");
	} else {
		fmt_duration(next - now, d, sizeof d);
		snprintf(out, size, "in %s", d);
	}
}

static int pending(json_t *rcpt)
{
	const char *st = jstr(rcpt, "status");

	return strcmp(st, "queued") == 0 || strcmp(st, "deferred") == 0;
}

/* The item's last error: the attempt's, else the first pending
 * recipient's last reply. */
static const char *last_error(json_t *item)
{
	json_t *r;
	size_t i;

	if (jstr(item, "last_error")[0] != '\0')
		return jstr(item, "last_error");
	json_array_foreach(json_object_get(item, "rcpts"), i, r) {
		if (pending(r) && jstr(r, "reply")[0] != '\0')
			return jstr(r, "reply");
	}
	return "";
}

/* The table of `queue list`, one line per item (now: ms). */
void ctl_queue_print_list(FILE *out, json_t *items, long long now)
{
	json_t *item, *r;
	size_t i, k;

	fprintf(out, "%-33s %5s %-30s %7s %-8s %s\n", "ID", "AGE", "FROM", "PENDING", "NEXT", "LAST ERROR");
	json_array_foreach(items, i, item) {
		char age[32], next[32];
		int n = 0, total = 0;
		const char *from = jstr(item, "from");

		json_array_foreach(json_object_get(item, "rcpts"), k, r) {
			n += pending(r);
			total++;
		}
		fmt_duration(now > jint(item, "arrival") ? now - jint(item, "arrival") : 0, age, sizeof age);
		fmt_next(item, now, next, sizeof next);
		fprintf(out, "%s%s %5s %-30.30s %3d/%-3d %-8s %.60s\n", jstr(item, "id"),
			json_is_true(json_object_get(item, "held")) ? "*" : " ", age,
			from[0] ? from : "<>", n, total, next, last_error(item));
	}
	if (json_array_size(items) == 0)
		fprintf(out, "(the queue is empty)\n");
}

/* `queue show`: the item and every recipient (now: ms). */
void ctl_queue_print_item(FILE *out, json_t *item, long long now)
{
	char next[32], age[32];
	json_t *r;
	size_t i;

	fmt_next(item, now, next, sizeof next);
	fmt_duration(now > jint(item, "arrival") ? now - jint(item, "arrival") : 0, age, sizeof age);
	fprintf(out, "id:          %s%s\nfrom:        %s\naccount:     %s\nsize:        %lld bytes\n"
		"age:         %s\nnext try:    %s\nattempts:    %lld\nlast error:  %s\n",
		jstr(item, "id"), json_is_true(json_object_get(item, "held")) ? " (held)" : "",
		jstr(item, "from")[0] ? jstr(item, "from") : "<>",
		jstr(item, "account")[0] ? jstr(item, "account") : "-", jint(item, "blob_size"), age, next,
		jint(item, "attempts"), jstr(item, "last_error")[0] ? jstr(item, "last_error") : "-");
	fprintf(out, "recipients:\n");
	json_array_foreach(json_object_get(item, "rcpts"), i, r) {
		fprintf(out, "  %s  %s  attempts %lld%s%s\n", jstr(r, "addr"), jstr(r, "status"),
			jint(r, "attempts"), jstr(r, "dsn_due")[0] ? "  dsn due: " : "", jstr(r, "dsn_due"));
		if (jstr(r, "reply")[0] != '\0')
			fprintf(out, "      reply:  %s%s%s\n", jstr(r, "enhanced"), jstr(r, "enhanced")[0] ? " " : "",
				jstr(r, "reply"));
		if (jstr(r, "remote")[0] != '\0')
			fprintf(out, "      remote: %s\n", jstr(r, "remote"));
	}
}

static int queue_list(struct ctl *ctl, const char *limit)
{
	char path[64];
	json_t *items;
	char *end;
	unsigned long long n = 0;

	if (limit != NULL) {
		errno = 0;
		n = strtoull(limit, &end, 10);
		if (errno != 0 || end == limit || *end != '\0' || limit[0] == '-')
			return ctl_fail("--limit '%s' is not a number (0 = all)", limit);
		snprintf(path, sizeof path, "/admin/queue?limit=%llu", n);
	} else {
		snprintf(path, sizeof path, "/admin/queue");
	}
	if (ctl_get(ctl, path, &items) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_print_json(items);
		return CTL_OK;
	}
	ctl_queue_print_list(stdout, items, (long long)evm_now_ms());
	json_decref(items);
	return CTL_OK;
}

static int queue_show(struct ctl *ctl, const char *id)
{
	char path[128];
	json_t *item;

	snprintf(path, sizeof path, "/admin/queue/%s", id);
	if (ctl_get(ctl, path, &item) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_print_json(item);
		return CTL_OK;
	}
	ctl_queue_print_item(stdout, item, (long long)evm_now_ms());
	json_decref(item);
	return CTL_OK;
}

/* POSTs an action and reports its outcome on one line. */
static int queue_post(struct ctl *ctl, const char *path, json_t *body, const char *ok_message)
{
	const char *error = NULL, *why;
	json_t *reply = NULL;
	int status = ctl_http(ctl, "POST", path, body, &reply, &error), ret;

	if (status < 0)
		return ctl_fail("%s", error);
	if (status == 200) {
		if (ctl->json)
			ctl_print_json(json_incref(reply));
		else
			printf("%s\n", ok_message);
		ret = CTL_OK;
	} else {
		why = json_string_value(json_object_get(reply, "error"));
		ret = status == 404 ? ctl_fail("%s", why ? why : "no such queue item")
				    : why ? ctl_fail("%s", why) : ctl_fail("the node answered HTTP %d", status);
	}
	json_decref(reply);
	return ret;
}

static int queue_retry_all(struct ctl *ctl)
{
	const char *error = NULL;
	json_t *reply = NULL;
	int status = ctl_http(ctl, "POST", "/admin/queue/retry-all", NULL, &reply, &error), ret;

	if (status < 0)
		return ctl_fail("%s", error);
	if (status != 200 || !json_is_object(reply)) {
		ret = ctl_fail("%s", json_string_value(json_object_get(reply, "error"))
				     ? json_string_value(json_object_get(reply, "error"))
				     : "the node refused retry-all");
	} else if (jint(reply, "failed") > 0) {
		ret = ctl_fail("%lld items due now, %lld not (gone or refused)", jint(reply, "retried"),
			       jint(reply, "failed"));
	} else {
		if (ctl->json)
			ctl_print_json(json_incref(reply));
		else
			printf("%lld items due now\n", jint(reply, "retried"));
		ret = CTL_OK;
	}
	json_decref(reply);
	return ret;
}

int cmd_queue(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--limit", NULL };
	static const char *const flags[] = { "--all", "--bounce", NULL };
	struct ctl_args a;
	const char *verb, *id;
	char path[128], msg[128];

	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, opts, flags) < 0)
		return ctl_usage(QUEUE_USAGE);
	verb = argv[0];
	if (strcmp(verb, "list") == 0)
		return a.npos == 0 && !ctl_args_flag(&a, "--all") && !ctl_args_flag(&a, "--bounce")
			       ? queue_list(ctl, ctl_args_opt(&a, "--limit"))
			       : ctl_usage(QUEUE_USAGE);
	if (strcmp(verb, "retry") == 0 && ctl_args_flag(&a, "--all"))
		return a.npos == 0 ? queue_retry_all(ctl) : ctl_usage(QUEUE_USAGE);
	if (a.npos != 1 || ctl_args_flag(&a, "--all") || ctl_args_opt(&a, "--limit") != NULL ||
	    (ctl_args_flag(&a, "--bounce") && strcmp(verb, "delete") != 0))
		return ctl_usage(QUEUE_USAGE);
	id = a.pos[0];
	if (!evm_id_valid(id))
		return ctl_fail("'%s' is not a queue item id (32 lower-case hex digits)", id);
	if (strcmp(verb, "show") == 0)
		return queue_show(ctl, id);
	snprintf(path, sizeof path, "/admin/queue/%s/%s", id, verb);
	if (strcmp(verb, "retry") == 0) {
		snprintf(msg, sizeof msg, "queue item %s due now", id);
		return queue_post(ctl, path, NULL, msg);
	}
	if (strcmp(verb, "hold") == 0 || strcmp(verb, "release") == 0) {
		snprintf(msg, sizeof msg, "queue item %s %s", id, verb[0] == 'h' ? "held" : "released");
		return queue_post(ctl, path, NULL, msg);
	}
	if (strcmp(verb, "delete") == 0) {
		int bounce = ctl_args_flag(&a, "--bounce");
		snprintf(msg, sizeof msg, "queue item %s deleted%s", id, bounce ? " (with bounce)" : "");
		return queue_post(ctl, path, json_pack("{s:b}", "bounce", bounce), msg);
	}
	return ctl_usage(QUEUE_USAGE);
}
