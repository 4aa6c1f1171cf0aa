/* test_net_quickack - net_quickack (issue 9, the APPEND stall): on a real
 * TCP connection over 127.0.0.1 it takes the socket out of delayed-ACK
 * (pingpong) mode, found through filter layers above the socket (as under
 * STARTTLS or COMPRESS), and counts; without a TCP socket it does nothing. */
#include "gateway/net.h"
#include "tests/unit/testlib.h"

#include <arpa/inet.h>
#include <event2/bufferevent.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

/* A connected pair of TCP sockets on 127.0.0.1. Returns 0 or -1. */
static int tcp_pair(int fds[2])
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 1) < 0 ||
	    getsockname(l, (struct sockaddr *)&a, &alen) < 0)
		return -1;
	fds[0] = socket(AF_INET, SOCK_STREAM, 0);
	if (fds[0] < 0 || connect(fds[0], (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	fds[1] = accept(l, NULL, NULL);
	close(l);
	return fds[1] < 0 ? -1 : 0;
}

static int quickack_on(int fd)
{
	int v = -1;
	socklen_t len = sizeof v;

	if (getsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &v, &len) < 0)
		return -1;
	return v;
}

static void test_tcp_through_filters(void)
{
#ifdef TCP_QUICKACK
	struct event_base *base = event_base_new();
	struct bufferevent *sock, *mid, *top;
	unsigned long long before = net_quickack_count();
	int fds[2], off = 0;
	char buf[16];

	CHECK(base != NULL);
	CHECK(tcp_pair(fds) == 0);
	sock = bufferevent_socket_new(base, fds[1], BEV_OPT_CLOSE_ON_FREE);
	mid = bufferevent_filter_new(sock, NULL, NULL, BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	top = bufferevent_filter_new(mid, NULL, NULL, BEV_OPT_CLOSE_ON_FREE, NULL, NULL);
	CHECK(sock != NULL && mid != NULL && top != NULL);
	/* Data the server has read, then delayed-ACK mode, as after a reply. */
	CHECK(write(fds[0], "a1 APPEND", 9) == 9);
	CHECK(read(fds[1], buf, sizeof buf) > 0);
	CHECK(setsockopt(fds[1], IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) == 0);
	CHECK_EQ_INT(quickack_on(fds[1]), 0);
	CHECK_EQ_INT(net_quickack(top), 1);
	CHECK_EQ_INT(quickack_on(fds[1]), 1);
	CHECK_EQ_INT(net_quickack_count(), before + 1);
	/* Not sticky: once back in delayed-ACK mode, a second call is needed. */
	CHECK(setsockopt(fds[1], IPPROTO_TCP, TCP_QUICKACK, &off, sizeof off) == 0);
	CHECK_EQ_INT(net_quickack(sock), 1);
	CHECK_EQ_INT(quickack_on(fds[1]), 1);
	CHECK_EQ_INT(net_quickack_count(), before + 2);
	bufferevent_free(top);
	close(fds[0]);
	event_base_free(base);
#endif
}

static void test_not_tcp(void)
{
	struct event_base *base = event_base_new();
	struct bufferevent *bev;
	unsigned long long before = net_quickack_count();
	int sp[2];

	CHECK(base != NULL);
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == 0);
	bev = bufferevent_socket_new(base, sp[0], BEV_OPT_CLOSE_ON_FREE);
	CHECK(bev != NULL);
	CHECK_EQ_INT(net_quickack(bev), 0);
	CHECK_EQ_INT(net_quickack_count(), before);
	bufferevent_free(bev);
	close(sp[1]);
	/* A bufferevent without a socket at all. */
	bev = bufferevent_socket_new(base, -1, 0);
	CHECK(bev != NULL);
	CHECK_EQ_INT(net_quickack(bev), 0);
	bufferevent_free(bev);
	event_base_free(base);
}

int main(void)
{
	test_run("tcp_through_filters", test_tcp_through_filters);
	test_run("not_tcp", test_not_tcp);
	return test_done();
}
