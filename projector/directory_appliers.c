/* directory_appliers - the directory aggregate's applier table. */
#include "projector/directory_internal.h"

const struct applier directory_appliers[] = {
	{ "tenant.create", EVM_TOPIC_DIRECTORY, dir_apply_tenant_create },
	{ "tenant.delete", EVM_TOPIC_DIRECTORY, dir_apply_tenant_delete },
	{ "domain.add", EVM_TOPIC_DIRECTORY, dir_apply_domain_add },
	{ "domain.remove", EVM_TOPIC_DIRECTORY, dir_apply_domain_remove },
	{ "account.create", EVM_TOPIC_DIRECTORY, dir_apply_account_create },
	{ "account.update", EVM_TOPIC_DIRECTORY, dir_apply_account_update },
	{ "account.remove", EVM_TOPIC_DIRECTORY, dir_apply_account_remove },
	{ "account.key", EVM_TOPIC_DIRECTORY, dir_apply_account_key },
	{ "account.erase", EVM_TOPIC_DIRECTORY, dir_apply_account_erase },
	{ "alias.add", EVM_TOPIC_DIRECTORY, dir_apply_alias_add },
	{ "alias.remove", EVM_TOPIC_DIRECTORY, dir_apply_alias_remove },
	{ "dkim.set", EVM_TOPIC_DIRECTORY, dir_apply_dkim_set },
	{ "dkim.remove", EVM_TOPIC_DIRECTORY, dir_apply_dkim_remove },
	{ "tenant.retention", EVM_TOPIC_DIRECTORY, dir_apply_tenant_retention },
	{ NULL, EVM_TOPIC_DIRECTORY, NULL },
};
