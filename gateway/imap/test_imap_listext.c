/* test_imap_listext - the list/status/quota/append extensions in one
 * process against a real node (embedded log, view, projector) over
 * socketpairs: LIST-EXTENDED, LIST-STATUS, SPECIAL-USE, CREATE-SPECIAL-USE,
 * STATUS=SIZE, QUOTA, MULTIAPPEND (all or none), CATENATE, OBJECTID,
 * SAVEDATE, PREVIEW. The harness is the one of test_imap_session.c. */
#include "gateway/imap/imap_session.h"
#include "gateway/command.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/password.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <event2/bufferevent.h>
#include <event2/thread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 20000

static struct evm_config cfg;
static struct node node;

struct client {
	int fd;
	struct imap_session *s;
	int closed;
	struct buf in;          /* everything received not consumed yet */
};

static void loop_once(void)
{
	struct timeval tick = { 0, 5000 };

	event_base_loopexit(node.base, &tick);
	event_base_dispatch(node.base);
}

static void loop_until(const int *done)
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

static void cmd_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct cmd_wait *w = ctx;
	const char *st = json_string_value(json_object_get(outcome, "status"));

	w->ok = status == 0 && st != NULL && strcmp(st, "accepted") == 0;
	w->done = 1;
}

static void submit(enum evm_topic_id topic, const char *account, const char *type, json_t *data)
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

static void setup(void)
{
	const char *error = NULL;
	char path[4096], *hash = NULL;

	evthread_use_pthreads();
	if (config_load(NULL, &cfg, &error) < 0 ||
	    config_set(&cfg, "node.data_dir", test_tmpdir("imap-listext-node"), &error) < 0 ||
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
	submit(EVM_TOPIC_DIRECTORY, "", "account.create",
	       json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", "amy@acme.test", "display_name", "Amy",
			 "quota", (json_int_t)0, "state", "active", "password_hash", hash));
	submit(EVM_TOPIC_MAIL, "amy@acme.test", "mailbox.provision", json_pack("{s:I}", "quota", (json_int_t)0));
	submit(EVM_TOPIC_DIRECTORY, "", "account.create",
	       json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", "bob@acme.test", "display_name", "Bob",
			 "quota", (json_int_t)20480, "state", "active", "password_hash", hash));
	submit(EVM_TOPIC_MAIL, "bob@acme.test", "mailbox.provision", json_pack("{s:I}", "quota", (json_int_t)20480));
	free(hash);
}

static void on_closed(void *ctx, struct imap_session *s, const char *ip)
{
	struct client *c = ctx;

	c->closed = 1;
	c->s = NULL;
}

static void client_open(struct client *c)
{
	struct imap_session_settings set = { NULL, 1, 60, 1800, 1000000 };
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

static void client_close(struct client *c)
{
	if (c->s != NULL)
		imap_session_close(c->s);
	close(c->fd);
	buf_free(&c->in);
}

/* Pumps the loop and reads into c->in until needle is in it (or EOF/timeout). */
static int pump(struct client *c, const char *needle)
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

static void send_raw(struct client *c, const char *data, size_t len)
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
static size_t tagged_end(struct client *c, const char *needle)
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
static char *cmd(struct client *c, const char *tag, const char *line)
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
	if (!ok_) { fprintf(stderr, "%s -> %s", (const char *)(line), o_); } \
	free(o_); \
	CHECK(ok_); } while (0)

static void login_as(struct client *c, const char *user)
{
	char line[128];

	client_open(c);
	pump(c, "\r\n");
	c->in.len = 0;
	c->in.data[0] = '\0';
	snprintf(line, sizeof line, "L1 LOGIN %s secret", user);
	CMD_HAS(c, "L1", line, "L1 OK [CAPABILITY");
}

static const char MSG1[] = "From: a@acme.test\r\nSubject: one\r\n\r\nHello preview world\r\n";
static const char MSG2[] = "From: b@acme.test\r\nSubject: two\r\n\r\nSecond body\r\n";

/* "tag APPEND box {n+}\r\nmsg" for each message (LITERAL+), malloc'ed. */
static char *append_line(const char *tag, const char *box, const char *const *msgs, size_t n)
{
	struct buf b = BUF_INIT;

	buf_printf(&b, "%s APPEND %s", tag, box);
	for (size_t i = 0; i < n; i++)
		buf_printf(&b, " (\\Seen) {%zu+}\r\n%s", strlen(msgs[i]), msgs[i]);
	return buf_steal(&b);
}

static void test_capabilities(void)
{
	struct client c;
	char *o;

	login_as(&c, "amy@acme.test");
	o = cmd(&c, "a", "a CAPABILITY");
	CHECK(HAS(o, " LIST-EXTENDED"));
	CHECK(HAS(o, " LIST-STATUS"));
	CHECK(HAS(o, " STATUS=SIZE"));
	CHECK(HAS(o, " CREATE-SPECIAL-USE"));
	CHECK(HAS(o, " QUOTA "));
	CHECK(HAS(o, " QUOTA=RES-STORAGE"));
	CHECK(HAS(o, " MULTIAPPEND"));
	CHECK(HAS(o, " CATENATE"));
	CHECK(HAS(o, " PREVIEW"));
	CHECK(HAS(o, " SAVEDATE"));
	CHECK(HAS(o, " OBJECTID"));
	free(o);
	client_close(&c);
}

static void test_create_special_use(void)
{
	struct client c;
	char *o;

	login_as(&c, "amy@acme.test");
	CMD_HAS(&c, "a", "a CREATE Outbox (USE (\\sent))", "a OK [MAILBOXID (");
	CMD_HAS(&c, "b", "b LIST \"\" Outbox", "* LIST (\\HasNoChildren \\Sent) \"/\" \"Outbox\"");
	CMD_HAS(&c, "c", "c CREATE Bogus (USE (\\Bogus))", "c NO [USEATTR]");
	CMD_HAS(&c, "d", "d CREATE Two (USE (\\Sent \\Junk))", "d NO [USEATTR]");
	CMD_HAS(&c, "e", "e CREATE Plain (USE ())", "e OK");
	CMD_HAS(&c, "f", "f CREATE Bad (FOO)", "f BAD");
	o = cmd(&c, "g", "g LIST \"\" * RETURN (SPECIAL-USE)");
	CHECK(HAS(o, "\\Sent) \"/\" \"Outbox\""));
	CHECK(HAS(o, "\\Trash) \"/\" \"Trash\""));
	free(o);
	o = cmd(&c, "h", "h LIST (SPECIAL-USE) \"\" *");
	CHECK(HAS(o, "\"Outbox\"") && HAS(o, "\"Junk\""));
	CHECK(!HAS(o, "\"INBOX\"") && !HAS(o, "\"Plain\""));
	free(o);
	CMD_HAS(&c, "i", "i STATUS Outbox (MESSAGES SIZE MAILBOXID)", "(MESSAGES 0 SIZE 0 MAILBOXID (");
	CMD_HAS(&c, "j", "j DELETE Outbox", "j OK");
	CMD_HAS(&c, "k", "k DELETE Plain", "k OK");
	client_close(&c);
}

static void test_list_extended(void)
{
	struct client c;
	char *o;

	login_as(&c, "amy@acme.test");
	CMD_HAS(&c, "a", "a CREATE Fruit/Apple", "a OK");
	CMD_HAS(&c, "b", "b CREATE Fruit/Pear", "b OK");
	CMD_HAS(&c, "c", "c SUBSCRIBE Fruit/Apple", "c OK");
	CMD_HAS(&c, "d", "d SUBSCRIBE INBOX", "d OK");
	/* RFC 5258 5: selection SUBSCRIBED */
	o = cmd(&c, "e", "e LIST (SUBSCRIBED) \"\" *");
	CHECK(HAS(o, "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Fruit/Apple\""));
	CHECK(HAS(o, "\\Subscribed) \"/\" \"INBOX\""));
	CHECK(!HAS(o, "Fruit/Pear") && !HAS(o, "\"Fruit\"\r\n"));
	free(o);
	/* RECURSIVEMATCH: the parent with CHILDINFO */
	o = cmd(&c, "f", "f LIST (SUBSCRIBED RECURSIVEMATCH) \"\" %");
	CHECK(HAS(o, "* LIST (\\NonExistent \\HasChildren) \"/\" \"Fruit\" (\"CHILDINFO\" (\"SUBSCRIBED\"))"));
	CHECK(!HAS(o, "Fruit/Apple"));
	free(o);
	CMD_HAS(&c, "g", "g LIST (RECURSIVEMATCH) \"\" %", "g BAD");
	CMD_HAS(&c, "h", "h LIST (BOGUS) \"\" %", "h BAD");
	CMD_HAS(&c, "i", "i LIST \"\" % RETURN (BOGUS)", "i BAD");
	/* several patterns, each name once */
	o = cmd(&c, "j", "j LIST \"\" (INBOX \"Fruit/*\" \"Fruit/Apple\")");
	CHECK(HAS(o, "\"INBOX\"") && HAS(o, "\"Fruit/Pear\""));
	CHECK(HAS(o, "\"Fruit/Apple\"") && !HAS(strstr(o, "\"Fruit/Apple\"") + 1, "\"Fruit/Apple\""));
	CHECK(!HAS(o, "\"Sent\""));
	free(o);
	/* return options SUBSCRIBED and CHILDREN */
	o = cmd(&c, "k", "k LIST \"\" \"Fruit*\" RETURN (SUBSCRIBED CHILDREN)");
	CHECK(HAS(o, "* LIST (\\NonExistent \\HasChildren) \"/\" \"Fruit\""));
	CHECK(HAS(o, "* LIST (\\HasNoChildren \\Subscribed) \"/\" \"Fruit/Apple\""));
	CHECK(HAS(o, "* LIST (\\HasNoChildren) \"/\" \"Fruit/Pear\""));
	free(o);
	/* plain LIST keeps \Noselect for the implied parent */
	CMD_HAS(&c, "l", "l LIST \"\" Fruit", "(\\Noselect \\HasChildren) \"/\" \"Fruit\"");
	/* RFC 5819 LIST-STATUS */
	o = cmd(&c, "m", "m LIST \"\" \"Fruit*\" RETURN (STATUS (MESSAGES UIDNEXT SIZE))");
	CHECK(HAS(o, "* LIST (\\HasNoChildren) \"/\" \"Fruit/Pear\"\r\n* STATUS \"Fruit/Pear\" (MESSAGES 0 UIDNEXT 1 SIZE 0)"));
	CHECK(!HAS(o, "STATUS \"Fruit\" "));
	free(o);
	CMD_HAS(&c, "n", "n LIST \"\" % RETURN (STATUS (BOGUS))", "n BAD");
	/* a subscribed name that is no mailbox (RFC 5258 3.1) */
	CMD_HAS(&c, "n1", "n1 SUBSCRIBE Gone", "n1 OK");
	CMD_HAS(&c, "n2", "n2 LIST (SUBSCRIBED) \"\" G*", "* LIST (\\NonExistent \\Subscribed) \"/\" \"Gone\"");
	o = cmd(&c, "n3", "n3 LIST \"\" G*");
	CHECK(!HAS(o, "Gone") && HAS(o, "n3 OK"));
	free(o);
	CMD_HAS(&c, "n5", "n5 LSUB \"\" G*", "* LSUB () \"/\" \"Gone\"");
	CMD_HAS(&c, "n4", "n4 UNSUBSCRIBE Gone", "n4 OK");
	CMD_HAS(&c, "o", "o DELETE Fruit/Apple", "o OK");
	CMD_HAS(&c, "p", "p DELETE Fruit/Pear", "p OK");
	client_close(&c);
}

static void test_quota(void)
{
	struct client c;
	const char *msgs[2];
	char big[16384 + 64], *line, *o;

	login_as(&c, "amy@acme.test");
	o = cmd(&c, "a", "a GETQUOTAROOT INBOX");
	CHECK(HAS(o, "* QUOTAROOT \"INBOX\"\r\n") && HAS(o, "a OK") && !HAS(o, "* QUOTA "));
	free(o);
	CMD_HAS(&c, "b", "b GETQUOTA \"\"", "b NO");
	client_close(&c);

	login_as(&c, "bob@acme.test");
	o = cmd(&c, "c", "c GETQUOTAROOT inbox");
	CHECK(HAS(o, "* QUOTAROOT \"INBOX\" \"\"\r\n* QUOTA \"\" (STORAGE 0 20)\r\nc OK"));
	free(o);
	CMD_HAS(&c, "d", "d GETQUOTAROOT Nope", "d NO [NONEXISTENT]");
	CMD_HAS(&c, "e", "e SETQUOTA \"\" (STORAGE 100)", "e NO [NOPERM]");
	CMD_HAS(&c, "f", "f SETQUOTA \"\"", "f BAD");
	CMD_HAS(&c, "g", "g GETQUOTA \"x\"", "g NO");
	msgs[0] = MSG1;
	line = append_line("h", "INBOX", msgs, 1);
	CMD_HAS(&c, "h", line, "h OK [APPENDUID");
	free(line);
	CMD_HAS(&c, "i", "i GETQUOTA \"\"", "* QUOTA \"\" (STORAGE 1 20)");
	/* MULTIAPPEND over quota: all or none (RFC 3502) */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	memcpy(big, "Subject: big\r\n\r\n", 16);
	msgs[0] = MSG2;
	msgs[1] = big;
	line = append_line("j", "INBOX", msgs, 2);
	CMD_HAS(&c, "j", line, "j OK [APPENDUID");
	free(line);
	line = append_line("k", "INBOX", msgs, 2);
	CMD_HAS(&c, "k", line, "k NO [OVERQUOTA]");
	free(line);
	CMD_HAS(&c, "l", "l STATUS INBOX (MESSAGES)", "(MESSAGES 3)");
	line = append_line("m", "INBOX", msgs + 1, 1);
	CMD_HAS(&c, "m", line, "m NO [OVERQUOTA]");
	free(line);
	client_close(&c);
}

static void test_multiappend_catenate(void)
{
	struct client c;
	const char *msgs[2] = { MSG1, MSG2 };
	char *line, *o, buf[512];

	login_as(&c, "amy@acme.test");
	CMD_HAS(&c, "a", "a CREATE Cat", "a OK");
	line = append_line("b", "Cat", msgs, 2);
	CMD_HAS(&c, "b", line, "b OK [APPENDUID ");
	free(line);
	o = cmd(&c, "c", "c STATUS Cat (MESSAGES UIDNEXT)");
	CHECK(HAS(o, "(MESSAGES 2 UIDNEXT 3)"));
	free(o);
	line = append_line("d", "Nope", msgs, 2);
	CMD_HAS(&c, "d", line, "d NO [TRYCREATE]");
	free(line);
	/* CATENATE: a TEXT part and the body of message 2 (section TEXT) */
	snprintf(buf, sizeof buf, "e APPEND Cat CATENATE (TEXT {%zu+}\r\n%s URL \"/Cat;UIDVALIDITY=%s/;UID=2/;SECTION=TEXT\")",
		 strlen("Subject: cat\r\n\r\n"), "Subject: cat\r\n\r\n", "");
	/* no UIDVALIDITY value: a bad URL */
	CMD_HAS(&c, "e", buf, "e NO [BADURL /Cat;UIDVALIDITY=/;UID=2/;SECTION=TEXT]");
	snprintf(buf, sizeof buf, "f APPEND Cat (\\Flagged) CATENATE (TEXT {%zu+}\r\n%s URL \"/Cat/;UID=2/;SECTION=TEXT\")",
		 strlen("Subject: cat\r\n\r\n"), "Subject: cat\r\n\r\n");
	CMD_HAS(&c, "f", buf, "f OK [APPENDUID ");
	CMD_HAS(&c, "g", "g SELECT Cat", "* OK [MAILBOXID (");
	o = cmd(&c, "h", "h FETCH 3 (FLAGS BODY.PEEK[])");
	CHECK(HAS(o, "\\Flagged"));
	CHECK(HAS(o, "{29}\r\nSubject: cat\r\n\r\nSecond body\r\n"));
	free(o);
	/* a whole message by URL, then one that does not exist */
	CMD_HAS(&c, "i", "i APPEND Cat CATENATE (URL \"/Cat/;UID=1\" URL \"/Cat/;UID=1/;SECTION=TEXT\")", "i OK");
	CMD_HAS(&c, "j", "j APPEND Cat CATENATE (URL \"/Cat/;UID=99\")", "j NO [BADURL /Cat/;UID=99]");
	CMD_HAS(&c, "k", "k APPEND Cat CATENATE (FOO \"x\")", "k BAD");
	/* OBJECTID, SAVEDATE, PREVIEW */
	o = cmd(&c, "l", "l FETCH 1 (EMAILID THREADID SAVEDATE PREVIEW)");
	CHECK(HAS(o, "* 1 FETCH (EMAILID ("));
	CHECK(HAS(o, "THREADID NIL SAVEDATE \""));
	CHECK(HAS(o, "PREVIEW \"Hello preview world\")"));
	/* RFC 8474 6: SEARCH EMAILID */
	if (HAS(o, "EMAILID (")) {
		char id[64] = "", sline[128];

		CHECK(sscanf(strstr(o, "EMAILID (") + 9, "%63[0-9a-f]", id) == 1);
		snprintf(sline, sizeof sline, "s SEARCH EMAILID %s", id);
		CMD_HAS(&c, "s", sline, "* SEARCH 1\r\n");
	}
	free(o);
	CMD_HAS(&c, "t", "t SEARCH THREADID T1", "* SEARCH\r\n");
	CMD_HAS(&c, "m", "m FETCH 1 (PREVIEW (LAZY))", "PREVIEW \"Hello preview world\"");
	CMD_HAS(&c, "n", "n SEARCH SAVEDSINCE 1-Jan-2000", "* SEARCH 1 2 3 4");
	o = cmd(&c, "o", "o SEARCH SAVEDBEFORE 1-Jan-2000");
	CHECK(HAS(o, "* SEARCH\r\n") && HAS(o, "o OK"));
	free(o);
	CMD_HAS(&c, "p", "p SEARCH SAVEDATESUPPORTED", "* SEARCH 1 2 3 4");
	CMD_HAS(&c, "p1", "p1 STORE 1 +FLAGS (\\Deleted)", "p1 OK");
	CMD_HAS(&c, "p2", "p2 STATUS Cat (DELETED DELETED-STORAGE)", "(DELETED 1 DELETED-STORAGE 1)");
	CMD_HAS(&c, "q", "q CLOSE", "q OK");
	CMD_HAS(&c, "q2", "q2 STATUS Cat (MESSAGES DELETED-STORAGE)", "(MESSAGES 3 DELETED-STORAGE 0)");
	CMD_HAS(&c, "r", "r STATUS Cat (SIZE)", "(SIZE ");
	/* MULTIAPPEND with a date-time per message, quoted or as a literal */
	snprintf(buf, sizeof buf, "u APPEND Cat \"14-Nov-2023 22:13:20 +0000\" {%zu+}\r\n%s () {26+}\r\n"
		 "15-Nov-2023 22:13:20 +0000 {%zu+}\r\n%s", strlen(MSG1), MSG1, strlen(MSG2), MSG2);
	CMD_HAS(&c, "u", buf, "u OK [APPENDUID ");
	CMD_HAS(&c, "v", "v EXAMINE Cat", "* 5 EXISTS");
	o = cmd(&c, "w", "w FETCH 4:5 INTERNALDATE");
	CHECK(HAS(o, "* 4 FETCH (INTERNALDATE \"14-Nov-2023 22:13:20 +0000\")"));
	CHECK(HAS(o, "* 5 FETCH (INTERNALDATE \"15-Nov-2023 22:13:20 +0000\")"));
	free(o);
	client_close(&c);
}

int main(void)
{
	setup();
	test_run("capabilities", test_capabilities);
	test_run("CREATE-SPECIAL-USE, SPECIAL-USE, STATUS SIZE MAILBOXID", test_create_special_use);
	test_run("LIST-EXTENDED, LIST-STATUS", test_list_extended);
	test_run("QUOTA, OVERQUOTA, MULTIAPPEND all or none", test_quota);
	test_run("MULTIAPPEND, CATENATE, OBJECTID, SAVEDATE, PREVIEW", test_multiappend_catenate);
	projector_stop(node.projector);
	evlog_close(&node.log);
	projector_destroy(&node.projector);
	view_close(&node.view);
	return test_done();
}
