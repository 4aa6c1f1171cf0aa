/* cmd_log - `evmailctl log compact [--no-wait]`: a compaction pass of the
 * embedded log now (POST /admin/log/compact), waiting for it to finish. */
#include "admin/ctl.h"
#include "admin/ctl_args.h"

#include <string.h>
#include <unistd.h>

#define LOG_USAGE "log compact [--no-wait]"
#define COMPACT_WAIT_S 3600

/* The counter name of a /admin/log/compact reply. */
static json_int_t stat_of(json_t *reply, const char *name)
{
	return json_integer_value(json_object_get(reply, name));
}

/* log compact: ask for a pass; unless --no-wait, wait until runs grows. */
static int log_compact(struct ctl *ctl, const struct ctl_args *a)
{
	json_t *reply = NULL;
	const char *error = NULL;
	json_int_t runs, bytes;
	int status = ctl_http(ctl, "POST", "/admin/log/compact", json_object(), &reply, &error);

	if (status < 0)
		return ctl_fail("%s", error);
	if (status != 202) {
		const char *why = json_string_value(json_object_get(reply, "error"));
		ctl_fail("the node refused (HTTP %d): %s", status, why != NULL ? why : "no reason given");
		json_decref(reply);
		return CTL_FAIL;
	}
	runs = stat_of(reply, "runs");
	bytes = stat_of(reply, "bytes_reclaimed");
	json_decref(reply);
	if (ctl_args_flag(a, "--no-wait")) {
		printf("compaction started\n");
		return CTL_OK;
	}
	for (int waited = 0; waited < COMPACT_WAIT_S * 10; waited++) {
		if (ctl_get(ctl, "/admin/log/compact", &reply) != CTL_OK)
			return CTL_FAIL;
		if (stat_of(reply, "runs") > runs) {
			if (ctl->json)
				ctl_print_json(reply);
			else
				printf("log compacted: %lld bytes reclaimed\n",
				       (long long)(stat_of(reply, "bytes_reclaimed") - bytes));
			json_decref(reply);
			return CTL_OK;
		}
		json_decref(reply);
		usleep(100000);
	}
	return ctl_fail("no compaction pass finished within %d s", COMPACT_WAIT_S);
}

/* evmailctl log ... */
int cmd_log(struct ctl *ctl, int argc, char **argv)
{
	static const char *const flags[] = { "--no-wait", NULL };
	struct ctl_args a;

	if (ctl_args_parse(&a, argc, argv, NULL, flags) < 0 || a.npos != 1 ||
	    strcmp(a.pos[0], "compact") != 0)
		return ctl_usage(LOG_USAGE);
	return log_compact(ctl, &a);
}
