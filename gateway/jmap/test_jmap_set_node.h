/* test_jmap_set_node - a node on the embedded log with a real view and
 * projector, and a JMAP engine with the Mail methods on it, for the tests
 * of the JMAP write methods: requests go through the engine, writes
 * through jmap_mail_submit to the log and back through the projector,
 * exactly as on a running node. Header-only; each test binary includes it
 * once. Every wait is bounded (WAIT_MS). */
#ifndef EVM_TEST_JMAP_SET_NODE_H
#define EVM_TEST_JMAP_SET_NODE_H

#include "gateway/command.h"
#include "gateway/jmap/jmap_mail.h"
#include "common/buf.h"
#include "common/ids.h"
#include "ingest/evlog_backend.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 60000
#define USING "\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:mail\"]"

static struct evm_config cfg;
static struct node node;
static struct jmap_api *api;
static struct jmap_mail_req req;
static struct jmap_account accounts[2];
static struct jmap_user user;
static json_t *responses;    /* methodResponses of the last request */

/* Runs the loop until *done (aborts after WAIT_MS). */
static void loop_until(const int *done)
{
	int64_t deadline = evm_mono_ms() + WAIT_MS;
	struct timeval tick = { 0, 20000 };

	while (!*done && evm_mono_ms() < deadline) {
		event_base_loopexit(node.base, &tick);
		event_base_dispatch(node.base);
	}
	if (!*done) {
		fprintf(stderr, "timed out waiting for the loop\n");
		abort();
	}
}

struct submitted {
	int done;
	char code[64];
	json_t *outcome;
};

static void submitted_cb(void *ctx, int status, json_t *outcome, const char *error)
{
	struct submitted *w = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	if (status < 0)
		snprintf(w->code, sizeof w->code, "failed: %s", error);
	else
		snprintf(w->code, sizeof w->code, "%s", st != NULL && strcmp(st, "accepted") == 0 ? "accepted" :
			 json_string_value(json_object_get(outcome, "code")));
	w->outcome = json_deep_copy(outcome);
	w->done = 1;
}

/* Submits a mail event of account (data stolen) as IMAP would, and waits
 * for it to be applied; returns the outcome (owned by the caller). */
static json_t *imap_event(const char *account, const char *type, json_t *data)
{
	struct evm_event ev;
	struct submitted w = { 0, "", NULL };
	const char *error = NULL;

	if (evm_event_init(&ev, type, "acme", account, "imap:test", data, &error) < 0) {
		fprintf(stderr, "%s: %s\n", type, error);
		abort();
	}
	command_submit(&node, &ev, EVM_TOPIC_MAIL, account, 10000, submitted_cb, &w);
	loop_until(&w.done);
	return w.outcome;
}

/* Makes req act for address. */
static void act_as(const char *address)
{
	req.refs = 1;   /* owned here: never freed by a write */
	req.node = &node;
	snprintf(req.address, sizeof req.address, "%s", address);
	snprintf(req.tenant, sizeof req.tenant, "acme");
	jmap_account_id(address, req.account_id);
	snprintf(req.actor, sizeof req.actor, "jmap:test");
	jmap_mail_account(&req, &accounts[0]);
}

static void node_setup(const char *name)
{
	const char *error = NULL;
	char path[4096];
	struct jmap_settings s;

	evthread_use_pthreads();
	if (config_load(NULL, &cfg, &error) < 0 || config_set(&cfg, "node.data_dir", test_tmpdir(name), &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(&cfg, "log.partitions", "2", &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		exit(2);
	}
	memset(&node, 0, sizeof node);
	node.cfg = &cfg;
	node.base = event_base_new();
	snprintf(path, sizeof path, "%s/view", cfg.node_data_dir);
	if (node.base == NULL || evlog_open(&cfg, node.base, &node.log, &error) < 0 ||
	    view_open(path, &node.view, &error) < 0 ||
	    projector_create(&cfg, node.log, node.view, node.base, &node.projector, &error) < 0 ||
	    projector_start(node.projector, &error) < 0) {
		fprintf(stderr, "node: %s\n", error ? error : "event_base_new");
		exit(2);
	}
	jmap_settings_default(&s);
	api = jmap_api_new(node.base, &s);
	jmap_mail_register(api);
	act_as("bob@acme.test");
	user.username = "bob@acme.test";
	user.accounts = accounts;
	user.naccounts = 1;
}

static void node_teardown(void)
{
	json_decref(responses);
	jmap_api_free(&api);
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	event_base_free(node.base);
	config_free(&cfg);
}

struct run_result {
	int done, status;
	json_t *body;
};

static void run_done(void *arg, int status, json_t *body)
{
	struct run_result *r = arg;

	r->status = status;
	r->body = json_deep_copy(body);
	r->done = 1;
}

/* Runs a request whose methodCalls are printf(fmt, ...), with "$A" in fmt
 * replaced by the account id; returns the arguments of the first
 * response (responses holds them all), NULL when the request failed. */
__attribute__((format(printf, 1, 2))) static json_t *jcall(const char *fmt, ...)
{
	struct jmap_run_params p = { .user = &user, .session_state = "s", .request_ctx = &req };
	struct run_result r = { 0, 0, NULL };
	struct buf calls = BUF_INIT, body = BUF_INIT;
	const char *s;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&calls, fmt, ap);
	va_end(ap);
	buf_puts(&body, "{" USING ",\"methodCalls\":");
	for (s = calls.data; *s; s++) {
		if (s[0] == '$' && s[1] == 'A') {
			buf_puts(&body, req.account_id);
			s++;
		} else {
			buf_append(&body, s, 1);
		}
	}
	buf_puts(&body, "}");
	json_decref(responses);
	responses = NULL;
	jmap_api_run(api, &p, "application/json", body.data, body.len, run_done, &r);
	loop_until(&r.done);
	buf_free(&calls);
	buf_free(&body);
	if (r.status != 200) {
		char *d = json_dumps(r.body, 0);

		fprintf(stderr, "request failed: %d %s\n", r.status, d ? d : "");
		free(d);
		json_decref(r.body);
		return NULL;
	}
	responses = json_incref(json_object_get(r.body, "methodResponses"));
	json_decref(r.body);
	return json_array_get(json_array_get(responses, 0), 1);
}

/* The name and arguments of response i of the last request. */
static const char *rname(size_t i)
{
	const char *s = json_string_value(json_array_get(json_array_get(responses, i), 0));

	return s != NULL ? s : "(none)";
}

static json_t *rargs(size_t i)
{
	return json_array_get(json_array_get(responses, i), 1);
}

/* o[k] as a string, or "(none)"; path "a/b" descends objects. */
static const char *sget(json_t *o, const char *path)
{
	char key[256];
	const char *slash;

	while ((slash = strchr(path, '/')) != NULL) {
		snprintf(key, sizeof key, "%.*s", (int)(slash - path), path);
		o = json_object_get(o, key);
		path = slash + 1;
	}
	o = json_object_get(o, path);
	return json_is_string(o) ? json_string_value(o) : json_is_null(o) ? "(null)" : "(none)";
}

/* A compact dump of v (static until the next call). */
static const char *dump(json_t *v)
{
	static char out[2048];
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);

	snprintf(out, sizeof out, "%s", s ? s : "(null)");
	free(s);
	return out;
}

#endif
