/* test_msgauth_resolver - the inbound checks' shared libunbound context:
 * answers to many threads at once on one context, the per-query bound
 * (a query never answered is a temporary failure by its deadline, then
 * cancelled), stop (waiting queries fail at once) and the reference
 * count. A tiny UDP DNS server on 127.0.0.1 answers: TXT of *.ok.example.net,
 * NXDOMAIN for the rest (not under .test: libunbound serves that zone itself, RFC 6761), nothing at all for *.silent.example.net. */
#include "gateway/msgauth/msgauth_resolver.h"
#include "gateway/outbound/dns.h"
#include "common/ids.h"
#include "common/log.h"
#include "tests/unit/testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define THREADS 8
#define PER_THREAD 20

static int server_fd = -1, server_stop[2];
static pthread_t server_thread;
static char resolvers[64];

/* The question's name as text ("a.ok.example.net") and the offset after QTYPE/QCLASS; -1 when malformed. */
static int question(const unsigned char *m, size_t len, char *name, size_t size, size_t *end_r)
{
	size_t i = 12, k = 0;

	while (i < len && m[i] != 0) {
		size_t n = m[i++];
		if (n > 63 || i + n > len || k + n + 2 > size)
			return -1;
		if (k > 0)
			name[k++] = '.';
		memcpy(name + k, m + i, n);
		k += n;
		i += n;
	}
	name[k] = '\0';
	if (i + 5 > len)
		return -1;
	*end_r = i + 5;
	return 0;
}

static int ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* The DNS server: one datagram in, at most one out. */
static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		struct pollfd pfd[2] = { { .fd = server_fd, .events = POLLIN }, { .fd = server_stop[0], .events = POLLIN } };
		unsigned char q[512], a[600];
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		char name[256];
		size_t qend = 0, n;
		ssize_t len;

		if (poll(pfd, 2, -1) < 0 || pfd[1].revents != 0)
			return NULL;
		len = recvfrom(server_fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
		if (len < 12 || question(q, (size_t)len, name, sizeof name, &qend) < 0 || ends_with(name, "silent.example.net"))
			continue;
		memcpy(a, q, qend);
		a[2] = 0x84 | (q[2] & 0x01);   /* QR, AA, RD copied */
		a[3] = 0x80;                   /* RA, NOERROR */
		a[6] = a[7] = a[8] = a[9] = a[10] = a[11] = 0;
		n = qend;
		if (ends_with(name, "ok.example.net") && q[qend - 4] == 0 && q[qend - 3] == DNS_T_TXT) {
			static const unsigned char rr[] = { 0xc0, 0x0c, 0, DNS_T_TXT, 0, 1, 0, 0, 0, 60, 0, 6,
							    5, 'h', 'e', 'l', 'l', 'o' };
			a[7] = 1;
			memcpy(a + n, rr, sizeof rr);
			n += sizeof rr;
		} else if (!ends_with(name, "ok.example.net")) {
			a[3] |= DNS_R_NXDOMAIN;
		}
		(void)sendto(server_fd, a, n, 0, (struct sockaddr *)&from, fl);
	}
}

static int server_start(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof sa;

	if ((server_fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 || bind(server_fd, (struct sockaddr *)&sa, sl) < 0 ||
	    getsockname(server_fd, (struct sockaddr *)&sa, &sl) < 0 || pipe(server_stop) < 0 ||
	    pthread_create(&server_thread, NULL, serve, NULL) != 0)
		return -1;
	snprintf(resolvers, sizeof resolvers, "127.0.0.1@%u", ntohs(sa.sin_port));
	return 0;
}

static void server_end(void)
{
	(void)write(server_stop[1], "x", 1);
	pthread_join(server_thread, NULL);
	close(server_fd);
	close(server_stop[0]);
	close(server_stop[1]);
}

struct worker_arg {
	struct msgauth_resolver *r;
	int id, found, wrong;
};

/* One worker's queries, each under its own reference as the node takes one. */
static void *worker(void *p)
{
	struct worker_arg *w = p;
	struct msgauth_resolver *r = msgauth_resolver_ref(w->r);

	for (int i = 0; i < PER_THREAD; i++) {
		struct msgauth_rr *rrs = NULL;
		size_t n = 0;
		char name[64];
		enum msgauth_dns_status st;

		snprintf(name, sizeof name, "t%d-%d.ok.example.net", w->id, i);
		st = msgauth_resolver_query(r, name, DNS_T_TXT, evm_mono_ms() + 20000, &rrs, &n);
		if (st == MSGAUTH_DNS_FOUND && n == 1 && rrs[0].len == 6 && memcmp(rrs[0].data, "\5hello", 6) == 0)
			w->found++;
		else
			w->wrong++;
		msgauth_rrs_free(rrs, n);
	}
	msgauth_resolver_unref(&r);
	return NULL;
}

/* Eight threads ask at once through one context; every answer reaches its asker. */
static void test_shared_by_threads(void)
{
	struct msgauth_resolver *r = NULL;
	struct worker_arg w[THREADS];
	pthread_t th[THREADS];
	const char *error = NULL;
	struct msgauth_rr *rrs = NULL;
	size_t n = 0;

	CHECK(msgauth_resolver_new(resolvers, "", &r, &error) == 0);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker_arg){ .r = r, .id = i };
		if (pthread_create(&th[i], NULL, worker, &w[i]) != 0)
			log_panic("pthread_create");
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		CHECK_EQ_INT(w[i].found, PER_THREAD);
		CHECK_EQ_INT(w[i].wrong, 0);
	}
	CHECK(msgauth_resolver_answers(r) >= THREADS * PER_THREAD);
	CHECK_EQ_INT(msgauth_resolver_query(r, "nothing.example.net", DNS_T_TXT, evm_mono_ms() + 20000, &rrs, &n),
		     MSGAUTH_DNS_NXDOMAIN);
	CHECK_EQ_INT(msgauth_resolver_query(r, "x.ok.example.net", DNS_T_A, evm_mono_ms() + 20000, &rrs, &n),
		     MSGAUTH_DNS_NODATA);
	msgauth_rrs_free(rrs, n);
	msgauth_resolver_stop(r);
	msgauth_resolver_unref(&r);
	CHECK(r == NULL);
}

/* A query never answered is a temporary failure at its deadline; the
 * context still answers the next one. */
static void test_query_deadline(void)
{
	struct msgauth_resolver *r = NULL;
	const char *error = NULL;
	struct msgauth_rr *rrs = NULL;
	size_t n = 0;

	CHECK(msgauth_resolver_new(resolvers, "", &r, &error) == 0);
	CHECK_EQ_INT(msgauth_resolver_query(r, "a.silent.example.net", DNS_T_TXT, evm_mono_ms() + 300, &rrs, &n),
		     MSGAUTH_DNS_TEMPFAIL);
	CHECK(rrs == NULL && n == 0);
	/* a deadline already past: not even asked */
	CHECK_EQ_INT(msgauth_resolver_query(r, "b.ok.example.net", DNS_T_TXT, evm_mono_ms() - 1, &rrs, &n),
		     MSGAUTH_DNS_TEMPFAIL);
	CHECK_EQ_INT(msgauth_resolver_query(r, "c.ok.example.net", DNS_T_TXT, evm_mono_ms() + 20000, &rrs, &n),
		     MSGAUTH_DNS_FOUND);
	msgauth_rrs_free(rrs, n);
	msgauth_resolver_unref(&r);
}

static void *stopper(void *p)
{
	struct msgauth_resolver *r = p;

	usleep(100 * 1000);
	msgauth_resolver_stop(r);
	return NULL;
}

/* stop wakes a waiting query at once (long before its own deadline), and
 * every later query fails without being asked. */
static void test_stop_wakes_waiters(void)
{
	struct msgauth_resolver *r = NULL;
	const char *error = NULL;
	struct msgauth_rr *rrs = NULL;
	size_t n = 0;
	pthread_t th;
	int64_t t0;

	CHECK(msgauth_resolver_new(resolvers, "", &r, &error) == 0);
	CHECK(pthread_create(&th, NULL, stopper, r) == 0);
	t0 = evm_mono_ms();
	CHECK_EQ_INT(msgauth_resolver_query(r, "d.silent.example.net", DNS_T_TXT, t0 + 600000, &rrs, &n),
		     MSGAUTH_DNS_TEMPFAIL);
	pthread_join(th, NULL);
	CHECK(evm_mono_ms() - t0 < 600000);
	CHECK_EQ_INT(msgauth_resolver_query(r, "e.ok.example.net", DNS_T_TXT, evm_mono_ms() + 20000, &rrs, &n),
		     MSGAUTH_DNS_TEMPFAIL);
	msgauth_resolver_unref(&r);
	/* no resolver at all: a temporary failure */
	CHECK_EQ_INT(msgauth_resolver_query(NULL, "e.ok.example.net", DNS_T_TXT, evm_mono_ms() + 20000, &rrs, &n),
		     MSGAUTH_DNS_TEMPFAIL);
}

/* A bad dns.resolvers is refused at creation, with the reason. */
static void test_bad_config(void)
{
	struct msgauth_resolver *r = NULL;
	const char *error = NULL;

	CHECK(msgauth_resolver_new("not-an-address", "", &r, &error) < 0);
	CHECK(r == NULL);
	CHECK(error != NULL && strstr(error, "dns.resolvers") != NULL);
}

int main(void)
{
	log_set_level(LOG_WARN);
	if (server_start() < 0) {
		fprintf(stderr, "cannot start the DNS server\n");
		return 1;
	}
	test_run("one context shared by eight threads", test_shared_by_threads);
	test_run("a query's deadline", test_query_deadline);
	test_run("stop wakes waiting queries", test_stop_wakes_waiters);
	test_run("bad resolver setting", test_bad_config);
	server_end();
	return test_done();
}
