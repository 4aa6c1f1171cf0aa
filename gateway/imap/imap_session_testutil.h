/* imap_session_testutil - the harness of the in-process IMAP session
 * tests (test_imap_auth_ext.c, test_imap_ext.c): a real node (embedded
 * log, view, projector) in one event loop, clients over socketpairs that
 * can switch to DEFLATE (RFC 4978), and line helpers. Static functions:
 * include it once, from a test file. */
#ifndef EVM_IMAP_SESSION_TESTUTIL_H
#define EVM_IMAP_SESSION_TESTUTIL_H

#include "gateway/fts/fts.h"
#include "gateway/imap/imap_session.h"
#include "gateway/command.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/password.h"
#include "common/scram.h"
#include "tests/unit/testlib.h"

#include <event2/bufferevent.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#define WAIT_MS 20000
#define TESTUTIL_UNUSED __attribute__((unused))

static struct evm_config cfg;
static struct node node;

struct client {
	int fd;
	struct imap_session *s;
	int closed;
	struct buf in;
	z_stream zin, zout;      /* after COMPRESS */
	int deflate;
};

TESTUTIL_UNUSED static void loop_once(void)
{
	struct timeval tick = { 0, 5000 };

	event_base_loopexit(node.base, &tick);
	event_base_dispatch(node.base);
}

TESTUTIL_UNUSED static void loop_until(const int *done)
{
	int64_t deadline = evm_mono_ms() + WAIT_MS;

	while (!*done && evm_mono_ms() < deadline)
		loop_once();
	if (!*done)
		abort();
}

struct cmd_wait {
	int done, ok;
};

TESTUTIL_UNUSED static void cmd_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct cmd_wait *w = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	w->ok = status == 0 && st != NULL && strcmp(st, "accepted") == 0;
	w->done = 1;
}

TESTUTIL_UNUSED static void submit(enum evm_topic_id topic, const char *account, const char *type, json_t *data)
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

TESTUTIL_UNUSED static void add_account(const char *address, const char *hash, json_t *scram)
{
	json_t *d = json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address, "display_name", "",
			      "quota", (json_int_t)0, "state", "active", "password_hash", hash);

	if (scram != NULL)
		json_object_set_new(d, "scram_sha256", scram);
	submit(EVM_TOPIC_DIRECTORY, "", "account.create", d);
	submit(EVM_TOPIC_MAIL, address, "mailbox.provision", json_pack("{s:I}", "quota", (json_int_t)0));
}

TESTUTIL_UNUSED static void setup(const char *name)
{
	const char *error = NULL;
	char path[4096], *hash = NULL;

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
	if (evm_password_hash("secret", &hash, &error) < 0)
		abort();
	submit(EVM_TOPIC_DIRECTORY, "", "tenant.create", json_pack("{s:s}", "name", "acme"));
	submit(EVM_TOPIC_DIRECTORY, "", "domain.add", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	add_account("amy@acme.test", hash, evm_scram_record_new("secret"));
	add_account("old@acme.test", hash, NULL);
	free(hash);
}

TESTUTIL_UNUSED static void on_closed(void *ctx, struct imap_session *s, const char *ip)
{
	struct client *c = ctx;

	c->closed = 1;
	c->s = NULL;
}

TESTUTIL_UNUSED static void client_open(struct client *c)
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

TESTUTIL_UNUSED static void client_close(struct client *c)
{
	if (c->s != NULL)
		imap_session_close(c->s);
	close(c->fd);
	buf_free(&c->in);
	if (c->deflate) {
		inflateEnd(&c->zin);
		deflateEnd(&c->zout);
	}
}

/* Raw bytes received, inflated once COMPRESS is on. */
TESTUTIL_UNUSED static void take(struct client *c, const char *data, size_t len)
{
	unsigned char out[65536];

	if (!c->deflate) {
		buf_append(&c->in, data, len);
		return;
	}
	c->zin.next_in = (unsigned char *)data;
	c->zin.avail_in = (unsigned)len;
	do {
		c->zin.next_out = out;
		c->zin.avail_out = sizeof out;
		if (inflate(&c->zin, Z_SYNC_FLUSH) == Z_DATA_ERROR)
			abort();
		buf_append(&c->in, out, sizeof out - c->zin.avail_out);
	} while (c->zin.avail_in > 0 || c->zin.avail_out == 0);
}

TESTUTIL_UNUSED static void send_raw(struct client *c, const char *data, size_t len)
{
	unsigned char z[65536];
	size_t off = 0;

	if (c->deflate) {
		c->zout.next_in = (unsigned char *)data;
		c->zout.avail_in = (unsigned)len;
		c->zout.next_out = z;
		c->zout.avail_out = sizeof z;
		deflate(&c->zout, Z_SYNC_FLUSH);
		data = (const char *)z;
		len = sizeof z - c->zout.avail_out;
	}
	while (off < len) {
		ssize_t w = write(c->fd, data + off, len - off);
		if (w > 0)
			off += (size_t)w;
		else
			loop_once();
	}
}

/* Reads until a line starting with prefix is complete; returns it
 * (malloc'ed, without CRLF) and drops everything up to its end. */
TESTUTIL_UNUSED static char *until_line(struct client *c, const char *prefix)
{
	int64_t deadline = evm_mono_ms() + WAIT_MS;

	for (;;) {
		char *p = c->in.data;

		while (p != NULL && *p != '\0') {
			char *end = strstr(p, "\r\n");
			if (end == NULL)
				break;
			if (strncmp(p, prefix, strlen(prefix)) == 0) {
				char *line = xstrndup(p, (size_t)(end - p));
				size_t n = (size_t)(end + 2 - c->in.data);
				memmove(c->in.data, c->in.data + n, c->in.len - n + 1);
				c->in.len -= n;
				return line;
			}
			p = end + 2;
		}
		char tmp[65536];
		ssize_t r = read(c->fd, tmp, sizeof tmp);
		if (r > 0) {
			take(c, tmp, (size_t)r);
			continue;
		}
		if (r == 0 || evm_mono_ms() > deadline) {
			fprintf(stderr, "no line %s; got:\n%s\n", prefix, c->in.data);
			return xstrdup("");
		}
		loop_once();
	}
}

TESTUTIL_UNUSED static void send_line(struct client *c, const char *line)
{
	send_raw(c, line, strlen(line));
	send_raw(c, "\r\n", 2);
}

#define HAS(out, s) (strstr((out), (s)) != NULL)
#define EXPECT(c, prefix, expect) do { char *l_ = until_line((c), (prefix)); int ok_ = HAS(l_, expect); \
	if (!ok_) fprintf(stderr, "expected %s, got %s\n", (expect), l_); \
	free(l_); CHECK(ok_); } while (0)


TESTUTIL_UNUSED static void greet(struct client *c)
{
	client_open(c);
	free(until_line(c, "* OK"));
}


/* Stops the node made by setup. */
TESTUTIL_UNUSED static void teardown(void)
{
	evm_fts_stop(&node);          /* its indexer thread reads the view */
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
}

#endif
