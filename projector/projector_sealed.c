/* projector_sealed - sealed events in the projector (projector/keyring.h):
 * opening them before their applier runs, and catching the directory up
 * when a key is not in the view yet.
 *
 * Why a catch-up: partitions are applied in any interleaving, so this node
 * may read the directory behind the mail topic. The writer saw the key in
 * its view before it sealed, so the account.key record is earlier in the
 * directory log than the sealed event is in its own partition's: applying
 * the directory to its end into the same batch, before deciding, gives
 * every node the same answer. It is not done inside the poll that met the
 * event: a log backend may hold a lock across its record callback (the
 * embedded log's swap_lock), and a second reader polled from inside it
 * could deadlock against a compaction. So the poll stops before that
 * record (b->dir_behind), run_batch calls proj_dir_catchup, and polls
 * again from b->next.
 *
 * A key still missing once the directory was caught up after that record
 * was appended was either never written (a writer bug: the batch fails,
 * and is retried) or deleted from the log by compaction after
 * account.erase tombstoned it: when the envelope's account was erased
 * (akeyxa/, or akeyx/ of the kids the erase named), the event is erased.
 * One catch-up covers a whole backlog (a replay): it first reads the end
 * offsets of the mail and blob partitions (b->covered). */
#include "projector/projector_internal.h"
#include "projector/keyring.h"
#include "projector/keys.h"
#include "common/buf.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

#define CATCHUP_END_TIMEOUT_MS 5000
#define CATCHUP_POLL_MS 100
/* The directory log delivers nothing while records remain: give up. */
#define CATCHUP_STALL_MS 10000
/* Catch-ups per batch: a key still missing after them is an error. One
 * covers every record already in the log (b->covered), so more are needed
 * only for records appended since, each with a key applied nowhere yet. */
#define CATCHUP_MAX 8

/* Takes the keyring (closing one set before). */
void projector_set_keyring(struct projector *p, struct keyring *kr)
{
	keyring_close(&p->keyring);
	p->keyring = kr;
}

/* The keyring, borrowed. */
struct keyring *projector_keyring(struct projector *p)
{
	return p->keyring;
}

/* The kid of a sealed event's data, for messages ("?" if malformed). */
static const char *sealed_kid(const struct evm_event *ev)
{
	const char *kid = json_string_value(json_object_get(json_object_get(ev->data, "sealed"), "kid"));

	return kid != NULL ? kid : "?";
}

/* 1 when account.erase has run for address (akeyxa/), 0 if not, -1. */
static int account_erased(struct proj_batch *b, const char *address, const char **error_r)
{
	struct buf key = BUF_INIT;
	char *val = NULL;
	int r;

	buf_puts(&key, KEY_AKEYXA);
	buf_puts(&key, address);
	r = view_batch_get(b->vb, key.data, key.len, &val, NULL, error_r);
	free(val);
	buf_free(&key);
	return r;
}

/* A key not in the view: catch the directory up first (b->dir_behind);
 * once the directory was caught up after this record was appended, an
 * erased account's event is erased, anything else an error. 1 erased,
 * -1 otherwise. */
static int key_unknown(struct proj_batch *b, const struct evlog_record *rec, const struct evm_event *ev,
		       const char **error_r)
{
	static __thread char msg[256];
	int idx = proj_part_index(b->p, rec->topic, rec->partition);
	int r;

	if (b->covered != NULL && rec->offset < b->covered[idx]) {
		/* The account.key record precedes every event sealed with
		 * it: absent now, it was compacted away after an erasure. */
		if ((r = account_erased(b, ev->account, error_r)) != 0)
			return r;
	} else if (b->catchups < CATCHUP_MAX) {
		b->dir_behind = true;
	}
	snprintf(msg, sizeof msg, "event %s is sealed with key %s, which the directory does not hold%s",
		 ev->id, sealed_kid(ev), b->dir_behind ? " yet" : " (caught up to its end)");
	*error_r = msg;
	return -1;
}

/* Opens a sealed mail or blob event, or decides its outcome. */
int proj_open_sealed(struct proj_batch *b, struct apply_ctx *ctx, const struct evlog_record *rec,
		     struct evm_event *ev, enum apply_status *st_r, const char **error_r)
{
	enum keyring_open_result res = KEYRING_PLAIN;

	if (rec->topic != EVM_TOPIC_MAIL && rec->topic != EVM_TOPIC_BLOB)
		return 0;
	if (keyring_open_event_batch(b->p->keyring, b->vb, ev, &res, error_r) < 0) {
		if (res != KEYRING_INVALID)
			return -1;
		log_warn("projector: %s/%d@%lld: sealed event %s (%s) rejected: %s",
			 evm_topics[rec->topic].suffix, (int)rec->partition, (long long)rec->offset,
			 ev->id, ev->type, *error_r);
		*st_r = apply_reject(ctx, "invalid", "sealed: %s", *error_r);
		return 1;
	}
	if (res == KEYRING_UNKNOWN && key_unknown(b, rec, ev, error_r) < 0)
		return -1;
	if (res == KEYRING_ERASED || res == KEYRING_UNKNOWN) {
		/* Crypto-shredded: every node has the same akeyx/ (akeyxa/)
		 * marker, and no applier runs. */
		json_object_set_new(ctx->result, "erased", json_true());
		*st_r = APPLY_ACCEPTED;
		return 1;
	}
	return 0;
}

/* Catch-up reader callback: one directory record into the batch. */
static int on_dir_record(void *ctx, const struct evlog_record *rec, const char **error_r)
{
	struct proj_batch *b = ctx;

	return proj_apply_record(b->p, b, rec, error_r);
}

/* Applies one directory partition (table index i) up to its end. */
static int catch_up_part(struct projector *p, struct proj_batch *b, size_t i, const char **error_r)
{
	const struct proj_part *pt = &p->parts[i];
	int64_t end;
	long idle = 0;

	if (evlog_reader_end_offset(p->dir_reader, pt->topic, pt->partition, CATCHUP_END_TIMEOUT_MS,
				    &end, error_r) < 0 ||
	    evlog_reader_assign(p->dir_reader, pt->topic, pt->partition, b->next[i], error_r) < 0)
		return -1;
	while (b->next[i] < end) {
		int n = evlog_reader_poll(p->dir_reader, CATCHUP_POLL_MS, (size_t)p->cfg->projector_batch_max,
					  on_dir_record, b, error_r);
		if (n < 0)
			return -1;
		idle = n == 0 ? idle + CATCHUP_POLL_MS : 0;
		if (idle >= CATCHUP_STALL_MS || proj_stopping(p)) {
			*error_r = "directory catch-up: the log delivered nothing before the partition's end";
			return -1;
		}
	}
	log_info("projector: directory caught up to offset %lld for a sealed event", (long long)end);
	return 0;
}

/* Every directory partition to its end, then the reader back at b->next.
 * The catch-up reader is opened for each catch-up and closed after it:
 * a Kafka consumer answers the end offset of a partition it consumes
 * from its last fetch, which may be behind; a new one asks the leader. */
int proj_dir_catchup(struct projector *p, struct proj_batch *b, const char **error_r)
{
	int ret = 0;

	b->catchups++;
	pthread_mutex_lock(&p->mu);
	p->dir_catchups++;
	pthread_mutex_unlock(&p->mu);
	if (evlog_reader_open(p->log, &p->dir_reader, error_r) < 0)
		return -1;
	/* First the ends of the sealed topics, then the directory's: a record
	 * below them was appended before its key was caught up. */
	if (b->covered == NULL)
		b->covered = xmalloc(p->nparts * sizeof *b->covered);
	for (size_t i = 0; i < p->nparts && ret == 0; i++) {
		const struct proj_part *pt = &p->parts[i];
		b->covered[i] = -1;
		if (pt->topic == EVM_TOPIC_MAIL || pt->topic == EVM_TOPIC_BLOB)
			ret = evlog_reader_end_offset(p->dir_reader, pt->topic, pt->partition,
						      CATCHUP_END_TIMEOUT_MS, &b->covered[i], error_r);
	}
	for (size_t i = 0; i < p->nparts && ret == 0; i++) {
		if (p->parts[i].topic == EVM_TOPIC_DIRECTORY)
			ret = catch_up_part(p, b, i, error_r);
	}
	evlog_reader_close(&p->dir_reader);
	if (ret < 0)
		return -1;
	/* The stopped poll may have taken records it never delivered. */
	if (evlog_reader_unassign_all(p->reader, error_r) < 0)
		return -1;
	for (size_t i = 0; i < p->nparts; i++) {
		if (evlog_reader_assign(p->reader, p->parts[i].topic, p->parts[i].partition, b->next[i],
					error_r) < 0)
			return -1;
	}
	return 0;
}
