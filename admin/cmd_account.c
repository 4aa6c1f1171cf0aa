/* cmd_account - `evmailctl account ...` and `evmailctl alias ...`.
 *
 * Passwords are read from a prompt or stdin (never argv) and hashed here
 * with yescrypt (and into SCRAM-SHA-256 keys), so the plain text never
 * leaves this process. */
#include "admin/ctl.h"
#include "admin/ctl_args.h"
#include "common/address.h"
#include "common/password.h"
#include "common/scram.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ACCOUNT_USAGE \
	"account add ADDRESS [--name NAME] [--quota SIZE] [--disabled] [--password-stdin]\n" \
	"       evmailctl account list [--domain DOMAIN] [--tenant NAME] [--json]\n" \
	"       evmailctl account show ADDRESS [--json]\n" \
	"       evmailctl account passwd ADDRESS [--password-stdin]\n" \
	"       evmailctl account set ADDRESS [--name NAME] [--quota SIZE] [--state active|disabled]\n" \
	"       evmailctl account remove ADDRESS\n" \
	"       evmailctl account erase ADDRESS [--yes]   (crypto-shredding: needs crypto.master_key_file)\n" \
	"       evmailctl account key rotate ADDRESS"
#define ALIAS_USAGE \
	"alias add|remove ALIAS TARGET | alias list [--domain DOMAIN] [--tenant NAME] [--json]\n" \
	"       (ALIAS @domain is the domain's catch-all)"

/* "0" (unlimited), "1048576", "500M", "10G" (binary units). */
static int parse_size(const char *s, int64_t *bytes_r)
{
	char *end;
	long long v;
	int64_t mul = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || v < 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case '\0': break;
	case 'K': mul = INT64_C(1) << 10; end++; break;
	case 'M': mul = INT64_C(1) << 20; end++; break;
	case 'G': mul = INT64_C(1) << 30; end++; break;
	case 'T': mul = INT64_C(1) << 40; end++; break;
	default: return -1;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v > INT64_MAX / mul)
		return -1;
	*bytes_r = v * mul;
	return 0;
}

/* Reads a new password; its yescrypt hash and its SCRAM-SHA-256 keys
 * (common/scram.h: PBKDF2-HMAC-SHA-256, random salt). */
static int new_password_hash(int from_stdin, char **hash_r, json_t **scram_r)
{
	char *pw = NULL;
	const char *error = NULL;
	int ret;

	if (ctl_read_password(from_stdin, &pw) != CTL_OK)
		return CTL_FAIL;
	ret = evm_password_hash(pw, hash_r, &error);
	*scram_r = ret < 0 ? NULL : evm_scram_record_new(pw);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (ret < 0)
		return ctl_fail("cannot hash the password: %s", error);
	if (*scram_r == NULL) {
		free(*hash_r);
		*hash_r = NULL;
		return ctl_fail("cannot derive the SCRAM-SHA-256 keys");
	}
	return CTL_OK;
}

static int account_add(struct ctl *ctl, const struct ctl_args *a, const char *address)
{
	const char *name = ctl_args_opt(a, "--name"), *quota_s = ctl_args_opt(a, "--quota");
	int64_t quota = 0;
	char *hash = NULL, msg[400];
	json_t *data, *scram = NULL;
	int ret;

	if (quota_s != NULL && parse_size(quota_s, &quota) < 0)
		return ctl_fail("--quota '%s' is not a size (e.g. 0, 500M, 10G)", quota_s);
	if (new_password_hash(ctl_args_flag(a, "--password-stdin"), &hash, &scram) != CTL_OK)
		return CTL_FAIL;
	data = json_pack("{s:s,s:s,s:I,s:s,s:s,s:o}", "address", address, "display_name", name ? name : "",
			 "quota", (json_int_t)quota,
			 "state", ctl_args_flag(a, "--disabled") ? "disabled" : "active",
			 "password_hash", hash, "scram_sha256", scram);
	free(hash);
	if (data == NULL)
		return ctl_fail("the display name is not valid UTF-8");
	snprintf(msg, sizeof msg, "account %s created", address);
	ret = ctl_command(ctl, "account.create", "", address, data, msg);
	return ret;
}

/* passwd and set: read the full current state, change it, write it back as
 * account.update (records carry the entity's full new state). */
static int account_update(struct ctl *ctl, const struct ctl_args *a, const char *address, int passwd)
{
	const char *name = ctl_args_opt(a, "--name"), *quota_s = ctl_args_opt(a, "--quota");
	const char *state = ctl_args_opt(a, "--state");
	char path[600], msg[400];
	int64_t quota;
	json_t *acc, *data;

	if (state != NULL && strcmp(state, "active") != 0 && strcmp(state, "disabled") != 0)
		return ctl_fail("--state must be active or disabled");
	if (quota_s != NULL && parse_size(quota_s, &quota) < 0)
		return ctl_fail("--quota '%s' is not a size (e.g. 0, 500M, 10G)", quota_s);
	snprintf(path, sizeof path, "/admin/accounts/%s?credentials=1", ctl_escape(address));
	if (ctl_get(ctl, path, &acc) != CTL_OK)
		return CTL_FAIL;
	data = json_pack("{s:s,s:O,s:O,s:O,s:O}", "address", address,
			 "display_name", json_object_get(acc, "display_name"),
			 "quota", json_object_get(acc, "quota"),
			 "state", json_object_get(acc, "state"),
			 "password_hash", json_object_get(acc, "password_hash"));
	/* Kept as it is unless the password changes. */
	if (data != NULL && json_object_get(acc, "scram_sha256") != NULL)
		json_object_set(data, "scram_sha256", json_object_get(acc, "scram_sha256"));
	json_decref(acc);
	if (data == NULL)
		return ctl_fail("the node returned an incomplete account");
	if (passwd) {
		char *hash = NULL;
		json_t *scram = NULL;
		if (new_password_hash(ctl_args_flag(a, "--password-stdin"), &hash, &scram) != CTL_OK) {
			json_decref(data);
			return CTL_FAIL;
		}
		json_object_set_new(data, "password_hash", json_string(hash));
		json_object_set_new(data, "scram_sha256", scram);
		free(hash);
		snprintf(msg, sizeof msg, "password of %s changed", address);
	} else {
		if (name != NULL && json_object_set_new(data, "display_name", json_string(name)) < 0) {
			json_decref(data);
			return ctl_fail("the display name is not valid UTF-8");
		}
		if (quota_s != NULL)
			json_object_set_new(data, "quota", json_integer(quota));
		if (state != NULL)
			json_object_set_new(data, "state", json_string(state));
		snprintf(msg, sizeof msg, "account %s updated", address);
	}
	return ctl_command(ctl, "account.update", "", address, data, msg);
}

static int list_query(struct ctl *ctl, const struct ctl_args *a, const char *what, json_t **list_r)
{
	const char *domain = ctl_args_opt(a, "--domain"), *tenant = ctl_args_opt(a, "--tenant");
	char path[1200], dom[EVM_DOMAIN_MAX + 1];
	const char *error = NULL;
	int n;

	n = snprintf(path, sizeof path, "/admin/%s?", what);
	if (domain != NULL) {
		if (evm_domain_normalize(domain, dom, &error) < 0)
			return ctl_fail("'%s' is not a valid domain: %s", domain, error);
		n += snprintf(path + n, sizeof path - (size_t)n, "domain=%s&", ctl_escape(dom));
	}
	if (tenant != NULL)
		snprintf(path + n, sizeof path - (size_t)n, "tenant=%s", ctl_escape(tenant));
	return ctl_get(ctl, path, list_r);
}

static int account_list(struct ctl *ctl, const struct ctl_args *a)
{
	json_t *list, *acc;
	size_t i;

	if (list_query(ctl, a, "accounts", &list) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_print_json(list);
		return CTL_OK;
	}
	json_array_foreach(list, i, acc)
		printf("%-40s %-12s %-8s %s\n", json_string_value(json_object_get(acc, "address")),
		       json_string_value(json_object_get(acc, "tenant")),
		       json_string_value(json_object_get(acc, "state")),
		       json_string_value(json_object_get(acc, "display_name")));
	json_decref(list);
	return CTL_OK;
}

/* account.remove and its account.purge (gateway/admin_api.c): the account
 * goes from the directory and its mail from every view. An address that
 * is no account (any more) still gets its mail store purged: that is how
 * a removal whose purge was lost is finished. */
static int account_remove(struct ctl *ctl, const char *address)
{
	const char *error = NULL, *st, *pst, *reason, *code;
	json_t *cmd = json_pack("{s:s,s:s,s:s,s:{s:s}}", "type", "account.remove", "tenant", "", "account",
				address, "data", "address", address);
	json_t *reply = NULL, *outcome, *purge;
	int status = ctl_http(ctl, "POST", "/admin/commands", cmd, &reply, &error);
	int ret = CTL_FAIL;

	if (status < 0)
		return ctl_fail("%s", error);
	outcome = json_array_get(reply, 0);
	st = json_string_value(json_object_get(outcome, "status"));
	code = json_string_value(json_object_get(outcome, "code"));
	/* not-found: the address is no account (any more), purged anyway */
	if (st != NULL && strcmp(st, "rejected") == 0 && code != NULL && strcmp(code, "not-found") == 0)
		st = "not-found";
	purge = json_object_get(outcome, "purge");
	pst = json_string_value(json_object_get(purge, "status"));
	reason = json_string_value(json_object_get(outcome, "reason"));
	if (status != 200 || !json_is_array(reply) || json_array_size(reply) != 1 || st == NULL) {
		reason = json_string_value(json_object_get(reply, "error"));
		ret = ctl_fail("%s", reason ? reason : "the node did not answer the command");
	} else if (strcmp(st, "accepted") != 0 && strcmp(st, "not-found") != 0) {
		ret = ctl_fail("%s", reason ? reason : "the command was not accepted");
	} else if (pst == NULL || strcmp(pst, "accepted") != 0) {
		reason = json_string_value(json_object_get(purge, "reason"));
		ret = ctl_fail("%s; its mail was not purged: %s", strcmp(st, "accepted") == 0 ?
			       "the account was removed" : "no such account", reason ? reason : "unknown");
	} else if (ctl->json) {
		ctl_print_json(json_incref(outcome));
		ret = CTL_OK;
	} else {
		if (strcmp(st, "accepted") == 0)
			printf("account %s removed, its mail purged\n", address);
		else
			printf("no account %s; its mail store was purged again\n", address);
		ret = CTL_OK;
	}
	json_decref(reply);
	return ret;
}

/* Asks before an erasure (there is no undo), unless --yes. */
static int erase_confirmed(const char *address)
{
	char line[EVM_ADDRESS_MAX + 8];

	fprintf(stderr, "Erasing %s destroys its content keys: its mail becomes unreadable everywhere,\n"
		"in the log and in backups of it too. Type the address to confirm: ", address);
	if (fgets(line, sizeof line, stdin) == NULL)
		return 0;
	line[strcspn(line, "\r\n")] = '\0';
	return strcmp(line, address) == 0;
}

/* account erase: POST /admin/accounts/ADDRESS/erase (gateway/admin_erase.h)
 * and its report: keys destroyed, key records tombstoned, mail purged. */
static int account_erase(struct ctl *ctl, const struct ctl_args *a, const char *address)
{
	const char *error = NULL, *reason, *pst, *est;
	json_t *reply = NULL, *since;
	char path[600];
	int status, ret;

	if (!ctl_args_flag(a, "--yes") && !erase_confirmed(address))
		return ctl_fail("not confirmed: nothing erased");
	snprintf(path, sizeof path, "/admin/accounts/%s/erase", ctl_escape(address));
	status = ctl_http(ctl, "POST", path, NULL, &reply, &error);
	if (status < 0)
		return ctl_fail("%s", error);
	reason = json_string_value(json_object_get(reply, "error"));
	pst = json_string_value(json_object_get(json_object_get(reply, "purge"), "status"));
	est = json_string_value(json_object_get(json_object_get(reply, "erase"), "status"));
	if (status != 200) {
		ret = ctl_fail("%s%s", reason != NULL ? reason : "the node did not erase the account",
			       status == 503 ? " (run the erasure again to finish it)" : "");
	} else if (ctl->json) {
		ctl_print_json(json_incref(reply));
		ret = CTL_OK;
	} else if (est == NULL || strcmp(est, "accepted") != 0) {
		/* not-found: erased (or removed) before; finished again */
		printf("no account %s (any more): %lld key record(s) of its erasure tombstoned again, "
		       "its mail store purged again\n", address,
		       (long long)json_integer_value(json_object_get(reply, "tombstones_written")));
		ret = CTL_OK;
	} else {
		since = json_object_get(reply, "sealed_since");
		printf("account %s erased: %lld content key(s) destroyed, %lld key record(s) tombstoned, "
		       "mail purged (%s)\n", address,
		       (long long)json_integer_value(json_object_get(reply, "keys_destroyed")),
		       (long long)json_integer_value(json_object_get(reply, "tombstones_written")),
		       pst != NULL ? pst : "?");
		if (json_integer_value(json_object_get(reply, "keys_destroyed")) == 0)
			printf("warning: the account had no content key: what the log holds of it was not "
			       "sealed and stays readable until the log drops it\n");
		else if (json_is_integer(since))
			printf("note: events logged before %lld (ms since the epoch), its first key, were not "
			       "sealed\n", (long long)json_integer_value(since));
		ret = CTL_OK;
	}
	json_decref(reply);
	return ret;
}

/* account key rotate: POST /admin/accounts/ADDRESS/key, a new content key
 * (the account's first when it was created before the master key). */
static int account_key_rotate(struct ctl *ctl, const char *address)
{
	const char *error = NULL, *reason, *prev;
	json_t *reply = NULL;
	char path[600];
	int status, ret;

	snprintf(path, sizeof path, "/admin/accounts/%s/key", ctl_escape(address));
	status = ctl_http(ctl, "POST", path, NULL, &reply, &error);
	if (status < 0)
		return ctl_fail("%s", error);
	reason = json_string_value(json_object_get(reply, "error"));
	prev = json_string_value(json_object_get(reply, "previous"));
	if (status != 200) {
		ret = ctl_fail("%s", reason != NULL ? reason : "the node did not make a key");
	} else if (ctl->json) {
		ctl_print_json(json_incref(reply));
		ret = CTL_OK;
	} else {
		if (prev != NULL)
			printf("new content key for %s; older mail stays readable with the previous one\n", address);
		else
			printf("first content key for %s: its mail is sealed from now on (earlier events stay "
			       "plain in the log)\n", address);
		ret = CTL_OK;
	}
	json_decref(reply);
	return ret;
}

static int account_show(struct ctl *ctl, const char *address)
{
	char path[600];
	json_t *acc;

	snprintf(path, sizeof path, "/admin/accounts/%s", ctl_escape(address));
	if (ctl_get(ctl, path, &acc) != CTL_OK)
		return CTL_FAIL;
	if (ctl->json) {
		ctl_print_json(acc);
		return CTL_OK;
	}
	printf("address:      %s\ntenant:       %s\ndisplay name: %s\nstate:        %s\nquota:        %lld%s\n"
	       "messages:     %lld\nquota used:   %lld bytes\ncontent key:  %s\n",
	       json_string_value(json_object_get(acc, "address")),
	       json_string_value(json_object_get(acc, "tenant")),
	       json_string_value(json_object_get(acc, "display_name")),
	       json_string_value(json_object_get(acc, "state")),
	       (long long)json_integer_value(json_object_get(acc, "quota")),
	       json_integer_value(json_object_get(acc, "quota")) == 0 ? " (unlimited)" : " bytes",
	       (long long)json_integer_value(json_object_get(acc, "messages")),
	       (long long)json_integer_value(json_object_get(acc, "quota_used")),
	       json_is_string(json_object_get(acc, "content_key")) ?
	       json_string_value(json_object_get(acc, "content_key")) :
	       "none (its mail is logged plain; see account key rotate)");
	json_decref(acc);
	return CTL_OK;
}

int cmd_account(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--name", "--quota", "--state", "--domain", "--tenant", NULL };
	static const char *const flags[] = { "--password-stdin", "--disabled", "--yes", NULL };
	struct ctl_args a;
	const char *verb, *error = NULL;
	char address[EVM_ADDRESS_MAX + 1];

	if (argc >= 1 && (strcmp(argv[0], "restore") == 0 || strcmp(argv[0], "history") == 0))
		return cmd_account_log(ctl, argc, argv);
	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, opts, flags) < 0)
		return ctl_usage(ACCOUNT_USAGE);
	verb = argv[0];
	if (strcmp(verb, "key") == 0) {
		/* account key rotate ADDRESS */
		if (a.npos != 2 || strcmp(a.pos[0], "rotate") != 0)
			return ctl_usage(ACCOUNT_USAGE);
		if (evm_address_normalize(a.pos[1], address, &error) < 0)
			return ctl_fail("'%s' is not a valid address: %s", a.pos[1], error);
		return account_key_rotate(ctl, address);
	}
	if (strcmp(verb, "list") == 0)
		return a.npos == 0 ? account_list(ctl, &a) : ctl_usage(ACCOUNT_USAGE);
	if (a.npos != 1)
		return ctl_usage(ACCOUNT_USAGE);
	if (evm_address_normalize(a.pos[0], address, &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", a.pos[0], error);
	if (strcmp(verb, "add") == 0)
		return account_add(ctl, &a, address);
	if (strcmp(verb, "show") == 0)
		return account_show(ctl, address);
	if (strcmp(verb, "passwd") == 0)
		return account_update(ctl, &a, address, 1);
	if (strcmp(verb, "set") == 0)
		return account_update(ctl, &a, address, 0);
	if (strcmp(verb, "remove") == 0)
		return account_remove(ctl, address);
	if (strcmp(verb, "erase") == 0)
		return account_erase(ctl, &a, address);
	return ctl_usage(ACCOUNT_USAGE);
}

int cmd_alias(struct ctl *ctl, int argc, char **argv)
{
	static const char *const opts[] = { "--domain", "--tenant", NULL };
	struct ctl_args a;
	const char *verb, *error = NULL;
	char alias[EVM_ADDRESS_MAX + 1], target[EVM_ADDRESS_MAX + 1], msg[800];

	if (argc < 1 || ctl_args_parse(&a, argc - 1, argv + 1, opts, NULL) < 0)
		return ctl_usage(ALIAS_USAGE);
	verb = argv[0];
	if (strcmp(verb, "list") == 0) {
		json_t *list, *al, *t;
		size_t i, k;
		if (a.npos != 0)
			return ctl_usage(ALIAS_USAGE);
		if (list_query(ctl, &a, "aliases", &list) != CTL_OK)
			return CTL_FAIL;
		if (ctl->json) {
			ctl_print_json(list);
			return CTL_OK;
		}
		json_array_foreach(list, i, al) {
			printf("%-40s ->", json_string_value(json_object_get(al, "alias")));
			json_array_foreach(json_object_get(al, "targets"), k, t)
				printf(" %s", json_string_value(t));
			printf("\n");
		}
		json_decref(list);
		return CTL_OK;
	}
	if (a.npos != 2)
		return ctl_usage(ALIAS_USAGE);
	if (a.pos[0][0] == '@') {
		/* "@domain": the domain's catch-all. */
		char dom[EVM_DOMAIN_MAX + 1];
		if (evm_domain_normalize(a.pos[0] + 1, dom, &error) < 0)
			return ctl_fail("'%s' is not a valid catch-all (@domain): %s", a.pos[0], error);
		snprintf(alias, sizeof alias, "@%s", dom);
	} else if (evm_address_normalize(a.pos[0], alias, &error) < 0) {
		return ctl_fail("'%s' is not a valid address: %s", a.pos[0], error);
	}
	if (evm_address_normalize(a.pos[1], target, &error) < 0)
		return ctl_fail("'%s' is not a valid address: %s", a.pos[1], error);
	if (strcmp(verb, "add") == 0) {
		snprintf(msg, sizeof msg, "alias %s -> %s added", alias, target);
		return ctl_command(ctl, "alias.add", "", "",
				   json_pack("{s:s,s:s}", "alias", alias, "target", target), msg);
	}
	if (strcmp(verb, "remove") == 0) {
		snprintf(msg, sizeof msg, "alias %s -> %s removed", alias, target);
		return ctl_command(ctl, "alias.remove", "", "",
				   json_pack("{s:s,s:s}", "alias", alias, "target", target), msg);
	}
	return ctl_usage(ALIAS_USAGE);
}
