/* cmd_retention - `evmailctl retention ...`: retention policies
 * (projector/retention.h). Ages are days, decimals allowed (0.5; like
 * mail.tombstone_days), sent as milliseconds. */
#include "admin/ctl.h"
#include "admin/ctl_args.h"
#include "common/address.h"
#include "projector/retention.h"

#include <stdio.h>
#include <string.h>

#define RETENTION_USAGE                                                                           \
	"retention set --tenant NAME [--trash DAYS] [--junk DAYS] [--all DAYS]   (none: no rule)\n" \
	"       retention set --mailbox ADDRESS MAILBOX --days DAYS   (0: keep forever)\n"          \
	"       retention clear --tenant NAME | --mailbox ADDRESS MAILBOX\n"                         \
	"       retention show --tenant NAME | --mailbox ADDRESS"

/* ms of a rule as days, without trailing zeros ("2", "0.5"). */
static void print_days(const char *label, json_t *ms)
{
	char buf[64];
	size_t n;

	if (!json_is_integer(ms)) {
		printf("%-8s -\n", label);
		return;
	}
	snprintf(buf, sizeof buf, "%.9f", (double)json_integer_value(ms) / 86400000.0);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	if (label[0] == '\0')
		printf("%s days\n", buf);
	else
		printf("%-8s %s days\n", label, buf);
}

/* --NAME DAYS into data[field] (ms). 0, or -1 after saying why. */
static int days_opt(const struct ctl_args *a, const char *opt, json_t *data, const char *field, int64_t min)
{
	const char *v = ctl_args_opt(a, opt);
	int64_t ms;

	if (v == NULL)
		return 0;
	if (config_parse_days(v, RETENTION_MAX_MS, &ms) < 0 || ms < min) {
		ctl_fail("%s: '%s' is not a number of days (decimals allowed)%s", opt, v,
			 min > 0 ? " above 0" : "");
		return -1;
	}
	json_object_set_new(data, field, json_integer(ms));
	return 0;
}

/* set/clear --tenant: the tenant's whole rule set. */
static int tenant_set(struct ctl *ctl, const struct ctl_args *a, const char *name, int clear)
{
	json_t *data = json_pack("{s:s}", "name", name);
	char msg[200];

	if (!evm_tenant_name_valid(name)) {
		json_decref(data);
		return ctl_fail("'%s' is not a valid tenant name", name);
	}
	if (!clear && (days_opt(a, "--trash", data, "trash_ms", 1) < 0 || days_opt(a, "--junk", data, "junk_ms", 1) < 0 ||
		       days_opt(a, "--all", data, "all_ms", 1) < 0)) {
		json_decref(data);
		return CTL_FAIL;
	}
	snprintf(msg, sizeof msg, "retention of tenant %s %s", name, json_object_size(data) > 1 ? "set" : "cleared");
	return ctl_command(ctl, "tenant.retention", name, "", data, msg);
}

/* set/clear --mailbox: POST /admin/retention/mailbox. */
static int mailbox_set(struct ctl *ctl, const struct ctl_args *a, const char *address, int clear)
{
	json_t *body = json_pack("{s:s, s:s}", "account", address, "name", a->pos[0]), *reply = NULL;
	const char *error = NULL, *reason;
	int status, ret;

	if (clear) {
		json_object_set_new(body, "max_age_ms", json_null());
	} else if (ctl_args_opt(a, "--days") == NULL) {
		json_decref(body);
		return ctl_usage(RETENTION_USAGE);
	} else if (days_opt(a, "--days", body, "max_age_ms", 0) < 0) {
		json_decref(body);
		return CTL_FAIL;
	}
	if ((status = ctl_http(ctl, "POST", "/admin/retention/mailbox", body, &reply, &error)) < 0)
		return ctl_fail("%s", error);
	if (status == 200) {
		if (ctl->json)
			ctl_print_json(json_incref(reply));
		else
			printf("retention of %s %s %s\n", address, a->pos[0], clear ? "cleared" : "set");
		ret = CTL_OK;
	} else {
		reason = json_string_value(json_object_get(reply, "reason"));
		if (reason == NULL)
			reason = json_string_value(json_object_get(reply, "error"));
		ret = ctl_fail("%s", reason != NULL ? reason : "the command was not accepted");
	}
	json_decref(reply);
	return ret;
}

/* show --tenant: the tenant record's rules. */
static int tenant_show(struct ctl *ctl, const char *name)
{
	char path[600];
	json_t *t, *rules;

	snprintf(path, sizeof path, "/admin/tenants/%s", ctl_escape(name));
	if (ctl_get(ctl, path, &t) != CTL_OK)
		return CTL_FAIL;
	rules = json_object_get(t, "retention");
	if (ctl->json) {
		ctl_print_json(json_pack("{s:s, s:O}", "tenant", name, "retention", rules ? rules : json_null()));
	} else {
		printf("tenant:  %s\n", name);
		print_days("trash", json_object_get(rules, "trash"));
		print_days("junk", json_object_get(rules, "junk"));
		print_days("all", json_object_get(rules, "all"));
	}
	json_decref(t);
	return CTL_OK;
}

/* show --mailbox: what applies to each mailbox of the account. */
static int mailbox_show(struct ctl *ctl, const char *address)
{
	char path[600];
	json_t *r, *m;
	size_t i;

	snprintf(path, sizeof path, "/admin/retention/%s", ctl_escape(address));
	if (ctl_get(ctl, path, &r) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_print_json(r);
		return CTL_OK;
	}
	json_array_foreach(json_object_get(r, "mailboxes"), i, m) {
		const char *source = json_string_value(json_object_get(m, "source"));
		json_t *ms = json_object_get(m, "max_age_ms");
		char label[600];

		if (json_is_integer(ms) && json_integer_value(ms) == 0) {
			printf("%s: kept forever (its own rule)\n", json_string_value(json_object_get(m, "name")));
			continue;
		}
		snprintf(label, sizeof label, "%s:", json_string_value(json_object_get(m, "name")));
		if (!json_is_integer(ms)) {
			printf("%s no rule\n", label);
			continue;
		}
		printf("%s (%s) ", label, source != NULL && strcmp(source, "mailbox") == 0 ? "its own rule" : source);
		print_days("", ms);
	}
	json_decref(r);
	return CTL_OK;
}

int cmd_retention(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--tenant", "--mailbox", "--trash", "--junk", "--all", "--days", NULL };
	static const char *const flags[] = { NULL };
	const char *verb, *tenant, *address;
	struct ctl_args a;

	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, opts, flags) < 0)
		return ctl_usage(RETENTION_USAGE);
	verb = argv[0];
	tenant = ctl_args_opt(&a, "--tenant");
	address = ctl_args_opt(&a, "--mailbox");
	if ((tenant == NULL) == (address == NULL))
		return ctl_usage(RETENTION_USAGE);
	if (strcmp(verb, "show") == 0) {
		if (a.npos != 0)
			return ctl_usage(RETENTION_USAGE);
		return tenant != NULL ? tenant_show(ctl, tenant) : mailbox_show(ctl, address);
	}
	if (strcmp(verb, "set") != 0 && strcmp(verb, "clear") != 0)
		return ctl_usage(RETENTION_USAGE);
	if (tenant != NULL) {
		if (a.npos != 0 || ctl_args_opt(&a, "--days") != NULL)
			return ctl_usage(RETENTION_USAGE);
		return tenant_set(ctl, &a, tenant, strcmp(verb, "clear") == 0);
	}
	if (a.npos != 1 || ctl_args_opt(&a, "--trash") != NULL || ctl_args_opt(&a, "--junk") != NULL ||
	    ctl_args_opt(&a, "--all") != NULL)
		return ctl_usage(RETENTION_USAGE);
	return mailbox_set(ctl, &a, address, strcmp(verb, "clear") == 0);
}
