/* retention_admin - the admin API of retention policies
 * (gateway/retention/retention.h): what applies to an account's mailboxes,
 * and a mailbox's own rule (mailbox.retention, projector/retention.h). */
#include "gateway/retention/retention.h"
#include "gateway/command.h"
#include "gateway/http/http_server.h"
#include "gateway/http/http_util.h"
#include "gateway/mgmt_http.h"
#include "projector/directory.h"
#include "projector/mail.h"
#include "projector/retention.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#define RETENTION_ADMIN_TIMEOUT_MS 30000

/* GET /admin/retention/ADDRESS: every mailbox with the rule that applies
 * to it (max_age_ms null: none) and where the rule comes from. */
static void handle_show(struct node *node, struct http_request *req, const char *address)
{
	json_t *account = NULL, *tenant = NULL, *boxes = NULL, *rules, *out, *list, *m;
	const char *error = NULL, *tname;
	size_t i;
	int r;

	if ((r = directory_account_get(node->view, address, &account, &error)) <= 0) {
		mgmt_reply_error(req, r < 0 ? 500 : 404, r < 0 ? error : "no such account");
		return;
	}
	tname = json_string_value(json_object_get(account, "tenant"));
	if ((tname != NULL && directory_tenant_get(node->view, tname, &tenant, &error) < 0) ||
	    mail_mailboxes(node->view, address, &boxes, &error) < 0) {
		mgmt_reply_error(req, 500, error);
		goto out;
	}
	rules = json_object_get(tenant, "retention");
	list = json_array();
	json_array_foreach(boxes, i, m) {
		const char *source = "";
		int64_t age = retention_max_age(rules, m, &source);

		json_array_append_new(list, json_pack("{s:O, s:O, s:O, s:o, s:s}", "name", json_object_get(m, "name"),
						      "id", json_object_get(m, "id"), "special_use",
						      json_object_get(m, "special_use"), "max_age_ms",
						      age >= 0 ? json_integer(age) : json_null(), "source", source));
	}
	out = json_pack("{s:s, s:s, s:O, s:o}", "account", address, "tenant", tname != NULL ? tname : "",
			"tenant_rules", rules != NULL ? rules : json_null(), "mailboxes", list);
	mgmt_reply_json(req, 200, out);
out:
	json_decref(account);
	json_decref(tenant);
	json_decref(boxes);
}

/* The outcome of mailbox.retention: 200 accepted, 404 / 400 rejected,
 * 503 when its fate is unknown. */
static void mailbox_set_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct http_request *req = ctx;
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;
	const char *code = json_string_value(json_object_get(outcome, "code"));

	if (status < 0)
		mgmt_reply_error(req, 503, error);
	else if (st != NULL && strcmp(st, "accepted") == 0)
		mgmt_reply_json(req, 200, json_incref(outcome));
	else
		mgmt_reply_json(req, code != NULL && strcmp(code, "not-found") == 0 ? 404 : 400, json_incref(outcome));
}

/* POST /admin/retention/mailbox {account, name, max_age_ms | null}. */
static void handle_mailbox_set(struct node *node, struct http_request *req)
{
	struct evbuffer *in = http_request_body(req);
	size_t len = evbuffer_get_length(in);
	json_t *body = json_loadb((const char *)evbuffer_pullup(in, (ev_ssize_t)len), len, 0, NULL);
	json_t *account = NULL, *age = json_object_get(body, "max_age_ms");
	const char *address = json_string_value(json_object_get(body, "account"));
	const char *name = json_string_value(json_object_get(body, "name")), *error = NULL;
	struct evm_event ev;
	int r;

	if (address == NULL || name == NULL || (age != NULL && !json_is_integer(age) && !json_is_null(age))) {
		mgmt_reply_error(req, 400, "expected {\"account\", \"name\", \"max_age_ms\": integer or null}");
		goto out;
	}
	/* The envelope's tenant is the account's (the mail partition learns
	 * nothing from the directory but through events). */
	if ((r = directory_account_get(node->view, address, &account, &error)) <= 0) {
		mgmt_reply_error(req, r < 0 ? 500 : 404, r < 0 ? error : "no such account");
		goto out;
	}
	if (evm_event_init(&ev, "mailbox.retention", json_string_value(json_object_get(account, "tenant")), address,
			   "admin", json_pack("{s:s, s:O}", "name", name, "max_age_ms", age != NULL ? age : json_null()),
			   &error) < 0) {
		mgmt_reply_error(req, 400, error);
		goto out;
	}
	command_submit(node, &ev, EVM_TOPIC_MAIL, address, RETENTION_ADMIN_TIMEOUT_MS, mailbox_set_done, req);
out:
	json_decref(body);
	json_decref(account);
}

void retention_admin_handle(struct node *node, struct http_request *req, const char *path)
{
	const char *method = http_request_method(req), *error = NULL;
	char *address = NULL;

	if (strcmp(path, "mailbox") == 0) {
		if (strcmp(method, "POST") != 0)
			mgmt_reply_error(req, 405, "use POST");
		else
			handle_mailbox_set(node, req);
		return;
	}
	if (strcmp(method, "GET") != 0) {
		mgmt_reply_error(req, 405, "use GET");
		return;
	}
	/* RFC 3986 2.1 */
	if (http_percent_decode(path, strlen(path), 0, &address, NULL, &error) < 0 || address[0] == '\0') {
		mgmt_reply_error(req, 400, error != NULL ? error : "an account address expected");
		free(address);
		return;
	}
	handle_show(node, req, address);
	free(address);
}
