/* test_jmap_node - the harness of the JMAP tests that write: a real node
 * (embedded log, view, projector) in one event loop with the tenant acme
 * and its accounts, the JMAP engine with every Mail method registered,
 * and requests run through it as a transport would. Static functions:
 * include it once, from a test file. */
#ifndef EVM_TEST_JMAP_NODE_H
#define EVM_TEST_JMAP_NODE_H

#include "gateway/jmap/jmap_mail.h"
#include "gateway/command.h"
#include "common/buf.h"
#include "common/ids.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TJN_UNUSED __attribute__((unused))
/* More capabilities for "using", each as ",\"urn:...\"" (a test may
 * define it before including this header). */
#ifndef TJN_USING_MORE
#define TJN_USING_MORE ""
#endif
#define TJN_WAIT_MS 30000
#define TJN_HASH "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"

static struct evm_config cfg;
static struct node node;
static struct jmap_api *api;

/* One user of the node: its request context and account. */
struct tjn_user {
	struct jmap_mail_req req;
	struct jmap_account account;
	struct jmap_user user;
};

/* Runs the loop until *done, at most TJN_WAIT_MS (then aborts). */
TJN_UNUSED static void loop_until(const int *done)
{
	int64_t deadline = evm_mono_ms() + TJN_WAIT_MS;
	struct timeval tick = { 0, 5000 };

	while (!*done && evm_mono_ms() < deadline) {
		event_base_loopexit(node.base, &tick);
		event_base_dispatch(node.base);
	}
	if (!*done) {
		fprintf(stderr, "timed out waiting for the loop\n");
		abort();
	}
}

struct tjn_wait {
	int done, ok;
};

static void tjn_cmd_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct tjn_wait *w = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	(void)error;
	w->ok = status == 0 && st != NULL && strcmp(st, "accepted") == 0;
	w->done = 1;
}

/* An admin event, waited for; aborts unless accepted. data is stolen. */
TJN_UNUSED static void submit(enum evm_topic_id topic, const char *account, const char *type, json_t *data)
{
	struct tjn_wait w = { 0, 0 };
	struct evm_event ev;
	const char *error = NULL;

	if (evm_event_init(&ev, type, "acme", account, "admin", data, &error) < 0)
		abort();
	command_submit(&node, &ev, topic, account[0] ? account : NULL, 10000, tjn_cmd_done, &w);
	loop_until(&w.done);
	if (!w.ok) {
		fprintf(stderr, "%s rejected\n", type);
		abort();
	}
}

/* An account with its mail quota, and its JMAP user. */
TJN_UNUSED static void add_user(struct tjn_user *u, const char *address, int64_t quota)
{
	submit(EVM_TOPIC_DIRECTORY, "", "account.create",
	       json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address, "display_name", "X", "quota",
			 (json_int_t)quota, "state", "active", "password_hash", TJN_HASH));
	submit(EVM_TOPIC_MAIL, address, "mailbox.provision", json_pack("{s:I}", "quota", (json_int_t)quota));
	memset(u, 0, sizeof *u);
	u->req.refs = 1;   /* owned here: never freed by a write */
	u->req.node = &node;
	snprintf(u->req.address, sizeof u->req.address, "%s", address);
	snprintf(u->req.tenant, sizeof u->req.tenant, "acme");
	jmap_account_id(address, u->req.account_id);
	snprintf(u->req.actor, sizeof u->req.actor, "jmap:test");
	jmap_mail_account(&u->req, &u->account);
	u->user.username = u->req.address;
	u->user.accounts = &u->account;
	u->user.naccounts = 1;
}

TJN_UNUSED static void setup(const char *name)
{
	struct jmap_settings s;
	const char *error = NULL;
	char path[4096];

	evthread_use_pthreads();
	if (config_load(NULL, &cfg, &error) < 0 || config_set(&cfg, "node.data_dir", test_tmpdir(name), &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(&cfg, "log.partitions", "2", &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		exit(2);
	}
	node.cfg = &cfg;
	node.base = event_base_new();
	snprintf(path, sizeof path, "%s/view", cfg.node_data_dir);
	if (evlog_open(&cfg, node.base, &node.log, &error) < 0 || view_open(path, &node.view, &error) < 0 ||
	    projector_create(&cfg, node.log, node.view, node.base, &node.projector, &error) < 0 ||
	    projector_start(node.projector, &error) < 0) {
		fprintf(stderr, "node: %s\n", error);
		exit(2);
	}
	submit(EVM_TOPIC_DIRECTORY, "", "tenant.create", json_pack("{s:s}", "name", "acme"));
	submit(EVM_TOPIC_DIRECTORY, "", "domain.add", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	jmap_settings_default(&s);
	api = jmap_api_new(node.base, &s);
	jmap_mail_register(api);
}

TJN_UNUSED static void teardown(void)
{
	jmap_api_free(&api);
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	event_base_free(node.base);
	config_free(&cfg);
}

/* ---- requests ---- */

struct tjn_result {
	int done, status;
	json_t *body;
};

static struct tjn_result last;

static void tjn_run_done(void *arg, int status, json_t *body)
{
	struct tjn_result *r = arg;

	r->done = 1;
	r->status = status;
	r->body = json_deep_copy(body);
}

/* Runs {using, methodCalls} as u and returns the response arguments of
 * call n (0-based; owned by `last`), or NULL. */
TJN_UNUSED static json_t *request_n(struct tjn_user *u, const char *method_calls, size_t n)
{
	struct jmap_run_params p = { .user = &u->user, .session_state = "s", .request_ctx = &u->req };
	struct buf body = BUF_INIT;

	json_decref(last.body);
	memset(&last, 0, sizeof last);
	buf_printf(&body, "{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:mail\","
		   "\"urn:ietf:params:jmap:blob\",\"urn:ietf:params:jmap:quota\"" TJN_USING_MORE "],"
		   "\"methodCalls\":%s}", method_calls);
	jmap_api_run(api, &p, "application/json", body.data, body.len, tjn_run_done, &last);
	buf_free(&body);
	loop_until(&last.done);
	if (last.status != 200)
		return NULL;
	return json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), n), 1);
}

TJN_UNUSED static json_t *request(struct tjn_user *u, const char *method_calls)
{
	return request_n(u, method_calls, 0);
}

/* The name of response n of the last request. */
TJN_UNUSED static const char *resp_name(size_t n)
{
	const char *s = json_string_value(
		json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), n), 0));

	return s != NULL ? s : "(none)";
}

/* A string member, or "(none)". */
TJN_UNUSED static const char *sget(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "(none)";
}

/* A JSON value compact with sorted keys (static). */
TJN_UNUSED static const char *dump(const json_t *j)
{
	static char out[4096];
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	snprintf(out, sizeof out, "%s", s != NULL ? s : "(null)");
	free(s);
	return out;
}

#endif
