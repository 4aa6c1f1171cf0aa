/* test_projector_sealed - the projector over sealed events (keyring.h):
 * a mail record met before the directory record holding its key is
 * applied after a directory catch-up, with the same digest as the other
 * order; erased keys give {"erased": true}, also in a replay after
 * compaction removed the key records; a tampered event is rejected; a
 * node without a master key stops rather than skip content. */
#include "projector/keys.h"
#include "projector/keyring.h"
#include "projector/projector.h"
#include "projector/projector_fakelog.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"
#define KEK "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define ACCT "a@acme.test"

/* One record, encoded once so every log gets the same bytes. */
struct rec {
	enum evm_topic_id topic;
	char id[EVM_ID_HEX_LEN + 1];
	char *bytes;
	size_t len;
};

enum { D_TENANT, D_DOMAIN, D_ACCOUNT, D_KEY, D_ERASE, M_FIRST, M_LATE, M_TAMPERED, NRECS };

static struct rec recs[NRECS];
static char kek_path[1100];

struct env {
	struct evm_config cfg;
	struct fake_log *fl;
	struct view *view;
	struct event_base *base;
	struct projector *p;
};

static struct keyring *new_ring(void)
{
	struct evm_config cfg;
	struct keyring *kr = NULL;
	const char *error = NULL;

	if (config_load(NULL, &cfg, &error) < 0 ||
	    config_set(&cfg, "crypto.master_key_file", kek_path, &error) < 0 ||
	    keyring_open(&cfg, &kr, &error) < 0)
		abort();
	config_free(&cfg);
	return kr;
}

/* with_key: the projector gets a keyring. */
static int env_open(struct env *e, const char *name, int with_key)
{
	const char *error = NULL;
	char path[1100];

	memset(e, 0, sizeof *e);
	if (config_load(NULL, &e->cfg, &error) < 0 ||
	    config_set(&e->cfg, "projector.batch_max", "7", &error) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/view", test_tmpdir(name));
	e->fl = fake_log_new(&e->cfg, 3);
	e->base = event_base_new();
	if (view_open(path, &e->view, &error) < 0 ||
	    projector_create(&e->cfg, &e->fl->log, e->view, e->base, &e->p, &error) < 0)
		return -1;
	if (with_key)
		projector_set_keyring(e->p, new_ring());
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

static void push(struct env *e, int i)
{
	fake_push(e->fl, recs[i].topic, 0, recs[i].bytes, recs[i].len);
}

/* A compaction's tombstone of record i (a null value). */
static void push_tombstone(struct env *e, int i)
{
	fake_push(e->fl, recs[i].topic, 0, "", 0);
}

static json_t *status_field(struct projector *p, const char *field)
{
	json_t *st = projector_status(p), *v = json_incref(json_object_get(st, field));

	json_decref(st);
	return v;
}

static long long status_int(struct projector *p, const char *field)
{
	json_t *v = status_field(p, field);
	long long n = json_integer_value(v);

	json_decref(v);
	return n;
}

/* Every mail and directory partition applied to its end. */
static int pred_caught_up(void *arg)
{
	struct env *e = arg;
	json_t *st = projector_status(e->p), *pt;
	int ok = json_array_size(json_object_get(st, "partitions")) > 0;
	size_t i;

	json_array_foreach(json_object_get(st, "partitions"), i, pt) {
		const char *topic = json_string_value(json_object_get(pt, "topic"));
		int part = (int)json_integer_value(json_object_get(pt, "partition"));
		enum evm_topic_id t = strcmp(topic, "mail") == 0 ? EVM_TOPIC_MAIL : EVM_TOPIC_DIRECTORY;
		if ((strcmp(topic, "mail") == 0 || strcmp(topic, "directory") == 0) &&
		    json_integer_value(json_object_get(pt, "applied")) != fake_end(e->fl, t, part))
			ok = 0;
	}
	json_decref(st);
	return ok;
}

static int pred_failed(void *arg)
{
	struct env *e = arg;
	json_t *v = status_field(e->p, "state");
	int ok = strcmp(json_string_value(v), "failed") == 0;

	json_decref(v);
	return ok;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
}

/* Runs base's loop until pred(arg) holds or timeout_ms pass; returns pred. */
static int loop_until(struct event_base *base, int (*pred)(void *), void *arg, int timeout_ms)
{
	struct event *t = event_new(base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 5000 };
	int64_t deadline = evm_mono_ms() + timeout_ms;
	int ok;

	event_add(t, &tv);
	while (!(ok = pred(arg)) && evm_mono_ms() < deadline)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	return ok;
}

static int run_until(struct env *e, int (*pred)(void *), int timeout_ms)
{
	return loop_until(e->base, pred, e, timeout_ms);
}

static int start(struct env *e)
{
	const char *error = NULL;

	return projector_start(e->p, &error);
}

/* The outcome of record i (new reference), NULL when not applied. */
static json_t *outcome(struct env *e, int i)
{
	const char *error = NULL;
	json_t *o = NULL;

	return projector_outcome(e->p, recs[i].id, &o, &error) == 1 ? o : NULL;
}

/* 1 when the outcome of record i has status st (and, when erased, says so). */
static int outcome_is(struct env *e, int i, const char *st, int erased)
{
	json_t *o = outcome(e, i);
	int ok = o != NULL && strcmp(json_string_value(json_object_get(o, "status")), st) == 0 &&
		 json_is_true(json_object_get(o, "erased")) == erased;

	if (!ok && getenv("DEBUG_OUTCOME")) {
		char *s = o ? json_dumps(o, 0) : NULL;
		fprintf(stderr, "outcome %d: %s\n", i, s ? s : "(none)");
		free(s);
	}

	json_decref(o);
	return ok;
}

static void digest(struct env *e, char out[65])
{
	const char *error = NULL;
	uint64_t keys;

	if (view_digest(e->view, out, &keys, &error) < 0)
		abort();
}

/* Encodes record i: an event with a fixed id and time, sealed with the
 * key in scratch when seal says so. */
static void make(struct keyring *kr, struct view *scratch, int i, enum evm_topic_id topic,
		 const char *type, const char *tenant, const char *account, json_t *data, int seal)
{
	struct evm_event ev;
	const char *error = NULL;

	if (evm_event_init(&ev, type, tenant, account, "admin", data, &error) < 0)
		abort();
	fake_id(0x100 + (unsigned long long)i, ev.id);
	ev.ts = 1700000000000;
	if (seal && keyring_seal_event(kr, scratch, &ev, &error) != 1) {
		fprintf(stderr, "seal: %s\n", error);
		abort();
	}
	if (i == M_TAMPERED) {
		json_t *sealed = json_object_get(ev.data, "sealed");
		char *ct = xstrdup(json_string_value(json_object_get(sealed, "ct")));
		ct[20] = ct[20] == 'A' ? 'B' : 'A';
		json_object_set_new(sealed, "ct", json_string(ct));
		free(ct);
	}
	recs[i].topic = topic;
	snprintf(recs[i].id, sizeof recs[i].id, "%s", ev.id);
	if (evm_event_encode(&ev, &recs[i].bytes, &recs[i].len, &error) < 0)
		abort();
	evm_event_clear(&ev);
}

/* The records of every test, and the key (in a scratch view, as the
 * writer's view would hold it) their mail events are sealed with. */
static int make_records(void)
{
	struct keyring *kr;
	struct view *scratch = NULL;
	struct view_batch *b;
	const char *error = NULL;
	json_t *key = NULL, *rec;
	char path[1100], k[64], *val;
	const char *kid;
	int fd;

	snprintf(kek_path, sizeof kek_path, "%s/kek", test_tmpdir("sealed-kek"));
	fd = open(kek_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, KEK, strlen(KEK)) != (ssize_t)strlen(KEK))
		return -1;
	close(fd);
	kr = new_ring();
	snprintf(path, sizeof path, "%s/scratch", test_tmpdir("sealed-scratch"));
	if (view_open(path, &scratch, &error) < 0 || keyring_new_key(kr, ACCT, &key, &error) < 0)
		return -1;
	kid = json_string_value(json_object_get(key, "kid"));
	rec = json_pack("{s:s, s:O, s:O, s:s}", "account", ACCT, "kek", json_object_get(key, "kek"),
			"wrapped", json_object_get(key, "wrapped"), "event", "x");
	val = json_dumps(rec, JSON_COMPACT);
	b = view_batch_begin(scratch);
	snprintf(k, sizeof k, "akey/%s", kid);
	view_batch_put(b, k, strlen(k), val, strlen(val));
	view_batch_put(b, "akeycur/" ACCT, strlen("akeycur/" ACCT), kid, strlen(kid));
	if (view_batch_commit(&b, &error) < 0)
		return -1;
	free(val);
	json_decref(rec);
	make(kr, scratch, D_TENANT, EVM_TOPIC_DIRECTORY, "tenant.create", "", "", json_pack("{s:s}", "name", "acme"), 0);
	make(kr, scratch, D_DOMAIN, EVM_TOPIC_DIRECTORY, "domain.add", "", "",
	     json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"), 0);
	make(kr, scratch, D_ACCOUNT, EVM_TOPIC_DIRECTORY, "account.create", "", "",
	     json_pack("{s:s, s:s, s:i, s:s, s:s}", "address", ACCT, "display_name", "A", "quota", 0,
		       "state", "active", "password_hash", HASH), 0);
	make(kr, scratch, D_KEY, EVM_TOPIC_DIRECTORY, "account.key", "", "", key, 0);
	make(kr, scratch, D_ERASE, EVM_TOPIC_DIRECTORY, "account.erase", "", "", json_pack("{s:s}", "address", ACCT), 0);
	make(kr, scratch, M_FIRST, EVM_TOPIC_MAIL, "mailbox.create", "acme", ACCT,
	     json_pack("{s:s, s:s, s:s}", "mailbox_id", "00112233445566778899aabbccddeeff",
		       "name", "Secret Projects", "special_use", ""), 1);
	make(kr, scratch, M_LATE, EVM_TOPIC_MAIL, "mailbox.create", "acme", ACCT,
	     json_pack("{s:s, s:s, s:s}", "mailbox_id", "ffeeddccbbaa99887766554433221100",
		       "name", "Written late", "special_use", ""), 1);
	make(kr, scratch, M_TAMPERED, EVM_TOPIC_MAIL, "mailbox.create", "acme", ACCT,
	     json_pack("{s:s, s:s, s:s}", "mailbox_id", "0000000000000000ffffffffffffffff",
		       "name", "Tampered", "special_use", ""), 1);
	view_close(&scratch);
	keyring_close(&kr);
	return 0;
}

/* Scan callback: counts keys whose value contains the text. */
static int find_text(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	void **a = ctx;

	if (memmem(val, vlen, a[0], strlen(a[0])) != NULL)
		(*(int *)a[1])++;
	return 0;
}

static int view_holds(struct env *e, const char *text)
{
	const char *error = NULL;
	int n = 0;
	void *a[2] = { (void *)text, &n };

	if (view_scan(e->view, "", 0, find_text, a, &error) < 0)
		abort();
	return n;
}

/* The mail record first (the directory behind): caught up inside the
 * batch; then the other order; equal digests. */
static void test_mail_before_key(void)
{
	struct env a, b;
	char da[65], db[65];

	CHECK(env_open(&a, "sealed-order-a", 1) == 0);
	push(&a, M_FIRST);
	for (int i = D_TENANT; i <= D_KEY; i++)
		push(&a, i);
	CHECK(start(&a) == 0);
	CHECK(run_until(&a, pred_caught_up, 5000));
	CHECK(outcome_is(&a, M_FIRST, "accepted", 0));
	CHECK(outcome_is(&a, D_KEY, "accepted", 0));
	CHECK_EQ_INT(status_int(a.p, "directory_catchups"), 1);
	CHECK(view_holds(&a, "Secret Projects") > 0);
	CHECK_EQ_INT(status_int(a.p, "events_rejected"), 0);

	CHECK(env_open(&b, "sealed-order-b", 1) == 0);
	for (int i = D_TENANT; i <= D_KEY; i++)
		push(&b, i);
	CHECK(start(&b) == 0);
	CHECK(run_until(&b, pred_caught_up, 5000));
	push(&b, M_FIRST);
	CHECK(run_until(&b, pred_caught_up, 5000));
	CHECK(outcome_is(&b, M_FIRST, "accepted", 0));
	CHECK_EQ_INT(status_int(b.p, "directory_catchups"), 0);

	digest(&a, da);
	digest(&b, db);
	CHECK_EQ_STR(da, db);
	env_close(&a);
	env_close(&b);
}

/* After account.erase the key's events are {"erased": true}; a tampered
 * one is rejected; a replay of the log as compaction leaves it (no
 * account.key record) takes the events as erased instead of stalling. */
static void test_erase_and_replay(void)
{
	struct env e, r;

	CHECK(env_open(&e, "sealed-erase", 1) == 0);
	for (int i = D_TENANT; i <= D_KEY; i++)
		push(&e, i);
	push(&e, M_FIRST);
	push(&e, M_TAMPERED);
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_caught_up, 5000));
	CHECK(outcome_is(&e, M_FIRST, "accepted", 0));
	CHECK(outcome_is(&e, M_TAMPERED, "rejected", 0));
	push(&e, D_ERASE);
	push_tombstone(&e, D_KEY);   /* what the writer appends after the erase */
	CHECK(run_until(&e, pred_caught_up, 5000));
	CHECK(outcome_is(&e, D_ERASE, "accepted", 0));
	push(&e, M_LATE);
	CHECK(run_until(&e, pred_caught_up, 5000));
	CHECK(outcome_is(&e, M_LATE, "accepted", 1));
	CHECK_EQ_INT(view_holds(&e, "Written late"), 0);
	CHECK_EQ_INT(status_int(e.p, "decode_errors"), 0);
	env_close(&e);

	/* Compaction kept the erase and dropped the key record: mail read
	 * first, the directory caught up, the account erased. */
	CHECK(env_open(&r, "sealed-replay", 1) == 0);
	push(&r, M_FIRST);
	push(&r, M_LATE);
	push(&r, D_TENANT);
	push(&r, D_DOMAIN);
	push(&r, D_ACCOUNT);
	push(&r, D_ERASE);
	CHECK(start(&r) == 0);
	CHECK(run_until(&r, pred_caught_up, 5000));
	CHECK(outcome_is(&r, M_FIRST, "accepted", 1));
	CHECK(outcome_is(&r, M_LATE, "accepted", 1));
	CHECK_EQ_INT(view_holds(&r, "Secret"), 0);
	/* One catch-up decided both: it covered every record in the log. */
	CHECK_EQ_INT(status_int(r.p, "directory_catchups"), 1);
	env_close(&r);
}

/* A key that never was, for an account never erased: the batch fails (and
 * is retried) rather than skip the event. */
static void test_missing_key_fails(void)
{
	struct env e;
	json_t *detail;

	CHECK(env_open(&e, "sealed-missing", 1) == 0);
	for (int i = D_TENANT; i <= D_ACCOUNT; i++)
		push(&e, i);
	push(&e, M_FIRST);
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_failed, 5000));
	detail = status_field(e.p, "detail");
	CHECK(strstr(json_string_value(detail), "caught up to its end") != NULL);
	json_decref(detail);
	CHECK(outcome(&e, M_FIRST) == NULL);
	/* The key arrives: the retry applies the event. */
	push(&e, D_KEY);
	CHECK(run_until(&e, pred_caught_up, 5000));
	CHECK(outcome_is(&e, M_FIRST, "accepted", 0));
	env_close(&e);
}

/* No master key: a sealed event stops the projector. */
static void test_no_keyring(void)
{
	struct env e;
	json_t *detail;

	CHECK(env_open(&e, "sealed-nokey", 0) == 0);
	for (int i = D_TENANT; i <= D_KEY; i++)
		push(&e, i);
	push(&e, M_FIRST);
	CHECK(start(&e) == 0);
	CHECK(run_until(&e, pred_failed, 5000));
	detail = status_field(e.p, "detail");
	CHECK(strstr(json_string_value(detail), "sealed events need crypto.master_key_file") != NULL);
	json_decref(detail);
	CHECK(outcome(&e, M_FIRST) == NULL);
	env_close(&e);
}

static void on_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	if (status == 0)
		(*(int *)ctx)++;
}

static int pred_logged(void *arg)
{
	return *(int *)arg == 5;
}

static int pred_first_applied(void *arg)
{
	json_t *o = outcome(arg, M_FIRST);

	json_decref(o);
	return o != NULL;
}

/* The same catch-up over a real backend: the embedded log (its mail
 * partitions come first in a poll, so the catch-up is certain and counted)
 * and Kafka (librdkafka's mock cluster; the order of a poll is the
 * broker's, so only the outcome is checked). */
static void real_log(const char *backend, rd_kafka_mock_cluster_t *mock)
{
	const char *brokers = mock != NULL ? rd_kafka_mock_cluster_bootstraps(mock) : NULL;
	struct env e;
	const char *error = NULL, *dir = test_tmpdir(backend);
	static const int order[] = { M_FIRST, D_TENANT, D_DOMAIN, D_ACCOUNT, D_KEY };
	struct evlog *log = NULL;
	char path[1100], prefix[64];
	int logged = 0;

	memset(&e, 0, sizeof e);
	snprintf(prefix, sizeof prefix, "sealed.%s.", backend);
	CHECK_EQ_INT(config_load(NULL, &e.cfg, &error), 0);
	CHECK_EQ_INT(config_set(&e.cfg, "node.data_dir", dir, &error), 0);
	CHECK_EQ_INT(config_set(&e.cfg, "log.backend", backend, &error), 0);
	CHECK_EQ_INT(config_set(&e.cfg, "log.partitions", "2", &error), 0);
	CHECK_EQ_INT(config_set(&e.cfg, "log.topic_prefix", prefix, &error), 0);
	if (brokers != NULL) {
		CHECK_EQ_INT(config_set(&e.cfg, "log.brokers", brokers, &error), 0);
		CHECK_EQ_INT(config_set(&e.cfg, "log.replication_factor", "1", &error), 0);
		CHECK_EQ_INT(config_set(&e.cfg, "log.min_insync_replicas", "1", &error), 0);
	}
	e.base = event_base_new();
	snprintf(path, sizeof path, "%s/view", dir);
	for (int t = 0; mock != NULL && t < EVM_TOPIC_COUNT; t++)
		rd_kafka_mock_topic_create(mock, config_topic(&e.cfg, evm_topics[t].suffix),
					   evm_topic_create_partitions(&e.cfg, t), 1);
	CHECK_EQ_INT(evlog_open(&e.cfg, e.base, &log, &error), 0);
	if (mock != NULL)
		CHECK_EQ_INT(evlog_refresh_topics(log, 10000, &error), 1);
	CHECK_EQ_INT(view_open(path, &e.view, &error), 0);
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
		const struct rec *r = &recs[order[i]];
		CHECK_EQ_INT(evlog_append(log, r->topic, 0, r->id, strlen(r->id), r->bytes, r->len, on_logged,
					  &logged, &error), 0);
	}
	CHECK(loop_until(e.base, pred_logged, &logged, 10000));
	CHECK_EQ_INT(projector_create(&e.cfg, log, e.view, e.base, &e.p, &error), 0);
	projector_set_keyring(e.p, new_ring());
	CHECK_EQ_INT(projector_start(e.p, &error), 0);
	CHECK(run_until(&e, pred_first_applied, 20000));
	CHECK(outcome_is(&e, M_FIRST, "accepted", 0));
	CHECK(outcome_is(&e, D_KEY, "accepted", 0));
	if (brokers == NULL)
		CHECK_EQ_INT(status_int(e.p, "directory_catchups"), 1);
	else
		fprintf(stderr, "kafka (mock): %lld directory catch-up(s)\n", status_int(e.p, "directory_catchups"));
	projector_destroy(&e.p);
	evlog_close(&log);
	view_close(&e.view);
	event_base_free(e.base);
	config_free(&e.cfg);
}

static void test_embedded_log(void)
{
	real_log("embedded", NULL);
}

static void test_kafka_mock(void)
{
	rd_kafka_conf_t *conf = rd_kafka_conf_new();
	rd_kafka_mock_cluster_t *mock;
	char errstr[256];
	rd_kafka_t *rk;

	rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
	rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
	CHECK(rk != NULL);
	mock = rd_kafka_mock_cluster_new(rk, 1);
	CHECK(mock != NULL);
	real_log("kafka", mock);
	rd_kafka_mock_cluster_destroy(mock);
	rd_kafka_destroy(rk);
}

int main(void)
{
	evthread_use_pthreads();
	log_set_level(LOG_ERROR);
	(void)fake_push_event;   /* the fake log's helper for plain events; these are built by make() */
	if (make_records() < 0) {
		fprintf(stderr, "cannot make the records\n");
		return 1;
	}
	test_run("mail before its key: caught up, same digest", test_mail_before_key);
	test_run("erased keys, tampering, replay after compaction", test_erase_and_replay);
	test_run("a key that never was fails the batch", test_missing_key_fails);
	test_run("no master key: a sealed event stops the projector", test_no_keyring);
	test_run("the catch-up over the embedded log", test_embedded_log);
	test_run("the catch-up over Kafka (mock cluster)", test_kafka_mock);
	for (int i = 0; i < NRECS; i++)
		free(recs[i].bytes);
	return test_done();
}
