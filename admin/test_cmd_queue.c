/* test_cmd_queue - `evmailctl queue ...` end to end against a real node
 * (embedded log, projector, management listener on 127.0.0.1) running on
 * its own thread: the admin API's answers, the commands' output and exit
 * codes, the events they append, and the queue lines of /metrics. Queue
 * items are made by appending queue.enqueue events to the node's log, as
 * submission will. */
#include "admin/ctl.h"
#include "gateway/command.h"
#include "gateway/mgmt_http.h"
#include "gateway/node.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/queue.h"
#include "tests/unit/testlib.h"

#include <arpa/inet.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define ID1 "11111111111111111111111111111111"
#define ID2 "22222222222222222222222222222222"
#define NOID "99999999999999999999999999999999"
#define BLOB "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct evm_config cfg;
static struct event_base *base;
static struct node node;
static pthread_t loop_thread;
static struct ctl ctl;
static char out_text[65536], err_text[4096];

/* A task run on the node's loop thread, waited for by the test thread. */
struct task {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	int done;
	char result[64];
	struct evm_event ev;
	char key[64];
	struct buf metrics;
};

static void task_finish(struct task *t, const char *result)
{
	pthread_mutex_lock(&t->mu);
	snprintf(t->result, sizeof t->result, "%s", result);
	t->done = 1;
	pthread_cond_signal(&t->cond);
	pthread_mutex_unlock(&t->mu);
}

/* Waits (at most 30 s) for the task. */
static int task_wait(struct task *t)
{
	struct timespec until;
	int ok;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 30;
	pthread_mutex_lock(&t->mu);
	while (!t->done && pthread_cond_timedwait(&t->cond, &t->mu, &until) == 0)
		;
	ok = t->done;
	pthread_mutex_unlock(&t->mu);
	return ok;
}

static void submitted(void *ctx, int status, json_t *outcome, const char *error)
{
	const char *st = status == 0 ? json_string_value(json_object_get(outcome, "status")) : NULL;

	task_finish(ctx, st ? st : "failed");
}

static void submit_on_loop(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;

	command_submit(&node, &t->ev, EVM_TOPIC_QUEUE, t->key, 20000, submitted, t);
}

/* Appends a queue event and waits until this node applied it; returns
 * its outcome's status. */
static const char *append(const char *type, const char *key, json_t *data)
{
	static char result[64];
	struct task t = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", { 0 }, "", BUF_INIT };
	const char *error = NULL;
	struct timeval now = { 0, 0 };

	if (evm_event_init(&t.ev, type, "acme", "bob@acme.test", "submission", data, &error) < 0)
		abort();
	snprintf(t.key, sizeof t.key, "%s", key);
	event_base_once(base, -1, EV_TIMEOUT, submit_on_loop, &t, &now);
	snprintf(result, sizeof result, "%s", task_wait(&t) ? t.result : "timeout");
	return result;
}

static void metrics_on_loop(evutil_socket_t fd, short what, void *arg)
{
	struct task *t = arg;

	metrics_render(&node, &t->metrics);
	task_finish(t, "ok");
}

static json_t *rcpt(const char *addr)
{
	return json_pack("{s:s, s:s, s:s}", "addr", addr, "orcpt", "", "notify", "");
}

static json_t *enqueue_data(const char *id, const char *from, json_t *rcpts)
{
	int64_t now = evm_now_ms();

	return json_pack("{s:s, s:s, s:s, s:i, s:o, s:s, s:s, s:b, s:b, s:b, s:b, s:I, s:I, s:I, s:I}",
			 "id", id, "from", from, "blob_id", BLOB, "blob_size", 4321, "rcpts", rcpts,
			 "ret", "", "envid", "", "smtputf8", 0, "body8bit", 0, "requiretls", 0, "dsn", 0,
			 "arrival", (json_int_t)(now - 3 * 60000), "next_try", (json_int_t)(now + 3600000),
			 "expire", (json_int_t)(now + 86400000), "delay_warn", (json_int_t)0);
}

/* Reads a whole file into buf (NUL-terminated). */
static void slurp(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, size - 1, f) : 0;

	buf[n] = '\0';
	if (f)
		fclose(f);
}

/* Runs `evmailctl [--json] queue ARGS...` in-process; stdout and stderr
 * go to out_text and err_text. Returns the exit code. */
static int ctl_run(int json, int argc, const char **args)
{
	char out_path[1100], err_path[1100], *argv[8];
	int saved_out = dup(1), saved_err = dup(2), fd, ret;

	snprintf(out_path, sizeof out_path, "%s/out", cfg.node_data_dir);
	snprintf(err_path, sizeof err_path, "%s/err", cfg.node_data_dir);
	for (int i = 0; i < argc; i++)
		argv[i] = (char *)args[i];
	fflush(stdout);
	fflush(stderr);
	fd = open(out_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	dup2(fd, 1);
	close(fd);
	fd = open(err_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	dup2(fd, 2);
	close(fd);
	ctl.json = json;
	ret = cmd_queue(&ctl, argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	slurp(out_path, out_text, sizeof out_text);
	slurp(err_path, err_text, sizeof err_text);
	return ret;
}

#define CTL(json, ...) ctl_run(json, sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *), \
			       (const char *[]){ __VA_ARGS__ })

/* A free loopback port (bound, read, released). */
static unsigned free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof a;
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(s, (struct sockaddr *)&a, &len) < 0)
		abort();
	close(s);
	return ntohs(a.sin_port);
}

static void *loop_main(void *arg)
{
	event_base_dispatch(base);
	return NULL;
}

static int start_node(void)
{
	const char *error = NULL, *dir = test_tmpdir("cmd-queue");
	char listen[64];

	snprintf(listen, sizeof listen, "127.0.0.1:%u", free_port());
	if (config_load(NULL, &cfg, &error) < 0 || config_set(&cfg, "node.data_dir", dir, &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(&cfg, "node.roles", "projector", &error) < 0 ||
	    config_set(&cfg, "node.user", "", &error) < 0 ||   /* ctest may run as root */
	    config_set(&cfg, "node.allow_root", "true", &error) < 0 ||
	    config_set(&cfg, "mgmt.listen", listen, &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		return -1;
	}
	base = event_base_new();
	if (node_start(&node, &cfg, base, &error) < 0) {
		fprintf(stderr, "node: %s\n", error);
		return -1;
	}
	pthread_create(&loop_thread, NULL, loop_main, NULL);
	if (config_load(NULL, &ctl.cfg, &error) < 0)
		return -1;
	snprintf(ctl.host, sizeof ctl.host, "127.0.0.1");
	ctl.port = (unsigned)atoi(strrchr(listen, ':') + 1);
	return 0;
}

static void stop_node(void)
{
	event_base_loopexit(base, NULL);
	pthread_join(loop_thread, NULL);
	node_stop(&node);
	event_base_free(base);
	config_free(&cfg);
	config_free(&ctl.cfg);
}

/* GET or POST through the admin API; returns the HTTP status. */
static int http(const char *method, const char *path, json_t *body, json_t **reply_r)
{
	const char *error = NULL;
	json_t *reply = NULL;
	int status = ctl_http(&ctl, method, path, body, &reply, &error);

	if (reply_r != NULL)
		*reply_r = reply;
	else
		json_decref(reply);
	return status;
}

static void test_empty(void)
{
	json_t *r = NULL;

	CHECK_EQ_INT(CTL(0, "list"), 0);
	CHECK(strstr(out_text, "(the queue is empty)") != NULL);
	CHECK_EQ_INT(CTL(1, "list"), 0);
	CHECK_EQ_STR(out_text, "[]\n");
	CHECK_EQ_INT(CTL(0, "retry", "--all"), 0);
	CHECK(strstr(out_text, "0 items due now") != NULL);
	CHECK_EQ_INT(http("GET", "/admin/queue/" NOID, NULL, NULL), 404);
	CHECK_EQ_INT(http("POST", "/admin/queue/" NOID "/hold", NULL, &r), 404);
	CHECK_EQ_STR(json_string_value(json_object_get(r, "code")), "not-found");
	json_decref(r);
}

static void test_usage(void)
{
	CHECK_EQ_INT(CTL(0, "frob"), 2);
	CHECK_EQ_INT(CTL(0, "show"), 2);
	CHECK_EQ_INT(CTL(0, "hold", ID1, ID2), 2);
	CHECK_EQ_INT(CTL(0, "delete", ID1, "--all"), 2);
	CHECK_EQ_INT(CTL(0, "hold", ID1, "--bounce"), 2);
	CHECK_EQ_INT(CTL(0, "list", "--nope"), 2);
	CHECK_EQ_INT(CTL(0, "show", "xyz"), 1);
	CHECK(strstr(err_text, "not a queue item id") != NULL);
	CHECK_EQ_INT(CTL(0, "list", "--limit", "x"), 1);
	CHECK_EQ_INT(http("GET", "/admin/queue?limit=x", NULL, NULL), 400);
	CHECK_EQ_INT(http("GET", "/admin/queue/xyz", NULL, NULL), 404);
	CHECK_EQ_INT(http("POST", "/admin/queue", NULL, NULL), 405);
	CHECK_EQ_INT(http("POST", "/admin/queue/" ID1 "/frob", NULL, NULL), 404);
	CHECK_EQ_INT(http("POST", "/admin/queue/" ID1 "/delete", NULL, NULL), 400);
	CHECK_EQ_INT(http("POST", "/admin/queue/" ID1 "/delete", json_pack("{s:i}", "bounce", 1), NULL), 400);
}

static void test_items(void)
{
	json_t *r = NULL;
	int64_t before;

	CHECK_EQ_STR(append("queue.enqueue", ID1, enqueue_data(ID1, "bob@acme.test",
					json_pack("[o, o]", rcpt("x1@remote.example"), rcpt("x2@remote.example")))),
		     "accepted");
	CHECK_EQ_STR(append("queue.enqueue", ID2, enqueue_data(ID2, "", json_pack("[o]", rcpt("y@other.example")))),
		     "accepted");
	/* list */
	CHECK_EQ_INT(CTL(0, "list"), 0);
	CHECK(strstr(out_text, ID1 " ") != NULL && strstr(out_text, " bob@acme.test ") != NULL);
	CHECK(strstr(out_text, ID2 " ") != NULL && strstr(out_text, " <> ") != NULL);
	CHECK(strstr(out_text, "  2/2   in ") != NULL);
	CHECK_EQ_INT(CTL(1, "list", "--limit", "1"), 0);
	r = json_loads(out_text, 0, NULL);
	CHECK_EQ_INT(json_array_size(r), 1);
	json_decref(r);
	/* show */
	CHECK_EQ_INT(CTL(0, "show", ID1), 0);
	CHECK(strstr(out_text, "from:        bob@acme.test") != NULL);
	CHECK(strstr(out_text, "  x2@remote.example  queued  attempts 0") != NULL);
	CHECK_EQ_INT(CTL(1, "show", ID1), 0);
	r = json_loads(out_text, 0, NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(r, "account")), "bob@acme.test");
	json_decref(r);
	CHECK_EQ_INT(CTL(0, "show", NOID), 1);
	CHECK(strstr(err_text, "no such queue item") != NULL);
	/* hold, release, retry */
	CHECK_EQ_INT(CTL(0, "hold", ID1), 0);
	CHECK(strstr(out_text, "held") != NULL);
	CHECK_EQ_INT(CTL(0, "list"), 0);
	CHECK(strstr(out_text, ID1 "*") != NULL);
	CHECK(strstr(out_text, " held ") != NULL);
	CHECK_EQ_INT(CTL(0, "hold", NOID), 1);
	CHECK(strstr(err_text, "no queue item " NOID) != NULL);
	CHECK_EQ_INT(CTL(0, "release", ID1), 0);
	CHECK_EQ_INT(http("GET", "/admin/queue/" ID1, NULL, &r), 200);
	CHECK(json_is_false(json_object_get(r, "held")));
	json_decref(r);
	before = evm_now_ms();
	CHECK_EQ_INT(CTL(0, "retry", ID1), 0);
	CHECK_EQ_INT(http("GET", "/admin/queue/" ID1, NULL, &r), 200);
	CHECK(json_integer_value(json_object_get(r, "next_try")) >= before);
	CHECK(json_integer_value(json_object_get(r, "next_try")) <= evm_now_ms());
	json_decref(r);
	CHECK_EQ_INT(CTL(0, "retry", "--all"), 0);
	CHECK(strstr(out_text, "2 items due now") != NULL);
	/* delete: the null sender's item goes at once; bob's keeps its DSN. */
	CHECK_EQ_INT(CTL(0, "delete", ID2), 0);
	CHECK_EQ_INT(CTL(0, "show", ID2), 1);
	CHECK_EQ_INT(CTL(1, "delete", ID1, "--bounce"), 0);
	r = json_loads(out_text, 0, NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(r, "status")), "accepted");
	CHECK(json_is_false(json_object_get(r, "removed")));
	json_decref(r);
	CHECK_EQ_INT(CTL(0, "show", ID1), 0);
	CHECK(strstr(out_text, "  x1@remote.example  failed  attempts 0  dsn due: failure") != NULL);
	CHECK(strstr(out_text, "reply:  5.0.0 deleted by an administrator") != NULL);
}

static void test_metrics(void)
{
	struct task t = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, "", { 0 }, "", BUF_INIT };
	struct timeval now = { 0, 0 };
	const char *age;

	event_base_once(base, -1, EV_TIMEOUT, metrics_on_loop, &t, &now);
	CHECK(task_wait(&t));
	CHECK(strstr(t.metrics.data, "\nevmail_queue_items 1\n") != NULL);
	CHECK(strstr(t.metrics.data, "\nevmail_queue_recipients 0\n") != NULL);
	CHECK(strstr(t.metrics.data, "\nevmail_queue_held 0\n") != NULL);
	/* The oldest arrived 3 minutes before the test began. */
	CHECK((age = strstr(t.metrics.data, "\nevmail_queue_oldest_age_seconds ")) != NULL);
	CHECK(atoi(age + strlen("\nevmail_queue_oldest_age_seconds ")) >= 180);
	CHECK(strstr(t.metrics.data, "evmail_queue_events_total{kind=\"enqueued\"} 2\n") != NULL);
	CHECK(strstr(t.metrics.data, "evmail_queue_events_total{kind=\"failed\"} 3\n") != NULL);
	CHECK(strstr(t.metrics.data, "evmail_queue_events_total{kind=\"removed\"} 1\n") != NULL);
	CHECK(strstr(t.metrics.data, "evmail_queue_events_total{kind=\"delivered\"} 0\n") != NULL);
	buf_free(&t.metrics);
}


/* The human output with a fixed clock. */
static void test_format(void)
{
	json_t *items = json_loads(
		"[{\"id\":\"" ID1 "\",\"from\":\"bob@acme.test\",\"arrival\":1000,\"next_try\":266400000,"
		"\"held\":false,\"last_error\":\"\",\"account\":\"bob@acme.test\",\"blob_size\":10,\"attempts\":2,"
		"\"rcpts\":[{\"addr\":\"a@x.example\",\"status\":\"deferred\",\"reply\":\"451 4.7.1 try later\","
		"\"enhanced\":\"4.7.1\",\"remote\":\"mx.x.example [192.0.2.1]\",\"attempts\":2,\"dsn_due\":\"\"},"
		"{\"addr\":\"b@x.example\",\"status\":\"delivered\",\"reply\":\"250 ok\",\"enhanced\":\"\","
		"\"remote\":\"\",\"attempts\":1,\"dsn_due\":\"success\"}]},"
		"{\"id\":\"" ID2 "\",\"from\":\"\",\"arrival\":0,\"next_try\":0,\"held\":true,"
		"\"last_error\":\"dnssec: bogus MX for x.example\",\"rcpts\":[]}]", 0, NULL);
	char buf[4096];
	FILE *f;
	size_t n;

	CHECK(items != NULL);
	f = fmemopen(buf, sizeof buf, "w");
	ctl_queue_print_list(f, items, 3 * 86400000LL);
	n = (size_t)ftell(f);
	fclose(f);
	buf[n < sizeof buf ? n : sizeof buf - 1] = '\0';
	CHECK(strstr(buf, ID1 "     2d bob@acme.test                    1/2   in 2h    451 4.7.1 try later\n") != NULL);
	CHECK(strstr(buf, ID2 "*    3d <>                               0/0   held     dnssec: bogus MX") != NULL);
	f = fmemopen(buf, sizeof buf, "w");
	ctl_queue_print_item(f, json_array_get(items, 0), 266400000 + 90000);
	n = (size_t)ftell(f);
	fclose(f);
	buf[n < sizeof buf ? n : sizeof buf - 1] = '\0';
	CHECK(strstr(buf, "next try:    now\n") != NULL);
	CHECK(strstr(buf, "age:         3d\n") != NULL);
	CHECK(strstr(buf, "  a@x.example  deferred  attempts 2\n      reply:  4.7.1 451 4.7.1 try later\n"
			  "      remote: mx.x.example [192.0.2.1]\n") != NULL);
	CHECK(strstr(buf, "  b@x.example  delivered  attempts 1  dsn due: success\n      reply:  250 ok\n") != NULL);
	json_decref(items);
}

int main(void)
{
	evthread_use_pthreads();
	log_set_level(LOG_WARN);
	if (start_node() < 0)
		return 2;
	test_run("list and show output", test_format);
	test_run("empty queue, 404 for an unknown item", test_empty);
	test_run("usage errors and bad requests", test_usage);
	test_run("list, show, hold, release, retry, retry --all, delete", test_items);
	test_run("queue gauges and counters in /metrics", test_metrics);
	stop_node();
	return test_done();
}
