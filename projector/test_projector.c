/* test_projector - the consumer loop over an in-memory log: outcomes,
 * duplicates, bad records, waiters, subscriptions, status, recovery. */
#include "projector/keys.h"
#include "projector/projector.h"
#include "projector/directory.h"
#include "projector/projector_fakelog.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"

struct env {
	struct evm_config cfg;
	struct fake_log *fl;
	struct view *view;
	struct event_base *base;
	struct projector *p;
	char dir[1024];
};

static int env_open(struct env *e, const char *name)
{
	const char *error = NULL;
	char path[1100];

	memset(e, 0, sizeof *e);
	if (config_load(NULL, &e->cfg, &error) < 0 ||
	    config_set(&e->cfg, "projector.batch_max", "7", &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		return -1;
	}
	snprintf(e->dir, sizeof e->dir, "%s", test_tmpdir(name));
	snprintf(path, sizeof path, "%s/view", e->dir);
	e->fl = fake_log_new(&e->cfg, 3);
	e->base = event_base_new();
	if (view_open(path, &e->view, &error) < 0 ||
	    projector_create(&e->cfg, &e->fl->log, e->view, e->base, &e->p, &error) < 0) {
		fprintf(stderr, "open: %s\n", error);
		return -1;
	}
	return 0;
}

static void env_close(struct env *e)
{
	projector_destroy(&e->p);
	view_close(&e->view);
	event_base_free(e->base);
	fake_log_free(&e->fl);
	config_free(&e->cfg);
}

static int start(struct env *e)
{
	const char *error = NULL;

	if (projector_start(e->p, &error) < 0) {
		fprintf(stderr, "start: %s\n", error);
		return -1;
	}
	return 0;
}

/* A field of projector_status(). */
static long long status_int(struct projector *p, const char *field)
{
	json_t *st = projector_status(p);
	long long v = json_integer_value(json_object_get(st, field));

	json_decref(st);
	return v;
}

/* Applied offset of a partition in projector_status(); -1 if absent. */
static long long status_applied(struct projector *p, const char *topic, int partition)
{
	json_t *st = projector_status(p), *pt;
	long long v = -1;
	size_t i;

	json_array_foreach(json_object_get(st, "partitions"), i, pt) {
		if (strcmp(json_string_value(json_object_get(pt, "topic")), topic) == 0 &&
		    json_integer_value(json_object_get(pt, "partition")) == partition)
			v = json_integer_value(json_object_get(pt, "applied"));
	}
	json_decref(st);
	return v;
}

/* True when every partition of the fake log is applied to its end. */
static int caught_up(struct env *e)
{
	static const enum evm_topic_id topics[] = { EVM_TOPIC_MAIL, EVM_TOPIC_DIRECTORY, EVM_TOPIC_QUEUE,
						    EVM_TOPIC_CLUSTER };

	for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
		for (int32_t i = 0; i < e->fl->nparts[topics[t]]; i++) {
			if (status_applied(e->p, evm_topics[topics[t]].suffix, i) != fake_end(e->fl, topics[t], i))
				return 0;
		}
	}
	return 1;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs the loop until pred(ctx) holds or timeout_ms pass; returns pred. */
static int run_until(struct env *e, int (*pred)(void *), void *ctx, int timeout_ms)
{
	struct event *t = event_new(e->base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 5000 };
	int64_t deadline = evm_mono_ms() + timeout_ms;
	int ok;

	event_add(t, &tv);
	while (!(ok = pred(ctx)) && evm_mono_ms() < deadline)
		event_base_loop(e->base, EVLOOP_ONCE);
	event_free(t);
	return ok;
}

static int pred_caught_up(void *ctx)
{
	return caught_up(ctx);
}

/* status and fields of an event's outcome; 0 if none. */
static int outcome(struct env *e, const char *id, char *status, char *code, long long *offset)
{
	const char *error = NULL;
	json_t *o = NULL;
	int r = projector_outcome(e->p, id, &o, &error);

	if (r != 1)
		return r;
	snprintf(status, 32, "%s", json_string_value(json_object_get(o, "status")));
	snprintf(code, 32, "%s", json_string_value(json_object_get(o, "code")) ?
		 json_string_value(json_object_get(o, "code")) : "");
	if (offset != NULL)
		*offset = json_integer_value(json_object_get(o, "offset"));
	json_decref(o);
	return 1;
}

static void push_dir(struct env *e, unsigned n, const char *type, const char *tenant, json_t *data)
{
	char id[EVM_ID_HEX_LEN + 1];

	fake_push_event(e->fl, EVM_TOPIC_DIRECTORY, 0, fake_id(n, id), type, tenant, "", data);
}

static json_t *account_data(const char *address)
{
	return json_pack("{s:s, s:s, s:i, s:s, s:s}", "address", address, "display_name", "B",
			 "quota", 0, "state", "active", "password_hash", HASH);
}

static void test_outcomes_in_order(void)
{
	struct env e;
	char st[32], code[32], id[EVM_ID_HEX_LEN + 1];
	long long off = -1;
	const char *error = NULL;
	json_t *tenant = NULL;

	CHECK(env_open(&e, "proj-order") == 0);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	push_dir(&e, 2, "domain.add", "", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	push_dir(&e, 3, "domain.add", "", json_pack("{s:s, s:s}", "domain", "x.test", "tenant", "nope"));
	push_dir(&e, 4, "account.create", "", account_data("bob@acme.test"));
	push_dir(&e, 5, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT(outcome(&e, fake_id(1, id), st, code, &off), 1);
	CHECK_EQ_STR(st, "accepted");
	CHECK_EQ_INT(off, 0);
	CHECK_EQ_INT(outcome(&e, fake_id(2, id), st, code, &off), 1);
	CHECK_EQ_STR(st, "accepted");
	CHECK_EQ_INT(outcome(&e, fake_id(3, id), st, code, &off), 1);
	CHECK_EQ_STR(st, "rejected");
	CHECK_EQ_STR(code, "not-found");
	CHECK_EQ_INT(outcome(&e, fake_id(4, id), st, code, NULL), 1);
	CHECK_EQ_STR(st, "accepted");
	/* The second create of the same tenant loses: first in the log wins. */
	CHECK_EQ_INT(outcome(&e, fake_id(5, id), st, code, &off), 1);
	CHECK_EQ_STR(st, "rejected");
	CHECK_EQ_STR(code, "exists");
	CHECK_EQ_INT(off, 4);
	CHECK_EQ_INT(outcome(&e, fake_id(99, id), st, code, NULL), 0);
	CHECK_EQ_INT(directory_tenant_get(e.view, "acme", &tenant, &error), 1);
	json_decref(tenant);
	CHECK_EQ_INT(status_int(e.p, "events_applied"), 5);
	CHECK_EQ_INT(status_int(e.p, "events_rejected"), 2);
	env_close(&e);
}

static void test_duplicate_malformed_unknown(void)
{
	struct env e;
	char st[32], code[32], id[EVM_ID_HEX_LEN + 1];
	long long off = -1;

	CHECK(env_open(&e, "proj-bad") == 0);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	fake_push(e.fl, EVM_TOPIC_DIRECTORY, 0, "not json", 8);
	fake_push(e.fl, EVM_TOPIC_DIRECTORY, 0, "{\"v\":2}", 7);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	push_dir(&e, 2, "no.such-type", "", NULL);
	fake_push_event(e.fl, EVM_TOPIC_MAIL, 1, fake_id(3, id), "tenant.create", "", "", json_pack("{s:s}", "name", "m"));
	push_dir(&e, 4, "tenant.create", "", json_pack("{s:s}", "name", "after"));
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT(status_int(e.p, "decode_errors"), 2);
	CHECK_EQ_INT(status_int(e.p, "duplicates"), 1);
	/* The duplicate did not overwrite the first outcome. */
	CHECK_EQ_INT(outcome(&e, fake_id(1, id), st, code, &off), 1);
	CHECK_EQ_INT(off, 0);
	CHECK_EQ_INT(outcome(&e, fake_id(2, id), st, code, NULL), 1);
	CHECK_EQ_STR(st, "rejected");
	CHECK_EQ_STR(code, "unknown-type");
	/* A directory type on the mail topic is rejected, not applied. */
	CHECK_EQ_INT(outcome(&e, fake_id(3, id), st, code, NULL), 1);
	CHECK_EQ_STR(st, "rejected");
	CHECK_EQ_STR(code, "invalid");
	/* Skipping went on past the bad records. */
	CHECK_EQ_INT(outcome(&e, fake_id(4, id), st, code, &off), 1);
	CHECK_EQ_STR(st, "accepted");
	CHECK_EQ_INT(off, 5);
	CHECK_EQ_INT(status_applied(e.p, "directory", 0), 6);
	CHECK_EQ_INT(status_int(e.p, "events_applied"), 4);
	CHECK_EQ_INT(status_int(e.p, "events_rejected"), 2);
	env_close(&e);
}

/* In a bulk apply (projector_seen.c skips the lookup of ids never
 * written), duplicates are still found: one in the same batch, two of
 * events committed in an earlier batch (batches of 7 records). */
static void test_duplicate_bulk(void)
{
	struct env e;
	char name[16], st[32], code[32], id[EVM_ID_HEX_LEN + 1];
	const char *error = NULL;
	long long off = -1;

	CHECK(env_open(&e, "proj-dup-bulk") == 0);
	CHECK(config_set(&e.cfg, "projector.bulk_min", "1", &error) == 0);
	for (unsigned i = 1; i <= 9; i++) {
		snprintf(name, sizeof name, "t%u", i);
		push_dir(&e, i, "tenant.create", "", json_pack("{s:s}", "name", name));
	}
	push_dir(&e, 9, "tenant.create", "", json_pack("{s:s}", "name", "again"));
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "again"));
	push_dir(&e, 5, "tenant.create", "", json_pack("{s:s}", "name", "again"));
	push_dir(&e, 10, "tenant.create", "", json_pack("{s:s}", "name", "t10"));
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT(status_int(e.p, "duplicates"), 3);
	CHECK_EQ_INT(status_int(e.p, "events_applied"), 10);
	CHECK_EQ_INT(status_int(e.p, "events_rejected"), 0);
	CHECK_EQ_INT(outcome(&e, fake_id(1, id), st, code, &off), 1);
	CHECK_EQ_INT(off, 0);
	CHECK_EQ_INT(outcome(&e, fake_id(10, id), st, code, &off), 1);
	CHECK_EQ_STR(st, "accepted");
	CHECK_EQ_INT(off, 12);
	env_close(&e);
}

struct waited {
	int calls;
	int status;
};

static void on_waited(void *ctx, int status)
{
	struct waited *w = ctx;

	w->calls++;
	w->status = status;
}

static int pred_called(void *ctx)
{
	return ((struct waited *)ctx)->calls > 0;
}

static void test_waiters(void)
{
	struct env e;
	struct waited before = { 0, 9 }, done = { 0, 9 }, late = { 0, 9 }, cancelled = { 0, 9 },
		at_stop = { 0, 9 }, after_stop = { 0, 9 };
	struct projector_waiter *w = NULL;
	int64_t t0;

	CHECK(env_open(&e, "proj-wait") == 0);
	CHECK(start(&e) == 0);
	/* Registered before the record exists; fires once it is applied. */
	projector_wait(e.p, EVM_TOPIC_DIRECTORY, 0, 1, 5000, on_waited, &before, NULL);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	CHECK(!run_until(&e, pred_called, &before, 300));
	push_dir(&e, 2, "tenant.create", "", json_pack("{s:s}", "name", "beta"));
	CHECK(run_until(&e, pred_called, &before, 5000));
	CHECK_EQ_INT(before.calls, 1);
	CHECK_EQ_INT(before.status, 0);
	/* Already applied: never inside projector_wait, on the next turn. */
	projector_wait(e.p, EVM_TOPIC_DIRECTORY, 0, 0, 5000, on_waited, &done, NULL);
	CHECK_EQ_INT(done.calls, 0);
	CHECK(run_until(&e, pred_called, &done, 1000));
	CHECK_EQ_INT(done.status, 0);
	/* Never reached: times out. */
	t0 = evm_mono_ms();
	projector_wait(e.p, EVM_TOPIC_DIRECTORY, 0, 100, 200, on_waited, &late, NULL);
	CHECK(run_until(&e, pred_called, &late, 5000));
	CHECK_EQ_INT(late.status, -1);
	CHECK(evm_mono_ms() - t0 >= 190);
	/* Cancelled: the callback never runs. */
	projector_wait(e.p, EVM_TOPIC_DIRECTORY, 0, 0, 50, on_waited, &cancelled, &w);
	projector_wait_cancel(&w);
	CHECK(w == NULL);
	CHECK(!run_until(&e, pred_called, &cancelled, 200));
	/* Stop fails the pending ones; later ones are answered too. */
	projector_wait(e.p, EVM_TOPIC_DIRECTORY, 0, 100, -1, on_waited, &at_stop, NULL);
	projector_stop(e.p);
	CHECK_EQ_INT(at_stop.calls, 1);
	CHECK_EQ_INT(at_stop.status, -1);
	projector_wait(e.p, EVM_TOPIC_DIRECTORY, 0, 100, -1, on_waited, &after_stop, NULL);
	CHECK(run_until(&e, pred_called, &after_stop, 1000));
	CHECK_EQ_INT(after_stop.status, -1);
	CHECK_EQ_INT(before.calls + done.calls + late.calls, 3);
	env_close(&e);
}

struct heard {
	int calls;
	char last[128];
	struct projector_sub *self;   /* unsubscribes itself when set */
};

static void on_change(void *ctx, const char *account)
{
	struct heard *h = ctx;

	h->calls++;
	snprintf(h->last, sizeof h->last, "%s", account);
	if (h->self != NULL)
		projector_unsubscribe(&h->self);
}

static int pred_heard(void *ctx)
{
	return ((struct heard *)ctx)->calls > 0;
}

static void test_subscriptions(void)
{
	struct env e;
	struct heard all = { 0 }, bob = { 0 }, carol = { 0 }, once = { 0 };
	struct projector_sub *s_all, *s_bob, *s_carol;

	CHECK(env_open(&e, "proj-subs") == 0);
	s_all = projector_subscribe(e.p, NULL, on_change, &all);
	s_bob = projector_subscribe(e.p, "bob@acme.test", on_change, &bob);
	s_carol = projector_subscribe(e.p, "carol@acme.test", on_change, &carol);
	once.self = projector_subscribe(e.p, NULL, on_change, &once);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	push_dir(&e, 2, "domain.add", "", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	push_dir(&e, 3, "account.create", "", account_data("bob@acme.test"));
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_heard, &bob, 5000));
	CHECK_EQ_STR(bob.last, "bob@acme.test");
	CHECK(run_until(&e, pred_heard, &all, 1000));
	CHECK_EQ_STR(all.last, "bob@acme.test");
	CHECK_EQ_INT(carol.calls, 0);
	CHECK_EQ_INT(once.calls, 1);
	CHECK(once.self == NULL);
	/* A rejected event changes nothing and notifies nobody. */
	push_dir(&e, 4, "account.create", "", account_data("bob@acme.test"));
	push_dir(&e, 5, "account.create", "", account_data("carol@acme.test"));
	CHECK(run_until(&e, pred_heard, &carol, 5000));
	CHECK_EQ_INT(bob.calls, 1);
	CHECK_EQ_INT(all.calls, 2);
	CHECK_EQ_INT(once.calls, 1);
	projector_unsubscribe(&s_bob);
	CHECK(s_bob == NULL);
	projector_unsubscribe(&s_all);
	projector_unsubscribe(&s_carol);
	env_close(&e);
}

static int pred_state(void *ctx)
{
	struct env *e = ((void **)ctx)[0];
	const char *want = ((void **)ctx)[1];
	json_t *st = projector_status(e->p);
	int ok = strcmp(json_string_value(json_object_get(st, "state")), want) == 0;

	json_decref(st);
	return ok;
}

static int pred_detail_missing(void *ctx)
{
	struct env *e = ctx;
	json_t *st = projector_status(e->p);
	int ok = strstr(json_string_value(json_object_get(st, "detail")), "evmail.mail") != NULL;

	json_decref(st);
	return ok;
}

static void test_status_and_topics(void)
{
	struct env e;
	void *ctx[2] = { &e, "waiting-for-topics" };
	json_t *st, *node;
	char id[EVM_ID_HEX_LEN + 1];

	CHECK(env_open(&e, "proj-status") == 0);
	e.fl->missing = 1;
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_detail_missing, &e, 3000));
	CHECK(pred_state(ctx));
	st = projector_status(e.p);
	CHECK(json_is_false(json_object_get(st, "ready")));
	json_decref(st);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	fake_push_event(e.fl, EVM_TOPIC_CLUSTER, 0, fake_id(2, id), "node.heartbeat", "", "",
			json_pack("{s:s, s:s}", "id", "n1", "roles", "projector,gateway"));
	fake_push(e.fl, EVM_TOPIC_CLUSTER, 0, "junk", 4);
	pthread_mutex_lock(&e.fl->mu);
	e.fl->missing = 0;
	pthread_mutex_unlock(&e.fl->mu);
	ctx[1] = "running";
	CHECK(run_until(&e, pred_state, ctx, 5000));
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	/* End offsets are refreshed every half second. */
	usleep(700 * 1000);
	st = projector_status(e.p);
	CHECK(json_is_true(json_object_get(st, "ready")));
	/* mail (3) + blob (3) + directory + queue (3) + cluster */
	CHECK_EQ_INT(json_array_size(json_object_get(st, "partitions")), 3 + 3 + 1 + 3 + 1);
	node = json_object_get(json_object_get(st, "nodes"), "n1");
	CHECK(node != NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(node, "roles")), "projector,gateway");
	CHECK_EQ_INT(json_integer_value(json_object_get(node, "ts")), 1700000000000);
	CHECK_EQ_INT(json_integer_value(json_object_get(st, "decode_errors")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(st, "events_applied")), 1);
	json_decref(st);
	env_close(&e);
}

/* A poll that fails after delivering its records drops the batch; the
 * projector re-reads from the stored offsets and applies each once. */
static void test_failed_batch_retried(void)
{
	struct env e;
	char st[32], code[32], id[EVM_ID_HEX_LEN + 1];

	CHECK(env_open(&e, "proj-retry") == 0);
	for (unsigned i = 0; i < 20; i++) {
		char name[16];
		snprintf(name, sizeof name, "t%u", i % 15);
		push_dir(&e, i, "tenant.create", "", json_pack("{s:s}", "name", name));
	}
	e.fl->fail_polls = 2;
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, &e, 10000));
	CHECK_EQ_INT(status_int(e.p, "events_applied"), 20);
	CHECK_EQ_INT(status_int(e.p, "events_rejected"), 5);
	CHECK_EQ_INT(status_int(e.p, "duplicates"), 0);
	CHECK_EQ_INT(outcome(&e, fake_id(0, id), st, code, NULL), 1);
	CHECK_EQ_STR(st, "accepted");
	CHECK_EQ_INT(outcome(&e, fake_id(19, id), st, code, NULL), 1);
	CHECK_EQ_STR(code, "exists");
	env_close(&e);
}

/* A new projector on the same view resumes at the stored offsets. */
static void test_restart_resumes(void)
{
	struct env e;
	const char *error = NULL;

	CHECK(env_open(&e, "proj-restart") == 0);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	push_dir(&e, 2, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	projector_destroy(&e.p);
	push_dir(&e, 3, "tenant.create", "", json_pack("{s:s}", "name", "beta"));
	CHECK_EQ_INT(projector_create(&e.cfg, &e.fl->log, e.view, e.base, &e.p, &error), 0);
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	/* Counters are persisted with the offsets: nothing seen twice. */
	CHECK_EQ_INT(status_int(e.p, "events_applied"), 3);
	CHECK_EQ_INT(status_int(e.p, "events_rejected"), 1);
	CHECK_EQ_INT(status_int(e.p, "duplicates"), 0);
	env_close(&e);
}

/* A rebuild of an empty log ends at once; later events still apply. */
static void test_rebuild_empty(void)
{
	struct env e;
	void *ctx[2] = { &e, "running" };
	const char *error = NULL;
	char st[32], code[32], id[EVM_ID_HEX_LEN + 1];

	CHECK(env_open(&e, "proj-rebuild-empty") == 0);
	CHECK_EQ_INT(projector_rebuild(e.p, &error), -1);
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_state, ctx, 3000));
	CHECK_EQ_INT(projector_rebuild(e.p, &error), 0);
	usleep(300 * 1000);
	CHECK(run_until(&e, pred_state, ctx, 3000));
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT(outcome(&e, fake_id(1, id), st, code, NULL), 1);
	CHECK_EQ_STR(st, "accepted");
	env_close(&e);
}

/* The rebuilds completed, from projector_status(). */
static long long rebuilds(struct projector *p)
{
	json_t *st = projector_status(p);
	long long v = json_integer_value(json_object_get(json_object_get(st, "rebuild"), "completed"));

	json_decref(st);
	return v;
}

static int has_key(struct view *v, const char *key)
{
	char *val = NULL;
	const char *error = NULL;
	int r = view_get(v, key, strlen(key), &val, NULL, &error);

	free(val);
	return r;
}

static void put_key(struct view *v, const char *key, const char *val, int del)
{
	struct view_batch *b = view_batch_begin(v);
	const char *error = NULL;

	if (del)
		view_batch_delete(b, key, strlen(key));
	else
		view_batch_put(b, key, strlen(key), val, strlen(val));
	CHECK(view_batch_commit(&b, &error) == 0);
}

static void restart(struct env *e)
{
	const char *error = NULL;

	projector_destroy(&e->p);
	CHECK_EQ_INT(projector_create(&e->cfg, &e->fl->log, e->view, e->base, &e->p, &error), 0);
	CHECK(start(e) == 0);
}

/* A view of the current format is used as it is; one without the format
 * number (built before it existed) is rebuilt from the log at start. */
static void test_view_format(void)
{
	struct env e;
	void *ctx[2] = { &e, "running" };
	const char *error = NULL;

	CHECK(env_open(&e, "proj-format") == 0);
	push_dir(&e, 1, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	push_dir(&e, 2, "tenant.create", "", json_pack("{s:s}", "name", "beta"));
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT(has_key(e.view, KEY_VIEW_FORMAT), 1);
	/* Same format: no rebuild, a key the log never wrote survives. */
	put_key(e.view, "stat/test.marker", "1", 0);
	restart(&e);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT((int)rebuilds(e.p), 0);
	CHECK_EQ_INT(has_key(e.view, "stat/test.marker"), 1);
	/* No format number (an older build's view): rebuilt from the log. */
	put_key(e.view, KEY_VIEW_FORMAT, NULL, 1);
	restart(&e);
	CHECK(run_until(&e, pred_state, ctx, 5000));
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT((int)rebuilds(e.p), 1);
	CHECK_EQ_INT(has_key(e.view, "stat/test.marker"), 0);
	CHECK_EQ_INT(has_key(e.view, KEY_VIEW_FORMAT), 1);
	CHECK_EQ_INT(status_int(e.p, "events_applied"), 2);
	/* Another mail.tombstone_days (an input of the appliers): rebuilt. */
	put_key(e.view, "stat/test.marker", "1", 0);
	CHECK_EQ_INT(config_set(&e.cfg, "mail.tombstone_days", "7", &error), 0);
	restart(&e);
	CHECK(run_until(&e, pred_state, ctx, 5000));
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT(has_key(e.view, "stat/test.marker"), 0);
	CHECK_EQ_INT(has_key(e.view, KEY_VIEW_HORIZON), 1);
	/* The same again: kept. */
	put_key(e.view, "stat/test.marker", "1", 0);
	restart(&e);
	CHECK(run_until(&e, pred_caught_up, &e, 5000));
	CHECK_EQ_INT(has_key(e.view, "stat/test.marker"), 1);
	env_close(&e);
}

struct ryw {
	struct projector *p;
	char id[EVM_ID_HEX_LEN + 1];
	int logged, applied;
	int64_t offset;
	char status[32];
};

static void ryw_applied(void *ctx, int status)
{
	struct ryw *r = ctx;
	const char *error = NULL;
	json_t *o = NULL;

	r->applied = status == 0 ? 1 : -1;
	if (status == 0 && projector_outcome(r->p, r->id, &o, &error) == 1) {
		snprintf(r->status, sizeof r->status, "%s", json_string_value(json_object_get(o, "status")));
		json_decref(o);
	}
}

static void ryw_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct ryw *r = ctx;

	r->logged = status == 0 ? 1 : -1;
	r->offset = offset;
	if (status == 0)
		projector_wait(r->p, EVM_TOPIC_DIRECTORY, partition, offset, 5000, ryw_applied, r, NULL);
}

static int pred_ryw(void *ctx)
{
	return ((struct ryw *)ctx)->applied != 0;
}

/* The gateway's write path over the real embedded log: append, wait for
 * the projector to apply that offset, read the outcome. */
static void test_read_your_writes_embedded(void)
{
	struct evm_config cfg;
	struct event_base *base = event_base_new();
	struct evlog *log = NULL;
	struct view *view = NULL;
	struct projector *p = NULL;
	const char *error = NULL, *dir = test_tmpdir("proj-embedded");
	char path[1100];
	struct ryw r[2];

	memset(r, 0, sizeof r);
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK_EQ_INT(config_set(&cfg, "node.data_dir", dir, &error), 0);
	CHECK_EQ_INT(config_set(&cfg, "log.backend", "embedded", &error), 0);
	snprintf(path, sizeof path, "%s/view", dir);
	CHECK_EQ_INT(evlog_open(&cfg, base, &log, &error), 0);
	CHECK_EQ_INT(view_open(path, &view, &error), 0);
	CHECK_EQ_INT(projector_create(&cfg, log, view, base, &p, &error), 0);
	CHECK_EQ_INT(projector_start(p, &error), 0);
	for (int i = 0; i < 2; i++) {
		struct evm_event ev;
		char *out = NULL;
		size_t len = 0;
		r[i].p = p;
		CHECK_EQ_INT(evm_event_init(&ev, "tenant.create", "", "", "admin",
					    json_pack("{s:s}", "name", "acme"), &error), 0);
		snprintf(r[i].id, sizeof r[i].id, "%s", ev.id);
		CHECK_EQ_INT(evm_event_encode(&ev, &out, &len, &error), 0);
		CHECK_EQ_INT(evlog_append(log, EVM_TOPIC_DIRECTORY, -1, ev.id, strlen(ev.id), out, len,
					  ryw_logged, &r[i], &error), 0);
		free(out);
		evm_event_clear(&ev);
	}
	{
		struct env e = { .base = base };
		CHECK(run_until(&e, pred_ryw, &r[0], 10000));
		CHECK(run_until(&e, pred_ryw, &r[1], 10000));
	}
	CHECK_EQ_INT(r[0].applied, 1);
	CHECK_EQ_INT(r[1].applied, 1);
	CHECK_EQ_INT(r[1].offset, r[0].offset + 1);
	CHECK_EQ_STR(r[0].status, "accepted");
	CHECK_EQ_STR(r[1].status, "rejected");
	projector_destroy(&p);
	evlog_close(&log);
	view_close(&view);
	event_base_free(base);
	config_free(&cfg);
}

int main(void)
{
	evthread_use_pthreads();
	log_set_level(LOG_ERROR);
	test_run("events applied in order, outcomes stored", test_outcomes_in_order);
	test_run("duplicates, undecodable and unknown records", test_duplicate_malformed_unknown);
	test_run("duplicates in a bulk apply", test_duplicate_bulk);
	test_run("waiters fire after apply, time out, cancel, stop", test_waiters);
	test_run("subscriptions told of changed accounts", test_subscriptions);
	test_run("status: waiting for topics, ready, nodes", test_status_and_topics);
	test_run("a failed batch is retried from stored offsets", test_failed_batch_retried);
	test_run("restart resumes at the stored offsets", test_restart_resumes);
	test_run("rebuild of an empty log", test_rebuild_empty);
	test_run("the view format: kept when current, rebuilt when older", test_view_format);
	test_run("read-your-writes over the embedded log", test_read_your_writes_embedded);
	return test_done();
}
