/* bench_imap - an IMAP load generator on libevent, for comparing evmail's
 * IMAP gateway with another server (bench/run-imap-bench.sh runs it against
 * evmail and Dovecot with the same parameters).
 *
 * Two modes:
 *
 *   load (default)  N concurrent sessions over M users; each loops until the
 *                   duration is over: connect, LOGIN, SELECT INBOX,
 *                   FETCH 1:* (UID FLAGS), UID FETCH of a few messages'
 *                   BODY.PEEK[], STORE n +FLAGS (\Seen), APPEND a message of
 *                   --size bytes (LITERAL+), UID STORE u +FLAGS.SILENT
 *                   (\Deleted) of one known message, EXPUNGE (--rounds R:
 *                   FETCH..EXPUNGE R times per login), LOGOUT.
 *                   Every tagged completion is one command; a command that
 *                   ends in NO/BAD counts as an error. Prints commands/s,
 *                   loops/s and latency percentiles per command.
 *   idle            K sessions (at most --parallel being set up at a time):
 *                   LOGIN, SELECT INBOX, IDLE; once all are idling (or the
 *                   setup time is over) prints "READY <n>" on stdout, holds
 *                   them --hold seconds, then DONE + LOGOUT and a report.
 *
 * Every run is bounded: --duration (load) or --setup-timeout + --hold
 * (idle), plus a hard --timeout after which the process exits regardless.
 * The summary is one JSON line on stdout (prefixed "RESULT "), human
 * readable lines on stderr.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum cmd_kind {
	C_LOGIN, C_SELECT, C_FETCH_FLAGS, C_UID_FETCH_BODY, C_STORE_SEEN,
	C_APPEND, C_STORE_DELETED, C_EXPUNGE, C_LOGOUT, C_IDLE, C_NCMD
};

static const char *const cmd_names[C_NCMD] = {
	"LOGIN", "SELECT", "FETCH_FLAGS", "UID_FETCH_BODY", "STORE_SEEN",
	"APPEND", "STORE_DELETED", "EXPUNGE", "LOGOUT", "IDLE"
};

struct lat {
	uint32_t *us;
	size_t n, cap;
	uint64_t ok, no, bad;
};

static struct {
	const char *host;
	int port;
	int mode_idle;
	int sessions;
	int users;
	const char *user_fmt;
	const char *password;
	double duration;
	double warmup;
	int body_fetches;
	int rounds;
	int size;
	int idle_count;
	int parallel;
	double hold;
	double setup_timeout;
	double timeout;
	int verbose;
	const char *label;
} opt = {
	.host = "127.0.0.1", .port = 143, .sessions = 50, .users = 20,
	.user_fmt = "user%d@bench.test", .password = "bench-password-1",
	.duration = 30, .warmup = 3, .body_fetches = 3, .rounds = 1, .size = 4096,
	.idle_count = 5000, .parallel = 100, .hold = 10, .setup_timeout = 300,
	.timeout = 0, .label = "imap",
};

static struct event_base *base;
static struct lat lats[C_NCMD];
static double t_start, t_measure, t_end;
static int stopping;
static uint64_t loops_done, connects, conn_errors, proto_errors, unexpected_bye;
static char *append_msg;
static size_t append_len;

/* idle mode */
static int idle_started, idle_ready, idle_failed, idle_active_setup, idle_closed;
static int ready_printed;
static double t_ready;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void logf_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bench_imap[%s]: ", opt.label);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void lat_add(enum cmd_kind k, double secs, int status)
{
	struct lat *l = &lats[k];

	if (status == 0)
		l->ok++;
	else if (status == 1)
		l->no++;
	else
		l->bad++;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4096;
		l->us = realloc(l->us, l->cap * sizeof *l->us);
		if (l->us == NULL) {
			perror("realloc");
			exit(2);
		}
	}
	l->us[l->n++] = (uint32_t)(secs * 1e6);
}

/* ------------------------------------------------------------ sessions */

enum st {
	S_GREETING, S_LOGIN, S_SELECT, S_FETCH_FLAGS, S_UID_FETCH, S_STORE_SEEN,
	S_APPEND, S_STORE_DEL, S_EXPUNGE, S_LOGOUT, S_IDLE_WAIT, S_IDLING,
	S_IDLE_DONE, S_DEAD
};

struct session {
	int id;
	int user;
	struct bufferevent *bev;
	enum st st;
	unsigned tagno;
	char tag[16];
	enum cmd_kind kind;
	double sent_at;
	size_t lit_left;       /* octets of a server literal still to skip */
	int in_response;       /* after a literal: the line continues a response */
	unsigned exists;
	uint32_t *uids;        /* from FETCH 1:* (UID FLAGS) */
	size_t nuids, capuids;
	int idle_counted;
	int round;             /* mailbox rounds done in this login */
};

static struct session *sessions;
static int nsessions;

static void session_start(struct session *s);
static void session_close(struct session *s, int restart);
static void restart_later(struct session *s);

static unsigned rnd(void)
{
	return (unsigned)random();
}

static void send_cmd(struct session *s, enum cmd_kind k, const char *fmt, ...)
{
	struct evbuffer *out = bufferevent_get_output(s->bev);
	va_list ap;

	snprintf(s->tag, sizeof s->tag, "a%u", ++s->tagno);
	evbuffer_add_printf(out, "%s ", s->tag);
	va_start(ap, fmt);
	evbuffer_add_vprintf(out, fmt, ap);
	va_end(ap);
	evbuffer_add(out, "\r\n", 2);
	s->kind = k;
	s->sent_at = now();
}

static void do_login(struct session *s)
{
	char user[256];

	snprintf(user, sizeof user, opt.user_fmt, s->user + 1);
	s->st = S_LOGIN;
	send_cmd(s, C_LOGIN, "LOGIN \"%s\" \"%s\"", user, opt.password);
}

static void do_uid_fetch(struct session *s)
{
	char set[256];
	size_t off = 0;
	int i;

	s->st = S_UID_FETCH;
	if (s->nuids == 0) {
		send_cmd(s, C_UID_FETCH_BODY, "UID FETCH 1 BODY.PEEK[]");
		return;
	}
	for (i = 0; i < opt.body_fetches && off < sizeof set - 16; i++)
		off += (size_t)snprintf(set + off, sizeof set - off, "%s%u", i ? "," : "",
					s->uids[rnd() % s->nuids]);
	send_cmd(s, C_UID_FETCH_BODY, "UID FETCH %s BODY.PEEK[]", set);
}

static void advance(struct session *s)
{
	switch (s->st) {
	case S_LOGIN:
		s->st = S_SELECT;
		send_cmd(s, C_SELECT, "SELECT INBOX");
		break;
	case S_SELECT:
		if (opt.mode_idle) {
			s->st = S_IDLE_WAIT;
			send_cmd(s, C_IDLE, "IDLE");
		} else {
			s->st = S_FETCH_FLAGS;
			s->nuids = 0;
			send_cmd(s, C_FETCH_FLAGS, "FETCH 1:* (UID FLAGS)");
		}
		break;
	case S_FETCH_FLAGS:
		do_uid_fetch(s);
		break;
	case S_UID_FETCH:
		s->st = S_STORE_SEEN;
		send_cmd(s, C_STORE_SEEN, "STORE %u +FLAGS (\\Seen)",
			 s->exists ? 1 + rnd() % s->exists : 1);
		break;
	case S_STORE_SEEN:
		s->st = S_APPEND;
		snprintf(s->tag, sizeof s->tag, "a%u", ++s->tagno);
		{
			struct evbuffer *out = bufferevent_get_output(s->bev);

			evbuffer_add_printf(out, "%s APPEND INBOX {%zu+}\r\n", s->tag, append_len);
			evbuffer_add(out, append_msg, append_len);
			evbuffer_add(out, "\r\n", 2);
			s->kind = C_APPEND;
			s->sent_at = now();
		}
		break;
	case S_APPEND:
		s->st = S_STORE_DEL;
		send_cmd(s, C_STORE_DELETED, "UID STORE %u +FLAGS.SILENT (\\Deleted)",
			 s->nuids ? s->uids[rnd() % s->nuids] : 1);
		break;
	case S_STORE_DEL:
		s->st = S_EXPUNGE;
		send_cmd(s, C_EXPUNGE, "EXPUNGE");
		break;
	case S_EXPUNGE:
		if (++s->round < opt.rounds) {
			s->st = S_FETCH_FLAGS;
			s->nuids = 0;
			send_cmd(s, C_FETCH_FLAGS, "FETCH 1:* (UID FLAGS)");
			break;
		}
		s->st = S_LOGOUT;
		send_cmd(s, C_LOGOUT, "LOGOUT");
		break;
	case S_LOGOUT:
		if (s->sent_at >= t_measure && !stopping)
			loops_done++;
		session_close(s, 1);
		break;
	case S_IDLE_DONE:
		s->st = S_LOGOUT;
		send_cmd(s, C_LOGOUT, "LOGOUT");
		break;
	default:
		break;
	}
}

static void idle_setup_done(struct session *s, int ok);

/* One response line (without CRLF). */
static void on_line(struct session *s, char *line, size_t len)
{
	int cont = s->in_response;
	char *p;

	s->in_response = 0;
	/* A literal announced at the end of the line: skip its octets. */
	if (len > 2 && line[len - 1] == '}') {
		p = memrchr(line, '{', len);
		if (p != NULL) {
			s->lit_left = strtoull(p + 1, NULL, 10);
			s->in_response = 1;
		}
	}
	if (opt.verbose > 1)
		logf_("S%d < %.*s", s->id, (int)(len > 200 ? 200 : len), line);
	if (cont)
		return;
	if (line[0] == '*') {
		unsigned n;
		char word[32];

		if (s->st == S_GREETING) {
			if (strncmp(line, "* OK", 4) == 0) {
				do_login(s);
			} else {
				proto_errors++;
				session_close(s, 1);
			}
			return;
		}
		if (strncmp(line, "* BYE", 5) == 0) {
			if (s->st != S_LOGOUT)
				unexpected_bye++;
			return;
		}
		if (sscanf(line, "* %u %31s", &n, word) == 2) {
			if (strcasecmp(word, "EXISTS") == 0)
				s->exists = n;
			else if (strcasecmp(word, "FETCH") == 0 && s->st == S_FETCH_FLAGS) {
				char *u = strcasestr(line, "UID ");

				if (u != NULL) {
					if (s->nuids == s->capuids) {
						s->capuids = s->capuids ? s->capuids * 2 : 64;
						s->uids = realloc(s->uids, s->capuids * sizeof *s->uids);
					}
					s->uids[s->nuids++] = (uint32_t)strtoul(u + 4, NULL, 10);
				}
			} else if (strcasecmp(word, "EXPUNGE") == 0 && s->exists > 0)
				s->exists--;
		}
		return;
	}
	if (line[0] == '+') {
		if (s->st == S_IDLE_WAIT) {
			lat_add(C_IDLE, now() - s->sent_at, 0);
			s->st = S_IDLING;
			idle_setup_done(s, 1);
		}
		return;
	}
	/* tagged? */
	size_t tl = strlen(s->tag);

	if (len > tl && strncmp(line, s->tag, tl) == 0 && line[tl] == ' ') {
		const char *r = line + tl + 1;
		int status = strncasecmp(r, "OK", 2) == 0 ? 0 : strncasecmp(r, "NO", 2) == 0 ? 1 : 2;
		double t = now();

		if (s->sent_at >= t_measure && t <= t_end)
			lat_add(s->kind, t - s->sent_at, status);
		if (status != 0 && opt.verbose)
			logf_("S%d %s: %.*s", s->id, cmd_names[s->kind], (int)(len > 200 ? 200 : len), line);
		if (status != 0 && (s->kind == C_LOGIN || s->kind == C_SELECT)) {
			proto_errors++;
			if (opt.mode_idle)
				idle_setup_done(s, 0);
			session_close(s, !opt.mode_idle);
			return;
		}
		if (stopping && !opt.mode_idle) {
			session_close(s, 0);
			return;
		}
		advance(s);
		return;
	}
	if (opt.verbose)
		logf_("S%d unexpected line: %.*s", s->id, (int)(len > 200 ? 200 : len), line);
}

static void on_read(struct bufferevent *bev, void *ctx)
{
	struct session *s = ctx;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (s->bev != NULL) {
		if (s->lit_left > 0) {
			size_t have = evbuffer_get_length(in);
			size_t n = have < s->lit_left ? have : s->lit_left;

			if (n == 0)
				return;
			evbuffer_drain(in, n);
			s->lit_left -= n;
			continue;
		}
		size_t len;
		char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);

		if (line == NULL)
			return;
		on_line(s, line, len);
		free(line);
	}
}

static void on_event(struct bufferevent *bev, short what, void *ctx)
{
	struct session *s = ctx;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		return;
	}
	if (s->st == S_LOGOUT) {     /* the server closed after BYE: normal */
		if (s->sent_at >= t_measure && !stopping && !opt.mode_idle)
			loops_done++;
		session_close(s, 1);
		return;
	}
	if (!stopping) {
		conn_errors++;
		if (opt.verbose)
			logf_("S%d connection %s in state %d: %s", s->id,
			      (what & BEV_EVENT_EOF) ? "closed" : "error", s->st,
			      evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	}
	if (opt.mode_idle && (s->st == S_GREETING || s->st == S_LOGIN || s->st == S_SELECT ||
			      s->st == S_IDLE_WAIT))
		idle_setup_done(s, 0);
	else if (opt.mode_idle && s->st == S_IDLING)
		idle_ready--;
	session_close(s, 0);
	if (!opt.mode_idle)
		restart_later(s);   /* not in a tight loop if the server refuses */
}

static void restart_cb(evutil_socket_t fd, short what, void *ctx)
{
	struct session *s = ctx;
	(void)fd; (void)what;

	if (!stopping && s->bev == NULL)
		session_start(s);
}

static void restart_later(struct session *s)
{
	struct timeval tv = { 0, 100000 };

	if (!stopping)
		event_base_once(base, -1, EV_TIMEOUT, restart_cb, s, &tv);
}

static void session_close(struct session *s, int restart)
{
	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	s->st = S_DEAD;
	s->lit_left = 0;
	s->in_response = 0;
	if (opt.mode_idle)
		idle_closed++;
	if (restart && !stopping && !opt.mode_idle)
		session_start(s);
}

static void session_start(struct session *s)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)opt.port);
	inet_pton(AF_INET, opt.host, &sin.sin_addr);
	s->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	s->st = S_GREETING;
	s->round = 0;
	s->exists = 0;
	s->nuids = 0;
	s->lit_left = 0;
	s->in_response = 0;
	bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	connects++;
	if (bufferevent_socket_connect(s->bev, (struct sockaddr *)&sin, sizeof sin) < 0) {
		conn_errors++;
		bufferevent_free(s->bev);
		s->bev = NULL;
		s->st = S_DEAD;
		if (opt.mode_idle)
			idle_setup_done(s, 0);
		else
			restart_later(s);
	}
}

/* ------------------------------------------------------------ idle mode */

static void idle_launch_more(void)
{
	while (!stopping && idle_started < opt.idle_count && idle_active_setup < opt.parallel) {
		struct session *s = &sessions[idle_started++];

		idle_active_setup++;
		session_start(s);
	}
}

static void idle_check_ready(void)
{
	if (!ready_printed && idle_started == opt.idle_count && idle_active_setup == 0) {
		ready_printed = 1;
		t_ready = now();
		printf("READY %d\n", idle_ready);
		fflush(stdout);
		logf_("%d of %d sessions idling after %.1f s (%d failed); holding %.0f s",
		      idle_ready, opt.idle_count, t_ready - t_start, idle_failed, opt.hold);
	}
}

static void idle_setup_done(struct session *s, int ok)
{
	if (s->idle_counted)
		return;
	s->idle_counted = 1;
	idle_active_setup--;
	if (ok)
		idle_ready++;
	else
		idle_failed++;
	idle_launch_more();
	idle_check_ready();
}

/* ------------------------------------------------------------ report */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double pct(struct lat *l, double p)
{
	size_t i;

	if (l->n == 0)
		return 0;
	i = (size_t)(p / 100.0 * (double)(l->n - 1) + 0.5);
	return l->us[i] / 1000.0;
}

static void report(double elapsed)
{
	uint64_t total = 0, errs = 0;
	struct lat all = { 0 };
	int k;

	for (k = 0; k < C_NCMD; k++) {
		struct lat *l = &lats[k];

		total += l->ok + l->no + l->bad;
		errs += l->no + l->bad;
		qsort(l->us, l->n, sizeof *l->us, cmp_u32);
		if (l->n) {
			all.us = realloc(all.us, (all.n + l->n) * sizeof *all.us);
			memcpy(all.us + all.n, l->us, l->n * sizeof *l->us);
			all.n += l->n;
		}
	}
	qsort(all.us, all.n, sizeof *all.us, cmp_u32);
	fprintf(stderr, "bench_imap[%s]: %-15s %9s %6s %6s %8s %8s %8s %8s %8s\n", opt.label,
		"command", "count", "NO", "BAD", "p50 ms", "p90 ms", "p99 ms", "max ms", "per s");
	for (k = 0; k < C_NCMD; k++) {
		struct lat *l = &lats[k];

		if (l->n == 0)
			continue;
		fprintf(stderr, "bench_imap[%s]: %-15s %9zu %6llu %6llu %8.2f %8.2f %8.2f %8.2f %8.1f\n",
			opt.label, cmd_names[k], l->n, (unsigned long long)l->no,
			(unsigned long long)l->bad, pct(l, 50), pct(l, 90), pct(l, 99),
			pct(l, 100), (double)l->n / elapsed);
	}
	fprintf(stderr, "bench_imap[%s]: %-15s %9zu %6s %6s %8.2f %8.2f %8.2f %8.2f %8.1f\n",
		opt.label, "all", all.n, "", "", pct(&all, 50), pct(&all, 90), pct(&all, 99),
		pct(&all, 100), (double)all.n / elapsed);

	printf("RESULT {\"label\":\"%s\",\"mode\":\"%s\",\"elapsed_s\":%.3f,\"commands\":%llu,"
	       "\"errors\":%llu,\"ops_per_s\":%.1f,\"loops\":%llu,\"loops_per_s\":%.2f,"
	       "\"connects\":%llu,\"conn_errors\":%llu,\"proto_errors\":%llu,\"unexpected_bye\":%llu,"
	       "\"p50_ms\":%.3f,\"p90_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f",
	       opt.label, opt.mode_idle ? "idle" : "load", elapsed, (unsigned long long)total,
	       (unsigned long long)errs, (double)total / elapsed, (unsigned long long)loops_done,
	       (double)loops_done / elapsed, (unsigned long long)connects,
	       (unsigned long long)conn_errors, (unsigned long long)proto_errors,
	       (unsigned long long)unexpected_bye, pct(&all, 50), pct(&all, 90), pct(&all, 99),
	       pct(&all, 100));
	if (opt.mode_idle)
		printf(",\"idle_requested\":%d,\"idle_ready\":%d,\"idle_failed\":%d,\"setup_s\":%.2f",
		       opt.idle_count, idle_ready, idle_failed, t_ready > 0 ? t_ready - t_start : -1.0);
	printf(",\"per_command\":{");
	for (k = 0; k < C_NCMD; k++) {
		struct lat *l = &lats[k];

		printf("%s\"%s\":{\"n\":%zu,\"no\":%llu,\"bad\":%llu,\"p50_ms\":%.3f,\"p99_ms\":%.3f}",
		       k ? "," : "", cmd_names[k], l->n, (unsigned long long)l->no,
		       (unsigned long long)l->bad, pct(l, 50), pct(l, 99));
	}
	printf("}}\n");
	fflush(stdout);
	free(all.us);
}

/* ------------------------------------------------------------ timers */

static struct event *tick_ev;
static double hold_until;
static int idle_phase;   /* 0 setup, 1 holding, 2 closing */

static void finish(void)
{
	stopping = 1;
	event_base_loopbreak(base);
}

static void on_tick(evutil_socket_t fd, short what, void *ctx)
{
	double t = now();
	(void)fd; (void)what; (void)ctx;

	if (opt.timeout > 0 && t - t_start > opt.timeout) {
		logf_("hard timeout (%.0f s): stopping", opt.timeout);
		finish();
		return;
	}
	if (!opt.mode_idle) {
		if (t >= t_end) {
			stopping = 1;
			finish();
		}
		return;
	}
	if (idle_phase == 0) {
		if (!ready_printed && t - t_start > opt.setup_timeout) {
			logf_("setup timeout: %d idling, %d in setup, %d failed", idle_ready,
			      idle_active_setup, idle_failed);
			idle_started = opt.idle_count;
			idle_active_setup = 0;
			idle_check_ready();
		}
		if (ready_printed) {
			idle_phase = 1;
			hold_until = t + opt.hold;
		}
	} else if (idle_phase == 1 && t >= hold_until) {
		int i, alive = 0;

		idle_phase = 2;
		for (i = 0; i < nsessions; i++) {
			struct session *s = &sessions[i];

			if (s->bev != NULL && s->st == S_IDLING) {
				alive++;
				s->st = S_IDLE_DONE;
				s->sent_at = -1;   /* IDLE's completion is not timed */
				evbuffer_add(bufferevent_get_output(s->bev), "DONE\r\n", 6);
			} else if (s->bev != NULL) {
				session_close(s, 0);
			}
		}
		logf_("hold over: %d sessions still idling (of %d ready); DONE + LOGOUT", alive,
		      idle_ready);
		printf("ALIVE %d\n", alive);
		fflush(stdout);
		hold_until = t + 30;   /* at most 30 s to log out */
	} else if (idle_phase == 2) {
		int i, open = 0;

		for (i = 0; i < nsessions; i++)
			open += sessions[i].bev != NULL;
		if (open == 0 || t >= hold_until)
			finish();
	}
}

static void on_signal(evutil_socket_t sig, short what, void *ctx)
{
	(void)what; (void)ctx;
	logf_("signal %d: stopping", (int)sig);
	finish();
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bench_imap [options]\n"
		"  --host H            server address (127.0.0.1)\n"
		"  --port P            server port (143)\n"
		"  --users M           accounts user1..userM (20)\n"
		"  --user-fmt FMT      printf format of a login name, %%d = 1..M (user%%d@bench.test)\n"
		"  --password PW       every account's password (bench-password-1)\n"
		"  --label NAME        name in the output (imap)\n"
		"  -v                  log NO/BAD answers and connection errors (-vv: every line)\n"
		" load mode (default):\n"
		"  --sessions N        concurrent sessions (50)\n"
		"  --duration S        measured seconds (30)\n"
		"  --warmup S          unmeasured seconds first (3)\n"
		"  --body-fetches F    messages per UID FETCH BODY.PEEK[] (3)\n"
		"  --rounds R          FETCH..EXPUNGE rounds per login (1)\n"
		"  --size B            APPENDed message size (4096)\n"
		" idle mode:\n"
		"  --idle K            K sessions LOGIN + SELECT + IDLE\n"
		"  --parallel P        at most P sessions being set up at once (100)\n"
		"  --hold S            seconds to hold them once all are idling (10)\n"
		"  --setup-timeout S   give up setting up after S seconds (300)\n"
		"  --timeout S         hard limit on the whole run (default: derived)\n");
}

static char *make_message(int size)
{
	char *m = malloc((size_t)size + 1);
	int off;

	off = snprintf(m, (size_t)size + 1,
		       "From: bench <bench@bench.test>\r\nTo: user <user@bench.test>\r\n"
		       "Subject: bench_imap append\r\nDate: Sun, 29 Nov 2026 12:00:00 +0000\r\n"
		       "Message-ID: <bench-imap@bench.test>\r\nMIME-Version: 1.0\r\n"
		       "Content-Type: text/plain; charset=us-ascii\r\n\r\n");
	while (off < size) {
		int i;

		for (i = 0; i < 70 && off < size - 2; i++)
			{ m[off] = (char)('a' + (off % 26)); off++; }
		if (off <= size - 2) {
			m[off++] = '\r';
			m[off++] = '\n';
		} else {
			m[off++] = '\n';
		}
	}
	m[size] = 0;
	return m;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "host", 1, 0, 'H' }, { "port", 1, 0, 'p' }, { "users", 1, 0, 'u' },
		{ "user-fmt", 1, 0, 'f' }, { "password", 1, 0, 'P' }, { "label", 1, 0, 'l' },
		{ "sessions", 1, 0, 'n' }, { "duration", 1, 0, 'd' }, { "warmup", 1, 0, 'w' },
		{ "body-fetches", 1, 0, 'b' }, { "size", 1, 0, 's' }, { "idle", 1, 0, 'i' },
		{ "parallel", 1, 0, 'c' }, { "hold", 1, 0, 'o' }, { "setup-timeout", 1, 0, 'S' },
		{ "timeout", 1, 0, 'T' }, { "rounds", 1, 0, 'r' }, { "help", 0, 0, 'h' }, { 0, 0, 0, 0 }
	};
	struct event *sig1, *sig2;
	struct timeval tv = { 0, 100000 };
	struct rlimit rl;
	int c, i;

	while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
		switch (c) {
		case 'H': opt.host = optarg; break;
		case 'p': opt.port = atoi(optarg); break;
		case 'u': opt.users = atoi(optarg); break;
		case 'f': opt.user_fmt = optarg; break;
		case 'P': opt.password = optarg; break;
		case 'l': opt.label = optarg; break;
		case 'n': opt.sessions = atoi(optarg); break;
		case 'd': opt.duration = atof(optarg); break;
		case 'w': opt.warmup = atof(optarg); break;
		case 'b': opt.body_fetches = atoi(optarg); break;
		case 's': opt.size = atoi(optarg); break;
		case 'i': opt.mode_idle = 1; opt.idle_count = atoi(optarg); break;
		case 'c': opt.parallel = atoi(optarg); break;
		case 'o': opt.hold = atof(optarg); break;
		case 'S': opt.setup_timeout = atof(optarg); break;
		case 'T': opt.timeout = atof(optarg); break;
		case 'r': opt.rounds = atoi(optarg); break;
		case 'v': opt.verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (opt.users < 1 || opt.sessions < 1 || opt.size < 256 || opt.duration <= 0 ||
	    opt.idle_count < 1 || opt.parallel < 1 || opt.body_fetches < 1 || opt.rounds < 1) {
		usage(stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srandom((unsigned)getpid());
	nsessions = opt.mode_idle ? opt.idle_count : opt.sessions;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)nsessions + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < (rlim_t)nsessions + 64)
			logf_("warning: RLIMIT_NOFILE %llu < %d sessions: raise ulimit -n",
			      (unsigned long long)rl.rlim_cur, nsessions);
	}
	if (opt.timeout <= 0)
		opt.timeout = opt.mode_idle ? opt.setup_timeout + opt.hold + 60
					    : opt.warmup + opt.duration + 30;
	append_msg = make_message(opt.size);
	append_len = (size_t)opt.size;

	base = event_base_new();
	sessions = calloc((size_t)nsessions, sizeof *sessions);
	for (i = 0; i < nsessions; i++) {
		sessions[i].id = i;
		sessions[i].user = i % opt.users;
	}
	t_start = now();
	if (opt.mode_idle) {
		t_measure = t_start;
		t_end = 1e300;
		logf_("idle: %d sessions over %d users on %s:%d, %d set up at a time", nsessions,
		      opt.users, opt.host, opt.port, opt.parallel);
		idle_launch_more();
	} else {
		t_measure = t_start + opt.warmup;
		t_end = t_measure + opt.duration;
		logf_("load: %d sessions over %d users on %s:%d, %.0f s warm-up + %.0f s measured",
		      nsessions, opt.users, opt.host, opt.port, opt.warmup, opt.duration);
		for (i = 0; i < nsessions; i++)
			session_start(&sessions[i]);
	}
	tick_ev = event_new(base, -1, EV_PERSIST, on_tick, NULL);
	event_add(tick_ev, &tv);
	sig1 = evsignal_new(base, SIGINT, on_signal, NULL);
	sig2 = evsignal_new(base, SIGTERM, on_signal, NULL);
	event_add(sig1, NULL);
	event_add(sig2, NULL);
	event_base_dispatch(base);

	double elapsed = opt.mode_idle ? now() - t_start
				       : (now() < t_end ? now() : t_end) - t_measure;

	if (elapsed <= 0)
		elapsed = 1e-9;
	report(elapsed);
	for (i = 0; i < nsessions; i++)
		if (sessions[i].bev != NULL)
			bufferevent_free(sessions[i].bev);
	event_free(tick_ev);
	event_free(sig1);
	event_free(sig2);
	event_base_free(base);
	if (opt.mode_idle)
		return idle_ready > 0 ? 0 : 1;
	return loops_done > 0 ? 0 : 1;
}
