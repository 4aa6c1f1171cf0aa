/* imap_cmd_testutil - the harness shared by the in-process IMAP command
 * tests (test_imap_session.c, test_imap_condstore.c, test_imap_listext.c,
 * test_imap_sort.c): a real node (embedded log, view, projector) in one
 * event loop with the tenant acme, the domain acme.test and the account
 * amy@acme.test (password "secret"); clients over socketpairs; cmd() sends
 * a command and returns everything up to its tagged reply. Static
 * functions: include it once, from a test file. */
#ifndef EVM_IMAP_CMD_TESTUTIL_H
#define EVM_IMAP_CMD_TESTUTIL_H

#include "gateway/imap/imap_session.h"
#include "gateway/command.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/password.h"
#include "tests/unit/testlib.h"

#include <event2/bufferevent.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define CMD_TESTUTIL_UNUSED __attribute__((unused))

#define WAIT_MS 20000

static struct evm_config cfg;
static struct node node;

struct client {
	int fd;
	struct imap_session *s;
	int closed;
	struct buf in;          /* everything received not consumed yet */
};

CMD_TESTUTIL_UNUSED static void loop_once(void)
{
	struct timeval tick = { 0, 5000 };

	event_base_loopexit(node.base, &tick);
	event_base_dispatch(node.base);
}

CMD_TESTUTIL_UNUSED static void loop_until(const int *done)
{
	int64_t deadline = evm_mono_ms() + WAIT_MS;

	while (!*done && evm_mono_ms() < deadline)
		loop_once();
	if (!*done) {
		fprintf(stderr, "timed out waiting for the loop\n");
		abort();
	}
}

struct cmd_wait {
	int done;
	int ok;
};

CMD_TESTUTIL_UNUSED static void cmd_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct cmd_wait *w = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	w->ok = status == 0 && st != NULL && strcmp(st, "accepted") == 0;
	w->done = 1;
}

CMD_TESTUTIL_UNUSED static void submit(enum evm_topic_id topic, const char *account, const char *type, json_t *data)
{
	struct evm_event ev;
	struct cmd_wait w = { 0, 0 };
	const char *error = NULL;

	if (evm_event_init(&ev, type, "acme", account, "admin", data, &error) < 0)
		abort();
	command_submit(&node, &ev, topic, account[0] ? account : NULL, 10000, cmd_done, &w);
	loop_until(&w.done);
	if (!w.ok) {
		fprintf(stderr, "%s rejected\n", type);
		abort();
	}
}

/* An account with password "secret" and its mail partition's quota. */
CMD_TESTUTIL_UNUSED static void add_account(const char *address, const char *display, int64_t quota)
{
	const char *error = NULL;
	char *hash = NULL;

	if (evm_password_hash("secret", &hash, &error) < 0)
		abort();
	submit(EVM_TOPIC_DIRECTORY, "", "account.create",
	       json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address, "display_name", display,
			 "quota", (json_int_t)quota, "state", "active", "password_hash", hash));
	submit(EVM_TOPIC_MAIL, address, "mailbox.provision", json_pack("{s:I}", "quota", (json_int_t)quota));
	free(hash);
}

CMD_TESTUTIL_UNUSED static void setup(const char *name)
{
	const char *error = NULL;
	char path[4096], *hash = NULL;

	(void)hash;

	evthread_use_pthreads();
	if (config_load(NULL, &cfg, &error) < 0 ||
	    config_set(&cfg, "node.data_dir", test_tmpdir(name), &error) < 0 ||
	    config_set(&cfg, "log.backend", "embedded", &error) < 0 ||
	    config_set(&cfg, "log.partitions", "2", &error) < 0) {
		fprintf(stderr, "config: %s\n", error);
		exit(2);
	}
	node.cfg = &cfg;
	node.base = event_base_new();
	snprintf(path, sizeof path, "%s/view", cfg.node_data_dir);
	if (evlog_open(&cfg, node.base, &node.log, &error) < 0 || view_open(path, &node.view, &error) < 0 ||
	    projector_create(&cfg, node.log, node.view, node.base, &node.projector, &error) < 0 ||
	    projector_start(node.projector, &error) < 0) {
		fprintf(stderr, "node: %s\n", error);
		exit(2);
	}
	submit(EVM_TOPIC_DIRECTORY, "", "tenant.create", json_pack("{s:s}", "name", "acme"));
	submit(EVM_TOPIC_DIRECTORY, "", "domain.add", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	free(hash);
	add_account("amy@acme.test", "Amy", 0);
}

CMD_TESTUTIL_UNUSED static void on_closed(void *ctx, struct imap_session *s, const char *ip)
{
	struct client *c = ctx;

	c->closed = 1;
	c->s = NULL;
}

CMD_TESTUTIL_UNUSED static void client_open(struct client *c)
{
	struct imap_session_settings set = { .allow_plaintext_auth = 1, .preauth_timeout_s = 60,
					      .idle_timeout_s = 1800, .max_literal = 1000000 };
	struct bufferevent *bev;
	int sv[2];

	memset(c, 0, sizeof *c);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	c->fd = sv[1];
	bev = bufferevent_socket_new(node.base, sv[0], BEV_OPT_CLOSE_ON_FREE);
	c->s = imap_session_start(&node, bev, "192.0.2.1", 0, &set, on_closed, c);
	buf_puts(&c->in, "");
}

CMD_TESTUTIL_UNUSED static void client_close(struct client *c)
{
	if (c->s != NULL)
		imap_session_close(c->s);
	close(c->fd);
	buf_free(&c->in);
}

/* Pumps the loop and reads into c->in until needle is in it (or EOF/timeout). */
CMD_TESTUTIL_UNUSED static int pump(struct client *c, const char *needle)
{
	int64_t deadline = evm_mono_ms() + WAIT_MS;

	while (evm_mono_ms() < deadline) {
		char tmp[65536];
		ssize_t r;

		if (needle != NULL && strstr(c->in.data, needle) != NULL)
			return 1;
		r = read(c->fd, tmp, sizeof tmp);
		if (r > 0) {
			buf_append(&c->in, tmp, (size_t)r);
			continue;
		}
		if (r == 0)
			return needle == NULL;
		loop_once();
	}
	return 0;
}

CMD_TESTUTIL_UNUSED static void send_raw(struct client *c, const char *data, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(c->fd, data + off, len - off);
		if (w > 0)
			off += (size_t)w;
		else
			loop_once();
	}
}

/* The tagged line of tag in c->in: the length through its CRLF, or 0. */
CMD_TESTUTIL_UNUSED static size_t tagged_end(struct client *c, const char *needle)
{
	char *p = c->in.data, *end;

	while (p != NULL && *p != '\0') {
		if (strncmp(p, needle, strlen(needle)) == 0 && (end = strstr(p, "\r\n")) != NULL)
			return (size_t)(end + 2 - c->in.data);
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return 0;
}

/* Sends line (CRLF added; NULL: nothing) and returns the output up to and
 * including the tagged response of tag (malloc'ed); the rest stays. */
CMD_TESTUTIL_UNUSED static char *cmd(struct client *c, const char *tag, const char *line)
{
	int64_t deadline = evm_mono_ms() + WAIT_MS;
	char needle[128];
	size_t n;
	char *out;

	if (line != NULL) {
		send_raw(c, line, strlen(line));
		send_raw(c, "\r\n", 2);
	}
	snprintf(needle, sizeof needle, "%s ", tag);
	while ((n = tagged_end(c, needle)) == 0) {
		char tmp[65536];
		ssize_t r = read(c->fd, tmp, sizeof tmp);

		if (r > 0) {
			buf_append(&c->in, tmp, (size_t)r);
			continue;
		}
		if (r == 0 || evm_mono_ms() > deadline) {
			fprintf(stderr, "no tagged reply for %s; got:\n%s\n", tag, c->in.data);
			return xstrdup("");
		}
		loop_once();
	}
	out = xstrndup(c->in.data, n);
	memmove(c->in.data, c->in.data + n, c->in.len - n + 1);
	c->in.len -= n;
	return out;
}

#define HAS(out, s) (strstr((out), (s)) != NULL)
#define CMD_HAS(c, tag, line, expect) do { char *o_ = cmd((c), (tag), (line)); int ok_ = HAS(o_, expect); \
	if (!ok_) { const char *l_ = (line); fprintf(stderr, "%s -> %s", l_ ? l_ : "", o_); } \
	free(o_); \
	CHECK(ok_); } while (0)

#endif
