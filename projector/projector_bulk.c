/* projector_bulk - when the projector applies in bulk (view.h,
 * view_bulk_begin): a rebuild, and the first replay of a long log into an
 * empty view (a new replica). Both start from an empty view, so a crash in
 * the middle costs a replay from the start and nothing else: the view's
 * marker survives the crash, and the next start wipes and rebuilds.
 * Appliers, batches and offsets are the same as in normal operation, so
 * the view's content (and digest) is too; only the durability of the
 * commits in between is relaxed. */
#include "projector/projector_internal.h"
#include "projector/keys.h"
#include "common/log.h"

#include <string.h>

/* Records left to apply to reach the current ends (cluster excluded). */
static uint64_t backlog(struct projector *p)
{
	uint64_t n = 0;

	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nparts; i++) {
		const struct proj_part *pt = &p->parts[i];
		if (pt->topic != EVM_TOPIC_CLUSTER && pt->end > pt->applied)
			n += (uint64_t)(pt->end - pt->applied);
	}
	pthread_mutex_unlock(&p->mu);
	return n;
}

/* Enters bulk apply. */
static int bulk_begin(struct projector *p, uint64_t records, const char **error_r)
{
	if (view_bulk_begin(p->view, error_r) < 0)
		return -1;
	p->bulk = true;
	proj_seen_begin(p, records);
	log_info("projector: bulk apply of %llu records (no write-ahead log until caught up)",
		 (unsigned long long)records);
	return 0;
}

/* A view left in bulk apply asks for a rebuild; a fresh view with a long
 * backlog starts a bulk catch-up. */
int proj_bulk_at_start(struct projector *p, const char **error_r)
{
	uint64_t n;
	int r;

	if (p->bulk)
		return 0;  /* a resync inside our own bulk apply */
	if ((r = view_bulk_marked(p->view, error_r)) < 0)
		return -1;
	if (r > 0) {
		log_warn("projector: the view holds an unfinished bulk apply (a crash during a "
			 "rebuild or the first replay): rebuilding it from the log");
		__atomic_store_n(&p->rebuild_req, 1, __ATOMIC_RELEASE);
		return 0;
	}
	if (p->cfg->projector_bulk_min == 0)
		return 0;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nparts; i++) {
		if (p->parts[i].topic != EVM_TOPIC_CLUSTER && p->parts[i].applied != 0) {
			pthread_mutex_unlock(&p->mu);
			return 0;  /* not an empty view */
		}
	}
	pthread_mutex_unlock(&p->mu);
	n = backlog(p);
	if (n < (uint64_t)p->cfg->projector_bulk_min)
		return 0;
	pthread_mutex_lock(&p->mu);
	for (size_t i = 0; i < p->nparts; i++)
		p->parts[i].rebuild_target = p->parts[i].end < 0 ? 0 : p->parts[i].end;
	pthread_mutex_unlock(&p->mu);
	return bulk_begin(p, n, error_r);
}

/* A rebuild of at least projector.bulk_min records applies in bulk. */
int proj_bulk_rebuild(struct projector *p, uint64_t total, const char **error_r)
{
	p->bulk = false;   /* view_wipe dropped any earlier bulk state */
	proj_seen_end(p);
	if (p->cfg->projector_bulk_min == 0 || total < (uint64_t)p->cfg->projector_bulk_min)
		return 0;
	return bulk_begin(p, total, error_r);
}

/* Leaves bulk apply once every partition reached its target. */
int proj_bulk_check(struct projector *p, const char **error_r)
{
	if (!p->bulk)
		return 0;
	for (size_t i = 0; i < p->nparts; i++) {
		const struct proj_part *pt = &p->parts[i];
		if (pt->topic != EVM_TOPIC_CLUSTER && p->next[i] < pt->rebuild_target)
			return 0;
	}
	if (view_bulk_end(p->view, error_r) < 0)
		return -1;
	p->bulk = false;
	proj_seen_end(p);
	log_info("projector: bulk apply done, the view is flushed and durable");
	return 0;
}
