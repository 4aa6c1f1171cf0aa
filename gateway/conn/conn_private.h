/* conn_private - struct conn and struct conn_server, shared by the files
 * of the connection layer only (conn.c: I/O and backpressure,
 * conn_close.c: closing and the flush, conn_layer.c: STARTTLS and filter
 * layers, conn_server.c: listeners and their connection lists). */
#ifndef EVM_CONN_PRIVATE_H
#define EVM_CONN_PRIVATE_H

#include "gateway/conn/conn.h"

#define CONN_MAX_LAYERS 4            /* socket, TLS, a filter, one spare */
#define CONN_IN_HIGH_DEFAULT (256 * 1024)
#define CONN_OUT_HIGH_DEFAULT (1024 * 1024)
#define CONN_FLUSH_MAX_MS 1000       /* close-after-flush gives up after this */
#define CONN_EOF_MAX_MS 60000        /* after a half-close, the answers in flight get this long */

struct conn {
	unsigned refs;                   /* 1 while open, +1 around each callback */
	struct event_base *base;
	struct bufferevent *bev;         /* the top layer; NULL once closed */
	struct conn_protocol proto;      /* a copy */
	void *proto_ctx;
	void *session;                   /* what open() returned */
	struct conn_server *server;      /* NULL for conn_attach */
	struct conn *prev, *next;        /* in server->conns */
	struct net_tls *tls_ctx;         /* borrowed, for STARTTLS */
	char peer_ip[64];
	char id[17];
	int tls;
	int closing;                     /* conn_close_after_flush called */
	int closed;
	int held;                        /* conn_hold_input */
	int paused;                      /* output over out_high: not reading */
	int want_input;                  /* conn_resume_input pending */
	int authenticated;
	int tls_shutdown;                /* close_notify sent */
	int peer_eof;                    /* the client half-closed: nothing more to read */
	unsigned read_timeout_s;         /* conn_set_read_timeout; 0 = by state */
	char close_why[96];
	struct event *wake;              /* deferred work: input, resume, flush */
	struct event *deadline;          /* bounds the close-after-flush */
	/* our callbacks on each layer's output buffer (see conn_layer.c) */
	struct evbuffer *outs[CONN_MAX_LAYERS];
	struct evbuffer_cb_entry *out_cbs[CONN_MAX_LAYERS];
	unsigned nlayers;
};

struct conn_server {
	struct event_base *base;
	struct conn_protocol proto;
	void *proto_ctx;
	struct net_tls *tls;
	struct net_listener *listener;
	struct conn *conns;
	unsigned count;
	int draining;
};

/* conn.c */
void conn_ref(struct conn *c);
void conn_unref(struct conn *c);
/* A conn over bev (owned) with its callbacks set; open() not yet run. */
struct conn *conn_new(struct event_base *base, struct bufferevent *bev, const char *peer_ip, int tls,
		      struct net_tls *tls_ctx, const struct conn_protocol *proto, void *proto_ctx);
/* Runs open(); 0, or -1 when it refused (the conn is then closed). */
int conn_open(struct conn *c);
/* Callbacks, watermarks, timeouts on the top layer; enabled. */
void conn_setup_top(struct conn *c);
/* The read and write timeouts for the current state, on the top layer. */
void conn_apply_timeouts(struct conn *c);
/* The deferred work (input, resume after backpressure, flush) runs soon. */
void conn_wake(struct conn *c);
/* Bounds close-after-flush to CONN_FLUSH_MAX_MS. */
void conn_arm_deadline(struct conn *c);

/* conn_layer.c */
/* Watches bev's output buffer (resume after backpressure, flush). */
void conn_watch_layer(struct conn *c, struct bufferevent *bev);
/* Stops watching every layer (before the bufferevents are freed). */
void conn_unwatch_layers(struct conn *c);

/* conn_close.c */
/* One step of close-after-flush: close_notify once the output is out,
 * then close. */
void conn_flush_step(struct conn *c);

/* conn_server.c */
/* The conn is closing: leave the list, release the limits slot. */
void conn_server_release(struct conn_server *srv, struct conn *c);

#endif
