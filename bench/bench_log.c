/* bench_log - throughput of the event log (evlog) and the projector,
 * against plain librdkafka (and kcat) on the same broker, in one run.
 *
 *   bench_log [-n N] [--brokers HOST:PORT] [--inflight K] [--linger-ms MS]
 *             [--batch-max B] [--timeout S] [--settle-ms MS] [--tmp DIR] [--keep]
 *             [--no-kcat] [-v]
 *
 * One workload of N directory events (tenant.create, domain.add and mostly
 * account.create, 300-400 bytes each, encoded once) goes byte-identically
 * through every path:
 *   1. evlog_append on the embedded log (fresh data dir), at most K in
 *      flight, until every callback reported success;
 *   2. a projector over that log into a fresh view, until it has applied
 *      all N and shows lag 0 on every partition;
 *   3. and 4. the same over Kafka (fresh topic prefix), with --brokers;
 *   5. the peer: raw librdkafka produce (same producer settings) to a fresh
 *      1-partition topic, then a plain consumer reading it back;
 *   6. kcat -P / kcat -C -e on the same payloads, when kcat is installed.
 * It prints one table and the ratios. Nothing is asserted about timings;
 * the exit status is 1 only if a path lost or failed records. */
#include "bench/log_bench.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/log.h"
#include "ingest/event.h"
#include "ingest/evlog.h"
#include "projector/projector.h"
#include "projector/view.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <librdkafka/rdkafka.h>

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Every 100 events: one tenant.create, one domain.add, 98 account.create. */
#define EVENTS_PER_TENANT 100

struct opts {
	size_t n;
	size_t inflight;
	const char *brokers;       /* NULL: no Kafka rows */
	int linger_ms;             /* -1: the config default (log.linger_ms) */
	int batch_max;             /* -1: the config default */
	int timeout_s;
	int settle_ms;             /* pause after creating Kafka topics */
	const char *tmp;
	int keep;
	int kcat;
	int verbose;
	size_t rb_dir, rb_mail, msg_bytes;   /* the rebuild rows' workloads */
	int rb_mixed, rb_only;
};

/* ---- workload ------------------------------------------------------- */

/* xorshift64: cheap, deterministic filler for the hash strings. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A yescrypt-shaped crypt string: "$y$j9T$" + 22-char salt + "$" + 43
 * chars, from crypt's base64 alphabet (73 chars, like a real one). */
static void fake_yescrypt(uint64_t *rng, char out[80])
{
	static const char b64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t o = (size_t)snprintf(out, 80, "$y$j9T$");

	for (int i = 0; i < 22; i++)
		out[o++] = b64[rng_next(rng) % 64];
	out[o++] = '$';
	for (int i = 0; i < 43; i++)
		out[o++] = b64[rng_next(rng) % 64];
	out[o] = '\0';
}

/* Event i of the workload, as the admin API would write it. */
int bench_dir_event(size_t i, uint64_t *rng, struct evm_event *ev, const char **error_r)
{
	size_t t = i / EVENTS_PER_TENANT;
	char tenant[32], domain[64], address[96], display[128], hash[80];
	json_t *data;

	snprintf(tenant, sizeof tenant, "t%06zu", t);
	snprintf(domain, sizeof domain, "d%06zu.bench.test", t);
	switch (i % EVENTS_PER_TENANT) {
	case 0:
		data = json_pack("{s:s}", "name", tenant);
		return evm_event_init(ev, "tenant.create", tenant, "", "admin", data, error_r);
	case 1:
		data = json_pack("{s:s, s:s}", "domain", domain, "tenant", tenant);
		return evm_event_init(ev, "domain.add", tenant, "", "admin", data, error_r);
	default:
		snprintf(address, sizeof address, "user%07zu@%s", i, domain);
		snprintf(display, sizeof display, "Bench User %07zu", i);
		fake_yescrypt(rng, hash);
		data = json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address,
				 "display_name", display, "quota", (json_int_t)10737418240LL,
				 "state", "active", "password_hash", hash);
		return evm_event_init(ev, "account.create", tenant, address, "admin", data, error_r);
	}
}

/* Builds and encodes the n events once. */
static void payloads_make(struct bench_payloads *pl, size_t n)
{
	uint64_t rng = 0x9e3779b97f4a7c15ULL;

	memset(pl, 0, sizeof *pl);
	pl->n = n;
	pl->value = xcalloc(n, sizeof *pl->value);
	pl->value_len = xcalloc(n, sizeof *pl->value_len);
	pl->key = xcalloc(n, sizeof *pl->key);
	for (size_t i = 0; i < n; i++) {
		struct evm_event ev;
		const char *error;

		if (bench_dir_event(i, &rng, &ev, &error) < 0 ||
		    evm_event_encode(&ev, &pl->value[i], &pl->value_len[i], &error) < 0)
			log_panic("bench: event %zu: %s", i, error);
		memcpy(pl->key[i], ev.id, sizeof pl->key[i]);
		pl->bytes += pl->value_len[i];
		switch (i % EVENTS_PER_TENANT) {
		case 0: pl->tenants++; break;
		case 1: pl->domains++; break;
		default: pl->accounts++; break;
		}
		evm_event_clear(&ev);
	}
}

static void payloads_free(struct bench_payloads *pl)
{
	for (size_t i = 0; i < pl->n; i++)
		free(pl->value[i]);
	free(pl->value);
	free(pl->value_len);
	free(pl->key);
}

/* "key<TAB>value\n" per event, for kcat -P -K '\t'. */
static int payloads_write(const struct bench_payloads *pl, const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	for (size_t i = 0; i < pl->n; i++) {
		fputs(pl->key[i], f);
		fputc('\t', f);
		fwrite(pl->value[i], 1, pl->value_len[i], f);
		fputc('\n', f);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- evmail: append ------------------------------------------------- */

struct append_run {
	struct evlog *log;
	struct event_base *base;
	const struct bench_payloads *pl;
	size_t inflight;
	size_t next, done, failed;
	int warm;                  /* the warm-up record was acknowledged */
	int stopped;
	char error[256];
	double t_first, t_end;
};

static void append_more(struct append_run *a);

/* Append callback (loop thread): count, refill, stop after the last. */
static void append_cb(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct append_run *a = ctx;

	a->done++;
	if (status != 0 && a->failed++ == 0)
		snprintf(a->error, sizeof a->error, "%s", error ? error : "append failed");
	if (a->done == 1)
		a->t_first = bench_now();
	if (a->done == a->pl->n) {
		a->t_end = bench_now();
		event_base_loopbreak(a->base);
		return;
	}
	append_more(a);
}

/* Queues appends until K are in flight or all are queued. */
static void append_more(struct append_run *a)
{
	while (!a->stopped && a->next < a->pl->n && a->next - a->done < a->inflight) {
		const char *error = NULL;
		size_t i = a->next;

		if (evlog_append(a->log, EVM_TOPIC_DIRECTORY, -1, a->pl->key[i], EVM_ID_HEX_LEN,
				 a->pl->value[i], a->pl->value_len[i], append_cb, a, &error) < 0) {
			snprintf(a->error, sizeof a->error, "evlog_append #%zu: %s", i, error);
			a->stopped = 1;
			event_base_loopbreak(a->base);
			return;
		}
		a->next++;
	}
}

/* Callback of the warm-up record. */
static void warmup_cb(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct append_run *a = ctx;

	a->warm = 1;
	if (status != 0) {
		snprintf(a->error, sizeof a->error, "warm-up append: %s", error ? error : "failed");
		a->stopped = 1;
	}
	event_base_loopbreak(a->base);
}

/* One acknowledged record before the clock starts, so that connections,
 * the idempotent producer id and file creation are not timed (the peer
 * does the same). It goes to the cluster topic, which the projector keeps
 * out of events_applied. */
static void append_warmup(struct append_run *a)
{
	struct evm_event ev;
	const char *error;
	char *val;
	size_t len;

	if (evm_event_init(&ev, "bench.warmup", "", "", "bench", NULL, &error) < 0 ||
	    evm_event_encode(&ev, &val, &len, &error) < 0)
		log_panic("bench: warm-up event: %s", error);
	if (evlog_append(a->log, EVM_TOPIC_CLUSTER, -1, "bench", 5, val, len, warmup_cb, a,
			 &error) < 0) {
		snprintf(a->error, sizeof a->error, "warm-up append: %s", error);
		a->stopped = 1;
	} else {
		while (!a->warm && !a->stopped)
			event_base_dispatch(a->base);
	}
	free(val);
	evm_event_clear(&ev);
}

static void append_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct append_run *a = arg;

	snprintf(a->error, sizeof a->error, "timed out with %zu of %zu acknowledged", a->done, a->pl->n);
	a->stopped = 1;
	event_base_loopbreak(a->base);
}

/* Appends every payload through log; the clock runs from the first append
 * to the last callback. */
static void run_append(const struct opts *o, struct evlog *log, struct event_base *base,
		       const struct bench_payloads *pl, struct bench_result *res)
{
	struct append_run a = { .log = log, .base = base, .pl = pl, .inflight = o->inflight };
	struct timeval tv = { o->timeout_s, 0 };
	struct event *timer = evtimer_new(base, append_timeout_cb, &a);
	double t0;

	memset(res, 0, sizeof *res);
	res->ran = 1;
	evtimer_add(timer, &tv);
	append_warmup(&a);
	t0 = bench_now();
	append_more(&a);
	if (!a.stopped)
		event_base_dispatch(base);
	event_free(timer);
	res->secs = (a.done == pl->n ? a.t_end : bench_now()) - t0;
	res->count = a.done - a.failed;
	res->failed = a.failed + (pl->n - a.done);
	res->ok = a.done == pl->n && a.failed == 0;
	if (a.failed > 0)
		snprintf(res->note, sizeof res->note, "%zu failed, first: %s", a.failed, a.error);
	else if (!res->ok)
		snprintf(res->note, sizeof res->note, "%s", a.error);
	else
		snprintf(res->note, sizeof res->note, "first ack after %.1f ms", (a.t_first - t0) * 1e3);
}

/* ---- evmail: projector ---------------------------------------------- */

struct proj_run {
	struct projector *p;
	struct event_base *base;
	size_t n;
	double t0, deadline, t_end;
	int done;
	json_t *last;              /* last status seen */
	int verbose;
	double next_trace;
	char failed_detail[256];
};

/* True when status shows n applied and lag 0 on every partition. */
static int caught_up(json_t *st, size_t n)
{
	json_t *parts = json_object_get(st, "partitions"), *pt;
	size_t i;

	if (json_integer_value(json_object_get(st, "events_applied")) != (json_int_t)n ||
	    json_array_size(parts) == 0)
		return 0;
	json_array_foreach(parts, i, pt) {
		if (json_integer_value(json_object_get(pt, "lag")) != 0 ||
		    json_integer_value(json_object_get(pt, "end")) < 0)
			return 0;
	}
	return 1;
}

/* Every 10 ms: read projector_status(). */
static void proj_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proj_run *r = arg;
	json_t *st = projector_status(r->p);
	const char *state = json_string_value(json_object_get(st, "state"));

	json_decref(r->last);
	r->last = st;
	if (r->verbose && bench_now() >= r->next_trace) {
		fprintf(stderr, "bench_log: %.1f s: state %s, applied %lld\n", bench_now() - r->t0,
			state ? state : "?",
			(long long)json_integer_value(json_object_get(st, "events_applied")));
		r->next_trace = bench_now() + 1;
	}
	if (state != NULL && strcmp(state, "failed") == 0 && r->failed_detail[0] == '\0')
		snprintf(r->failed_detail, sizeof r->failed_detail, "%s",
			 json_string_value(json_object_get(st, "detail")));
	if (caught_up(st, r->n)) {
		r->t_end = bench_now();
		r->done = 1;
		event_base_loopbreak(r->base);
	} else if (bench_now() > r->deadline) {
		event_base_loopbreak(r->base);
	}
}

/* A fresh view under dir, a projector over log, timed from
 * projector_start() until it has caught up with all n events. */
void bench_replay(const struct evm_config *cfg, struct evlog *log, struct event_base *base,
		  const char *view_dir, size_t n, int timeout_s, int verbose,
		  struct bench_result *res, size_t *accepted_r)
{
	struct proj_run r = { .base = base, .n = n, .verbose = verbose };
	double cpu0 = bench_cpu();
	struct timeval tv = { 0, 10 * 1000 };
	struct view *view = NULL;
	struct event *tick;
	const char *error;

	memset(res, 0, sizeof *res);
	res->ran = 1;
	*accepted_r = 0;
	if (view_open(view_dir, &view, &error) < 0) {
		snprintf(res->note, sizeof res->note, "view_open: %s", error);
		return;
	}
	if (projector_create(cfg, log, view, base, &r.p, &error) < 0) {
		snprintf(res->note, sizeof res->note, "projector_create: %s", error);
		view_close(&view);
		return;
	}
	tick = event_new(base, -1, EV_PERSIST, proj_tick_cb, &r);
	event_add(tick, &tv);
	r.t0 = bench_now();
	r.deadline = r.t0 + timeout_s;
	if (projector_start(r.p, &error) < 0) {
		snprintf(res->note, sizeof res->note, "projector_start: %s", error);
	} else {
		event_base_dispatch(base);
	}
	event_free(tick);
	res->secs = (r.done ? r.t_end : bench_now()) - r.t0;
	if (r.last != NULL) {
		json_int_t applied = json_integer_value(json_object_get(r.last, "events_applied"));
		json_int_t rejected = json_integer_value(json_object_get(r.last, "events_rejected"));
		json_int_t decode = json_integer_value(json_object_get(r.last, "decode_errors"));
		res->count = (size_t)applied;
		*accepted_r = (size_t)(applied - rejected);
		if (verbose) {
			char *s = json_dumps(r.last, JSON_COMPACT);
			fprintf(stderr, "bench_log: final projector status: %s\n", s);
			free(s);
		}
		if (!r.done)
			snprintf(res->note, sizeof res->note,
				 "not caught up after %d s: applied %lld of %zu%s%s", timeout_s,
				 (long long)applied, n, r.failed_detail[0] ? "; failed: " : "",
				 r.failed_detail);
		else if (rejected > 0 || decode > 0)
			snprintf(res->note, sizeof res->note, "%lld rejected, %lld decode errors",
				 (long long)rejected, (long long)decode);
	}
	res->ok = r.done;
	res->cpu = bench_cpu() - cpu0;
	projector_destroy(&r.p);
	/* The digest proves a change of the apply path left the view's bytes
	 * alone (the rebuild rows' logs are the same in every run). */
	if (r.done && view_digest(view, res->digest, NULL, &error) < 0)
		snprintf(res->digest, sizeof res->digest, "(digest: %.50s)", error);
	view_close(&view);
	json_decref(r.last);
}

/* ---- evmail: one backend -------------------------------------------- */

/* The config for one backend: defaults, then the bench's overrides. */
static int bench_config(const struct opts *o, struct evm_config *cfg, const char *data_dir,
			const char *brokers, const char *prefix, const char **error_r)
{
	char num[32];

	if (config_load(NULL, cfg, error_r) < 0)
		return -1;
	if (config_set(cfg, "node.id", "bench", error_r) < 0 ||
	    config_set(cfg, "node.data_dir", data_dir, error_r) < 0 ||
	    config_set(cfg, "log.backend", brokers ? "kafka" : "embedded", error_r) < 0 ||
	    config_set(cfg, "log.brokers", brokers ? brokers : "", error_r) < 0 ||
	    config_set(cfg, "log.topic_prefix", prefix, error_r) < 0)
		goto fail;
	if (o->linger_ms >= 0) {
		snprintf(num, sizeof num, "%d", o->linger_ms);
		if (config_set(cfg, "log.linger_ms", num, error_r) < 0)
			goto fail;
	}
	if (o->batch_max > 0) {
		snprintf(num, sizeof num, "%d", o->batch_max);
		if (config_set(cfg, "projector.batch_max", num, error_r) < 0)
			goto fail;
	}
	return 0;
fail:
	config_free(cfg);
	return -1;
}

/* Waits (bounded) until the log knows every topic. */
static int wait_topics(struct evlog *log, int timeout_s, const char **error_r)
{
	double deadline = bench_now() + timeout_s;
	const char *missing = NULL;
	int ret;

	while ((ret = evlog_refresh_topics(log, 5000, &missing)) != 1) {
		if (bench_now() > deadline) {
			*error_r = missing ? missing : "topics not visible";
			return -1;
		}
		usleep(200 * 1000);
	}
	return 0;
}

/* One evlog backend under test: its loop, config and open log. */
struct backend {
	struct event_base *base;
	struct evm_config cfg;
	int cfg_loaded;
	struct evlog *log;
	const char *name;          /* "embedded" or "kafka" */
	char dir[4096];
};

/* Opens the log (Kafka: creates the topics under a fresh prefix). On
 * failure res says why and -1 is returned; backend_close() still runs. */
static int backend_open(const struct opts *o, struct backend *b, const char *dir,
			const char *brokers, const char *prefix, struct bench_result *res)
{
	const char *error;
	json_t *report = NULL;

	memset(b, 0, sizeof *b);
	memset(res, 0, sizeof *res);
	res->ran = 1;
	b->name = brokers ? "kafka" : "embedded";
	snprintf(b->dir, sizeof b->dir, "%s", dir);
	b->base = event_base_new();
	if (b->base == NULL)
		log_fatal("bench: event_base_new failed");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		log_fatal("mkdir %s: %s", dir, strerror(errno));
	if (bench_config(o, &b->cfg, dir, brokers, prefix, &error) < 0) {
		snprintf(res->note, sizeof res->note, "config: %s", error);
		return -1;
	}
	b->cfg_loaded = 1;
	if (evlog_open(&b->cfg, b->base, &b->log, &error) < 0) {
		snprintf(res->note, sizeof res->note, "evlog_open: %s", error);
		return -1;
	}
	if (brokers != NULL) {
		if (evlog_topics_create(b->log, &report, &error) < 0 ||
		    wait_topics(b->log, 30, &error) < 0) {
			snprintf(res->note, sizeof res->note, "topics: %s", error);
			return -1;
		}
		json_decref(report);
		/* The broker goes on creating the partitions' logs after
		 * metadata shows them (50 here); on a small machine that
		 * slows the first acks by hundreds of ms. Both sides wait. */
		usleep((useconds_t)o->settle_ms * 1000);
	}
	return 0;
}

static void backend_close(struct backend *b)
{
	evlog_close(&b->log);
	if (b->cfg_loaded)
		config_free(&b->cfg);
	if (b->base != NULL)
		event_base_free(b->base);
	b->base = NULL;
	b->cfg_loaded = 0;
}

/* The timed append of the workload. */
static void backend_append(const struct opts *o, struct backend *b, const struct bench_payloads *pl,
			   struct bench_result *res)
{
	fprintf(stderr, "bench_log: %s append of %zu events...\n", b->name, pl->n);
	run_append(o, b->log, b->base, pl, res);
}

/* The timed projector run over what backend_append() wrote. */
static void backend_apply(const struct opts *o, struct backend *b, size_t n,
			  struct bench_result *res, size_t *accepted_r)
{
	char view_dir[4200];

	fprintf(stderr, "bench_log: %s projector apply...\n", b->name);
	snprintf(view_dir, sizeof view_dir, "%s/view", b->dir);
	bench_replay(&b->cfg, b->log, b->base, view_dir, n, o->timeout_s, o->verbose, res, accepted_r);
}

/* ---- output --------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path) < 0 ? -1 : 0;
}

static void rm_rf(const char *path)
{
	if (nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT)
		fprintf(stderr, "bench_log: could not remove %s: %s\n", path, strerror(errno));
}

/* "model name" of the first CPU, or "?". */
static void cpu_model(char *out, size_t size)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[512];

	snprintf(out, size, "?");
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f) != NULL) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			colon += strspn(colon + 1, " \t") + 1;
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(out, size, "%s", colon);
			break;
		}
	}
	fclose(f);
}

/* The first three fields of /proc/loadavg, or "?". */
static void load_average(char *out, size_t size)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;

	if (f != NULL && fscanf(f, "%lf %lf %lf", &a, &b, &c) == 3)
		snprintf(out, size, "%.2f %.2f %.2f", a, b, c);
	else
		snprintf(out, size, "?");
	if (f != NULL)
		fclose(f);
}

/* One row: name, rate, seconds, count, note. */
static void print_row(const char *name, const struct bench_result *r)
{
	if (!r->ran) {
		printf("  %-36s %12s %9s %9s  %s\n", name, "-", "-", "-", r->note[0] ? r->note : "not run");
		return;
	}
	if (!r->ok) {
		printf("  %-36s %12s %9.3f %9zu  FAILED: %s\n", name, "-", r->secs, r->count, r->note);
		return;
	}
	printf("  %-36s %12.0f %9.3f %9zu  %s\n", name, bench_rate(r), r->secs, r->count, r->note);
}

static void print_ratio(const char *name, const struct bench_result *a, const struct bench_result *b)
{
	double ra = bench_rate(a), rb = bench_rate(b);

	if (ra > 0 && rb > 0)
		printf("  %-44s %8.3g\n", name, ra / rb);
	else
		printf("  %-44s %8s\n", name, "-");
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bench_log [-n N] [--brokers HOST:PORT] [--inflight K] [--linger-ms MS]\n"
		"                 [--batch-max B] [--timeout S] [--settle-ms MS] [--tmp DIR] [--keep]\n"
		"                 [--no-kcat] [-v] [--rebuild-dir D] [--rebuild-mail M] [--msg-bytes B]\n"
		"                 [--rebuild-mixed] [--rebuild-only]\n"
		"  -n N            events (default 100000)\n"
		"  --brokers       Kafka bootstrap server; without it only the embedded rows run\n"
		"  --inflight K    appends/produces in flight at most (default 10000)\n"
		"  --linger-ms MS  log.linger_ms and the peer's linger.ms (default: log.linger_ms's default)\n"
		"  --batch-max B   projector.batch_max (default: its config default)\n"
		"  --timeout S     limit per phase (default 300)\n"
		"  --settle-ms MS  pause after creating Kafka topics, before the clock (default 3000)\n"
		"  --tmp DIR       where the scratch directory goes (default $TMPDIR or /tmp)\n"
		"  --keep          keep the scratch directory\n"
		"  --no-kcat       skip the kcat rows even when kcat is installed\n"
		"  -v              evmail's info log and the final projector status on stderr\n"
		"  --rebuild-dir D   rebuild rows: a log of D directory events (default 100000, 0 = none)\n"
		"  --rebuild-mail M  rebuild rows: a log of M messages with their blobs (default 25000)\n"
		"  --msg-bytes B     size of those messages (default 4096, 512..524288)\n"
		"  --rebuild-mixed   one mixed log of both instead of one log each\n"
		"  --rebuild-only    only the rebuild rows\n");
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "events", required_argument, NULL, 'n' },
		{ "brokers", required_argument, NULL, 'b' },
		{ "inflight", required_argument, NULL, 'i' },
		{ "linger-ms", required_argument, NULL, 'l' },
		{ "batch-max", required_argument, NULL, 'B' },
		{ "timeout", required_argument, NULL, 't' },
		{ "settle-ms", required_argument, NULL, 's' },
		{ "tmp", required_argument, NULL, 'T' },
		{ "keep", no_argument, NULL, 'k' },
		{ "no-kcat", no_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "rebuild-dir", required_argument, NULL, 'D' },
		{ "rebuild-mail", required_argument, NULL, 'M' },
		{ "msg-bytes", required_argument, NULL, 'S' },
		{ "rebuild-mixed", no_argument, NULL, 'X' },
		{ "rebuild-only", no_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){ .n = 100000, .inflight = 10000, .linger_ms = -1, .batch_max = -1,
			    .timeout_s = 300, .settle_ms = 3000, .kcat = 1, .rb_dir = 100000,
			    .rb_mail = 25000, .msg_bytes = 4096 };
	o->tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	while ((c = getopt_long(argc, argv, "n:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': o->n = strtoul(optarg, NULL, 10); break;
		case 'b': o->brokers = optarg; break;
		case 'i': o->inflight = strtoul(optarg, NULL, 10); break;
		case 'l': o->linger_ms = atoi(optarg); break;
		case 'B': o->batch_max = atoi(optarg); break;
		case 't': o->timeout_s = atoi(optarg); break;
		case 's': o->settle_ms = atoi(optarg); break;
		case 'T': o->tmp = optarg; break;
		case 'k': o->keep = 1; break;
		case 'K': o->kcat = 0; break;
		case 'v': o->verbose = 1; break;
		case 'D': o->rb_dir = strtoul(optarg, NULL, 10); break;
		case 'M': o->rb_mail = strtoul(optarg, NULL, 10); break;
		case 'S': o->msg_bytes = strtoul(optarg, NULL, 10); break;
		case 'X': o->rb_mixed = 1; break;
		case 'O': o->rb_only = 1; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || o->n == 0 || o->inflight == 0 || o->timeout_s <= 0 ||
	    o->settle_ms < 0 || o->msg_bytes < 512 || o->msg_bytes > 512 * 1024) {
		usage(stderr);
		exit(2);
	}
}

/* A rebuild row: name, rate, seconds, CPU seconds, count, note. */
static void print_rebuild_row(const char *name, const struct bench_result *r)
{
	if (!r->ok) {
		printf("  %-36s %12s %9.3f %7s %9zu  FAILED: %s\n", name, "-", r->secs, "-", r->count, r->note);
		return;
	}
	printf("  %-36s %12.0f %9.3f %7.2f %9zu  %s\n", name, bench_rate(r), r->secs, r->cpu, r->count,
	       r->note);
}

/* The rebuild rows: per workload (directory, mail, or one mixed log), a
 * fresh embedded log, its raw read and its replay, with the ratio. Returns
 * 1 if a run failed. */
static int rebuild_rows(const struct opts *o, const char *scratch)
{
	struct rebuild_opts ro = { .msg_bytes = o->msg_bytes, .batch_max = o->batch_max,
				   .timeout_s = o->timeout_s, .verbose = o->verbose };
	struct rebuild_run { const char *name; size_t dir, mail; } runs[2];
	size_t nruns = 0;
	int failed = 0;

	if (o->rb_mixed && (o->rb_dir > 0 || o->rb_mail > 0)) {
		runs[nruns++] = (struct rebuild_run){ "mixed", o->rb_dir, o->rb_mail };
	} else {
		if (o->rb_dir > 0)
			runs[nruns++] = (struct rebuild_run){ "directory", o->rb_dir, 0 };
		if (o->rb_mail > 0)
			runs[nruns++] = (struct rebuild_run){ "mail", 0, o->rb_mail };
	}
	if (nruns == 0)
		return 0;
	printf("\n  rebuild rows: embedded log, raw read vs projector replay of the same records\n");
	printf("  (cpu s: CPU time of the whole process during the row; %zu-byte messages, each a\n"
	       "  blob.chunk + a message.append)\n", o->msg_bytes);
	for (size_t i = 0; i < nruns; i++) {
		struct bench_result rd, rp;
		char dir[4200], name[96], load0[64], load1[64];

		ro.dir_events = runs[i].dir;
		ro.mail_msgs = runs[i].mail;
		snprintf(dir, sizeof dir, "%s/rebuild-%s", scratch, runs[i].name);
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			log_fatal("mkdir %s: %s", dir, strerror(errno));
		load_average(load0, sizeof load0);
		bench_rebuild(&ro, dir, &rd, &rp);
		load_average(load1, sizeof load1);
		printf("\n  %s log: %zu directory events, %zu messages; load average %s -> %s\n",
		       runs[i].name, runs[i].dir, runs[i].mail, load0, load1);
		printf("  %-36s %12s %9s %7s %9s  %s\n", "path", "events/s", "seconds", "cpu s", "records", "notes");
		snprintf(name, sizeof name, "raw evlog read (%s)", runs[i].name);
		print_rebuild_row(name, &rd);
		snprintf(name, sizeof name, "projector replay (%s)", runs[i].name);
		print_rebuild_row(name, &rp);
		print_ratio("replay / raw read", &rp, &rd);
		fflush(stdout);
		failed |= !rd.ok || !rp.ok;
		if (!o->keep)
			rm_rf(dir);
	}
	return failed;
}

/* The kcat binary on PATH, or NULL. */
static const char *find_kcat(char *buf, size_t size)
{
	const char *path = getenv("PATH");

	while (path != NULL && *path != '\0') {
		size_t len = strcspn(path, ":");
		snprintf(buf, size, "%.*s/kcat", (int)len, path);
		if (access(buf, X_OK) == 0)
			return buf;
		path += len + (path[len] == ':');
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct bench_payloads pl;
	struct bench_result emb_append = { 0 }, emb_apply = { 0 }, kafka_append = { 0 },
			    kafka_apply = { 0 }, raw_produce = { 0 }, raw_consume = { 0 },
			    kcat_produce = { 0 }, kcat_consume = { 0 };
	size_t emb_accepted = 0, kafka_accepted = 0;
	char scratch[4096], dir[4200], prefix[128], topic[160], warm_topic[160], file[4300],
		model[256], kcatbuf[4096], load_start[64], load_end[64];
	struct backend be;
	struct evm_config defaults;
	const char *error, *kcat = NULL;
	struct peer_opts po;
	struct utsname un;
	int linger, failed;

	parse_opts(argc, argv, &o);
	load_average(load_start, sizeof load_start);
	log_set_ident("bench_log");
	log_set_level(o.verbose ? LOG_INFO : LOG_WARN);
	if (evthread_use_pthreads() < 0)
		log_fatal("evthread_use_pthreads failed");
	if (config_load(NULL, &defaults, &error) < 0)
		log_fatal("config: %s", error);
	linger = o.linger_ms >= 0 ? o.linger_ms : (int)defaults.log_linger_ms;
	snprintf(scratch, sizeof scratch, "%s/evmail-bench-XXXXXX", o.tmp);
	if (mkdtemp(scratch) == NULL)
		log_fatal("mkdtemp %s: %s", scratch, strerror(errno));
	snprintf(prefix, sizeof prefix, "bench%d.%lld.", (int)getpid(), (long long)evm_now_ms());

	if (o.rb_only) {
		cpu_model(model, sizeof model);
		printf("\nevmail rebuild benchmark\n  machine: nproc %ld, %s\n  load average at start: %s\n",
		       sysconf(_SC_NPROCESSORS_ONLN), model, load_start);
		failed = rebuild_rows(&o, scratch);
		if (!o.keep)
			rm_rf(scratch);
		config_free(&defaults);
		return failed ? 1 : 0;
	}
	fprintf(stderr, "bench_log: encoding %zu events...\n", o.n);
	payloads_make(&pl, o.n);

	/* Embedded: append, then project. */
	snprintf(dir, sizeof dir, "%s/embedded", scratch);
	if (backend_open(&o, &be, dir, NULL, prefix, &emb_append) == 0) {
		backend_append(&o, &be, &pl, &emb_append);
		if (emb_append.ok)
			backend_apply(&o, &be, pl.n, &emb_apply, &emb_accepted);
	}
	backend_close(&be);
	if (!o.keep)
		rm_rf(dir);

	po = (struct peer_opts){ .brokers = o.brokers, .linger_ms = linger, .inflight = o.inflight,
				 .timeout_s = o.timeout_s, .warmup_topic = warm_topic };
	snprintf(warm_topic, sizeof warm_topic, "%swarmup", prefix);
	snprintf(topic, sizeof topic, "%sraw", prefix);
	if (o.brokers != NULL) {
		/* Kafka, interleaved with the peer so that each pair runs back
		 * to back: evmail append, raw produce, evmail apply, raw consume. */
		snprintf(dir, sizeof dir, "%s/kafka", scratch);
		if (backend_open(&o, &be, dir, o.brokers, prefix, &kafka_append) == 0)
			backend_append(&o, &be, &pl, &kafka_append);

		fprintf(stderr, "bench_log: raw librdkafka produce on %s...\n", topic);
		if (peer_create_topic(&po, warm_topic, &error) < 0 ||
		    peer_create_topic(&po, topic, &error) < 0) {
			raw_produce.ran = 1;
			snprintf(raw_produce.note, sizeof raw_produce.note, "%s", error);
		} else {
			usleep((useconds_t)o.settle_ms * 1000);
			peer_produce(&po, topic, &pl, &raw_produce);
		}

		if (kafka_append.ok)
			backend_apply(&o, &be, pl.n, &kafka_apply, &kafka_accepted);
		backend_close(&be);
		if (!o.keep)
			rm_rf(dir);

		if (raw_produce.ok) {
			fprintf(stderr, "bench_log: raw librdkafka consume of %s...\n", topic);
			peer_consume(&po, topic, pl.n, &raw_consume);
		}

		kcat = o.kcat ? find_kcat(kcatbuf, sizeof kcatbuf) : NULL;
		snprintf(topic, sizeof topic, "%skcat", prefix);
		snprintf(file, sizeof file, "%s/payloads.tsv", scratch);
		if (kcat != NULL && payloads_write(&pl, file) == 0 &&
		    peer_create_topic(&po, topic, &error) == 0) {
			char errlog[4300], out[4300];
			fprintf(stderr, "bench_log: kcat -P / -C on %s...\n", topic);
			snprintf(errlog, sizeof errlog, "%s/kcat.log", scratch);
			snprintf(out, sizeof out, "%s/kcat.out", scratch);
			usleep((useconds_t)o.settle_ms * 1000);
			peer_kcat_produce(&po, kcat, topic, file, errlog, &kcat_produce);
			if (kcat_produce.ok)
				peer_kcat_consume(&po, kcat, topic, pl.n, out, errlog, &kcat_consume);
		} else {
			snprintf(kcat_produce.note, sizeof kcat_produce.note, "%s",
				 !o.kcat ? "--no-kcat" : kcat == NULL ? "kcat not installed" : "setup failed");
		}
	} else {
		static const char *const why = "no --brokers";
		snprintf(kafka_append.note, sizeof kafka_append.note, "%s", why);
		snprintf(kafka_apply.note, sizeof kafka_apply.note, "%s", why);
		snprintf(raw_produce.note, sizeof raw_produce.note, "%s", why);
		snprintf(raw_consume.note, sizeof raw_consume.note, "%s", why);
		snprintf(kcat_produce.note, sizeof kcat_produce.note, "%s", why);
	}
	if (kcat_consume.note[0] == '\0' && !kcat_consume.ran)
		snprintf(kcat_consume.note, sizeof kcat_consume.note, "%s", kcat_produce.note);
	if (!emb_apply.ran && emb_apply.note[0] == '\0')
		snprintf(emb_apply.note, sizeof emb_apply.note, "append failed");
	if (o.brokers != NULL && !kafka_apply.ran && kafka_apply.note[0] == '\0')
		snprintf(kafka_apply.note, sizeof kafka_apply.note, "append failed");
	if (o.brokers != NULL && !raw_consume.ran && raw_consume.note[0] == '\0')
		snprintf(raw_consume.note, sizeof raw_consume.note, "produce failed");
	if (emb_apply.ok && emb_apply.note[0] == '\0')
		snprintf(emb_apply.note, sizeof emb_apply.note, "accepted %zu of %zu", emb_accepted, pl.n);
	if (kafka_apply.ok && kafka_apply.note[0] == '\0')
		snprintf(kafka_apply.note, sizeof kafka_apply.note, "accepted %zu of %zu", kafka_accepted, pl.n);

	cpu_model(model, sizeof model);
	load_average(load_end, sizeof load_end);
	uname(&un);
	printf("\nevmail log + projector benchmark\n");
	printf("  machine: nproc %ld, %s, %s %s, librdkafka %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       model, un.sysname, un.release, rd_kafka_version_str());
	printf("  load average: %s at start, %s at end (other work on the machine skews every row)\n",
	       load_start, load_end);
	printf("  N = %zu events (%zu tenant.create, %zu domain.add, %zu account.create), "
	       "%.0f bytes average, %.1f MB\n", pl.n, pl.tenants, pl.domains, pl.accounts,
	       (double)pl.bytes / (double)pl.n, (double)pl.bytes / 1e6);
	printf("  in flight <= %zu, linger.ms = %d, projector.batch_max = %lld, brokers = %s, scratch = %s\n",
	       o.inflight, linger, o.batch_max > 0 ? (long long)o.batch_max : (long long)defaults.projector_batch_max,
	       o.brokers ? o.brokers : "-", scratch);
	printf("\n  %-36s %12s %9s %9s  %s\n", "path", "events/s", "seconds", "records", "notes");
	print_row("evmail embedded append", &emb_append);
	print_row("evmail kafka append", &kafka_append);
	print_row("raw librdkafka produce", &raw_produce);
	print_row("kcat -P (process incl.)", &kcat_produce);
	print_row("evmail projector apply (embedded)", &emb_apply);
	print_row("evmail projector apply (kafka)", &kafka_apply);
	print_row("raw librdkafka consume", &raw_consume);
	print_row("kcat -C -e (process incl.)", &kcat_consume);
	printf("\n  ratios\n");
	print_ratio("evmail kafka append / raw produce", &kafka_append, &raw_produce);
	print_ratio("evmail kafka apply / raw consume", &kafka_apply, &raw_consume);
	print_ratio("evmail embedded append / raw produce", &emb_append, &raw_produce);
	printf("\n");
	fflush(stdout);

	failed = rebuild_rows(&o, scratch);
	failed |= (emb_append.ran && !emb_append.ok) || (emb_apply.ran && !emb_apply.ok) ||
		 (kafka_append.ran && !kafka_append.ok) || (kafka_apply.ran && !kafka_apply.ok) ||
		 (raw_produce.ran && !raw_produce.ok) || (raw_consume.ran && !raw_consume.ok);
	if (!o.keep)
		rm_rf(scratch);
	payloads_free(&pl);
	config_free(&defaults);
	return failed ? 1 : 0;
}
