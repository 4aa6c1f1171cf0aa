/* test_mail_projector - the mail store through the real projector over the
 * embedded log: directory events, then blob chunks on the blob topic and
 * mail events on the mail topic, read back through the read API; then a
 * rebuild from the log (which replays the topics interleaved in another
 * order) gives the same view: mail outcomes depend on the mail partition
 * only. */
#include "projector/projector.h"
#include "projector/mail.h"
#include "common/buf.h"
#include "common/ids.h"
#include "ingest/event.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"
#define BOB "bob@acme.test"
#define NEVENTS 64

struct env {
	struct evm_config cfg;
	struct event_base *base;
	struct evlog *log;
	struct view *view;
	struct projector *p;
	char ids[NEVENTS][EVM_ID_HEX_LEN + 1];
	int logged[NEVENTS];
	int n;
};

struct slot {
	struct env *e;
	int i;
};

static struct slot slots[NEVENTS];

static void on_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct slot *s = ctx;

	s->e->logged[s->i] = status == 0 ? 1 : -1;
}

/* Appends an event; returns its index (its id is e->ids[index]). */
static int push(struct env *e, enum evm_topic_id topic, int32_t partition, const char *key,
		const char *type, const char *account, json_t *data)
{
	struct evm_event ev;
	const char *error = NULL;
	char *out = NULL;
	size_t len = 0;
	int i = e->n++;

	if (i >= NEVENTS || evm_event_init(&ev, type, "", account, "test", data, &error) < 0 ||
	    evm_event_encode(&ev, &out, &len, &error) < 0) {
		fprintf(stderr, "cannot make %s: %s\n", type, error ? error : "too many");
		abort();
	}
	snprintf(e->ids[i], sizeof e->ids[i], "%s", ev.id);
	slots[i].e = e;
	slots[i].i = i;
	if (evlog_append(e->log, topic, partition, key, strlen(key), out, len, on_logged, &slots[i],
			 &error) < 0) {
		fprintf(stderr, "append: %s\n", error);
		abort();
	}
	free(out);
	evm_event_clear(&ev);
	return i;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
}

/* The outcome of event i, or NULL (new reference). */
static json_t *outcome(struct env *e, int i)
{
	json_t *o = NULL;
	const char *error = NULL;

	if (projector_outcome(e->p, e->ids[i], &o, &error) != 1)
		return NULL;
	return o;
}

/* Runs the loop until every event up to e->n has an outcome. */
static int wait_all(struct env *e, int timeout_ms)
{
	struct event *t = event_new(e->base, -1, EV_PERSIST, tick, NULL);
	struct timeval tv = { 0, 5000 };
	int64_t deadline = evm_mono_ms() + timeout_ms;
	int done = 0;

	event_add(t, &tv);
	while (!done && evm_mono_ms() < deadline) {
		event_base_loop(e->base, EVLOOP_ONCE);
		done = 1;
		for (int i = 0; i < e->n && done; i++) {
			json_t *o = outcome(e, i);

			done = o != NULL;
			json_decref(o);
		}
	}
	event_free(t);
	return done;
}

static const char *status_of(struct env *e, int i)
{
	static char s[64];
	json_t *o = outcome(e, i);

	snprintf(s, sizeof s, "%s%s%s", o ? json_string_value(json_object_get(o, "status")) : "none",
		 o && json_object_get(o, "code") ? ":" : "",
		 o && json_object_get(o, "code") ? json_string_value(json_object_get(o, "code")) : "");
	json_decref(o);
	return s;
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Appends the chunks of body, last chunk first and chunk 0 twice. */
static void push_blob(struct env *e, const char *id, const unsigned char *body, size_t size)
{
	int count = (int)((size + MAIL_BLOB_CHUNK_MAX - 1) / MAIL_BLOB_CHUNK_MAX);
	int32_t part = evm_partition_for(id, strlen(id), evlog_partitions(e->log, EVM_TOPIC_BLOB));
	char key[128];
	char *b64 = xmalloc(MAIL_BLOB_CHUNK_MAX / 3 * 4 + 8);

	for (int k = count; k >= 0; k--) {
		int idx = k == count ? 0 : k;
		size_t off = (size_t)idx * MAIL_BLOB_CHUNK_MAX;
		size_t len = size - off < MAIL_BLOB_CHUNK_MAX ? size - off : MAIL_BLOB_CHUNK_MAX;

		EVP_EncodeBlock((unsigned char *)b64, body + off, (int)len);
		snprintf(key, sizeof key, "%s/%d", id, idx);
		push(e, EVM_TOPIC_BLOB, part, key, "blob.chunk", "",
		     json_pack("{s:s, s:i, s:i, s:I, s:s}", "blob_id", id, "index", idx, "count", count,
			       "size", (json_int_t)size, "data", b64));
	}
	free(b64);
}

static void test_embedded(void)
{
	static struct env e;
	const char *error = NULL, *dir = test_tmpdir("mail-embedded");
	size_t size = MAIL_BLOB_CHUNK_MAX * 2 + 777, len = 0;
	unsigned char *body = xmalloc(size);
	char path[1100], blob_id[65], inbox[33], d1[65], d2[65], *data = NULL;
	json_t *list = NULL, *msg = NULL, *usage = NULL, *o;
	int append1, append2, copy, st;
	uint64_t k1, k2;

	memset(&e, 0, sizeof e);
	for (size_t i = 0; i < size; i++)
		body[i] = (unsigned char)((i * 131) ^ (i >> 9));
	memcpy(body, "Subject: hi\r\n\r\n", 15);
	sha256_hex(body, size, blob_id);

	e.base = event_base_new();
	CHECK_EQ_INT(config_load(NULL, &e.cfg, &error), 0);
	CHECK_EQ_INT(config_set(&e.cfg, "node.data_dir", dir, &error), 0);
	CHECK_EQ_INT(config_set(&e.cfg, "log.backend", "embedded", &error), 0);
	snprintf(path, sizeof path, "%s/view", dir);
	CHECK_EQ_INT(evlog_open(&e.cfg, e.base, &e.log, &error), 0);
	CHECK_EQ_INT(view_open(path, &e.view, &error), 0);
	CHECK_EQ_INT(projector_create(&e.cfg, e.log, e.view, e.base, &e.p, &error), 0);
	CHECK_EQ_INT(projector_start(e.p, &error), 0);
	CHECK(evlog_partitions(e.log, EVM_TOPIC_BLOB) > 0);

	/* The directory first, as the admin API does (the mail state does not
	 * read it, but a real account has one). */
	push(&e, EVM_TOPIC_DIRECTORY, -1, "t", "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	push(&e, EVM_TOPIC_DIRECTORY, -1, "d", "domain.add", "",
	     json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	push(&e, EVM_TOPIC_DIRECTORY, -1, "a", "account.create", "",
	     json_pack("{s:s, s:s, s:i, s:s, s:s}", "address", BOB, "display_name", "Bob", "quota", 0,
		       "state", "active", "password_hash", HASH));
	CHECK(wait_all(&e, 20000));
	CHECK_EQ_STR(status_of(&e, 2), "accepted");

	push_blob(&e, blob_id, body, size);
	push(&e, EVM_TOPIC_MAIL, -1, BOB, "mailbox.provision", BOB, json_pack("{s:i}", "quota", 0));
	append1 = push(&e, EVM_TOPIC_MAIL, -1, BOB, "message.append", BOB,
		       json_pack("{s:s, s:s, s:I, s:s, s:[], s:[s], s:I, s:{s:{s:[s]}}}", "mailbox", "INBOX",
				 "blob_id", blob_id, "blob_size", (json_int_t)size, "prefix",
				 "Delivered-To: bob@acme.test\r\n", "flags", "keywords", "$Important",
				 "internal_date", (json_int_t)1700000000000, "summary", "headers",
				 "message_id", "abc@x"));
	append2 = push(&e, EVM_TOPIC_MAIL, -1, BOB, "message.append", BOB,
		       json_pack("{s:s, s:s, s:I, s:s, s:[s], s:I, s:{}}", "mailbox", "INBOX",
				 "blob_id", blob_id, "blob_size", (json_int_t)size, "prefix", "",
				 "flags", "\\Seen", "internal_date", (json_int_t)1700000000001, "summary"));
	CHECK(wait_all(&e, 20000));
	for (int i = 3; i < e.n; i++) {
		if (strcmp(status_of(&e, i), "accepted") != 0) {
			fprintf(stderr, "event %d: %s\n", i, status_of(&e, i));
			CHECK(0);
		}
	}
	o = outcome(&e, append1);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "uid")), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "modseq")),
		     json_integer_value(json_object_get(o, "offset")) + 1);
	snprintf(inbox, sizeof inbox, "%s", json_string_value(json_object_get(o, "mailbox_id")));
	json_decref(o);
	o = outcome(&e, append2);
	CHECK_EQ_INT(json_integer_value(json_object_get(o, "uid")), 2);
	json_decref(o);

	/* Read back. */
	CHECK_EQ_INT(mail_mailboxes(e.view, BOB, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 6);
	json_decref(list);
	CHECK_EQ_INT(mail_messages(e.view, BOB, inbox, 0, &list, &error), 1);
	CHECK_EQ_INT(json_array_size(list), 2);
	json_decref(list);
	CHECK_EQ_INT(mail_message_get(e.view, BOB, inbox, 1, &msg, &error), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(msg, "keywords"), 0)), "$Important");
	json_decref(msg);
	CHECK_EQ_INT(mail_message_body(e.view, BOB, inbox, 1, &data, &len, &error), 1);
	CHECK_EQ_INT(len, size + 29);
	CHECK(memcmp(data, "Delivered-To: bob@acme.test\r\n", 29) == 0);
	CHECK(memcmp(data + 29, body, size) == 0);
	free(data);
	CHECK_EQ_INT(mail_message_body(e.view, BOB, inbox, 2, &data, &len, &error), 1);
	CHECK_EQ_INT(len, size);
	CHECK(memcmp(data, body, size) == 0);
	free(data);
	CHECK_EQ_INT(mail_account_usage(e.view, BOB, &usage, &error), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(usage, "messages")), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(usage, "quota_used")), 2 * size + 29);
	json_decref(usage);

	/* A copy and an expunge, then the projector's view is rebuilt from
	 * the log: the same bytes. */
	copy = push(&e, EVM_TOPIC_MAIL, -1, BOB, "message.move", BOB,
		    json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", inbox, "uids", 1, 1, "to_mailbox_id", inbox));
	CHECK(wait_all(&e, 20000));
	CHECK_EQ_STR(status_of(&e, copy), "accepted");
	CHECK_EQ_INT(mail_vanished(e.view, BOB, inbox, 0, &list, &error), 1);
	CHECK_EQ_INT(json_array_size(list), 1);
	json_decref(list);
	CHECK_EQ_INT(mail_message_body(e.view, BOB, inbox, 1, &data, &len, &error), 0);
	CHECK_EQ_INT(view_digest(e.view, d1, &k1, &error), 0);
	CHECK_EQ_INT(projector_rebuild(e.p, &error), 0);
	st = 0;
	for (int64_t deadline = evm_mono_ms() + 20000; evm_mono_ms() < deadline;) {
		json_t *s = projector_status(e.p);
		const char *state = json_string_value(json_object_get(s, "state"));
		json_t *rb = json_object_get(s, "rebuild");

		/* Done: the rebuild has run (total set) to its end, and is ready. */
		st = strcmp(state, "running") == 0 && json_is_true(json_object_get(s, "ready")) &&
		     json_integer_value(json_object_get(rb, "total")) > 0 &&
		     json_integer_value(json_object_get(rb, "done")) == json_integer_value(json_object_get(rb, "total"));
		json_decref(s);
		if (st)
			break;
		event_base_loop(e.base, EVLOOP_NONBLOCK);
	}
	CHECK(st);
	CHECK_EQ_INT(view_digest(e.view, d2, &k2, &error), 0);
	CHECK_EQ_INT(k1, k2);
	CHECK_EQ_STR(d1, d2);
	CHECK_EQ_INT(mail_message_body(e.view, BOB, inbox, 3, &data, &len, &error), 1);
	CHECK_EQ_INT(len, size + 29);
	CHECK(memcmp(data + 29, body, size) == 0);
	free(data);

	projector_destroy(&e.p);
	evlog_close(&e.log);
	view_close(&e.view);
	event_base_free(e.base);
	config_free(&e.cfg);
	free(body);
}

int main(void)
{
	evthread_use_pthreads();
	log_set_level(LOG_ERROR);
	test_run("mail and blobs through the projector over the embedded log", test_embedded);
	return test_done();
}
