/* cmd_restore - point-in-time restore and the audit trail:
 *
 *   evmailctl mailbox restore ADDRESS MAILBOX --at TIME [--into NAME]
 *   evmailctl account restore ADDRESS --at TIME
 *   evmailctl account history ADDRESS [--since TIME] [--limit N] [--json]
 *
 * The node does the work (gateway/admin_restore.c, admin_history.c): it
 * reads the account's partition from the log on a worker thread and, for
 * a restore, appends through its write path, so the command needs no log
 * access of its own (the embedded log belongs to the node's process) and
 * the outcomes come from the node's view. TIME: ctl_time.h. */
#include "admin/ctl.h"
#include "admin/ctl_args.h"
#include "admin/ctl_time.h"
#include "common/address.h"
#include "common/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAILBOX_USAGE "mailbox restore ADDRESS MAILBOX --at TIME [--into NAME]\n" \
	"TIME: RFC 3339 (2026-12-07T07:00:00Z) or relative (-2h, -30m, -1d)"
#define ACCOUNT_LOG_USAGE "account restore ADDRESS --at TIME\n" \
	"       evmailctl account history ADDRESS [--since TIME] [--limit N] [--json]\n" \
	"TIME: RFC 3339 (2026-12-07T07:00:00Z) or relative (-2h, -30m, -1d)"

/* "2026-12-07T07:00:00.123Z" of ms into out. */
static const char *rfc3339(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
		 tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	return out;
}

/* POSTs a restore and prints what happened. */
static int restore(struct ctl *ctl, const char *address, const char *at_text, const char *mailbox,
		   const char *into)
{
	const char *error = NULL;
	json_t *body, *reply = NULL, *m;
	int64_t at;
	char when[32];
	size_t i;
	int status;

	if (at_text == NULL)
		return ctl_fail("--at TIME is required");
	if (ctl_time_parse(at_text, evm_now_ms(), &at, &error) < 0)
		return ctl_fail("--at '%s': %s", at_text, error);
	body = json_pack("{s:s, s:I}", "account", address, "at", (json_int_t)at);
	if (mailbox != NULL)
		json_object_set_new(body, "mailbox", json_string(mailbox));
	if (into != NULL)
		json_object_set_new(body, "into", json_string(into));
	status = ctl_http(ctl, "POST", "/admin/restore", body, &reply, &error);
	if (status < 0)
		return ctl_fail("%s", error);
	if (status != 200) {
		const char *msg = json_string_value(json_object_get(reply, "error"));
		int ret = ctl_fail("restore refused (HTTP %d): %s", status, msg ? msg : "no detail");
		json_decref(reply);
		return ret;
	}
	if (ctl->json) {
		ctl_print_json(reply);
		return CTL_OK;
	}
	printf("restore of %s as at %s\n", address, rfc3339(at, when));
	json_array_foreach(json_object_get(reply, "mailboxes"), i, m) {
		printf("  %s -> %s%s: %lld restored, %lld skipped, %lld failed\n",
		       json_string_value(json_object_get(m, "mailbox")), json_string_value(json_object_get(m, "into")),
		       json_is_true(json_object_get(m, "created")) ? " (created)" : "",
		       (long long)json_integer_value(json_object_get(m, "restored")),
		       (long long)json_integer_value(json_object_get(m, "skipped")),
		       (long long)json_integer_value(json_object_get(m, "failed")));
	}
	json_array_foreach(json_object_get(reply, "skipped"), i, m)
		printf("  skipped in %s: blob %s: %s\n", json_string_value(json_object_get(m, "mailbox")),
		       json_string_value(json_object_get(m, "blob_id")), json_string_value(json_object_get(m, "reason")));
	json_array_foreach(json_object_get(reply, "failed"), i, m)
		printf("  failed in %s: %s: %s\n", json_string_value(json_object_get(m, "mailbox")),
		       json_string_value(json_object_get(m, "type")), json_string_value(json_object_get(m, "reason")));
	printf("%zu restored\n", json_array_size(json_object_get(reply, "restored")));
	status = json_array_size(json_object_get(reply, "failed")) > 0 ? CTL_FAIL : CTL_OK;
	json_decref(reply);
	return status;
}

/* One line of the human history. */
static void history_line(json_t *e)
{
	char when[32], *detail = json_dumps(json_object_get(e, "detail"), JSON_COMPACT | JSON_SORT_KEYS);
	const char *as = json_string_value(json_object_get(e, "as"));
	const char *code = json_string_value(json_object_get(e, "code"));

	printf("%s  %-20s %-20s %s%s%s%s %s\n", rfc3339(json_integer_value(json_object_get(e, "ts")), when),
	       json_string_value(json_object_get(e, "actor")), json_string_value(json_object_get(e, "type")),
	       json_string_value(json_object_get(e, "status")), code ? ":" : "", code ? code : "",
	       json_is_true(json_object_get(e, "duplicate")) ? " (duplicate)" : "", detail ? detail : "");
	if (as != NULL)
		printf("%24s as %s\n", "", as);
	free(detail);
}

static int history(struct ctl *ctl, const char *address, const char *since_text, const char *limit)
{
	const char *error = NULL;
	int64_t since = 0;
	char path[512], *end;
	json_t *reply = NULL, *e;
	size_t i;

	if (since_text != NULL && ctl_time_parse(since_text, evm_now_ms(), &since, &error) < 0)
		return ctl_fail("--since '%s': %s", since_text, error);
	if (limit != NULL && (strtoul(limit, &end, 10) == 0 || *end != '\0'))
		return ctl_fail("--limit: a positive number");
	snprintf(path, sizeof path, "/admin/history/%s?since=%lld%s%s", ctl_escape(address), (long long)since,
		 limit ? "&limit=" : "", limit ? limit : "");
	if (ctl_get(ctl, path, &reply) != CTL_OK)
		return CTL_FAIL;
	json_array_foreach(json_object_get(reply, "events"), i, e) {
		if (ctl->json) {
			char *line = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
			printf("%s\n", line);
			free(line);
		} else {
			history_line(e);
		}
	}
	if (json_is_true(json_object_get(reply, "truncated")))
		fprintf(stderr, "evmailctl: older events left out (--limit, --since)\n");
	json_decref(reply);
	return CTL_OK;
}

int cmd_mailbox(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--at", "--into", NULL };
	char address[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	struct ctl_args a;

	if (argc < 1 || strcmp(argv[0], "restore") != 0 || ctl_args_parse(&a, argc - 1, argv + 1, opts, NULL) < 0 ||
	    a.npos != 2)
		return ctl_usage(MAILBOX_USAGE);
	if (evm_address_normalize(a.pos[0], address, &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", a.pos[0], error);
	return restore(ctl, address, ctl_args_opt(&a, "--at"), a.pos[1], ctl_args_opt(&a, "--into"));
}

int cmd_account_log(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--at", "--since", "--limit", NULL };
	char address[EVM_ADDRESS_MAX + 1];
	const char *error = NULL;
	struct ctl_args a;

	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, opts, NULL) < 0 || a.npos != 1)
		return ctl_usage(ACCOUNT_LOG_USAGE);
	if (evm_address_normalize(a.pos[0], address, &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", a.pos[0], error);
	if (strcmp(argv[0], "restore") == 0 && ctl_args_opt(&a, "--since") == NULL &&
	    ctl_args_opt(&a, "--limit") == NULL)
		return restore(ctl, address, ctl_args_opt(&a, "--at"), NULL, NULL);
	if (strcmp(argv[0], "history") == 0 && ctl_args_opt(&a, "--at") == NULL)
		return history(ctl, address, ctl_args_opt(&a, "--since"), ctl_args_opt(&a, "--limit"));
	return ctl_usage(ACCOUNT_LOG_USAGE);
}
