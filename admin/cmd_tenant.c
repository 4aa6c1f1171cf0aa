/* cmd_tenant - `evmailctl tenant ...` and `evmailctl domain ...`. */
#include "admin/ctl.h"
#include "admin/ctl_args.h"
#include "common/address.h"

#include <stdio.h>
#include <string.h>

#define TENANT_USAGE "tenant create|list|show|delete NAME [--json]"
#define DOMAIN_USAGE "domain add|remove DOMAIN --tenant NAME | domain list [--tenant NAME] [--json]"

static int tenant_list(struct ctl *ctl)
{
	json_t *list, *t;
	size_t i;

	if (ctl_get(ctl, "/admin/tenants", &list) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_print_json(list);
		return CTL_OK;
	}
	json_array_foreach(list, i, t)
		printf("%s\n", json_string_value(json_object_get(t, "name")));
	json_decref(list);
	return CTL_OK;
}

int cmd_tenant(struct ctl *ctl, int argc, char **argv)
{
	static const char *const flags[] = { NULL };
	struct ctl_args a;
	const char *verb, *name;
	char path[600], msg[300];
	json_t *t;

	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, NULL, flags) < 0)
		return ctl_usage(TENANT_USAGE);
	verb = argv[0];
	if (strcmp(verb, "list") == 0)
		return a.npos == 0 ? tenant_list(ctl) : ctl_usage(TENANT_USAGE);
	if (a.npos != 1)
		return ctl_usage(TENANT_USAGE);
	name = a.pos[0];
	if (!evm_tenant_name_valid(name))
		return ctl_fail("'%s' is not a valid tenant name (1-63 of a-z, 0-9, '-')", name);
	if (strcmp(verb, "create") == 0) {
		snprintf(msg, sizeof msg, "tenant %s created", name);
		return ctl_command(ctl, "tenant.create", name, "", json_pack("{s:s}", "name", name), msg);
	}
	if (strcmp(verb, "delete") == 0) {
		snprintf(msg, sizeof msg, "tenant %s deleted", name);
		return ctl_command(ctl, "tenant.delete", name, "", json_pack("{s:s}", "name", name), msg);
	}
	if (strcmp(verb, "show") == 0) {
		json_t *domains;
		snprintf(path, sizeof path, "/admin/tenants/%s", ctl_escape(name));
		if (ctl_get(ctl, path, &t) != CTL_OK)
			return CTL_FAIL;
		snprintf(path, sizeof path, "/admin/domains?tenant=%s", ctl_escape(name));
		if (ctl_get(ctl, path, &domains) != CTL_OK) {
			json_decref(t);
			return CTL_FAIL;
		}
		json_object_set_new(t, "domains", domains);
		if (ctl->json) {
			ctl_print_json(t);
		} else {
			size_t i;
			json_t *d;
			printf("tenant:  %s\ndomains:", name);
			json_array_foreach(domains, i, d)
				printf(" %s", json_string_value(json_object_get(d, "domain")));
			printf("\n");
			json_decref(t);
		}
		return CTL_OK;
	}
	return ctl_usage(TENANT_USAGE);
}

int cmd_domain(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--tenant", NULL };
	struct ctl_args a;
	const char *verb, *tenant, *error = NULL;
	char domain[EVM_DOMAIN_MAX + 1], path[600], msg[400];

	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, opts, NULL) < 0)
		return ctl_usage(DOMAIN_USAGE);
	verb = argv[0];
	tenant = ctl_args_opt(&a, "--tenant");
	if (tenant != NULL && !evm_tenant_name_valid(tenant))
		return ctl_fail("'%s' is not a valid tenant name", tenant);
	if (strcmp(verb, "list") == 0) {
		json_t *list, *d;
		size_t i;
		if (a.npos != 0)
			return ctl_usage(DOMAIN_USAGE);
		if (tenant != NULL)
			snprintf(path, sizeof path, "/admin/domains?tenant=%s", ctl_escape(tenant));
		else
			snprintf(path, sizeof path, "/admin/domains");
		if (ctl_get(ctl, path, &list) != CTL_OK)
			return CTL_FAIL;
		if (ctl->json) {
			ctl_print_json(list);
			return CTL_OK;
		}
		json_array_foreach(list, i, d)
			printf("%-40s %s\n", json_string_value(json_object_get(d, "domain")),
			       json_string_value(json_object_get(d, "tenant")));
		json_decref(list);
		return CTL_OK;
	}
	if (a.npos != 1 || tenant == NULL)
		return ctl_usage(DOMAIN_USAGE);
	if (evm_domain_normalize(a.pos[0], domain, &error) < 0)
		return ctl_fail("'%s' is not a valid domain: %s", a.pos[0], error);
	if (strcmp(verb, "add") == 0) {
		snprintf(msg, sizeof msg, "domain %s added to tenant %s", domain, tenant);
		return ctl_command(ctl, "domain.add", tenant, "",
				   json_pack("{s:s,s:s}", "domain", domain, "tenant", tenant), msg);
	}
	if (strcmp(verb, "remove") == 0) {
		snprintf(msg, sizeof msg, "domain %s removed", domain);
		return ctl_command(ctl, "domain.remove", tenant, "",
				   json_pack("{s:s,s:s}", "domain", domain, "tenant", tenant), msg);
	}
	return ctl_usage(DOMAIN_USAGE);
}
