/* admin_keytime - when an account's content began to be sealed: the log
 * time of its earliest account.key record (admin_erase.h, "sealed_since").
 *
 * The view keeps each key's event id (akey/<kid> "event") and that event's
 * outcome its (partition, offset) in the directory topic; the record's
 * append time is read from the log on a worker thread with its own reader
 * (the loop never blocks on the log), before the erasure tombstones it. */
#include "gateway/admin_erase.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/json_fast.h"
#include "projector/keyring.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEYTIME_POLL_MS 200
#define KEYTIME_WAIT_MS 5000

struct keytime {
	struct node *node;
	int32_t partition;
	int64_t offset;
	int64_t ts;            /* the result, 0 unknown */
	admin_keytime_cb *cb;
	void *ctx;
	pthread_t thread;
	struct event *done;
};

/* The one read of this node (loop thread owns the pointer). */
static struct keytime *running;

/* evlog_reader_poll: the wanted record's time, once it comes. */
static int keytime_record(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct keytime *k = ctx;

	(void)error_r;
	if (rec->offset == k->offset)
		k->ts = rec->ts;
	return 0;
}

/* Worker: read from the offset until the record is seen or time is up. */
static void *keytime_worker(void *ctx)
{
	struct keytime *k = ctx;
	struct evlog_reader *r = NULL;
	const char *error = NULL;

	if (evlog_reader_open(k->node->log, &r, &error) < 0 ||
	    evlog_reader_assign(r, EVM_TOPIC_DIRECTORY, k->partition, k->offset, &error) < 0) {
		log_warn("admin: the first key's record: %s", error);
	} else {
		for (int waited = 0; k->ts == 0 && waited < KEYTIME_WAIT_MS; waited += KEYTIME_POLL_MS) {
			if (evlog_reader_poll(r, KEYTIME_POLL_MS, 1, keytime_record, k, &error) < 0) {
				log_warn("admin: the first key's record: %s", error);
				break;
			}
		}
	}
	evlog_reader_close(&r);
	event_active(k->done, EV_TIMEOUT, 0);
	return NULL;
}

/* Back on the loop: join, report. */
static void keytime_finished(evutil_socket_t fd, short what, void *ctx)
{
	struct keytime *k = ctx;

	(void)fd;
	(void)what;
	pthread_join(k->thread, NULL);
	running = NULL;
	k->cb(k->ctx, k->ts);
	event_free(k->done);
	free(k);
}

/* The directory position of the earliest of kids' account.key events:
 * 1 found, 0 none (no outcome here). */
static int earliest_key(struct node *node, json_t *kids, int32_t *partition_r, int64_t *offset_r)
{
	json_t *kid, *rec = NULL, *outcome = NULL;
	const char *error = NULL;
	char key[8 + KEYRING_KID_LEN];
	char *val = NULL;
	size_t i, vlen = 0;
	int found = 0;

	json_array_foreach(kids, i, kid) {
		snprintf(key, sizeof key, "akey/%s", json_string_value(kid));
		if (view_get(node->view, key, strlen(key), &val, &vlen, &error) <= 0)
			continue;
		rec = evm_json_loadb(val, vlen, 0, NULL);
		free(val);
		val = NULL;
		if (json_string_value(json_object_get(rec, "event")) != NULL &&
		    projector_outcome(node->projector, json_string_value(json_object_get(rec, "event")),
				      &outcome, &error) > 0) {
			int64_t off = json_integer_value(json_object_get(outcome, "offset"));

			if (!found || off < *offset_r) {
				*offset_r = off;
				*partition_r = (int32_t)json_integer_value(json_object_get(outcome, "partition"));
				found = 1;
			}
			json_decref(outcome);
			outcome = NULL;
		}
		json_decref(rec);
		rec = NULL;
	}
	return found;
}

int admin_keytime_start(struct node *node, json_t *kids, admin_keytime_cb *cb, void *ctx)
{
	struct keytime *k;
	int32_t partition = 0;
	int64_t offset = 0;

	if (running != NULL || !earliest_key(node, kids, &partition, &offset))
		return -1;
	k = xcalloc(1, sizeof *k);
	k->node = node;
	k->partition = partition;
	k->offset = offset;
	k->cb = cb;
	k->ctx = ctx;
	k->done = event_new(node->base, -1, 0, keytime_finished, k);
	if (pthread_create(&k->thread, NULL, keytime_worker, k) != 0) {
		event_free(k->done);
		free(k);
		return -1;
	}
	running = k;
	return 0;
}

void admin_keytime_stop(void)
{
	struct keytime *k = running;

	if (k == NULL)
		return;
	/* The management listener is closed: the erasure's request went with
	 * it, and nothing of it was appended yet. */
	pthread_join(k->thread, NULL);
	running = NULL;
	k->cb(k->ctx, -1);
	event_free(k->done);
	free(k);
}
