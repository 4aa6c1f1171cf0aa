/* test_deliver - deliver_message end to end in one process: a node with
 * the embedded log, a real view and the projector; the directory is
 * created through command_submit, messages are delivered and read back
 * through the mail store's read API, byte for byte. */
#include "gateway/command.h"
#include "gateway/deliver.h"
#include "common/ids.h"
#include "ingest/evlog_backend.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <stdlib.h>
#include <unistd.h>

#define HASH "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"
#define WAIT_MS 60000

static struct evm_config cfg;
static struct node node;

/* --- running the loop until something happened --- */

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

/* --- directory commands --- */

struct cmd_wait {
	int done;
	char code[64];
};

static void cmd_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct cmd_wait *w = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));
	const char *code = json_string_value(json_object_get(outcome, "code"));

	if (status < 0)
		snprintf(w->code, sizeof w->code, "failed: %s", error);
	else if (st != NULL && strcmp(st, "accepted") == 0)
		snprintf(w->code, sizeof w->code, "accepted");
	else
		snprintf(w->code, sizeof w->code, "%s", code ? code : "rejected");
	w->done = 1;
}

/* Submits an event and waits for its outcome; data is stolen. */
static void submit(enum evm_topic_id topic, const char *account, const char *type, json_t *data)
{
	struct evm_event ev;
	struct cmd_wait w = { 0, "" };
	const char *error = NULL;

	if (evm_event_init(&ev, type, "", account, "admin", data, &error) < 0) {
		fprintf(stderr, "%s: %s\n", type, error);
		abort();
	}
	command_submit(&node, &ev, topic, account[0] ? account : NULL, 10000, cmd_done, &w);
	loop_until(&w.done);
	if (strcmp(w.code, "accepted") != 0) {
		fprintf(stderr, "%s: %s\n", type, w.code);
		abort();
	}
}

static void directory(const char *type, json_t *data)
{
	submit(EVM_TOPIC_DIRECTORY, "", type, data);
}

/* As the admin API does: the account, then its mail partition learns the
 * quota (mail.h: mail appliers never read the directory). */
static void account(const char *address, int64_t quota)
{
	directory("account.create", json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address,
					      "display_name", "X", "quota", (json_int_t)quota,
					      "state", "active", "password_hash", HASH));
	submit(EVM_TOPIC_MAIL, address, "mailbox.provision", json_pack("{s:I}", "quota", (json_int_t)quota));
}

static void setup(void)
{
	const char *error = NULL;
	char path[4096];

	evthread_use_pthreads();
	if (config_load(NULL, &cfg, &error) < 0 ||
	    config_set(&cfg, "node.data_dir", test_tmpdir("deliver-node"), &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(&cfg, "log.partitions", "4", &error) < 0) {
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
	directory("tenant.create", json_pack("{s:s}", "name", "acme"));
	directory("domain.add", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	account("amy@acme.test", 0);
	account("bob@acme.test", 0);
	account("cat@acme.test", 0);
	account("tiny@acme.test", 2000);
}

static void teardown(void)
{
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	event_base_free(node.base);
	config_free(&cfg);
}

/* --- delivering --- */

struct delivered {
	int done;
	int calls;
	int inside;                     /* set while deliver_message runs */
	int called_inside;
	size_t n;
	struct deliver_result r[8];
};

static void on_delivered(void *ctx, const struct deliver_result *results, size_t n)
{
	struct delivered *d = ctx;

	d->calls++;
	d->called_inside |= d->inside;
	d->n = n;
	for (size_t i = 0; i < n && i < 8; i++)
		d->r[i] = results[i];
	d->done = 1;
}

static void target(struct deliver_target *t, const char *account, const char *rcpt)
{
	memset(t, 0, sizeof *t);
	snprintf(t->account, sizeof t->account, "%s", account);
	snprintf(t->tenant, sizeof t->tenant, "acme");
	snprintf(t->rcpt, sizeof t->rcpt, "%s", rcpt);
}

/* Delivers data to the targets and waits for the one callback. The
 * request lives on the heap and is freed right after the call (deliver
 * must have copied what it needs). */
static void deliver(const char *from, const char *data, size_t len,
		    const struct deliver_target *targets, size_t n, json_t *dsn, struct delivered *d)
{
	struct deliver_request *req = calloc(1, sizeof *req);
	struct deliver_target *copy = calloc(n ? n : 1, sizeof *copy);
	char *received = strdup("Received: from client.test (client.test [127.0.0.1])\r\n"
				"\tby mx.acme.test with ESMTP id T1; Sun, 29 Nov 2026 10:00:00 +0000\r\n");
	char *body = malloc(len ? len : 1);

	memcpy(copy, targets, n * sizeof *copy);
	memcpy(body, data, len);
	req->actor = "smtp";
	req->mail_from = from;
	req->received = received;
	req->data = body;
	req->len = len;
	req->targets = copy;
	req->ntargets = n;
	req->dsn = dsn;
	memset(d, 0, sizeof *d);
	d->inside = 1;
	deliver_message(&node, req, on_delivered, d);
	d->inside = 0;
	memset(body, 'X', len);
	memset(copy, 0, n * sizeof *copy);
	free(body);
	free(copy);
	free(received);
	free(req);
	json_decref(dsn);
	loop_until(&d->done);
}

/* The blob as deliver stores it. */
static char *expected_blob(const char *from, const char *data, size_t len, size_t *len_r)
{
	static const char received[] =
		"Received: from client.test (client.test [127.0.0.1])\r\n"
		"\tby mx.acme.test with ESMTP id T1; Sun, 29 Nov 2026 10:00:00 +0000\r\n";
	size_t hlen = strlen("Return-Path: <>\r\n") + strlen(from) + strlen(received);
	char *b = malloc(hlen + len + 1);

	snprintf(b, hlen + 1, "Return-Path: <%s>\r\n%s", from, received);
	memcpy(b + hlen, data, len);
	*len_r = hlen + len;
	return b;
}

/* The newest message in account's INBOX; NULL when there is none. */
static json_t *last_message(const char *account, char mailbox_id[64])
{
	json_t *mb = NULL, *list = NULL, *msg;
	const char *error = NULL;

	if (mail_mailbox_by_name(node.view, account, "INBOX", &mb, &error) != 1)
		return NULL;
	snprintf(mailbox_id, 64, "%s", json_string_value(json_object_get(mb, "id")));
	json_decref(mb);
	if (mail_messages(node.view, account, mailbox_id, 0, &list, &error) < 0 ||
	    json_array_size(list) == 0) {
		json_decref(list);
		return NULL;
	}
	msg = json_incref(json_array_get(list, json_array_size(list) - 1));
	json_decref(list);
	return msg;
}

/* The body of a message; waits for the blob's chunks to be applied (the
 * blob topic is projected independently of the mail topic). */
static int read_body(const char *account, const char *mailbox_id, uint32_t uid, char **data_r,
		     size_t *len_r)
{
	const char *error = NULL;
	int64_t deadline = evm_mono_ms() + WAIT_MS;
	int r;

	while ((r = mail_message_body(node.view, account, mailbox_id, uid, data_r, len_r, &error)) == 0 &&
	       evm_mono_ms() < deadline)
		usleep(10000);
	if (r < 0)
		fprintf(stderr, "mail_message_body: %s\n", error);
	return r;
}

/* account's newest message is prefix + blob, byte for byte; its blob id is
 * returned in blob_id. */
static int check_stored(const char *account, const char *rcpt, const char *blob, size_t blen,
			char blob_id[65])
{
	char mailbox_id[64], prefix[400], *body = NULL;
	json_t *msg = last_message(account, mailbox_id);
	size_t plen, len = 0;
	int ok;

	if (msg == NULL) {
		fprintf(stderr, "no message for %s\n", account);
		return 0;
	}
	plen = (size_t)snprintf(prefix, sizeof prefix, "Delivered-To: %s\r\n", rcpt);
	ok = read_body(account, mailbox_id, (uint32_t)json_integer_value(json_object_get(msg, "uid")),
		       &body, &len) == 1 &&
	     len == plen + blen && memcmp(body, prefix, plen) == 0 &&
	     memcmp(body + plen, blob, blen) == 0;
	ok = ok && json_is_string(json_object_get(msg, "blob_id")) &&
	     strcmp(json_string_value(json_object_get(msg, "prefix")), prefix) == 0 &&
	     json_integer_value(json_object_get(msg, "size")) == (json_int_t)(plen + blen) &&
	     json_array_size(json_object_get(msg, "flags")) == 0;
	if (ok)
		snprintf(blob_id, 65, "%s", json_string_value(json_object_get(msg, "blob_id")));
	else
		fprintf(stderr, "%s: stored message differs (len %zu, want %zu)\n", account, len,
			plen + blen);
	free(body);
	json_decref(msg);
	return ok;
}

/* Records in the blob topic, per partition. */
static void blob_ends(int64_t ends[4])
{
	struct evlog_reader *rd = NULL;
	const char *error = NULL;

	if (evlog_reader_open(node.log, &rd, &error) < 0) {
		fprintf(stderr, "reader: %s\n", error);
		abort();
	}
	for (int32_t p = 0; p < 4; p++) {
		if (evlog_reader_end_offset(rd, EVM_TOPIC_BLOB, p, 5000, &ends[p], &error) < 0) {
			fprintf(stderr, "end offset: %s\n", error);
			abort();
		}
	}
	evlog_reader_close(&rd);
}

/* The message.append events in the mail topic for blob_id, by account. */
struct appends {
	const char *blob_id;
	json_t *by_account;   /* account -> [event JSON...] */
};

static int collect_append(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct appends *a = ctx;
	json_t *ev = json_loadb(rec->value, rec->value_len, 0, NULL), *data, *list;
	const char *acct;

	data = json_object_get(ev, "data");
	acct = json_string_value(json_object_get(ev, "account"));
	if (acct != NULL && json_is_object(data) &&
	    strcmp(json_string_value(json_object_get(ev, "type")), "message.append") == 0 &&
	    json_is_string(json_object_get(data, "blob_id")) &&
	    strcmp(json_string_value(json_object_get(data, "blob_id")), a->blob_id) == 0 &&
	    rec->key_len == strlen(acct) && memcmp(rec->key, acct, rec->key_len) == 0 &&
	    rec->partition == evm_partition_for(acct, strlen(acct), 4)) {
		if ((list = json_object_get(a->by_account, acct)) == NULL)
			json_object_set_new(a->by_account, acct, list = json_array());
		json_array_append(list, ev);
	}
	json_decref(ev);
	return 0;
}

static json_t *appends_of(const char *blob_id)
{
	struct appends a = { blob_id, json_object() };
	struct evlog_reader *rd = NULL;
	const char *error = NULL;
	int n;

	if (evlog_reader_open(node.log, &rd, &error) < 0)
		abort();
	for (int32_t p = 0; p < 4; p++)
		evlog_reader_assign(rd, EVM_TOPIC_MAIL, p, 0, &error);
	while ((n = evlog_reader_poll(rd, 200, 1000, collect_append, &a, &error)) > 0)
		;
	if (n < 0)
		fprintf(stderr, "poll: %s\n", error);
	evlog_reader_close(&rd);
	return a.by_account;
}

static const char small_msg[] =
	"From: Zoe <zoe@client.test>\r\n"
	"To: team@acme.test\r\n"
	"Subject: Quarterly numbers\r\n"
	"Message-ID: <q1@client.test>\r\n"
	"\r\n"
	"Hello team,\r\n"
	"the numbers are in.\r\n";

/* One message to three accounts: one blob, three 250s, three copies. */
static void test_three_targets(void)
{
	struct deliver_target t[3];
	struct delivered d;
	char id1[65] = "", id2[65] = "", id3[65] = "", mailbox_id[64];
	size_t blen;
	char *blob = expected_blob("zoe@client.test", small_msg, sizeof small_msg - 1, &blen);
	/* Keyed by the address as given: matched case-insensitively. */
	json_t *dsn = json_pack("{s:s, s:s, s:{s:{s:s, s:s}}}", "ret", "HDRS", "envid", "E1", "rcpts",
				"Bob@acme.test", "notify", "FAILURE", "orcpt", "rfc822;Bob@acme.test");
	json_t *msg, *summary = NULL, *appends, *ev, *data;
	const char *error = NULL;

	target(&t[0], "amy@acme.test", "amy@acme.test");
	target(&t[1], "bob@acme.test", "bob@acme.test");
	target(&t[2], "cat@acme.test", "team@acme.test");
	deliver("zoe@client.test", small_msg, sizeof small_msg - 1, t, 3, dsn, &d);
	CHECK_EQ_INT(d.calls, 1);
	CHECK_EQ_INT(d.called_inside, 0);
	CHECK_EQ_INT(d.n, 3);
	for (size_t i = 0; i < 3; i++) {
		CHECK_EQ_INT(d.r[i].ok, 1);
		CHECK_EQ_STR(d.r[i].code, "250");
		CHECK_EQ_STR(d.r[i].enhanced, "2.0.0");
		CHECK(strncmp(d.r[i].text, "Ok: stored as ", 14) == 0);
	}
	CHECK(check_stored("amy@acme.test", "amy@acme.test", blob, blen, id1));
	CHECK(check_stored("bob@acme.test", "bob@acme.test", blob, blen, id2));
	CHECK(check_stored("cat@acme.test", "team@acme.test", blob, blen, id3));
	CHECK_EQ_STR(id1, id2);
	CHECK_EQ_STR(id1, id3);
	CHECK_EQ_INT(strlen(id1), 64);

	/* The summary is the MIME parser's, of the blob. */
	msg = last_message("amy@acme.test", mailbox_id);
	CHECK(msg != NULL);
	CHECK_EQ_INT(mail_summary_get(node.view, "amy@acme.test",
				      json_string_value(json_object_get(msg, "email_id")), &summary,
				      &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(summary, "envelope"), "subject")),
		     "Quarterly numbers");
	CHECK_EQ_INT(json_integer_value(json_object_get(summary, "size")), blen);
	CHECK(labs((long)(json_integer_value(json_object_get(msg, "internal_date")) - evm_now_ms())) < 60000);
	json_decref(summary);
	json_decref(msg);

	/* The events as logged: one per account, keyed and partitioned by it. */
	appends = appends_of(id1);
	CHECK_EQ_INT(json_object_size(appends), 3);
	ev = json_array_get(json_object_get(appends, "cat@acme.test"), 0);
	data = json_object_get(ev, "data");
	CHECK_EQ_STR(json_string_value(json_object_get(ev, "tenant")), "acme");
	CHECK_EQ_STR(json_string_value(json_object_get(ev, "actor")), "smtp");
	CHECK_EQ_STR(json_string_value(json_object_get(data, "mailbox")), "INBOX");
	CHECK_EQ_STR(json_string_value(json_object_get(data, "prefix")), "Delivered-To: team@acme.test\r\n");
	CHECK_EQ_INT(json_integer_value(json_object_get(data, "blob_size")), blen);
	CHECK(json_is_array(json_object_get(data, "flags")) && json_array_size(json_object_get(data, "flags")) == 0);
	CHECK(json_is_array(json_object_get(data, "keywords")) && json_array_size(json_object_get(data, "keywords")) == 0);
	CHECK(json_is_object(json_object_get(data, "summary")));
	/* DSN: the envelope part for everyone, only bob's own parameters. */
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(data, "dsn"), "ret")), "HDRS");
	CHECK(json_object_get(json_object_get(data, "dsn"), "rcpts") == NULL);
	ev = json_array_get(json_object_get(appends, "bob@acme.test"), 0);
	data = json_object_get(json_object_get(ev, "data"), "dsn");
	CHECK_EQ_STR(json_string_value(json_object_get(data, "envid")), "E1");
	CHECK_EQ_INT(json_object_size(json_object_get(data, "rcpts")), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(json_object_get(data, "rcpts"),
			"Bob@acme.test"), "notify")), "FAILURE");
	json_decref(appends);
	free(blob);
}

/* Over quota: 552 for that target only; the others are stored. (Unknown
 * accounts are refused at RCPT by deliver_resolve, never here.) */
static void test_quota(void)
{
	struct deliver_target t[3];
	struct delivered d;
	char *big = malloc(4000), id[65], mailbox_id[64];
	size_t blen;
	char *blob;
	json_t *msg;

	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (size_t i = 16; i < 4000; i++)
		big[i] = (i % 80 == 78) ? '\r' : (i % 80 == 79) ? '\n' : (char)('a' + i % 26);
	blob = expected_blob("", big, 4000, &blen);
	target(&t[0], "amy@acme.test", "amy@acme.test");
	target(&t[1], "tiny@acme.test", "tiny@acme.test");
	target(&t[2], "cat@acme.test", "cat@acme.test");
	deliver("", big, 4000, t, 3, NULL, &d);
	CHECK_EQ_INT(d.calls, 1);
	CHECK_EQ_INT(d.n, 3);
	CHECK_EQ_STR(d.r[0].code, "250");
	CHECK_EQ_INT(d.r[1].ok, 0);
	CHECK_EQ_STR(d.r[1].code, "552");
	CHECK_EQ_STR(d.r[1].enhanced, "5.2.2");
	CHECK_EQ_STR(d.r[2].code, "250");
	CHECK(check_stored("amy@acme.test", "amy@acme.test", blob, blen, id));
	msg = last_message("tiny@acme.test", mailbox_id);
	CHECK(msg == NULL);
	free(blob);
	free(big);
}

/* 3 MB: several chunks, all in the blob id's partition, byte-identical. */
static void test_large(void)
{
	size_t len = 3 * 1024 * 1024, blen, chunks, off = 0;
	char *data = malloc(len), *blob, id[65], want_id[65];
	struct deliver_target t[2];
	struct delivered d;
	int64_t before[4], after[4];
	uint32_t x = 12345;
	int32_t part;

	off += (size_t)snprintf(data, len, "Subject: large\r\nContent-Type: application/octet-stream\r\n\r\n");
	while (off < len) {
		x = x * 1103515245u + 12345u;
		data[off] = (off % 76 == 74) ? '\r' : (off % 76 == 75) ? '\n' : (char)(33 + (x >> 16) % 90);
		off++;
	}
	data[len - 2] = '\r';
	data[len - 1] = '\n';
	blob = expected_blob("big@client.test", data, len, &blen);
	chunks = (blen + MAIL_BLOB_CHUNK_MAX - 1) / MAIL_BLOB_CHUNK_MAX;
	CHECK(chunks >= 6);
	blob_ends(before);
	target(&t[0], "bob@acme.test", "bob@acme.test");
	target(&t[1], "cat@acme.test", "cat@acme.test");
	deliver("big@client.test", data, len, t, 2, NULL, &d);
	CHECK_EQ_INT(d.calls, 1);
	CHECK_EQ_STR(d.r[0].code, "250");
	CHECK_EQ_STR(d.r[1].code, "250");
	CHECK(check_stored("bob@acme.test", "bob@acme.test", blob, blen, id));
	CHECK(check_stored("cat@acme.test", "cat@acme.test", blob, blen, want_id));
	CHECK_EQ_STR(id, want_id);

	/* Every chunk went to the partition of the blob id. */
	blob_ends(after);
	part = evm_partition_for(id, strlen(id), 4);
	for (int32_t p = 0; p < 4; p++)
		CHECK_EQ_INT(after[p] - before[p], p == part ? (int64_t)chunks : 0);
	free(blob);
	free(data);
}

/* The same content again is the same blob; no targets still calls back. */
static void test_edges(void)
{
	struct deliver_target t[1];
	struct delivered d;
	char *blob, id1[65], id2[65];
	size_t blen;

	blob = expected_blob("zoe@client.test", small_msg, sizeof small_msg - 1, &blen);
	target(&t[0], "amy@acme.test", "amy+tag@acme.test");
	deliver("zoe@client.test", small_msg, sizeof small_msg - 1, t, 1, NULL, &d);
	CHECK_EQ_STR(d.r[0].code, "250");
	CHECK(check_stored("amy@acme.test", "amy+tag@acme.test", blob, blen, id1));
	target(&t[0], "bob@acme.test", "bob@acme.test");
	deliver("zoe@client.test", small_msg, sizeof small_msg - 1, t, 1, NULL, &d);
	CHECK(check_stored("bob@acme.test", "bob@acme.test", blob, blen, id2));
	CHECK_EQ_STR(id1, id2);
	free(blob);

	deliver("zoe@client.test", small_msg, sizeof small_msg - 1, t, 0, NULL, &d);
	CHECK_EQ_INT(d.calls, 1);
	CHECK_EQ_INT(d.called_inside, 0);
	CHECK_EQ_INT(d.n, 0);
}

/* A target whose event cannot even be built (a tenant name with a control
 * character, which the envelope refuses) gets 451 alone, also when it is
 * the last or the only one. */
static void test_bad_target(void)
{
	struct deliver_target t[2];
	struct delivered d;

	target(&t[0], "amy@acme.test", "amy@acme.test");
	target(&t[1], "bob@acme.test", "bob@acme.test");
	snprintf(t[1].tenant, sizeof t[1].tenant, "bad\ttenant");
	deliver("zoe@client.test", small_msg, sizeof small_msg - 1, t, 2, NULL, &d);
	CHECK_EQ_INT(d.calls, 1);
	CHECK_EQ_STR(d.r[0].code, "250");
	CHECK_EQ_STR(d.r[1].code, "451");
	CHECK_EQ_STR(d.r[1].enhanced, "4.3.0");
	deliver("zoe@client.test", small_msg, sizeof small_msg - 1, t + 1, 1, NULL, &d);
	CHECK_EQ_INT(d.calls, 1);
	CHECK_EQ_INT(d.called_inside, 0);
	CHECK_EQ_STR(d.r[0].code, "451");
}

/* --- a log whose blob appends fail, to see the all-or-nothing rule --- */

enum fail_mode { FAIL_NONE, FAIL_QUEUE, FAIL_REPORT };

static const struct evlog_ops *real_ops;
static struct evlog_ops failing_ops;
static enum fail_mode fail_mode;
static int fail_at, blob_calls;

struct fail_wrap {
	evlog_append_cb *cb;
	void *ctx;
};

/* Passes the record through but reports a failure, as a broker would. */
static void failed_report(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct fail_wrap *w = ctx;

	w->cb(w->ctx, -1, "injected failure", -1, -1);
	free(w);
}

static int failing_append(struct evlog *log, enum evm_topic_id topic, int32_t partition,
			  const void *key, size_t key_len, const void *value, size_t value_len,
			  evlog_append_cb *cb, void *ctx, const char **error_r)
{
	struct fail_wrap *w;
	int ret;

	if (topic != EVM_TOPIC_BLOB || blob_calls++ != fail_at)
		return real_ops->append(log, topic, partition, key, key_len, value, value_len, cb, ctx,
					error_r);
	if (fail_mode == FAIL_QUEUE) {
		*error_r = "injected queue failure";
		return -1;
	}
	w = malloc(sizeof *w);
	w->cb = cb;
	w->ctx = ctx;
	ret = real_ops->append(log, topic, partition, key, key_len, value, value_len, failed_report,
			       w, error_r);
	if (ret < 0)
		free(w);
	return ret;
}

static void mail_ends(int64_t *sum_r)
{
	struct evlog_reader *rd = NULL;
	const char *error = NULL;
	int64_t end;

	*sum_r = 0;
	if (evlog_reader_open(node.log, &rd, &error) < 0)
		abort();
	for (int32_t p = 0; p < 4; p++) {
		if (evlog_reader_end_offset(rd, EVM_TOPIC_MAIL, p, 5000, &end, &error) < 0)
			abort();
		*sum_r += end;
	}
	evlog_reader_close(&rd);
}

/* A chunk that fails (first, middle or last; refused at once or
 * reported later): every target gets 451 4.3.0 and no append is logged. */
static void test_chunk_failure(void)
{
	static const enum fail_mode modes[] = { FAIL_QUEUE, FAIL_REPORT };
	static const int at[] = { 0, 2, 6 };
	size_t len = 3 * 1024 * 1024;
	char *data = malloc(len);
	struct deliver_target t[2];
	struct delivered d;
	int64_t before, after;

	memset(data, 'q', len);
	memcpy(data, "Subject: q\r\n\r\n", 14);
	target(&t[0], "amy@acme.test", "amy@acme.test");
	target(&t[1], "bob@acme.test", "bob@acme.test");
	real_ops = node.log->ops;
	failing_ops = *real_ops;
	failing_ops.append = failing_append;
	node.log->ops = &failing_ops;
	for (size_t m = 0; m < 2; m++) {
		for (size_t i = 0; i < 3; i++) {
			fail_mode = modes[m];
			fail_at = at[i];
			blob_calls = 0;
			data[20] = (char)('a' + m * 3 + i);   /* a new blob each time */
			mail_ends(&before);
			deliver("q@client.test", data, len, t, 2, NULL, &d);
			mail_ends(&after);
			CHECK_EQ_INT(d.calls, 1);
			CHECK_EQ_INT(d.called_inside, 0);
			CHECK_EQ_INT(d.n, 2);
			for (size_t k = 0; k < 2; k++) {
				CHECK_EQ_INT(d.r[k].ok, 0);
				CHECK_EQ_STR(d.r[k].code, "451");
				CHECK_EQ_STR(d.r[k].enhanced, "4.3.0");
			}
			CHECK_EQ_INT(after, before);
			/* A refused chunk stops the rest; a failed report does not. */
			CHECK_EQ_INT(blob_calls, fail_mode == FAIL_QUEUE ? fail_at + 1 : 7);
		}
	}
	node.log->ops = real_ops;
	free(data);
}

int main(void)
{
	setup();
	test_run("three targets", test_three_targets);
	test_run("quota and unknown account", test_quota);
	test_run("3 MB in chunks", test_large);
	test_run("same blob, no targets", test_edges);
	test_run("a target that cannot be built", test_bad_target);
	test_run("a chunk fails", test_chunk_failure);
	teardown();
	return test_done();
}
