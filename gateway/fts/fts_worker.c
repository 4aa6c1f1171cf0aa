/* fts_worker - the background indexer of a node: one worker thread
 * that indexes queued accounts (evm_fts_index_account), so no session
 * waits for indexing. An account is queued when it is first searched on
 * this node (activation) and, once active, after each commit that changed
 * it (a projector subscription for every account, filtered by the active
 * set). Why lazily and on a thread: indexing every account of the view
 * would cost every node the whole mail store; the accounts that search
 * are the ones to index, and reading and tokenising bodies belongs off
 * the loop thread. */
#include "gateway/fts/fts.h"
#include "gateway/fts/fts_idcache.h"
#include "gateway/node.h"
#include "common/log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The pause after each indexing run: a busy account (a commit every few
 * ms) is looked at a few times a second, not after every commit; searches
 * scan what arrived meanwhile. */
#define FTS_PAUSE_MS 200

struct fts_worker {
	struct node *node;
	struct view *view;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	json_t *queue;               /* accounts to index (an object: a set); under mu */
	int busy;                    /* an account is being indexed; under mu */
	int stop;                    /* under mu */
	json_t *active;              /* loop thread: the activated accounts */
	struct projector_sub *sub;
	struct evm_fts_idcache *ids;  /* loop thread: searches' email ids (fts_idcache.c) */
	struct fts_worker *next;
};

static pthread_mutex_t workers_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fts_worker *workers;

/* The thread: indexes queued accounts until told to stop. */
static void *run(void *ctx)
{
	struct fts_worker *w = ctx;

	pthread_mutex_lock(&w->mu);
	while (!w->stop) {
		void *it = json_object_iter(w->queue);
		char *account;
		const char *error = NULL;

		if (it == NULL) {
			pthread_cond_wait(&w->cv, &w->mu);
			continue;
		}
		account = xstrdup(json_object_iter_key(it));
		json_object_del(w->queue, account);
		w->busy = 1;
		pthread_mutex_unlock(&w->mu);
		if (evm_fts_index_account(w->view, account, &error) < 0)
			log_warn("fts: indexing %s: %s", account, error ? error : "failed");
		free(account);
		pthread_mutex_lock(&w->mu);
		w->busy = 0;
		{   /* the pause: only stop ends it early, not new work */
			struct timespec until;

			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += FTS_PAUSE_MS * 1000000L;
			until.tv_sec += until.tv_nsec / 1000000000L;
			until.tv_nsec %= 1000000000L;
			while (!w->stop && pthread_cond_timedwait(&w->cv, &w->mu, &until) == 0)
				;
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Queues account for the thread. */
static void enqueue(struct fts_worker *w, const char *account)
{
	pthread_mutex_lock(&w->mu);
	json_object_set_new(w->queue, account, json_true());
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

/* Projector subscription: an active account changed. */
static void on_change(void *ctx, const char *account)
{
	struct fts_worker *w = ctx;

	if (account != NULL && json_object_get(w->active, account) != NULL)
		enqueue(w, account);
}

/* node's worker, started on first use; NULL when it cannot start. */
static struct fts_worker *worker_of(struct node *node)
{
	struct fts_worker *w;

	pthread_mutex_lock(&workers_mu);
	for (w = workers; w != NULL && w->node != node; w = w->next)
		;
	if (w == NULL && node->view != NULL) {
		w = xcalloc(1, sizeof *w);
		w->node = node;
		w->view = node->view;
		w->queue = json_object();
		w->active = json_object();
		w->ids = evm_fts_idcache_new();
		pthread_mutex_init(&w->mu, NULL);
		pthread_cond_init(&w->cv, NULL);
		if (pthread_create(&w->th, NULL, run, w) != 0) {
			log_warn("fts: cannot start the indexer thread");
			json_decref(w->queue);
			json_decref(w->active);
			evm_fts_idcache_free(&w->ids);
			free(w);
			w = NULL;
		} else {
			if (node->projector != NULL)
				w->sub = projector_subscribe(node->projector, NULL, on_change, w);
			w->next = workers;
			workers = w;
		}
	}
	pthread_mutex_unlock(&workers_mu);
	return w;
}

void evm_fts_activate(struct node *node, const char *account)
{
	struct fts_worker *w = worker_of(node);

	if (w == NULL || json_object_get(w->active, account) != NULL)
		return;
	json_object_set_new(w->active, account, json_true());
	enqueue(w, account);
}

struct evm_fts_ids *evm_fts_ids_box(struct node *node, const char *owner, const char *mailbox_id,
				    uint32_t uidvalidity)
{
	struct fts_worker *w = worker_of(node);

	return w != NULL ? evm_fts_idcache_box(w->ids, owner, mailbox_id, uidvalidity) : NULL;
}

void evm_fts_kick(struct node *node, const char *account)
{
	struct fts_worker *w = worker_of(node);

	if (w != NULL && json_object_get(w->active, account) != NULL)
		enqueue(w, account);
}

/* The indexer's state (fts.h): pending accounts, documents written. */
void evm_fts_metrics(struct node *node, struct buf *out)
{
	struct fts_worker *w;
	size_t pending = 0;

	pthread_mutex_lock(&workers_mu);
	for (w = workers; w != NULL && w->node != node; w = w->next)
		;
	if (w != NULL) {
		pthread_mutex_lock(&w->mu);
		pending = json_object_size(w->queue) + (size_t)w->busy;
		pthread_mutex_unlock(&w->mu);
	}
	pthread_mutex_unlock(&workers_mu);
	buf_printf(out, "# HELP evmail_fts_accounts_pending Accounts queued for the text indexer or being "
		   "indexed (0: every searched account's messages are indexed).\n"
		   "# TYPE evmail_fts_accounts_pending gauge\nevmail_fts_accounts_pending %zu\n", pending);
	buf_printf(out, "# HELP evmail_fts_documents_indexed_total Messages written to the text index "
		   "since the process started.\n# TYPE evmail_fts_documents_indexed_total counter\n"
		   "evmail_fts_documents_indexed_total %llu\n", (unsigned long long)evm_fts_docs_written());
}

/* Stops and joins node's thread (an account being indexed is finished). */
void evm_fts_stop(struct node *node)
{
	struct fts_worker **pw, *w = NULL;

	pthread_mutex_lock(&workers_mu);
	for (pw = &workers; *pw != NULL; pw = &(*pw)->next) {
		if ((*pw)->node == node) {
			w = *pw;
			*pw = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&workers_mu);
	if (w == NULL)
		return;
	projector_unsubscribe(&w->sub);
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	json_decref(w->queue);
	json_decref(w->active);
	evm_fts_idcache_free(&w->ids);
	free(w);
}
