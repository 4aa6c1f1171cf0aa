/* fuzz_http_ws - libFuzzer target for the WebSocket session: arbitrary
 * bytes as client frames into an http_ws on a connection over a
 * socketpair, in pieces whose size the first byte chooses, with every
 * text message echoed (the send path) and a message starting with 'C'
 * closing from our side. Besides not crashing or leaking: a delivered
 * message is never over max_message, closed() runs exactly once, and the
 * session ends once the client's side is shut. Small limits so that the
 * fuzzer reaches them. */
#include "gateway/http/http_ws.h"
#include "common/log.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_MESSAGE 300

static struct event_base *base;
static struct conn *cur;
static int closed_calls;

static void check(int cond)
{
	if (!cond)
		abort();
}

static void on_message(void *ctx, struct http_ws *ws, int binary, const unsigned char *msg, size_t len)
{
	check(len <= MAX_MESSAGE);
	if (len > 0 && msg[0] == 'C')
		http_ws_close(ws, HTTP_WS_NORMAL, "fuzz");
	else if (!binary)
		(void)http_ws_send_text(ws, msg, len);
	else
		(void)http_ws_ping(ws, msg, len > 125 ? 125 : len);
}

static void on_closed(void *ctx, struct http_ws *ws, unsigned code, const char *why)
{
	closed_calls++;
}

static const struct http_ws_handler handler = { .message = on_message, .closed = on_closed };
static const struct http_ws_settings settings = { .max_message = MAX_MESSAGE, .out_high = 1024 };

/* A conn protocol that hands everything to the session (what
 * http_upgrade does for a real one). */
static void *p_open(void *ctx, struct conn *c)
{
	cur = c;
	return http_ws_new(c, &settings, &handler, NULL);
}

static void p_input(void *s, struct conn *c)
{
	http_ws_takeover.input(s, c);
}

static void p_output_space(void *s, struct conn *c)
{
	http_ws_takeover.output_space(s, c);
}

static void p_closed(void *s, struct conn *c, const char *why)
{
	cur = NULL;
	http_ws_takeover.closed(s, c, why);
}

static const struct conn_protocol proto = {
	.name = "fuzz-ws", .open = p_open, .input = p_input, .output_space = p_output_space,
	.closed = p_closed,
};

/* Runs the loop a little and throws away what the server wrote. */
static void turn(int fd)
{
	char sink[4096];

	for (int i = 0; i < 4; i++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		while (read(fd, sink, sizeof sink) > 0)
			;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	size_t step, off = 1;

	if (size < 1)
		return 0;
	if (base == NULL) {
		log_set_level(LOG_ERROR);
		base = event_base_new();
	}
	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	evutil_make_socket_nonblocking(sv[0]);
	evutil_make_socket_nonblocking(sv[1]);
	closed_calls = 0;
	check(conn_attach(base, bufferevent_socket_new(base, sv[0], BEV_OPT_CLOSE_ON_FREE), "127.0.0.1", 0,
			  NULL, &proto, NULL) != NULL);
	step = data[0] % 16 + 1;
	while (off < size) {
		size_t n = size - off < step ? size - off : step;
		ssize_t w = write(sv[1], data + off, n);

		if (w > 0)
			off += (size_t)w;
		else if (w < 0 && errno != EAGAIN)
			break;
		turn(sv[1]);
		if (cur == NULL)
			break;
	}
	/* The client leaves: the session must end. */
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < 50 && cur != NULL; i++)
		turn(sv[1]);
	if (cur != NULL)
		conn_close(cur, "fuzz end");
	check(cur == NULL && closed_calls == 1);
	close(sv[1]);
	return 0;
}
