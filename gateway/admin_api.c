/* admin_api - the JSON admin API under /admin/ (used by evmailctl).
 *
 *   POST /admin/commands   [{"type","tenant","account","data"}, ...]
 *                          directory commands, appended in order; answers
 *                          with their outcomes once all are applied (with
 *                          their mail follow-ups: account.remove's outcome
 *                          carries its account.purge's in "purge", and
 *                          "revoked": the grants to the address revoked;
 *                          with a keyring, account.create's carries its
 *                          first content key's outcome in "key")
 *   POST /admin/accounts/ADDRESS/key|erase  key rotation, crypto-shredding
 *                          (admin_erase.c)
 *   GET  /admin/tenants[/NAME]   /admin/domains[?tenant=]  /admin/domains/D
 *   GET  /admin/accounts[?domain=&tenant=]  /admin/accounts/ADDRESS[?credentials=1]
 *                          (one account: with its usage and "content_key")
 *   GET  /admin/aliases[?domain=&tenant=]   /admin/aliases/ALIAS
 *   GET  /admin/dkim[?domain=]  /admin/dkim/DOMAIN/SELECTOR  DKIM keys
 *                          (public part only: never the private key)
 *   GET  /admin/status     node, projector and cluster status (each node's
 *                          heartbeat with its lag against our log ends)
 *   POST /admin/drain      {"node": ID, "drain": bool}: drain or undrain this
 *                          node (409 when ID is another node)
 *   GET  /admin/digest     the view digest
 *   GET  /admin/checkpoint a checkpoint of the view, streamed
 *                          (gateway/checkpoint/checkpoint.h)
 *   POST /admin/rebuild    wipe the view and replay the log
 *   POST /admin/view/compact  compact the view now (admin_view.c)
 *   GET  /admin/topics     describe topics; POST creates missing ones
 *   GET  /admin/mail/...   an account's mail store (admin_mail.c)
 *   GET  /admin/history/ADDRESS   the account's events from the log (admin_history.c)
 *   POST /admin/restore    point-in-time restore (admin_restore.c)
 *   /admin/queue[/...]     the outbound queue (admin_queue.c)
 *   /admin/retention/...   retention policies (gateway/retention/retention.h)
 * Every read answers from this node's view. */
#include "gateway/admin_erase.h"
#include "gateway/blobgc/blobgc.h"
#include "gateway/retention/retention.h"
#include "gateway/command.h"
#include "gateway/checkpoint/checkpoint.h"
#include "gateway/http/http_util.h"
#include "gateway/outbound/queue_worker.h"
#include "gateway/mgmt_http.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/directory.h"
#include "projector/keyring.h"
#include "projector/mail.h"
#include "projector/mail_acl.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#define ADMIN_MAX_BATCH 10000
#define ADMIN_COMMAND_TIMEOUT_MS 30000

static const char *const admin_command_types[] = {
	"tenant.create", "tenant.delete", "domain.add", "domain.remove",
	"account.create", "account.update", "account.remove", "alias.add", "alias.remove",
	"dkim.set", "dkim.remove", "tenant.retention",
};

static int admin_type_allowed(const char *type)
{
	for (size_t i = 0; i < sizeof admin_command_types / sizeof admin_command_types[0]; i++) {
		if (strcmp(type, admin_command_types[i]) == 0)
			return 1;
	}
	return 0;
}

struct admin_batch {
	struct node *node;
	struct http_request *req;
	json_t *outcomes;
	size_t remaining;
	int client_gone;       /* the connection closed before the answer */
	char failed[256];      /* first command whose fate is unknown, "" if none */
};

struct admin_slot {
	struct admin_batch *batch;
	size_t index;
	/* A mail-topic event to append once the directory command is accepted
	 * (mail.h: the mail partition gets what it needs from the directory
	 * through events, never by reading directory state). */
	const char *followup_type;
	json_t *followup_data;
	char account[EVM_EVENT_NAME_MAX + 1];
	json_t *outcome;       /* held while the follow-up is applied */
	/* account.create with a keyring: its first content key (account.key)
	 * is appended before anything else follows (admin_erase.h). */
	int wants_key;
};

static void admin_slot_finish(struct admin_slot *slot, int status, json_t *outcome, const char *error);

/* 1 when the slot's follow-up is the purge of a removed account. */
static int admin_is_purge(const struct admin_slot *slot)
{
	return slot->followup_type != NULL && strcmp(slot->followup_type, "account.purge") == 0;
}

/* The grants to the removed address are revoked (admin_revoke.c). */
static void admin_revoked(void *ctx, size_t revoked, const char *error)
{
	struct admin_slot *slot = ctx;
	json_t *both = slot->outcome;

	slot->outcome = NULL;
	json_object_set_new(both, "revoked", json_integer((json_int_t)revoked));
	if (error != NULL)
		admin_slot_finish(slot, -1, NULL, error);
	else
		admin_slot_finish(slot, 0, both, NULL);
	json_decref(both);
}

/* After the purge: the grants other accounts gave the address go too
 * (admin_revoke.c). Returns 1 when revocations are on their way (they
 * answer), 0 when there is none (both is the answer). */
static int admin_revoke_after_purge(struct admin_slot *slot, json_t *both)
{
	const char *tenant = json_string_value(json_object_get(both, "tenant"));

	slot->outcome = json_incref(both);
	if (admin_revoke_grants(slot->batch->node, tenant ? tenant : "", slot->account, admin_revoked, slot))
		return 1;
	json_decref(slot->outcome);
	slot->outcome = NULL;
	json_object_set_new(both, "revoked", json_integer(0));
	return 0;
}

/* The follow-up was applied (or not): the directory command's outcome is
 * what the client asked about. A failed follow-up is logged; provisioning
 * also happens lazily on the account's first mail event. The purge is
 * part of the answer: its outcome goes in "purge", and a purge whose fate
 * is unknown makes the command's fate unknown (503; running `account
 * remove` again re-issues it, see admin_command_done). */
static void admin_followup_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct admin_slot *slot = ctx;
	json_t *first = slot->outcome;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	if (status < 0 || st == NULL || strcmp(st, "accepted") != 0)
		log_warn("admin: %s for %s: %s", slot->followup_type, slot->account,
			 status < 0 ? error : json_string_value(json_object_get(outcome, "reason")));
	if (admin_is_purge(slot) && status < 0) {
		admin_slot_finish(slot, -1, NULL, error);
	} else if (admin_is_purge(slot)) {
		json_t *both = json_deep_copy(first);

		json_object_set(both, "purge", outcome);
		if (st == NULL || strcmp(st, "accepted") != 0 || admin_revoke_after_purge(slot, both) == 0)
			admin_slot_finish(slot, 0, both, NULL);
		json_decref(both);
	} else {
		admin_slot_finish(slot, 0, first, NULL);
	}
	json_decref(first);
}

/* Appends the follow-up event to the account's mail partition. */
static int admin_followup(struct admin_slot *slot, json_t *outcome)
{
	struct node *node = slot->batch->node;
	const char *tenant = json_string_value(json_object_get(outcome, "tenant"));
	const char *error = NULL;
	struct evm_event ev;

	if (evm_event_init(&ev, slot->followup_type, tenant ? tenant : "", slot->account, "admin",
			   slot->followup_data, &error) < 0) {
		slot->followup_data = NULL;
		log_warn("admin: %s for %s: %s", slot->followup_type, slot->account, error);
		return -1;
	}
	slot->followup_data = NULL;
	slot->outcome = json_incref(outcome);
	command_submit(node, &ev, EVM_TOPIC_MAIL, slot->account, ADMIN_COMMAND_TIMEOUT_MS,
		       admin_followup_done, slot);
	return 0;
}

static void admin_command_done(void *ctx, int status, json_t *outcome, const char *error);

/* The new account's content key is applied (or not): the creation goes on
 * with its follow-up. Without its key the account's mail would be logged
 * plain, so a key whose fate is unknown fails the command (503). */
static void admin_key_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct admin_slot *slot = ctx;
	json_t *created = slot->outcome;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;
	char msg[256];

	slot->outcome = NULL;
	if (st == NULL || strcmp(st, "accepted") != 0) {
		snprintf(msg, sizeof msg, "account created without a content key (%s): run `evmailctl account "
			 "key rotate %s`", status < 0 ? error : json_string_value(json_object_get(outcome, "reason")),
			 slot->account);
		admin_slot_finish(slot, -1, NULL, msg);
	} else {
		json_object_set(created, "key", outcome);
		admin_command_done(slot, 0, created, NULL);
	}
	json_decref(created);
}

static void admin_command_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct admin_slot *slot = ctx;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;
	const char *code = status == 0 ? json_string_value(json_object_get(outcome, "code")) : NULL;

	if (slot->wants_key && slot->batch->node->keyring != NULL && st != NULL && strcmp(st, "accepted") == 0) {
		const char *tenant = json_string_value(json_object_get(outcome, "tenant")), *kerr = NULL;
		char msg[256];

		slot->wants_key = 0;
		slot->outcome = json_incref(outcome);
		if (admin_key_submit(slot->batch->node, tenant != NULL ? tenant : "", slot->account,
				     admin_key_done, slot, &kerr) == 0)
			return;
		json_decref(slot->outcome);
		slot->outcome = NULL;
		snprintf(msg, sizeof msg, "account created without a content key (%s): run `evmailctl account "
			 "key rotate %s`", kerr, slot->account);
		admin_slot_finish(slot, -1, NULL, msg);
		return;
	}

	/* The purge also follows an account.remove of an address that is
	 * not (or no longer) an account: removing again heals a removal whose
	 * purge was never logged, or mail that arrived for the address after
	 * its purge. */
	if (slot->followup_type != NULL && st != NULL &&
	    (strcmp(st, "accepted") == 0 ||
	     (admin_is_purge(slot) && code != NULL && strcmp(code, "not-found") == 0))) {
		if (admin_followup(slot, outcome) == 0)
			return;
		if (admin_is_purge(slot)) {
			admin_slot_finish(slot, -1, NULL, "account.purge could not be appended");
			return;
		}
	}
	admin_slot_finish(slot, status, outcome, error);
}

/* account.create -> mailbox.provision {quota}; account.update ->
 * account.quota {quota}; account.remove -> account.purge {} (mail.h: the
 * account's mail store goes from every view). */
static void admin_plan_followup(struct admin_slot *slot, json_t *cmd)
{
	const char *type = json_string_value(json_object_get(cmd, "type"));
	json_t *data = json_object_get(cmd, "data");
	const char *address = json_string_value(json_object_get(data, "address"));
	json_t *quota = json_object_get(data, "quota");

	if (address == NULL)
		return;
	if (strcmp(type, "account.create") == 0) {
		slot->wants_key = 1;
		snprintf(slot->account, sizeof slot->account, "%s", address);
	}
	if (strcmp(type, "account.remove") == 0) {
		slot->followup_type = "account.purge";
		slot->followup_data = json_object();
	} else if (!json_is_integer(quota)) {
		return;
	} else if (strcmp(type, "account.create") == 0) {
		slot->followup_type = "mailbox.provision";
		slot->followup_data = json_pack("{s:O}", "quota", quota);
	} else if (strcmp(type, "account.update") == 0) {
		slot->followup_type = "account.quota";
		slot->followup_data = json_pack("{s:O}", "quota", quota);
	} else {
		return;
	}
	snprintf(slot->account, sizeof slot->account, "%s", address);
}

static void admin_slot_finish(struct admin_slot *slot, int status, json_t *outcome, const char *error)
{
	struct admin_batch *b = slot->batch;

	if (status == 0) {
		json_array_set(b->outcomes, slot->index, outcome);
	} else {
		json_array_set_new(b->outcomes, slot->index,
				   json_pack("{s:s,s:s}", "status", "failed", "reason", error));
		if (b->failed[0] == '\0')
			snprintf(b->failed, sizeof b->failed, "%s", error ? error : "command failed");
	}
	json_decref(slot->followup_data);
	free(slot);
	if (--b->remaining > 0)
		return;
	if (b->client_gone)
		log_warn("admin: %zu command(s) finished after their client left%s%s",
			 json_array_size(b->outcomes), b->failed[0] != '\0' ? "; a fate is unknown: " : "",
			 b->failed);
	if (b->failed[0] != '\0') {
		/* Not logged, or logged with no answer in time: a temporary
		 * failure (RFC 9110 15.6.4); the caller retries, and a command
		 * that did get through is then rejected as a duplicate. */
		char msg[320];
		snprintf(msg, sizeof msg, "the log is unavailable, try again later: %s", b->failed);
		mgmt_reply_json(b->req, 503, json_pack("{s:s,s:o}", "error", msg, "outcomes", b->outcomes));
	} else {
		mgmt_reply_json(b->req, 200, b->outcomes);
	}
	free(b);
}

/* The client closed before its batch was answered: the commands are in
 * the log or on their way and still complete (the answer is dropped);
 * say so, since the client will not. */
static void admin_batch_cancelled(void *ctx, struct http_request *req)
{
	struct admin_batch *b = ctx;

	b->client_gone = 1;
	log_info("admin: [%s] client left before POST /admin/commands was answered; %zu of %zu command(s) "
		 "still completing", http_request_peer_ip(req), b->remaining, json_array_size(b->outcomes));
}

static json_t *read_body(struct http_request *req, const char **error_r)
{
	struct evbuffer *in = http_request_body(req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	json_t *body;

	body = json_loadb((const char *)evbuffer_pullup(in, (ev_ssize_t)len), len, 0, &jerr);
	if (body == NULL)
		*error_r = "request body is not valid JSON";
	return body;
}

static const char *opt_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* POST /admin/commands: validates every command before appending any. */
static void handle_commands(struct node *node, struct http_request *req)
{
	const char *error = NULL;
	json_t *body = read_body(req, &error), *cmd;
	struct admin_batch *b;
	size_t i, n;

	if (body == NULL) {
		mgmt_reply_error(req, 400, error);
		return;
	}
	if (json_is_object(body)) {
		json_t *arr = json_array();
		json_array_append_new(arr, body);
		body = arr;
	}
	n = json_is_array(body) ? json_array_size(body) : 0;
	if (n == 0 || n > ADMIN_MAX_BATCH) {
		json_decref(body);
		mgmt_reply_error(req, 400, "expected 1 to 10000 commands");
		return;
	}
	json_array_foreach(body, i, cmd) {
		json_t *type = json_object_get(cmd, "type");
		if (!json_is_object(cmd) || !json_is_string(type) ||
		    !admin_type_allowed(json_string_value(type)) ||
		    !json_is_object(json_object_get(cmd, "data"))) {
			char msg[128];
			snprintf(msg, sizeof msg, "command %zu: needs a known directory \"type\" and a \"data\" object", i);
			json_decref(body);
			mgmt_reply_error(req, 400, msg);
			return;
		}
	}
	b = xcalloc(1, sizeof *b);
	b->node = node;
	b->req = req;
	b->outcomes = json_array();
	b->remaining = n;
	for (i = 0; i < n; i++)
		json_array_append_new(b->outcomes, json_null());
	/* Before the first submit: the last command may finish the batch (and
	 * free b) synchronously. b lives as long as req is unanswered. */
	http_request_on_cancel(req, admin_batch_cancelled, b);
	json_array_foreach(body, i, cmd) {
		struct evm_event ev;
		struct admin_slot *slot = xcalloc(1, sizeof *slot);
		slot->batch = b;
		slot->index = i;
		admin_plan_followup(slot, cmd);
		if (evm_event_init(&ev, json_string_value(json_object_get(cmd, "type")),
				   opt_str(cmd, "tenant"), opt_str(cmd, "account"), "admin",
				   json_deep_copy(json_object_get(cmd, "data")), &error) < 0) {
			json_t *fail = json_pack("{s:s,s:s}", "status", "rejected", "reason", error);
			admin_slot_finish(slot, 0, fail, NULL);
			json_decref(fail);
			continue;
		}
		command_submit(node, &ev, EVM_TOPIC_DIRECTORY, NULL, ADMIN_COMMAND_TIMEOUT_MS,
			       admin_command_done, slot);
	}
	json_decref(body);
}

/* Replies with the result of a directory read: lookups 1/0/-1. */
static void reply_lookup(struct http_request *req, int ret, json_t *obj, const char *error,
			 const char *what)
{
	if (ret < 0) {
		mgmt_reply_error(req, 500, error);
	} else if (ret == 0) {
		char msg[128];
		snprintf(msg, sizeof msg, "no such %s", what);
		mgmt_reply_error(req, 404, msg);
	} else {
		mgmt_reply_json(req, 200, obj);
	}
}

static void reply_list(struct http_request *req, int ret, json_t *list, const char *error)
{
	if (ret < 0)
		mgmt_reply_error(req, 500, error);
	else
		mgmt_reply_json(req, 200, list);
}

/* The query parameters of the directory reads, decoded; NULL when absent
 * or empty. */
struct dir_query {
	char *tenant, *domain, *credentials;
};

/* One parameter into *value_r (NULL when absent or empty). 0 or -1. */
static int query_param(const char *query, const char *name, char **value_r)
{
	const char *error = NULL;
	int ret = http_query_param(query, name, value_r, &error);

	if (ret > 0 && (*value_r)[0] == '\0') {
		free(*value_r);
		ret = 0;
	}
	if (ret <= 0)
		*value_r = NULL;
	return ret < 0 ? -1 : 0;
}

/* Parses req's query. 0, or -1 for a malformed one (nothing to free). */
static int dir_query_parse(struct http_request *req, struct dir_query *q)
{
	const char *query = http_request_query(req);

	memset(q, 0, sizeof *q);
	if (query_param(query, "tenant", &q->tenant) == 0 && query_param(query, "domain", &q->domain) == 0 &&
	    query_param(query, "credentials", &q->credentials) == 0)
		return 0;
	free(q->tenant);
	free(q->domain);
	memset(q, 0, sizeof *q);
	return -1;
}

static void dir_query_free(struct dir_query *q)
{
	free(q->tenant);
	free(q->domain);
	free(q->credentials);
}

/* The mail store's usage of an account: "messages" and "quota_used". */
static void add_usage(struct node *node, json_t *account)
{
	const char *address = json_string_value(json_object_get(account, "address"));
	const char *error = NULL;
	json_t *usage = NULL;
	int ret = address ? mail_account_usage(node->view, address, &usage, &error) : 0;

	if (ret < 0)
		log_warn("admin: usage of %s: %s", address, error);
	json_object_set_new(account, "messages",
			    json_integer(ret > 0 ? json_integer_value(json_object_get(usage, "messages")) : 0));
	json_object_set_new(account, "quota_used",
			    json_integer(ret > 0 ? json_integer_value(json_object_get(usage, "quota_used")) : 0));
	json_decref(usage);
}

/* "content_key": the account's current kid (projector/keyring.h), null
 * when its mail is logged plain. */
static void add_content_key(struct node *node, json_t *account)
{
	const char *address = json_string_value(json_object_get(account, "address"));
	char kid[KEYRING_KID_LEN + 1];
	const char *error = NULL;
	int ret = address ? keyring_current_kid(node->view, address, kid, &error) : 0;

	if (ret < 0)
		log_warn("admin: content key of %s: %s", address, error);
	json_object_set_new(account, "content_key", ret > 0 ? json_string(kid) : json_null());
}

static void handle_directory_get(struct node *node, struct http_request *req, const char *path)
{
	struct dir_query q;
	const char *error = NULL, *slash = strchr(path, '/');
	char *name = NULL;
	json_t *out = NULL;
	int ret;

	if (dir_query_parse(req, &q) < 0) {
		mgmt_reply_error(req, 400, "bad query string");
		return;
	}
	if (slash != NULL) {
		/* RFC 3986 2.1; the dkim path keeps its "/" (DOMAIN/SELECTOR) */
		if (http_percent_decode(slash + 1, strlen(slash + 1), 0, &name, NULL, &error) < 0) {
			mgmt_reply_error(req, 400, error);
			goto out;
		}
		if (name[0] == '\0') {
			mgmt_reply_error(req, 400, "empty name");
			goto out;
		}
	}
	if (strncmp(path, "tenants", 7) == 0 && (path[7] == '\0' || path[7] == '/')) {
		if (name != NULL) {
			ret = directory_tenant_get(node->view, name, &out, &error);
			reply_lookup(req, ret, out, error, "tenant");
		} else {
			ret = directory_tenants(node->view, &out, &error);
			reply_list(req, ret, out, error);
		}
	} else if (strncmp(path, "domains", 7) == 0 && (path[7] == '\0' || path[7] == '/')) {
		if (name != NULL) {
			ret = directory_domain_get(node->view, name, &out, &error);
			reply_lookup(req, ret, out, error, "domain");
		} else {
			ret = directory_domains(node->view, q.tenant, &out, &error);
			reply_list(req, ret, out, error);
		}
	} else if (strncmp(path, "accounts", 8) == 0 && (path[8] == '\0' || path[8] == '/')) {
		if (name != NULL) {
			ret = directory_account_get(node->view, name, &out, &error);
			/* The hash is only for evmailctl's read-modify-write of
			 * account.update; listings never carry it. */
			if (ret > 0 && q.credentials == NULL) {
				json_object_del(out, "password_hash");
				json_object_del(out, "scram_sha256");
			}
			if (ret > 0) {
				add_usage(node, out);
				add_content_key(node, out);
			}
			reply_lookup(req, ret, out, error, "account");
		} else {
			ret = directory_accounts(node->view, q.domain,
						 q.tenant, &out, &error);
			reply_list(req, ret, out, error);
		}
	} else if (strncmp(path, "aliases", 7) == 0 && (path[7] == '\0' || path[7] == '/')) {
		if (name != NULL) {
			ret = directory_alias_get(node->view, name, &out, &error);
			reply_lookup(req, ret, out, error, "alias");
		} else {
			ret = directory_aliases(node->view, q.domain,
						q.tenant, &out, &error);
			reply_list(req, ret, out, error);
		}
	} else if (strncmp(path, "dkim", 4) == 0 && (path[4] == '\0' || path[4] == '/')) {
		char *sel = name != NULL ? strchr(name, '/') : NULL;
		if (name != NULL && sel == NULL) {
			mgmt_reply_error(req, 404, "use /admin/dkim/DOMAIN/SELECTOR");
		} else if (name != NULL) {
			*sel++ = '\0';
			ret = directory_dkim_get(node->view, name, sel, 0, &out, &error);
			reply_lookup(req, ret, out, error, "DKIM key");
		} else {
			ret = directory_dkim_keys(node->view, q.domain, 0, &out, &error);
			reply_list(req, ret, out, error);
		}
	} else {
		mgmt_reply_error(req, 404, "no such admin path");
	}
out:
	free(name);
	dir_query_free(&q);
}

/* A heartbeat's lag: the events between what the node had applied when it
 * sent it ("applied": {"topic/partition": next offset}) and this node's
 * view of each partition's end; -1 when it reports no partition. */
static json_int_t node_lag(json_t *hb, json_t *parts)
{
	json_t *applied = json_object_get(hb, "applied"), *p, *a;
	json_int_t lag = 0;
	int seen = 0;
	size_t i;

	json_array_foreach(parts, i, p) {
		char key[160];
		json_int_t end = json_integer_value(json_object_get(p, "end"));

		snprintf(key, sizeof key, "%s/%lld", json_string_value(json_object_get(p, "topic")),
			 (long long)json_integer_value(json_object_get(p, "partition")));
		if (!json_is_integer(a = json_object_get(applied, key)))
			continue;
		seen = 1;
		if (end > json_integer_value(a))
			lag += end - json_integer_value(a);
	}
	return seen ? lag : -1;
}

static void handle_status(struct node *node, struct http_request *req)
{
	json_t *st = projector_status(node->projector), *hb;
	const char *id;

	json_object_foreach(json_object_get(st, "nodes"), id, hb) {
		json_object_set_new(hb, "lag", json_integer(node_lag(hb, json_object_get(st, "partitions"))));
		json_object_set_new(hb, "age_ms", json_integer(evm_now_ms() -
							      json_integer_value(json_object_get(hb, "ts"))));
	}
	json_object_set_new(st, "node", json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:b,s:I}",
		"id", node->cfg->node_id, "roles", node->cfg->node_roles,
		"version", EVMAIL_VERSION,
		"log_backend", node->cfg->log_backend == EVM_LOG_KAFKA ? "kafka" : "embedded",
		"uptime_ms", (json_int_t)(evm_mono_ms() - node->started_ms),
		"pending_appends", (json_int_t)evlog_pending(node->log),
		"draining", node->draining != 0, "sessions", (json_int_t)node_sessions(node)));
	/* The delivery role: owned queue partitions, attempts in flight. */
	if (node->delivery != NULL)
		json_object_set_new(st, "delivery", queue_worker_status(node->delivery));
	mgmt_reply_json(req, 200, st);
}

/* POST /admin/drain {"node": ID, "drain": true|false}. The id guards against
 * a stale or reused management address: a node only drains itself. */
static void handle_drain(struct node *node, struct http_request *req)
{
	const char *error = NULL, *id;
	json_t *body = read_body(req, &error), *on;

	if (body == NULL) {
		mgmt_reply_error(req, 400, error);
		return;
	}
	id = json_string_value(json_object_get(body, "node"));
	on = json_object_get(body, "drain");
	if (id == NULL || !json_is_boolean(on)) {
		mgmt_reply_error(req, 400, "expected {\"node\": ID, \"drain\": true|false}");
	} else if (strcmp(id, node->cfg->node_id) != 0) {
		mgmt_reply_error(req, 409, "this is another node");
	} else {
		node_set_draining(node, json_is_true(on));
		mgmt_reply_json(req, 200, json_pack("{s:s,s:b,s:I}", "node", node->cfg->node_id,
						    "draining", node->draining != 0,
						    "sessions", (json_int_t)node_sessions(node)));
	}
	json_decref(body);
}

static void handle_digest(struct node *node, struct http_request *req)
{
	char hex[65];
	uint64_t keys = 0;
	const char *error = NULL;

	if (view_digest(node->view, hex, &keys, &error) < 0) {
		mgmt_reply_error(req, 500, error);
		return;
	}
	mgmt_reply_json(req, 200, json_pack("{s:s,s:I}", "digest", hex, "keys", (json_int_t)keys));
}

static void handle_topics(struct node *node, struct http_request *req, int create)
{
	json_t *report = NULL;
	const char *error = NULL;
	int ret = create ? evlog_topics_create(node->log, &report, &error)
			 : evlog_topics_describe(node->log, &report, &error);

	if (ret < 0)
		mgmt_reply_error(req, 502, error);
	else
		mgmt_reply_json(req, 200, report);
}

void admin_api_handle(struct node *node, struct http_request *req, const char *path)
{
	const char *method = http_request_method(req), *error = NULL;
	int get = strcmp(method, "GET") == 0, post = strcmp(method, "POST") == 0;

	if (strcmp(path, "commands") == 0) {
		if (!post)
			mgmt_reply_error(req, 405, "use POST");
		else
			handle_commands(node, req);
	} else if (strcmp(path, "status") == 0) {
		handle_status(node, req);
	} else if (strcmp(path, "drain") == 0) {
		if (!post)
			mgmt_reply_error(req, 405, "use POST");
		else
			handle_drain(node, req);
	} else if (strcmp(path, "digest") == 0) {
		handle_digest(node, req);
	} else if (strcmp(path, "checkpoint") == 0 && get) {
		ckpt_serve(node, req);
	} else if (strcmp(path, "rebuild") == 0) {
		if (!post) {
			mgmt_reply_error(req, 405, "use POST");
		} else if (projector_rebuild(node->projector, &error) < 0) {
			mgmt_reply_error(req, 409, error);
		} else {
			log_info("admin: view rebuild started");
			mgmt_reply_json(req, 202, json_pack("{s:s}", "status", "rebuilding"));
		}
	} else if (strcmp(path, "view/compact") == 0) {
		admin_view_compact_handle(node, req);
	} else if (strcmp(path, "topics") == 0) {
		handle_topics(node, req, post);
	} else if (strcmp(path, "queue") == 0 || strncmp(path, "queue/", 6) == 0) {
		admin_queue_handle(node, req, path + 5);
	} else if (strncmp(path, "history/", 8) == 0 && get) {
		admin_history_handle(node, req, path + 8);
	} else if (strcmp(path, "log/compact") == 0) {
		admin_log_compact_handle(node, req);
	} else if (strcmp(path, "restore") == 0 && post) {
		admin_restore_handle(node, req);
	} else if (strncmp(path, "mail/", 5) == 0 && get) {
		admin_mail_handle(node, req, path + 5);
	} else if (strncmp(path, "retention/", 10) == 0) {
		retention_admin_handle(node, req, path + 10);
	} else if (strncmp(path, "accounts/", 9) == 0 && post) {
		admin_erase_handle(node, req, path + 9);
	} else if (strncmp(path, "blobs/", 6) == 0 && get) {
		blobgc_admin_handle(node, req, path + 6);
	} else if (get) {
		handle_directory_get(node, req, path);
	} else {
		mgmt_reply_error(req, 404, "no such admin path");
	}
}
