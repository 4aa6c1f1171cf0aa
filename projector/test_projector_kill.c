/* test_projector_kill - exactly-once and determinism of the projector.
 *
 * The log is built by a deterministic generator (fixed ids and times), so
 * a child process re-executed from this binary sees byte-identical records.
 * A child projecting into a view is SIGKILLed at random moments several
 * times and restarted; the final view must have the digest of an
 * uninterrupted run. The digest covers every outcome and the persisted
 * counters (stat/projector.*): an event applied twice would show up as an
 * extra duplicate, a lost one as a missing outcome. */
#include "projector/projector.h"
#include "projector/keys.h"
#include "projector/projector_fakelog.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"
#define GEN_RECORDS 8000
#define MAIL_PARTS 3

struct gen_stats {
	unsigned events, duplicates, undecodable;
};

/* The shared test log: directory commands (accepted and rejected), exact
 * duplicates, undecodable records, mail-topic events of a type no applier
 * knows yet, and heartbeats on the cluster topic. */
static void gen_log(struct fake_log *fl, unsigned n, struct gen_stats *gs)
{
	char id[EVM_ID_HEX_LEN + 1], a[64], b[64];

	memset(gs, 0, sizeof *gs);
	for (unsigned i = 0; i < n; i++) {
		unsigned g = i / 10;
		json_t *d = NULL;
		const char *type = NULL;
		enum evm_topic_id topic = EVM_TOPIC_DIRECTORY;
		int32_t part = 0;
		unsigned idn = i;

		switch (i % 10) {
		case 0:
			snprintf(a, sizeof a, "t%u", g);
			type = "tenant.create";
			d = json_pack("{s:s}", "name", a);
			break;
		case 1:
			snprintf(a, sizeof a, "d%u.test", g);
			snprintf(b, sizeof b, "t%u", g);
			type = "domain.add";
			d = json_pack("{s:s, s:s}", "domain", a, "tenant", b);
			break;
		case 2:
		case 3:  /* the same address again: rejected "exists" */
			snprintf(a, sizeof a, "u%u@d%u.test", g, g);
			type = "account.create";
			d = json_pack("{s:s, s:s, s:i, s:s, s:s}", "address", a, "display_name", "U",
				      "quota", (int)i, "state", "active", "password_hash", HASH);
			break;
		case 4:  /* an exact duplicate of record i-4 (the tenant.create) */
			type = "tenant.create";
			idn = i - 4;
			snprintf(a, sizeof a, "t%u", g);
			d = json_pack("{s:s}", "name", a);
			gs->duplicates++;
			break;
		case 5:
			snprintf(a, sizeof a, "garbage %u", i);
			fake_push(fl, EVM_TOPIC_DIRECTORY, 0, a, strlen(a));
			gs->undecodable++;
			continue;
		case 6:
			snprintf(a, sizeof a, "a%u@d%u.test", g, g);
			snprintf(b, sizeof b, "u%u@d%u.test", g, g);
			type = "alias.add";
			d = json_pack("{s:s, s:s}", "alias", a, "target", b);
			break;
		case 7:  /* an older tenant again: rejected */
			snprintf(a, sizeof a, "t%u", g / 2);
			type = "tenant.create";
			d = json_pack("{s:s}", "name", a);
			break;
		case 8:
			snprintf(a, sizeof a, "u%u@d%u.test", g, g);
			type = "mail.append";
			topic = EVM_TOPIC_MAIL;
			part = evm_partition_for(a, strlen(a), MAIL_PARTS);
			d = json_pack("{s:i}", "n", (int)i);
			break;
		case 9:
			if (g % 10 == 0) {
				snprintf(a, sizeof a, "n%u", g % 3);
				fake_push_event(fl, EVM_TOPIC_CLUSTER, 0, fake_id(i, id), "node.heartbeat",
						"", "", json_pack("{s:s}", "id", a));
				continue;
			}
			snprintf(a, sizeof a, "u%u@d%u.test", g, g);
			type = "account.update";
			d = json_pack("{s:s, s:s, s:i, s:s, s:s}", "address", a, "display_name", "V",
				      "quota", 5, "state", "disabled", "password_hash", HASH);
			break;
		}
		fake_push_event(fl, topic, part, fake_id(idn, id), type, "", "", d);
		gs->events++;
	}
}

struct env {
	struct evm_config cfg;
	struct fake_log *fl;
	struct gen_stats gs;
	struct event_base *base;
};

/* bulk_min: projector.bulk_min, or NULL for its default. */
static int env_init(struct env *e, unsigned records, const char *bulk_min)
{
	const char *error = NULL;

	memset(e, 0, sizeof *e);
	if (config_load(NULL, &e->cfg, &error) < 0 ||
	    config_set(&e->cfg, "projector.batch_max", "16", &error) < 0 ||
	    (bulk_min != NULL && config_set(&e->cfg, "projector.bulk_min", bulk_min, &error) < 0)) {
		fprintf(stderr, "config: %s\n", error);
		return -1;
	}
	e->fl = fake_log_new(&e->cfg, MAIL_PARTS);
	gen_log(e->fl, records, &e->gs);
	e->base = event_base_new();
	return 0;
}

static void env_free(struct env *e)
{
	event_base_free(e->base);
	fake_log_free(&e->fl);
	config_free(&e->cfg);
}

/* True when the projector has applied every partition to its end and is
 * not rebuilding. */
static int caught_up(struct projector *p, struct fake_log *fl)
{
	json_t *st = projector_status(p), *pt;
	int ok = strcmp(json_string_value(json_object_get(st, "state")), "running") == 0;
	size_t i;

	/* mail, blob and queue have MAIL_PARTS partitions each; directory,
	 * cluster 1 */
	ok = ok && json_array_size(json_object_get(st, "partitions")) == 3 * MAIL_PARTS + 2;
	json_array_foreach(json_object_get(st, "partitions"), i, pt) {
		const char *name = json_string_value(json_object_get(pt, "topic"));
		int32_t part = (int32_t)json_integer_value(json_object_get(pt, "partition"));
		int t = -1;
		for (int k = 0; k < EVM_TOPIC_COUNT; k++) {
			if (strcmp(name, evm_topics[k].suffix) == 0)
				t = k;
		}
		if (t < 0) {
			ok = 0;
			break;
		}
		if (json_integer_value(json_object_get(pt, "applied")) != fake_end(fl, (enum evm_topic_id)t, part))
			ok = 0;
	}
	json_decref(st);
	return ok;
}

/* Waits (without running the loop: no waiters here) until caught up. */
static int wait_caught_up(struct projector *p, struct fake_log *fl, int timeout_ms)
{
	int64_t deadline = evm_mono_ms() + timeout_ms;

	while (!caught_up(p, fl)) {
		if (evm_mono_ms() > deadline)
			return 0;
		usleep(2000);
	}
	return 1;
}

/* The child: project the generated log into the view at path, exit 0
 * once caught up. With rebuild set, it first catches up, then asks for a
 * rebuild and waits for that to finish too. bulk_min: see env_init. */
static int run_child(const char *path, unsigned records, int ready_fd, int rebuild,
		     const char *bulk_min)
{
	struct env e;
	struct view *view = NULL;
	struct projector *p = NULL;
	const char *error = NULL;
	int ok;

	if (env_init(&e, records, bulk_min) < 0 || view_open(path, &view, &error) < 0 ||
	    projector_create(&e.cfg, &e.fl->log, view, e.base, &p, &error) < 0 ||
	    projector_start(p, &error) < 0) {
		fprintf(stderr, "child: %s\n", error ? error : "setup failed");
		return 2;
	}
	if (rebuild && (!wait_caught_up(p, e.fl, 60000) || projector_rebuild(p, &error) < 0))
		return 5;
	/* Tell the parent that applying (or the rebuild) has begun. */
	if (write(ready_fd, "s", 1) != 1)
		return 4;
	close(ready_fd);
	ok = wait_caught_up(p, e.fl, 60000);
	projector_destroy(&p);
	view_close(&view);
	env_free(&e);
	return ok ? 0 : 3;
}

/* Starts a child on the view at path; returns once it has started its
 * projector (the time before that is spent building the log), or asked
 * for its rebuild (mode "rebuild"). bulk_min "-": the default. */
static pid_t spawn_child_mode(const char *path, const char *mode, const char *bulk_min)
{
	char n[32], fdtext[16], c;
	int fds[2];
	pid_t pid;

	if (pipe(fds) < 0)
		return -1;
	snprintf(n, sizeof n, "%u", GEN_RECORDS);
	snprintf(fdtext, sizeof fdtext, "%d", fds[1]);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		execl("/proc/self/exe", "test_projector_kill", "--child", path, n, fdtext, mode, bulk_min,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], &c, 1) != 1)
		fprintf(stderr, "  child %d did not start\n", (int)pid);
	close(fds[0]);
	return pid;
}

static pid_t spawn_child(const char *path)
{
	return spawn_child_mode(path, "apply", "-");
}

/* Exit status of a child run to completion (or -signal). */
static int wait_child(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) < 0)
		return -1000;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

static int digest_of(const char *path, char out[65])
{
	struct view *v = NULL;
	const char *error = NULL;
	int r;

	if (view_open(path, &v, &error) < 0)
		return -1;
	r = view_digest(v, out, NULL, &error);
	view_close(&v);
	return r;
}

/* A decimal number stored at key, -1 if missing. */
static long long view_number(const char *path, const char *key)
{
	struct view *v = NULL;
	const char *error = NULL;
	char *val = NULL;
	long long n = -1;

	if (view_open(path, &v, &error) < 0)
		return -1;
	if (view_get(v, key, strlen(key), &val, NULL, &error) == 1)
		n = atoll(val);
	free(val);
	view_close(&v);
	return n;
}

static void test_killed_between_batches(void)
{
	const char *dir = test_tmpdir("proj-kill");
	char ref[1100], victim[1100], dref[65], dvic[65];
	unsigned seed = (unsigned)getpid() ^ (unsigned)evm_now_ms();
	int64_t t0, took;
	int killed = 0, midway = 0;
	struct env e;
	pid_t pid;
	long long dir_end;

	CHECK(env_init(&e, GEN_RECORDS, NULL) == 0);
	dir_end = fake_end(e.fl, EVM_TOPIC_DIRECTORY, 0);
	snprintf(ref, sizeof ref, "%s/ref", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	pid = spawn_child(ref);
	t0 = evm_mono_ms();
	CHECK_EQ_INT(wait_child(pid), 0);
	took = evm_mono_ms() - t0;
	srand(seed);
	fprintf(stderr, "  uninterrupted apply %lld ms; kill seed %u\n", (long long)took, seed);
	for (int k = 0; k < 8; k++) {
		int st;
		long long at;

		pid = spawn_child(victim);
		/* Each restart resumes, so short delays keep kills inside the work. */
		usleep((useconds_t)(rand() % (int)(took * 200 + 1)));
		kill(pid, SIGKILL);
		st = wait_child(pid);
		at = view_number(victim, KEY_OFFSET "directory/0000000000");
		fprintf(stderr, "  run %d: %s at directory offset %lld of %lld\n", k,
			st == -SIGKILL ? "killed" : "finished", at, dir_end);
		if (st == -SIGKILL)
			killed++;
		if (st == -SIGKILL && at > 0 && at < dir_end)
			midway++;
	}
	CHECK_EQ_INT(wait_child(spawn_child(victim)), 0);
	CHECK(killed >= 1);
	CHECK(midway >= 1);
	CHECK_EQ_INT(digest_of(ref, dref), 0);
	CHECK_EQ_INT(digest_of(victim, dvic), 0);
	CHECK_EQ_STR(dvic, dref);
	/* Each event counted exactly once, each duplicate skipped once. */
	CHECK_EQ_INT(view_number(victim, "stat/projector.applied"), e.gs.events - e.gs.duplicates);
	CHECK_EQ_INT(view_number(victim, "stat/projector.duplicates"), e.gs.duplicates);
	CHECK_EQ_INT(view_number(victim, "stat/projector.decode_errors"), e.gs.undecodable);
	env_free(&e);
}

/* Two projectors over one log agree; a rebuild reproduces the view. */
static void test_replicas_and_rebuild(void)
{
	const char *dir = test_tmpdir("proj-replicas");
	struct view *va = NULL, *vb = NULL;
	struct projector *pa = NULL, *pb = NULL;
	char path[1100], da[65], db[65], dr[65];
	const char *error = NULL;
	uint64_t keys = 0;
	long long total;
	json_t *st;
	struct env e;

	CHECK(env_init(&e, GEN_RECORDS, NULL) == 0);
	snprintf(path, sizeof path, "%s/a", dir);
	CHECK_EQ_INT(view_open(path, &va, &error), 0);
	snprintf(path, sizeof path, "%s/b", dir);
	CHECK_EQ_INT(view_open(path, &vb, &error), 0);
	CHECK_EQ_INT(projector_create(&e.cfg, &e.fl->log, va, e.base, &pa, &error), 0);
	CHECK_EQ_INT(projector_create(&e.cfg, &e.fl->log, vb, e.base, &pb, &error), 0);
	CHECK_EQ_INT(projector_start(pa, &error), 0);
	CHECK_EQ_INT(projector_start(pb, &error), 0);
	CHECK(wait_caught_up(pa, e.fl, 60000));
	CHECK(wait_caught_up(pb, e.fl, 60000));
	CHECK_EQ_INT(view_digest(va, da, &keys, &error), 0);
	CHECK_EQ_INT(view_digest(vb, db, NULL, &error), 0);
	CHECK_EQ_STR(da, db);
	CHECK(keys > 1000);

	CHECK_EQ_INT(projector_rebuild(pa, &error), 0);
	/* Wait for the rebuild to have started and finished. */
	for (int i = 0; i < 30000; i++) {
		st = projector_status(pa);
		total = json_integer_value(json_object_get(json_object_get(st, "rebuild"), "total"));
		json_decref(st);
		if (total > 0 && caught_up(pa, e.fl))
			break;
		usleep(2000);
	}
	st = projector_status(pa);
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(st, "rebuild"), "done")),
		     fake_end(e.fl, EVM_TOPIC_DIRECTORY, 0) + fake_end(e.fl, EVM_TOPIC_MAIL, 0) +
		     fake_end(e.fl, EVM_TOPIC_MAIL, 1) + fake_end(e.fl, EVM_TOPIC_MAIL, 2));
	CHECK_EQ_INT(json_integer_value(json_object_get(st, "events_applied")),
		     e.gs.events - e.gs.duplicates);
	json_decref(st);
	CHECK_EQ_INT(view_digest(va, dr, NULL, &error), 0);
	CHECK_EQ_STR(dr, da);
	projector_destroy(&pa);
	projector_destroy(&pb);
	view_close(&va);
	view_close(&vb);
	env_free(&e);
}

/* 1 when the view at path holds an unfinished bulk apply. */
static int bulk_marked(const char *path)
{
	struct view *v = NULL;
	const char *error = NULL;
	int r;

	if (view_open(path, &v, &error) < 0)
		return -1;
	r = view_bulk_marked(v, &error);
	view_close(&v);
	return r;
}

/* kill -9 during a bulk rebuild (projector.bulk_min below the log's size):
 * the view keeps its marker, the next start wipes and rebuilds, and the
 * result is the digest of an uninterrupted replay, counters exact. The
 * reference itself is a bulk first replay into an empty view. */
static void test_killed_during_rebuild(void)
{
	const char *dir = test_tmpdir("proj-kill-rebuild");
	char ref[1100], victim[1100], dref[65], dvic[65];
	unsigned seed = (unsigned)getpid() ^ (unsigned)evm_now_ms();
	int64_t t0, took;
	int marked = 0;
	struct env e;

	CHECK(env_init(&e, GEN_RECORDS, NULL) == 0);
	snprintf(ref, sizeof ref, "%s/ref", dir);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	CHECK_EQ_INT(wait_child(spawn_child_mode(ref, "apply", "100")), 0);
	CHECK_EQ_INT(bulk_marked(ref), 0);
	CHECK_EQ_INT(wait_child(spawn_child_mode(victim, "apply", "100")), 0);
	t0 = evm_mono_ms();
	CHECK_EQ_INT(wait_child(spawn_child_mode(victim, "rebuild", "100")), 0);
	took = evm_mono_ms() - t0;
	CHECK_EQ_INT(bulk_marked(victim), 0);
	srand(seed);
	fprintf(stderr, "  rebuild %lld ms; kill seed %u\n", (long long)took, seed);
	for (int k = 0; k < 12 && marked < 2; k++) {
		pid_t pid = spawn_child_mode(victim, "rebuild", "100");
		int st, m;

		usleep((useconds_t)(rand() % (int)(took * 500 + 1)));
		kill(pid, SIGKILL);
		st = wait_child(pid);
		m = bulk_marked(victim);
		fprintf(stderr, "  run %d: %s, %s\n", k, st == -SIGKILL ? "killed" : "finished",
			m == 1 ? "the view is marked mid-rebuild" : "not marked");
		if (st == -SIGKILL && m == 1)
			marked++;
	}
	CHECK(marked >= 1);
	/* The next plain start sees the marker, rebuilds, and finishes. */
	CHECK_EQ_INT(wait_child(spawn_child_mode(victim, "apply", "100")), 0);
	CHECK_EQ_INT(bulk_marked(victim), 0);
	CHECK_EQ_INT(digest_of(ref, dref), 0);
	CHECK_EQ_INT(digest_of(victim, dvic), 0);
	CHECK_EQ_STR(dvic, dref);
	CHECK_EQ_INT(view_number(victim, "stat/projector.applied"), e.gs.events - e.gs.duplicates);
	CHECK_EQ_INT(view_number(victim, "stat/projector.duplicates"), e.gs.duplicates);
	env_free(&e);
}

int main(int argc, char **argv)
{
	evthread_use_pthreads();
	log_set_level(LOG_ERROR);
	if (argc == 7 && strcmp(argv[1], "--child") == 0)
		return run_child(argv[2], (unsigned)atoi(argv[3]), atoi(argv[4]),
				 strcmp(argv[5], "rebuild") == 0, strcmp(argv[6], "-") == 0 ? NULL : argv[6]);
	test_run("exactly once when killed between batches", test_killed_between_batches);
	test_run("two replicas and a rebuild give one digest", test_replicas_and_rebuild);
	test_run("killed during a bulk rebuild: the next start rebuilds", test_killed_during_rebuild);
	return test_done();
}
