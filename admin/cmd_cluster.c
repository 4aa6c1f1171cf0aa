/* cmd_cluster - `evmailctl topics|status|view digest|rebuild` (the
 * cluster table of status and `node drain` are in cmd_node.c). */
#include "admin/ctl.h"
#include "admin/ctl_args.h"
#include "ingest/evlog.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TOPICS_USAGE "topics create|describe|check [--json]"

/* With Kafka, topics are managed directly through the admin API of the
 * brokers (a node may be waiting for them); with the embedded log, only the
 * running node may open the log, so we ask it. */
static int topics_report(struct ctl *ctl, int create, json_t **report_r)
{
	const char *error = NULL;

	if (ctl->cfg.log_backend == EVM_LOG_KAFKA) {
		struct event_base *base;
		struct evlog *log = NULL;
		int ret;
		evthread_use_pthreads();
		base = event_base_new();
		if (evlog_open(&ctl->cfg, base, &log, &error) < 0) {
			event_base_free(base);
			return ctl_fail("kafka: %s", error);
		}
		ret = create ? evlog_topics_create(log, report_r, &error)
			     : evlog_topics_describe(log, report_r, &error);
		evlog_close(&log);
		event_base_free(base);
		return ret < 0 ? ctl_fail("kafka: %s", error) : CTL_OK;
	}
	if (create) {
		int status = ctl_http(ctl, "POST", "/admin/topics", json_object(), report_r, &error);
		if (status < 0)
			return ctl_fail("%s", error);
		if (status != 200) {
			json_decref(*report_r);
			return ctl_fail("the node could not create the topics (HTTP %d)", status);
		}
		return CTL_OK;
	}
	return ctl_get(ctl, "/admin/topics", report_r);
}

int cmd_topics(struct ctl *ctl, int argc, char **argv)
{
	json_t *report = NULL, *t, *p;
	size_t i, k, problems = 0;
	int create, check;

	if (argc != 1)
		return ctl_usage(TOPICS_USAGE);
	create = strcmp(argv[0], "create") == 0;
	check = strcmp(argv[0], "check") == 0;
	if (!create && !check && strcmp(argv[0], "describe") != 0)
		return ctl_usage(TOPICS_USAGE);
	if (topics_report(ctl, create, &report) != CTL_OK)
		return CTL_FAIL;
	json_array_foreach(report, i, t) {
		problems += json_array_size(json_object_get(t, "problems"));
		if (!json_is_true(json_object_get(t, "exists")))
			problems++;
	}
	if (ctl->json) {
		ctl_print_json(json_incref(report));
	} else {
		printf("%-28s %10s %-10s %s\n", "TOPIC", "PARTITIONS", "CLEANUP", "PROBLEMS");
		json_array_foreach(report, i, t) {
			json_t *pr = json_object_get(t, "problems");
			const char *cleanup = json_string_value(json_object_get(json_object_get(t, "configs"),
										 "cleanup.policy"));
			printf("%-28s %10lld %-10s ", json_string_value(json_object_get(t, "name")),
			       (long long)json_integer_value(json_object_get(t, "partitions")),
			       cleanup ? cleanup : "-");
			if (!json_is_true(json_object_get(t, "exists")))
				printf("missing");
			json_array_foreach(pr, k, p)
				printf("%s%s", k ? "; " : "", json_string_value(p));
			printf("\n");
		}
	}
	json_decref(report);
	if (check && problems > 0)
		return ctl_fail("%zu topic problem(s)", problems);
	return CTL_OK;
}

int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	json_t *st, *p, *node;
	size_t i;

	if (argc != 0)
		return ctl_usage("status [--json]");
	if (ctl_get(ctl, "/admin/status", &st) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_print_json(st);
		return CTL_OK;
	}
	node = json_object_get(st, "node");
	printf("node %s (%s, version %s, %s log): %s%s%s, %lld open sessions\n",
	       json_string_value(json_object_get(node, "id")),
	       json_string_value(json_object_get(node, "roles")),
	       json_string_value(json_object_get(node, "version")),
	       json_string_value(json_object_get(node, "log_backend")),
	       json_string_value(json_object_get(st, "state")),
	       json_is_true(json_object_get(st, "ready")) ? ", ready" : ", not ready",
	       json_is_true(json_object_get(node, "draining")) ? ", DRAINING" : "",
	       (long long)json_integer_value(json_object_get(node, "sessions")));
	if (json_string_length(json_object_get(st, "detail")))
		printf("  %s\n", json_string_value(json_object_get(st, "detail")));
	printf("events applied %lld, rejected %lld, duplicates %lld, decode errors %lld\n\n",
	       (long long)json_integer_value(json_object_get(st, "events_applied")),
	       (long long)json_integer_value(json_object_get(st, "events_rejected")),
	       (long long)json_integer_value(json_object_get(st, "duplicates")),
	       (long long)json_integer_value(json_object_get(st, "decode_errors")));
	printf("%-12s %9s %12s %12s %8s\n", "TOPIC", "PARTITION", "APPLIED", "END", "LAG");
	json_array_foreach(json_object_get(st, "partitions"), i, p)
		printf("%-12s %9lld %12lld %12lld %8lld\n", json_string_value(json_object_get(p, "topic")),
		       (long long)json_integer_value(json_object_get(p, "partition")),
		       (long long)json_integer_value(json_object_get(p, "applied")),
		       (long long)json_integer_value(json_object_get(p, "end")),
		       (long long)json_integer_value(json_object_get(p, "lag")));
	ctl_status_print_nodes(stdout, st);
	json_decref(st);
	return CTL_OK;
}

int cmd_view(struct ctl *ctl, int argc, char **argv)
{
	json_t *d;

	if (argc == 1 && strcmp(argv[0], "compact") == 0) {
		/* gateway/admin_view.c: deleted values leave the view's files now */
		const char *error = NULL;
		int status = ctl_http(ctl, "POST", "/admin/view/compact", NULL, &d, &error);

		if (status < 0)
			return ctl_fail("%s", error);
		if (status != 200) {
			error = json_string_value(json_object_get(d, "error"));
			status = ctl_fail("view compaction failed: %s", error != NULL ? error : "?");
			json_decref(d);
			return status;
		}
		printf("view compacted in %lld ms\n", (long long)json_integer_value(json_object_get(d, "ms")));
		json_decref(d);
		return CTL_OK;
	}
	if (argc != 1 || strcmp(argv[0], "digest") != 0)
		return ctl_usage("view digest [--json] | view compact");
	if (ctl_get(ctl, "/admin/digest", &d) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json)
		ctl_print_json(d);
	else {
		printf("%s\n", json_string_value(json_object_get(d, "digest")));
		json_decref(d);
	}
	return CTL_OK;
}

/* "1h02m", "3m05s" or "42s"; "?" when unknown (negative). */
static void format_eta(long long secs, char *out, size_t size)
{
	if (secs < 0)
		snprintf(out, size, "?");
	else if (secs >= 3600)
		snprintf(out, size, "%lldh%02lldm", secs / 3600, secs / 60 % 60);
	else if (secs >= 60)
		snprintf(out, size, "%lldm%02llds", secs / 60, secs % 60);
	else
		snprintf(out, size, "%llds", secs);
}

/* Draws "[#####.....]  45%  done/total events  rate/s  ETA 3m05s" on a
 * terminal; rate and ETA come from the node (projector_status). */
static void progress_bar(json_t *rb)
{
	long long done = json_integer_value(json_object_get(rb, "done"));
	long long total = json_integer_value(json_object_get(rb, "total"));
	long long rate = json_integer_value(json_object_get(rb, "rate"));
	json_t *eta_v = json_object_get(rb, "eta_s");
	int width = 40, filled = total > 0 ? (int)(done * width / total) : width;
	int pct = total > 0 ? (int)(done * 100 / total) : 100;
	char eta[32];

	format_eta(json_is_integer(eta_v) ? (long long)json_integer_value(eta_v) : -1, eta, sizeof eta);
	if (filled > width)
		filled = width;
	if (pct > 100)
		pct = 100;
	fprintf(stderr, "\rrebuilding [");
	for (int i = 0; i < width; i++)
		fputc(i < filled ? '#' : '.', stderr);
	fprintf(stderr, "] %3d%%  %lld/%lld events  %lld/s  ETA %s   ", pct, done, total, rate, eta);
	fflush(stderr);
}

/* Without a terminal: one line every 10 s while the rebuild runs. */
static void progress_line(json_t *rb)
{
	json_t *eta_v = json_object_get(rb, "eta_s");
	char eta[32];

	format_eta(json_is_integer(eta_v) ? (long long)json_integer_value(eta_v) : -1, eta, sizeof eta);
	printf("rebuilding: %lld/%lld events, %lld/s, ETA %s\n",
	       (long long)json_integer_value(json_object_get(rb, "done")),
	       (long long)json_integer_value(json_object_get(rb, "total")),
	       (long long)json_integer_value(json_object_get(rb, "rate")), eta);
	fflush(stdout);
}

int cmd_rebuild(struct ctl *ctl, int argc, char **argv)
{
	static const char *const flags[] = { "--no-wait", NULL };
	struct ctl_args a;
	const char *error = NULL;
	json_t *reply = NULL, *st;
	json_int_t before;
	int status, tty = isatty(STDERR_FILENO);

	if (ctl_args_parse(&a, argc, argv, NULL, flags) < 0 || a.npos != 0)
		return ctl_usage("rebuild [--no-wait]");
	/* Rebuilds are told apart by the node's count of completed ones. */
	if (ctl_get(ctl, "/admin/status", &st) != CTL_OK)
		return CTL_FAIL;
	before = json_integer_value(json_object_get(json_object_get(st, "rebuild"), "completed"));
	json_decref(st);
	status = ctl_http(ctl, "POST", "/admin/rebuild", json_object(), &reply, &error);
	json_decref(reply);
	if (status < 0)
		return ctl_fail("%s", error);
	if (status != 202)
		return ctl_fail("the node refused to rebuild (HTTP %d)", status);
	if (ctl_args_flag(&a, "--no-wait")) {
		printf("rebuild started\n");
		return CTL_OK;
	}
	for (int waited = 0; waited < 36000; waited++) {
		const char *state;
		json_t *rb;
		if (ctl_get(ctl, "/admin/status", &st) != CTL_OK)
			return CTL_FAIL;
		state = json_string_value(json_object_get(st, "state"));
		rb = json_object_get(st, "rebuild");
		if (tty)
			progress_bar(rb);
		else if (waited % 100 == 99 && json_integer_value(json_object_get(rb, "total")) > 0)
			progress_line(rb);
		if (state != NULL && strcmp(state, "failed") == 0) {
			json_decref(st);
			return ctl_fail("rebuild failed; see the node's log");
		}
		if (json_integer_value(json_object_get(rb, "completed")) > before &&
		    json_is_true(json_object_get(st, "ready"))) {
			if (tty)
				fputc('\n', stderr);
			printf("view rebuilt: %lld events replayed\n",
			       (long long)json_integer_value(json_object_get(rb, "done")));
			json_decref(st);
			return CTL_OK;
		}
		json_decref(st);
		usleep(100 * 1000);
	}
	return ctl_fail("rebuild did not finish within an hour");
}
