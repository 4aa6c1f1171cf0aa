/* test_mgmt_http - the management listener over real loopback sockets: a
 * node with an embedded log, a view and a projector that is not started
 * yet (so /readyz is 503 and a write is not answered until the test starts
 * it); /healthz (GET, HEAD), /readyz (not ready, draining, ready),
 * /metrics and its Content-Type, 404 and 405, the header and body limits,
 * /admin/ without, with a wrong and with the right token (and with none
 * configured), admin paths with bad escapes and empty segments, and
 * clients that close before a slow admin answer (POST /admin/commands and
 * a queue POST): their cancel callbacks run, the late answers are dropped
 * and the writes still apply (run it under ASan: build-asan).
 *
 * One thread: the test drives the node's loop in 10 ms slices while its
 * clients use non-blocking sockets; every wait gives up after 10 s. */
#include "gateway/mgmt_http.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/thread.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN "s3cret-admin-token"
#define ITEM "11111111111111111111111111111111"
#define WAIT_MS 10000

static struct evm_config cfg;
static struct event_base *base;
static struct node node;
static unsigned port;
static char log_path[1100];

/* ---- the loop and the clients ---- */

/* Runs the node's loop for about 10 ms. */
static void pump(void)
{
	struct timeval slice = { 0, 10 * 1000 };

	event_base_loopexit(base, &slice);
	event_base_dispatch(base);
}

/* Pumps until done(arg) or 10 s; returns done(arg). */
static int pump_until(int (*done)(void *arg), void *arg)
{
	int64_t until = evm_mono_ms() + WAIT_MS;

	while (!done(arg) && evm_mono_ms() < until)
		pump();
	return done(arg);
}

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

/* Connects to the listener and sends req whole; the socket (non-blocking
 * afterwards) or -1. */
static int send_request(const char *req, size_t len)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	size_t off = 0;

	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) < 0)
		goto fail;
	if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	while (off < len) {   /* larger than the socket buffer: the server reads meanwhile */
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			pump();
		else
			goto fail;
	}
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* One answer as it arrives. */
struct answer {
	int fd;
	int head_only;         /* the request was HEAD: no body follows */
	int eof;
	struct buf raw;
	int status;
	const char *body;      /* into raw, once the head is complete */
	size_t body_len;
};

/* The value of a field of the answer's head (static copy) or NULL. */
static const char *answer_field(const struct answer *a, const char *name)
{
	static char value[512];
	const char *p = a->raw.data, *end = a->body != NULL ? a->body : p;
	size_t nlen = strlen(name);

	while (p != NULL && p < end) {
		const char *eol = strstr(p, "\r\n");
		if (eol == NULL || eol == p)
			break;
		if ((size_t)(eol - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1;
			while (*v == ' ')
				v++;
			snprintf(value, sizeof value, "%.*s", (int)(eol - v), v);
			return value;
		}
		p = eol + 2;
	}
	return NULL;
}

/* Reads what is there; 1 once the answer is complete (its head and
 * Content-Length octets of body) or the server closed. */
static int answer_done(void *arg)
{
	struct answer *a = arg;
	char chunk[65536];
	const char *cl, *sep;
	ssize_t n;

	while ((n = recv(a->fd, chunk, sizeof chunk, 0)) > 0)
		buf_append(&a->raw, chunk, (size_t)n);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
		a->eof = 1;
	if (a->raw.len == 0 || (sep = strstr(a->raw.data, "\r\n\r\n")) == NULL)
		return a->eof;
	a->status = strncmp(a->raw.data, "HTTP/1.1 ", 9) == 0 ? atoi(a->raw.data + 9) : -1;
	a->body = sep + 4;
	a->body_len = a->raw.len - (size_t)(a->body - a->raw.data);
	cl = answer_field(a, "Content-Length");
	return a->eof || a->head_only || (cl != NULL && a->body_len >= strtoull(cl, NULL, 10));
}

/* Sends req and waits for its whole answer; the status (-1: none). The
 * caller frees a->raw. */
static int exchange(const char *req, size_t len, struct answer *a)
{
	memset(a, 0, sizeof *a);
	a->raw = (struct buf)BUF_INIT;
	a->head_only = strncmp(req, "HEAD ", 5) == 0;
	a->status = -1;
	if ((a->fd = send_request(req, len)) < 0)
		return -1;
	if (!pump_until(answer_done, a))
		a->status = -1;
	close(a->fd);
	buf_append(&a->raw, "", 1);   /* NUL for the string checks; not in body_len */
	a->raw.len--;
	return a->status;
}

/* METHOD path with an optional bearer token and JSON body; the status. */
static int call(const char *method, const char *path, const char *token, const char *body,
		struct answer *a)
{
	struct buf req = BUF_INIT;
	int status;

	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n", method, path);
	if (token != NULL)
		buf_printf(&req, "Authorization: Bearer %s\r\n", token);
	if (body != NULL)
		buf_printf(&req, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			   strlen(body), body);
	else
		buf_puts(&req, "\r\n");
	status = exchange(req.data, req.len, a);
	buf_free(&req);
	return status;
}

/* The answer's body as JSON (NULL if it is not). */
static json_t *answer_json(const struct answer *a)
{
	return a->body != NULL ? json_loadb(a->body, a->body_len, 0, NULL) : NULL;
}

/* The "error" of a JSON answer, compared with want. */
static int answer_error_is(const struct answer *a, const char *want)
{
	json_t *j = answer_json(a);
	const char *e = json_string_value(json_object_get(j, "error"));
	int same = e != NULL && strcmp(e, want) == 0;

	json_decref(j);
	return same;
}

/* 1 when the captured log holds text. */
static int log_has(void *text)
{
	char data[65536];
	FILE *f = fopen(log_path, "r");
	size_t n = f != NULL ? fread(data, 1, sizeof data - 1, f) : 0;

	if (f != NULL)
		fclose(f);
	data[n] = '\0';
	return strstr(data, text) != NULL;
}

/* ---- the node ---- */

/* Everything node_start opens except the started projector and the
 * protocol listeners; 0 or -1. */
static int start_node(void)
{
	const char *error = NULL, *dir = test_tmpdir("mgmt-http");
	char listen[64], path[1100];

	port = free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
	snprintf(log_path, sizeof log_path, "%s/stderr", dir);
	if (config_load(NULL, &cfg, &error) < 0 || config_set(&cfg, "node.data_dir", dir, &error) < 0 ||
	    config_set(&cfg, "node.id", "mgmt-test", &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(&cfg, "node.roles", "projector", &error) < 0 ||
	    config_set(&cfg, "mgmt.listen", listen, &error) < 0 ||
	    config_set(&cfg, "mgmt.admin_token", TOKEN, &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		return -1;
	}
	evthread_use_pthreads();
	base = event_base_new();
	node.cfg = &cfg;
	node.base = base;
	node.started_ms = evm_mono_ms();
	snprintf(path, sizeof path, "%s/view", dir);
	if (evlog_open(&cfg, base, &node.log, &error) < 0 || view_open(path, &node.view, &error) < 0 ||
	    projector_create(&cfg, node.log, node.view, base, &node.projector, &error) < 0 ||
	    mgmt_http_start(&node, &node.mgmt, &error) < 0) {
		fprintf(stderr, "node: %s\n", error);
		return -1;
	}
	return 0;
}

/* ---- cases ---- */

/* /healthz, /readyz before the projector runs, /metrics, 404 and 405. */
static void test_probes(void)
{
	struct answer a;
	static const char head[] = "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

	CHECK_EQ_INT(call("GET", "/healthz", NULL, NULL, &a), 200);
	CHECK_EQ_STR(a.body, "ok\n");
	CHECK_EQ_STR(answer_field(&a, "Content-Type"), "text/plain; charset=utf-8");
	buf_free(&a.raw);
	CHECK_EQ_INT(exchange(head, sizeof head - 1, &a), 200);
	CHECK_EQ_STR(answer_field(&a, "Content-Length"), "3");
	CHECK_EQ_INT(a.body_len, 0);
	buf_free(&a.raw);

	CHECK_EQ_INT(call("GET", "/readyz", NULL, NULL, &a), 503);
	CHECK(strncmp(a.body, "not ready: ", 11) == 0);
	CHECK_EQ_STR(answer_field(&a, "Content-Type"), "text/plain; charset=utf-8");
	buf_free(&a.raw);

	CHECK_EQ_INT(call("GET", "/metrics", NULL, NULL, &a), 200);
	CHECK_EQ_STR(answer_field(&a, "Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
	CHECK(strstr(a.body, "# TYPE evmail_ready gauge\n") != NULL);
	CHECK(strstr(a.body, "\nevmail_ready 0\n") != NULL);
	buf_free(&a.raw);

	CHECK_EQ_INT(call("GET", "/nowhere", NULL, NULL, &a), 404);
	CHECK_EQ_STR(answer_field(&a, "Content-Type"), "application/json");
	CHECK(answer_error_is(&a, "no such path"));
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/healthzz", NULL, NULL, &a), 404);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("POST", "/healthz", NULL, "{}", &a), 405);
	CHECK_EQ_STR(answer_field(&a, "Allow"), "GET, HEAD");
	buf_free(&a.raw);
	CHECK_EQ_INT(call("PUT", "/admin/status", TOKEN, "{}", &a), 405);
	buf_free(&a.raw);
}

/* The admin token: missing or wrong is 401 with a challenge; right is in. */
static void test_admin_token(void)
{
	struct answer a;
	json_t *j;

	CHECK_EQ_INT(call("GET", "/admin/status", NULL, NULL, &a), 401);
	CHECK(answer_error_is(&a, "admin token required"));
	CHECK_EQ_STR(answer_field(&a, "WWW-Authenticate"), "Bearer realm=\"evmail admin\"");
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/status", "not-" TOKEN, NULL, &a), 401);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/status", TOKEN "x", NULL, &a), 401);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("POST", "/admin/commands", NULL, "[]", &a), 401);
	buf_free(&a.raw);

	CHECK_EQ_INT(call("GET", "/admin/status", TOKEN, NULL, &a), 200);
	CHECK_EQ_STR(answer_field(&a, "Content-Type"), "application/json");
	j = answer_json(&a);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(j, "node"), "id")), "mgmt-test");
	json_decref(j);
	buf_free(&a.raw);
}

/* Admin paths: wrong methods, bad escapes, empty segments, bad bodies. */
static void test_admin_paths(void)
{
	struct answer a;

	CHECK_EQ_INT(call("GET", "/admin/commands", TOKEN, NULL, &a), 405);
	CHECK(answer_error_is(&a, "use POST"));
	buf_free(&a.raw);
	CHECK_EQ_INT(call("POST", "/admin/commands", TOKEN, "[{", &a), 400);
	CHECK(answer_error_is(&a, "request body is not valid JSON"));
	buf_free(&a.raw);
	CHECK_EQ_INT(call("DELETE", "/admin/tenants/acme", TOKEN, NULL, &a), 404);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/tenants/nobody", TOKEN, NULL, &a), 404);
	CHECK(answer_error_is(&a, "no such tenant"));
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/accounts/%zz", TOKEN, NULL, &a), 400);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/accounts?tenant=%zz", TOKEN, NULL, &a), 400);
	CHECK(answer_error_is(&a, "bad query string"));
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/accounts?tenant=acme", TOKEN, NULL, &a), 200);
	CHECK_EQ_STR(a.body, "[]\n");
	buf_free(&a.raw);
	/* an empty segment after two decoded ones (once a double free) */
	CHECK_EQ_INT(call("GET", "/admin/mail/a%40b.test/mailboxes//x", TOKEN, NULL, &a), 404);
	CHECK(answer_error_is(&a, "no such mail path"));
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/mail/a%40b.test/mailboxes/%00/messages", TOKEN, NULL, &a), 404);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/mail/a%40b.test/usage", TOKEN, NULL, &a), 200);
	CHECK_EQ_STR(a.body, "{\"messages\":0,\"quota_used\":0}\n");
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/queue?limit=x", TOKEN, NULL, &a), 400);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/admin/queue?limit=5", TOKEN, NULL, &a), 200);
	CHECK_EQ_STR(a.body, "[]\n");
	buf_free(&a.raw);
}

/* POST /admin/drain turns /readyz into "draining", and back. */
static void test_drain(void)
{
	struct answer a;

	CHECK_EQ_INT(call("POST", "/admin/drain", TOKEN, "{\"node\":\"other\",\"drain\":true}", &a), 409);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("POST", "/admin/drain", TOKEN, "{\"node\":\"mgmt-test\",\"drain\":true}", &a), 200);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/readyz", NULL, NULL, &a), 503);
	CHECK_EQ_STR(a.body, "draining\n");
	buf_free(&a.raw);
	/* the management listener itself keeps serving while draining */
	CHECK_EQ_INT(call("POST", "/admin/drain", TOKEN, "{\"node\":\"mgmt-test\",\"drain\":false}", &a), 200);
	buf_free(&a.raw);
	CHECK_EQ_INT(call("GET", "/readyz", NULL, NULL, &a), 503);
	CHECK(strncmp(a.body, "not ready: ", 11) == 0);
	buf_free(&a.raw);
}

/* 16 KiB of header and 16 MiB of body, as before the move. */
static void test_limits(void)
{
	struct answer a;
	struct buf req = BUF_INIT;
	char field[6 * 1024 + 1];
	int fields;

	memset(field, 'a', sizeof field - 1);
	field[sizeof field - 1] = '\0';
	for (fields = 2; fields <= 3; fields++) {   /* 12 KiB: fine; 18 KiB: 431 */
		buf_free(&req);
		buf_puts(&req, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
		for (int i = 0; i < fields; i++)
			buf_printf(&req, "X-Big-%d: %s\r\n", i, field);
		buf_puts(&req, "\r\n");
		CHECK_EQ_INT(exchange(req.data, req.len, &a), fields == 2 ? 200 : 431);
		buf_free(&a.raw);
	}
	buf_free(&req);
	buf_printf(&req, "POST /admin/commands HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		   "Content-Length: %d\r\n\r\n", TOKEN, 16 * 1024 * 1024 + 1);
	CHECK_EQ_INT(exchange(req.data, req.len, &a), 413);
	buf_free(&a.raw);
	buf_free(&req);
}

struct appended {
	uint64_t before;
};

/* The log acknowledged an append since before. */
static int appended_since(void *arg)
{
	struct appended *ap = arg;
	struct evlog_health h;

	evlog_health(node.log, &h);
	return h.appends_ok > ap->before;
}

/* Sends req and leaves once its write is in the log (the projector does
 * not run: no answer can come yet); 0 or -1. */
static int send_and_leave(const char *method, const char *path, const char *body)
{
	struct buf req = BUF_INIT;
	struct evlog_health h;
	struct appended ap;
	int fd, ok;

	evlog_health(node.log, &h);
	ap.before = h.appends_ok;
	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
		   "Content-Length: %zu\r\n\r\n%s", method, path, TOKEN, strlen(body), body);
	fd = send_request(req.data, req.len);
	buf_free(&req);
	if (fd < 0)
		return -1;
	ok = pump_until(appended_since, &ap);
	close(fd);
	return ok ? 0 : -1;
}

/* The part of test_client_leaves that reads the captured log. */
static void client_leaves_logged(void)
{
	const char *error = NULL;
	struct answer a;

	CHECK_EQ_INT(send_and_leave("POST", "/admin/commands",
				    "[{\"type\":\"tenant.create\",\"tenant\":\"acme\",\"data\":{\"name\":\"acme\"}}]"), 0);
	CHECK(pump_until(log_has, "client left before POST /admin/commands was answered; 1 of 1"));
	CHECK_EQ_INT(send_and_leave("POST", "/admin/queue/" ITEM "/hold", ""), 0);
	CHECK(pump_until(log_has, "client left before /admin/queue/" ITEM "/hold was answered"));
	/* still unanswered: nothing is applied */
	CHECK_EQ_INT(call("GET", "/admin/tenants/acme", TOKEN, NULL, &a), 404);
	buf_free(&a.raw);

	CHECK_EQ_INT(projector_start(node.projector, &error), 0);
	CHECK(pump_until(log_has, "admin: 1 command(s) finished after their client left"));
	CHECK(pump_until(log_has, "admin: /admin/queue/" ITEM "/hold finished after its client left: rejected"));
}

/* Clients that leave before their answer: the cancel callbacks say so (in
 * the log, captured), the answers come later (dropped), the writes
 * apply. */
static void test_client_leaves(void)
{
	struct answer a;
	int saved_err, fd, failed;

	fflush(stderr);
	saved_err = dup(2);
	fd = open(log_path, O_CREAT | O_TRUNC | O_WRONLY, 0600);
	CHECK(saved_err >= 0 && fd >= 0);
	dup2(fd, 2);
	close(fd);
	log_set_level(LOG_INFO);
	client_leaves_logged();
	failed = test_case_failed();
	fflush(stderr);
	dup2(saved_err, 2);
	close(saved_err);
	CHECK(!failed);

	CHECK_EQ_INT(call("GET", "/admin/tenants/acme", TOKEN, NULL, &a), 200);
	buf_free(&a.raw);
	for (int64_t until = evm_mono_ms() + WAIT_MS; evm_mono_ms() < until; pump()) {
		int status = call("GET", "/readyz", NULL, NULL, &a);
		buf_free(&a.raw);
		if (status == 200)
			break;
	}
	CHECK_EQ_INT(call("GET", "/readyz", NULL, NULL, &a), 200);
	CHECK_EQ_STR(a.body, "ready\n");
	buf_free(&a.raw);
}

/* An answered batch, then no token configured: the admin API is open. */
static void test_commands_and_no_token(void)
{
	const char *error = NULL;
	struct answer a;
	json_t *j;

	CHECK_EQ_INT(call("POST", "/admin/commands", TOKEN,
			  "{\"type\":\"tenant.create\",\"tenant\":\"beta\",\"data\":{\"name\":\"beta\"}}", &a), 200);
	j = answer_json(&a);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(j, 0), "status")), "accepted");
	json_decref(j);
	buf_free(&a.raw);
	CHECK_EQ_INT(config_set(&cfg, "mgmt.admin_token", "", &error), 0);
	CHECK_EQ_INT(call("GET", "/admin/tenants/beta", NULL, NULL, &a), 200);
	buf_free(&a.raw);
}

int main(void)
{
	if (start_node() < 0)
		return 1;
	test_run("probes", test_probes);
	test_run("admin_token", test_admin_token);
	test_run("admin_paths", test_admin_paths);
	test_run("drain", test_drain);
	test_run("limits", test_limits);
	test_run("client_leaves", test_client_leaves);
	test_run("commands_and_no_token", test_commands_and_no_token);
	node_stop(&node);
	event_base_free(base);
	config_free(&cfg);
	return test_done();
}
