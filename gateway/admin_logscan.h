/* admin_logscan - reads one account's events straight from the log, for
 * the audit trail (admin_history.c) and point-in-time restore
 * (admin_restore.c).
 *
 * The account's mail partition (evm_partition_for over the mail topic's
 * partition count) is read from its start up to the end offset it had when
 * the scan began, on a worker thread with its own evlog_reader: the loop
 * never blocks on the log. Each record of the account is decoded strictly
 * and handed, with the projector's outcome (ev/<id>, read from the view;
 * NULL when this node has not applied it), to the scan's per-event
 * function ON THE WORKER THREAD, in offset order. A record whose outcome
 * names another offset is a duplicate the projector skipped: it is passed
 * with duplicate = 1. Records that do not decode are skipped (the projector
 * skips them too). Sealed events (projector/keyring.h) are opened with the
 * projector's keyring; one whose content is gone (its key erased by
 * account.erase, or not in this node's view) is passed with its envelope
 * (type, time, actor) and an empty data object.
 *
 * One scan at a time per node (a second is refused: admin_logscan_start
 * returns -1 "busy"), so a careless script cannot start many full-partition
 * reads. admin_logscan_stop (node_stop) cancels a running scan and joins its
 * thread; its done callback then never runs. */
#ifndef EVM_ADMIN_LOGSCAN_H
#define EVM_ADMIN_LOGSCAN_H

#include <jansson.h>

#include "gateway/node.h"
#include "ingest/evlog.h"
#include "ingest/event.h"

/* Worker thread: one event of the account. Return 0 to go on, -1 to stop
 * the scan (it then ends with that *error_r). */
typedef int admin_logscan_event_fn(void *ctx, const struct evlog_record *rec, const struct evm_event *ev,
				   const json_t *outcome, int duplicate, const char **error_r);
/* Loop thread, exactly once, later: status 0 when the partition was read
 * to its end, -1 with error (static or thread-local text, valid during the
 * call). */
typedef void admin_logscan_done_fn(void *ctx, int status, const char *error);

/* Starts a scan of account (normalised address). Returns 0 (done_fn will
 * run), or -1 with *error_r when it cannot start (done_fn never runs). */
int admin_logscan_start(struct node *node, const char *account, admin_logscan_event_fn *event_fn,
			admin_logscan_done_fn *done_fn, void *ctx, const char **error_r);
/* Cancels a running scan and waits for its thread (loop thread). */
void admin_logscan_stop(void);

#endif
