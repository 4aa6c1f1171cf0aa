/* log_rebuild - bench_log's rebuild rows (log_bench.h, bench_rebuild): a
 * fresh embedded log filled with directory events and/or messages with
 * their blobs, then a raw read and a projector replay of it, in one run.
 *
 * Messages: a msg_bytes RFC 5322 message per blob (unique, so every blob is
 * new), stored as one blob.chunk on the blob topic and delivered by a
 * message.append to the INBOX of one of 1,000 accounts of the directory
 * workload, as gateway/deliver_* writes them. The MIME summary is parsed
 * once from the first message (they differ only in counters). */
#include "bench/log_bench.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mime.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_MAIL_ACCOUNTS 1000
#define APPEND_INFLIGHT 5000

/* The generator: the next event of the interleaved workload. */
struct gen {
	const struct rebuild_opts *o;
	uint64_t rng;
	uint64_t seq;              /* events encoded: their id and time */
	size_t dir_next, msg_next;
	int append_due;            /* the chunk of msg_next - 1 went out */
	char blob_id[65];
	char *body;
	json_t *summary;
	int32_t parts[EVM_TOPIC_COUNT];
};

/* One encoded event and where it goes. */
struct gen_rec {
	enum evm_topic_id topic;
	int32_t partition;
	char key[160];
	char *value;
	size_t len;
};

/* Address and tenant of mail account j (an account of the directory
 * workload: events 2..99 of every hundred are account.create). */
static void mail_account(size_t j, char *addr, size_t asize, char *tenant, size_t tsize)
{
	size_t a = j % BENCH_MAIL_ACCOUNTS, t = a / 98, i = t * 100 + 2 + a % 98;

	snprintf(addr, asize, "user%07zu@d%06zu.bench.test", i, t);
	snprintf(tenant, tsize, "t%06zu", t);
}

/* Message j's bytes into g->body (exactly msg_bytes) and its blob id. */
static void make_body(struct gen *g, size_t j)
{
	char addr[96], tenant[32];
	unsigned char sum[32];
	unsigned int slen = 0;
	size_t n, size = g->o->msg_bytes;

	mail_account(j, addr, sizeof addr, tenant, sizeof tenant);
	n = (size_t)snprintf(g->body, size + 1,
			     "From: Bench Sender <sender@bench.test>\r\nTo: <%s>\r\n"
			     "Subject: bench message %010zu\r\nMessage-ID: <%010zu@bench.test>\r\n"
			     "Date: Mon, 07 Dec 2026 07:00:00 +0000\r\nMIME-Version: 1.0\r\n"
			     "Content-Type: text/plain; charset=utf-8\r\n\r\n", addr, j, j);
	for (; n < size; n++)
		g->body[n] = (n % 64 == 62) ? '\r' : (n % 64 == 63) ? '\n' : (char)('a' + n % 26);
	EVP_Digest(g->body, size, sum, &slen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < slen; i++)
		snprintf(g->blob_id + 2 * i, 3, "%02x", sum[i]);
}

/* Encodes ev into r (and clears ev). Its id and time come from a counter,
 * not the random id and clock of evm_event_init: every run writes the same
 * log, so the replay's view digest can be compared between builds. */
static void encode(struct gen *g, struct evm_event *ev, struct gen_rec *r)
{
	const char *error;

	g->seq++;
	snprintf(ev->id, sizeof ev->id, "%032" PRIx64, g->seq);
	ev->ts = 1796540400000LL + (int64_t)g->seq;

	if (evm_event_encode(ev, &r->value, &r->len, &error) < 0)
		log_panic("bench: encode %s: %s", ev->type, error);
	evm_event_clear(ev);
}

/* The blob.chunk of message msg_next (one chunk: msg_bytes <= 512 KiB). */
static void gen_chunk(struct gen *g, struct gen_rec *r)
{
	size_t size = g->o->msg_bytes;
	char *b64 = xmalloc(4 * ((size + 2) / 3) + 1);
	int blen;
	struct evm_event ev;
	const char *error;
	json_t *data;

	make_body(g, g->msg_next);
	blen = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)g->body, (int)size);
	data = json_pack("{s:s, s:I, s:I, s:I, s:s%}", "blob_id", g->blob_id, "index", (json_int_t)0,
			 "count", (json_int_t)1, "size", (json_int_t)size, "data", b64, (size_t)blen);
	free(b64);
	if (data == NULL || evm_event_init(&ev, "blob.chunk", "", "", "bench", data, &error) < 0)
		log_panic("bench: blob.chunk");
	r->topic = EVM_TOPIC_BLOB;
	r->partition = evm_partition_for(g->blob_id, 64, g->parts[EVM_TOPIC_BLOB]);
	snprintf(r->key, sizeof r->key, "%s/0", g->blob_id);
	encode(g, &ev, r);
}

/* The message.append of the blob just written. */
static void gen_append(struct gen *g, struct gen_rec *r)
{
	char addr[96], tenant[32];
	struct evm_event ev;
	const char *error;
	json_t *data;

	mail_account(g->msg_next, addr, sizeof addr, tenant, sizeof tenant);
	data = json_pack("{s:s, s:s, s:I, s:s, s:[], s:[], s:I, s:O}", "mailbox", "INBOX",
			 "blob_id", g->blob_id, "blob_size", (json_int_t)g->o->msg_bytes, "prefix", "",
			 "flags", "keywords", "internal_date", (json_int_t)1796540400000LL,
			 "summary", g->summary);
	if (data == NULL || evm_event_init(&ev, "message.append", tenant, addr, "bench", data, &error) < 0)
		log_panic("bench: message.append");
	r->topic = EVM_TOPIC_MAIL;
	r->partition = evm_partition_for(addr, strlen(addr), g->parts[EVM_TOPIC_MAIL]);
	snprintf(r->key, sizeof r->key, "%s", addr);
	encode(g, &ev, r);
	g->msg_next++;
}

/* Next record: directory events and messages alternate while both last.
 * 0, or 1 when the workload is exhausted. */
static int gen_next(struct gen *g, struct gen_rec *r)
{
	struct evm_event ev;
	const char *error;

	if (g->append_due) {
		g->append_due = 0;
		gen_append(g, r);
		return 0;
	}
	if (g->dir_next < g->o->dir_events &&
	    (g->msg_next >= g->o->mail_msgs || g->dir_next <= g->msg_next)) {
		if (bench_dir_event(g->dir_next, &g->rng, &ev, &error) < 0)
			log_panic("bench: directory event: %s", error);
		r->topic = EVM_TOPIC_DIRECTORY;
		r->partition = 0;
		snprintf(r->key, sizeof r->key, "%s", ev.id);
		encode(g, &ev, r);
		g->dir_next++;
		return 0;
	}
	if (g->msg_next >= g->o->mail_msgs)
		return 1;
	gen_chunk(g, r);
	g->append_due = 1;
	return 0;
}

/* Appends the whole workload, at most APPEND_INFLIGHT unacknowledged. */
struct filler {
	struct gen *g;
	struct evlog *log;
	struct event_base *base;
	size_t sent, done, failed;
	int exhausted;
	char error[256];
};

static void fill_more(struct filler *f);

static void fill_cb(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct filler *f = ctx;

	f->done++;
	if (status != 0 && f->failed++ == 0)
		snprintf(f->error, sizeof f->error, "%s", error ? error : "append failed");
	fill_more(f);
}

static void fill_more(struct filler *f)
{
	while (!f->exhausted && f->sent - f->done < APPEND_INFLIGHT) {
		struct gen_rec r;
		const char *error = NULL;

		if (gen_next(f->g, &r) != 0) {
			f->exhausted = 1;
			break;
		}
		if (evlog_append(f->log, r.topic, r.partition, r.key, strlen(r.key), r.value, r.len,
				 fill_cb, f, &error) < 0)
			log_panic("bench: append: %s", error);
		free(r.value);
		f->sent++;
	}
	if (f->exhausted && f->done == f->sent)
		event_base_loopbreak(f->base);
}

/* Raw read of every record of the mail, blob and directory topics. */
struct reader_count {
	size_t n;
	uint64_t bytes;
};

static int count_cb(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct reader_count *c = ctx;

	c->n++;
	c->bytes += rec->value_len;
	return 0;
}

static void raw_read(struct evlog *log, size_t total, int timeout_s, struct bench_result *res)
{
	static const enum evm_topic_id topics[] = { EVM_TOPIC_MAIL, EVM_TOPIC_BLOB, EVM_TOPIC_DIRECTORY };
	struct evlog_reader *rd = NULL;
	struct reader_count c = { 0 };
	const char *error = NULL;
	double t0 = bench_now(), cpu0 = bench_cpu(), deadline = t0 + timeout_s;

	res->ran = 1;
	if (evlog_reader_open(log, &rd, &error) < 0)
		goto fail;
	for (size_t t = 0; t < sizeof topics / sizeof topics[0]; t++) {
		for (int32_t p = 0; p < evlog_partitions(log, topics[t]); p++) {
			if (evlog_reader_assign(rd, topics[t], p, 0, &error) < 0)
				goto fail;
		}
	}
	while (c.n < total && bench_now() < deadline) {
		if (evlog_reader_poll(rd, 100, 10000, count_cb, &c, &error) < 0)
			goto fail;
	}
	res->secs = bench_now() - t0;
	res->cpu = bench_cpu() - cpu0;
	res->count = c.n;
	res->ok = c.n == total;
	snprintf(res->note, sizeof res->note, "%.0f bytes/record%s", c.n ? (double)c.bytes / (double)c.n : 0,
		 res->ok ? "" : ", timed out");
	evlog_reader_close(&rd);
	return;
fail:
	snprintf(res->note, sizeof res->note, "reader: %s", error);
	evlog_reader_close(&rd);
}

void bench_rebuild(const struct rebuild_opts *o, const char *dir, struct bench_result *read_r,
		   struct bench_result *replay_r)
{
	struct gen g = { .o = o, .rng = 0x9e3779b97f4a7c15ULL };
	struct filler f = { .g = &g };
	struct evm_config cfg;
	const char *error = NULL;
	char path[4200], num[32];
	size_t accepted = 0;

	memset(read_r, 0, sizeof *read_r);
	memset(replay_r, 0, sizeof *replay_r);
	snprintf(num, sizeof num, "%d", o->batch_max);
	if (config_load(NULL, &cfg, &error) < 0 || config_set(&cfg, "node.id", "bench", &error) < 0 ||
	    config_set(&cfg, "node.data_dir", dir, &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    (o->batch_max > 0 && config_set(&cfg, "projector.batch_max", num, &error) < 0))
		log_fatal("bench: config: %s", error);
	f.base = event_base_new();
	if (evlog_open(&cfg, f.base, &f.log, &error) < 0)
		log_fatal("bench: evlog_open %s: %s", dir, error);
	for (int t = 0; t < EVM_TOPIC_COUNT; t++)
		g.parts[t] = evlog_partitions(f.log, (enum evm_topic_id)t);
	g.body = xmalloc(o->msg_bytes + 1);
	if (o->mail_msgs > 0) {
		make_body(&g, 0);
		g.summary = mime_parse(g.body, o->msg_bytes, NULL);
	}
	fprintf(stderr, "bench_log: rebuild log of %zu directory events and %zu messages of %zu bytes...\n",
		o->dir_events, o->mail_msgs, o->msg_bytes);
	fill_more(&f);
	if (!(f.exhausted && f.done == f.sent))
		event_base_dispatch(f.base);
	if (f.failed > 0)
		log_fatal("bench: %zu appends failed, first: %s", f.failed, f.error);
	fprintf(stderr, "bench_log: raw read of %zu records...\n", f.sent);
	raw_read(f.log, f.sent, o->timeout_s, read_r);
	fprintf(stderr, "bench_log: projector replay of %zu records...\n", f.sent);
	snprintf(path, sizeof path, "%s/view", dir);
	bench_replay(&cfg, f.log, f.base, path, f.sent, o->timeout_s, o->verbose, replay_r, &accepted);
	if (replay_r->ok)
		snprintf(replay_r->note, sizeof replay_r->note, "accepted %zu of %zu, digest %.16s", accepted,
			 f.sent, replay_r->digest);
	json_decref(g.summary);
	free(g.body);
	evlog_close(&f.log);
	event_base_free(f.base);
	config_free(&cfg);
}
