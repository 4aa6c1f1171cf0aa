/* admin_logscan - see admin_logscan.h */
#include "gateway/admin_logscan.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "projector/keyring.h"
#include "projector/projector.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LOGSCAN_POLL_MS 200
#define LOGSCAN_POLL_MAX 1000
#define LOGSCAN_END_TIMEOUT_MS 10000
/* The log delivers nothing while records remain: give up after this long. */
#define LOGSCAN_STALL_MS 30000
/* How long an event of the scan may wait for the local projector. */
#define LOGSCAN_OUTCOME_WAIT_MS 10000

struct logscan {
	struct node *node;
	char account[EVM_ADDRESS_MAX + 1];
	int32_t partition;
	int64_t end;              /* read up to here (exclusive) */
	int64_t next;             /* next offset expected */
	admin_logscan_event_fn *event_fn;
	admin_logscan_done_fn *done_fn;
	void *ctx;
	pthread_t thread;
	struct event *done;
	int cancel;               /* atomic: stop at the next poll */
	int lagging;              /* an outcome did not come in time: wait no more */
	int status;
	char error[256];
};

/* The one scan of this node (loop thread owns the pointer). */
static struct logscan *running;

/* Sleeps on the worker thread. */
static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The outcome of an event, waiting (bounded) for the local projector to
 * apply it: 1 found, 0 not applied here in time, -1 error. After one
 * wait in vain the scan waits no more: a projector that far behind (a
 * rebuild) would otherwise cost the wait for every event. */
static int outcome_of(struct logscan *s, const char *id, json_t **outcome_r, const char **error_r)
{
	for (long waited = 0;; waited += 50) {
		int r = projector_outcome(s->node->projector, id, outcome_r, error_r);

		if (r != 0 || s->lagging || __atomic_load_n(&s->cancel, __ATOMIC_ACQUIRE))
			return r;
		if (waited >= LOGSCAN_OUTCOME_WAIT_MS) {
			s->lagging = 1;
			return 0;
		}
		sleep_ms(50);
	}
}

/* Opens a sealed event in place (projector/keyring.h). One whose content
 * is gone (its key erased, not in this node's view, or not
 * authenticating: the projector rejected it) keeps its envelope with an
 * empty data object. -1 stops the scan: a sealed event on a node without
 * crypto.master_key_file, or a view error. */
static int open_sealed(struct logscan *s, struct evm_event *ev, const char **error_r)
{
	enum keyring_open_result res = KEYRING_PLAIN;

	if (keyring_open_event(projector_keyring(s->node->projector), s->node->view, ev, &res,
			       error_r) < 0 && res != KEYRING_INVALID)
		return -1;
	if (res == KEYRING_ERASED || res == KEYRING_UNKNOWN || res == KEYRING_INVALID) {
		json_decref(ev->data);
		ev->data = json_object();
	}
	return 0;
}

/* One record: the account's events go to the scan's function. */
static int on_record(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct logscan *s = ctx;
	struct evm_event ev;
	json_t *outcome = NULL;
	const char *derr = NULL;
	int ret = 0, dup = 0;

	s->next = rec->offset + 1;
	if (rec->offset >= s->end)
		return 0;
	if (evm_event_decode(rec->value, rec->value_len, &ev, &derr) < 0)
		return 0;
	if (ev.account != NULL && strcmp(ev.account, s->account) == 0) {
		if (open_sealed(s, &ev, error_r) < 0 || outcome_of(s, ev.id, &outcome, error_r) < 0) {
			evm_event_clear(&ev);
			return -1;
		}
		if (outcome != NULL)
			dup = json_integer_value(json_object_get(outcome, "offset")) != rec->offset;
		ret = s->event_fn(s->ctx, rec, &ev, outcome, dup, error_r);
		json_decref(outcome);
	}
	evm_event_clear(&ev);
	return ret;
}

/* Worker: assign the partition from its start, poll to the end. */
static int scan(struct logscan *s, const char **error_r)
{
	struct evlog_reader *r = NULL;
	long idle = 0;
	int ret = -1;

	if (evlog_reader_open(s->node->log, &r, error_r) < 0)
		return -1;
	if (evlog_reader_end_offset(r, EVM_TOPIC_MAIL, s->partition, LOGSCAN_END_TIMEOUT_MS, &s->end,
				    error_r) < 0 ||
	    evlog_reader_assign(r, EVM_TOPIC_MAIL, s->partition, 0, error_r) < 0)
		goto out;
	while (s->next < s->end) {
		int n;

		if (__atomic_load_n(&s->cancel, __ATOMIC_ACQUIRE)) {
			*error_r = "the node is stopping";
			goto out;
		}
		n = evlog_reader_poll(r, LOGSCAN_POLL_MS, LOGSCAN_POLL_MAX, on_record, s, error_r);
		if (n < 0)
			goto out;
		idle = n == 0 ? idle + LOGSCAN_POLL_MS : 0;
		if (idle >= LOGSCAN_STALL_MS) {
			*error_r = "the log delivered nothing for 30 s before the partition's end";
			goto out;
		}
	}
	ret = 0;
out:
	evlog_reader_close(&r);
	return ret;
}

/* The scan's thread: read, then wake the loop. */
static void *worker(void *ctx)
{
	struct logscan *s = ctx;
	const char *error = NULL;

	s->status = scan(s, &error);
	if (s->status < 0)
		snprintf(s->error, sizeof s->error, "%s", error ? error : "log read failed");
	event_active(s->done, EV_TIMEOUT, 0);
	return NULL;
}

/* Frees a scan whose thread has been joined. */
static void scan_free(struct logscan *s)
{
	event_free(s->done);
	free(s);
}

/* Back on the loop: join, then report. */
static void finished(evutil_socket_t fd, short what, void *ctx)
{
	struct logscan *s = ctx;

	(void)fd;
	(void)what;
	pthread_join(s->thread, NULL);
	running = NULL;
	s->done_fn(s->ctx, s->status, s->error);
	scan_free(s);
}

int admin_logscan_start(struct node *node, const char *account, admin_logscan_event_fn *event_fn,
			admin_logscan_done_fn *done_fn, void *ctx, const char **error_r)
{
	int32_t parts = evlog_partitions(node->log, EVM_TOPIC_MAIL);
	struct logscan *s;

	if (running != NULL) {
		*error_r = "busy: another history or restore is reading the log";
		return -1;
	}
	if (parts <= 0) {
		*error_r = "the mail topic is not available";
		return -1;
	}
	s = xcalloc(1, sizeof *s);
	s->node = node;
	snprintf(s->account, sizeof s->account, "%s", account);
	s->partition = evm_partition_for(account, strlen(account), parts);
	s->event_fn = event_fn;
	s->done_fn = done_fn;
	s->ctx = ctx;
	s->done = event_new(node->base, -1, 0, finished, s);
	if (pthread_create(&s->thread, NULL, worker, s) != 0) {
		scan_free(s);
		*error_r = "cannot start a log reading thread";
		return -1;
	}
	running = s;
	return 0;
}

void admin_logscan_stop(void)
{
	struct logscan *s = running;

	if (s == NULL)
		return;
	__atomic_store_n(&s->cancel, 1, __ATOMIC_RELEASE);
	pthread_join(s->thread, NULL);
	running = NULL;
	scan_free(s);
}
