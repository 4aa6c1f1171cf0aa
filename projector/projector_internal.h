/* projector_internal - the projector's shared state (internal to projector*.c).
 *
 * Three kinds of fields, by who may touch them:
 *  - set at creation, read-only afterwards (cfg, log, view, base);
 *  - guarded by mu: what the projector thread publishes after a commit
 *    (applied/end offsets, counters, state, node table, changed accounts),
 *    read by projector_status() from any thread and by the loop thread;
 *  - owned by one thread: the reader, the batch and `next` by the projector
 *    thread; waiters, subscriptions and `seen` by the loop thread.
 * stop and rebuild_req are flags set from outside, read with __atomic. */
#ifndef EVM_PROJECTOR_INTERNAL_H
#define EVM_PROJECTOR_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "projector/applier.h"
#include "projector/projector.h"

/* Persisted counters live under these keys (deterministic: they depend on
 * the log prefix applied, nothing else), so a crash neither loses nor
 * double-counts them, and the digest proves exactly-once processing. */
#define KEY_STAT_APPLIED "stat/projector.applied"
#define KEY_STAT_REJECTED "stat/projector.rejected"
#define KEY_STAT_DUPLICATES "stat/projector.duplicates"
#define KEY_STAT_DECODE_ERRORS "stat/projector.decode_errors"

/* Cluster-topic offsets are node-local (the node table is memory only), so
 * they are kept out of the digest under local/. */
#define KEY_LOCAL_OFFSET "local/off/"

#define HEARTBEAT_TYPE "node.heartbeat"

enum proj_state { PROJ_WAITING, PROJ_RUNNING, PROJ_FAILED };

struct proj_counters {
	uint64_t applied;          /* accepted + rejected */
	uint64_t rejected;
	uint64_t duplicates;
	uint64_t decode_errors;
};

struct proj_part {
	enum evm_topic_id topic;
	int32_t partition;
	int64_t applied;           /* next offset to apply, as committed */
	int64_t end;               /* log end offset; -1 unknown */
	int64_t rebuild_target;    /* end offset when the rebuild (or bulk catch-up) started */
};

/* The records of one poll, applied into one view batch. */
struct proj_batch {
	struct projector *p;
	struct view_batch *vb;
	int64_t *next;             /* per part: next offset after this batch */
	struct proj_counters delta;
	json_t *changed;           /* set (object) of accounts changed by accepted events */
	size_t records;
	/* A sealed event's key was not in the view: the poll stopped before
	 * that record, for the directory to be caught up (projector_sealed.c). */
	bool dir_behind;
	int catchups;              /* directory catch-ups done in this batch */
	/* Per part, after a catch-up: the end offsets of the mail and blob
	 * partitions read before the directory's end, so every record below
	 * them was appended before the directory was caught up (NULL: none
	 * yet; -1 for the other topics). */
	int64_t *covered;
};

struct projector {
	const struct evm_config *cfg;
	struct evlog *log;
	struct view *view;
	struct event_base *base;
	struct keyring *keyring;   /* NULL: no crypto.master_key_file; owned */

	pthread_t thread;
	bool started;              /* loop thread: thread was created */
	bool stopped;              /* loop thread: projector_stop has run */
	int stop;                  /* __atomic */
	int rebuild_req;           /* __atomic */

	pthread_mutex_t mu;
	enum proj_state state;
	char detail[512];
	bool rebuilding;
	uint64_t rebuild_done, rebuild_total;
	uint64_t rebuilds_completed;   /* since start; lets clients tell rebuilds apart */
	int64_t rebuild_started_ms;    /* monotonic, for the rate and ETA */
	struct proj_part *parts;   /* mail, blob, directory, queue, cluster partitions */
	size_t nparts;
	struct proj_counters counters;
	uint64_t cluster_decode_errors;
	uint64_t dir_catchups;     /* directory catch-ups for sealed events (projector_sealed.c) */
	json_t *nodes;             /* node id -> heartbeat data + ts */
	json_t *changed;           /* accounts changed since the loop last woke */

	/* projector thread */
	struct evlog_reader *reader;
	struct evlog_reader *dir_reader;  /* during a directory catch-up (projector_sealed.c) */
	int64_t *next;             /* per part: committed next offset */
	int64_t next_end_refresh;  /* monotonic ms */
	bool bulk;                 /* the view is in bulk apply (projector_bulk.c) */
	struct proj_seen *seen;    /* during a bulk apply: ids written (projector_seen.c) */

	/* loop thread */
	struct event *wake;
	struct projector_waiter *waiters;
	uint64_t wait_seq;         /* registration counter */
	struct projector_sub *subs;
	int notifying;
};

/* projector.c */
void proj_set_state(struct projector *p, enum proj_state state, const char *detail);
bool proj_stopping(struct projector *p);
/* Index of (topic, partition) in parts, or -1. Caller holds mu or is the
 * projector thread (parts never move once set up). */
int proj_part_index(struct projector *p, enum evm_topic_id topic, int32_t partition);

/* projector_loop.c */
void *proj_thread_main(void *arg);

/* projector_offsets.c */
/* Re-assigns every partition at its stored offset; loads the counters. */
int proj_resync(struct projector *p, const char **error_r);
/* projector_format.c: *rebuild_r = 1 when the view has another format
 * than VIEW_FORMAT and must be rebuilt (logged); an empty view is stamped. */
int proj_format_check(struct projector *p, int *rebuild_r, const char **error_r);
int proj_format_stamp(struct projector *p, const char **error_r);
/* Reads every partition's end offset into the table. */
void proj_refresh_ends(struct projector *p);
/* Adds the batch's new offsets and counters to it, then commits it. */
int proj_commit_batch(struct projector *p, struct proj_batch *b, const char **error_r);

/* projector_apply.c: one record into the batch; -1 stops the batch. */
int proj_apply_record(struct projector *p, struct proj_batch *b,
		      const struct evlog_record *rec, const char **error_r);

/* projector_sealed.c: opens a sealed event of the mail or blob topic in
 * place (keyring.h). 0 apply it as usual; 1 the outcome is decided
 * without its applier (ctx->result {"erased": true}, *st_r accepted: its
 * key is erased, or absent after a catch-up for this record and its
 * account erased; or rejected "invalid": it does not authenticate); -1
 * fail the batch: a node fault, or the key is not in the view (yet:
 * b->dir_behind set when a directory catch-up may bring it). */
int proj_open_sealed(struct proj_batch *b, struct apply_ctx *ctx, const struct evlog_record *rec,
		     struct evm_event *ev, enum apply_status *st_r, const char **error_r);
/* After a poll stopped for b->dir_behind: applies the directory into the
 * batch up to its current end, then re-positions the reader at b->next.
 * 0 or -1. */
int proj_dir_catchup(struct projector *p, struct proj_batch *b, const char **error_r);

/* projector_bulk.c: bulk apply (view.h) while replaying a long backlog.
 * After the first positioning: a view left in bulk apply by a crash asks
 * for a rebuild; an empty view with at least projector.bulk_min records to
 * replay starts a bulk catch-up to the current ends. */
int proj_bulk_at_start(struct projector *p, const char **error_r);
/* From rebuild(), once the view is wiped and the targets set. */
int proj_bulk_rebuild(struct projector *p, uint64_t total, const char **error_r);
/* After each commit: ends bulk apply once every target is reached. */
int proj_bulk_check(struct projector *p, const char **error_r);

/* projector_outcome.c: appends the outcome of an accepted event, the
 * bytes json_dumps(JSON_COMPACT | JSON_SORT_KEYS) gives for it; -1 when
 * the result is too large for it (the caller uses Jansson then). */
struct buf;
int proj_outcome_accepted(const struct apply_ctx *ctx, struct buf *out);

/* projector_seen.c: the ids of the outcomes written during a bulk apply
 * (a bloom filter); false from proj_seen_maybe means ev/<id> is certainly
 * not in the view. Without a filter (outside bulk) every id is a maybe. */
void proj_seen_begin(struct projector *p, uint64_t ids);
void proj_seen_end(struct projector *p);
void proj_seen_add(struct projector *p, const char *id);
bool proj_seen_maybe(const struct projector *p, const char *id);

/* projector_wait.c */
void proj_wake_cb(evutil_socket_t fd, short what, void *arg);
void proj_waiters_stop(struct projector *p);
void proj_subs_free(struct projector *p);

/* projector_nodes.c */
void proj_node_heartbeat(struct projector *p, const struct evm_event *ev,
			 const struct evlog_record *rec);

#endif
