/* auth_password - see auth_password.h. */
#include "gateway/auth_password.h"
#include "gateway/auth_cache.h"
#include "gateway/auth_gate.h"
#include "common/address.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/password.h"
#include "projector/directory.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A valid yescrypt string no password matches: the cost of a real check. */
#define AUTH_DUMMY_HASH "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"

struct auth_job {
	struct auth_job *next;           /* waiting queue */
	auth_password_cb *cb;
	void *ctx;
	struct event *done;
	char *password;
	char *hash;
	int usable;                      /* the account exists and is active */
	int result;                      /* evm_password_verify's */
	int cached;                      /* answered from the cache, no worker */
	char account[EVM_ADDRESS_MAX + 1];
	char tenant[64];
	char peer_ip[64];                /* for the throttle */
	struct event_base *base;
};

/* Loop-thread state: checks running, and the FIFO of those waiting. */
static unsigned auth_running;
static struct auth_job *auth_queue_head, *auth_queue_tail;
/* The node's cache of successful checks (NULL: auth.cache_ttl_s 0), and
 * its counters (loop thread only). */
static struct auth_cache *auth_cache;
static struct auth_password_stats auth_stats;

static void auth_start(struct auth_job *job);

/* Wipes the password and frees the job. */
static void job_free(struct auth_job *job)
{
	if (job->password != NULL) {
		explicit_bzero(job->password, strlen(job->password));
		free(job->password);
	}
	free(job->hash);
	if (job->done != NULL)
		event_free(job->done);
	free(job);
}

/* The worker thread: only the hash computation, then wake the loop. */
static void *worker(void *ctx)
{
	struct auth_job *job = ctx;
	const char *error = NULL;

	job->result = evm_password_verify(job->password, job->hash, &error);
	event_active(job->done, EV_TIMEOUT, 0);
	return NULL;
}

/* A failure's delay is over (or the attempt was refused): answer it. */
static void answer_failure(void *ctx)
{
	struct auth_job *job = ctx;

	job->cb(job->ctx, 0, job->account, "");
	job_free(job);
}

/* Answers job: a success at once, a failure counted and delayed. */
static void answer(struct auth_job *job, int ok)
{
	if (!ok) {
		auth_gate_failed(job->base, job->peer_ip, job->account, answer_failure, job);
		return;
	}
	auth_gate_success(job->peer_ip, job->account);
	job->cb(job->ctx, 1, job->account, job->tenant);
	job_free(job);
}

/* Back on the loop: start the next waiting check, then answer. */
static void verified(evutil_socket_t fd, short what, void *ctx)
{
	struct auth_job *job = ctx;
	int ok = job->usable && job->result == 1;

	if (job->cached) {
		answer(job, ok);
		return;
	}
	auth_running--;
	/* Only a success is remembered: every failure costs a full check. */
	if (ok && auth_cache != NULL)
		auth_cache_store(auth_cache, job->account, job->password, job->hash);
	/* the counts may have changed while they waited: a client whose
	 * earlier guesses failed meanwhile is refused now, so parallel
	 * connections get no more checks than auth.max_failures_ip plus the
	 * few already running */
	while (auth_queue_head != NULL) {
		struct auth_job *next = auth_queue_head;
		auth_queue_head = next->next;
		if (auth_queue_head == NULL)
			auth_queue_tail = NULL;
		if (auth_gate_allowed(next->peer_ip, next->account)) {
			auth_start(next);
			break;
		}
		auth_stats.checks--;
		auth_gate_delay(next->base, answer_failure, next);
	}
	/* the password is not needed any more while a failure waits */
	explicit_bzero(job->password, strlen(job->password));
	answer(job, ok);
}

/* The account's hash and tenant when it may log in. */
static void lookup(struct view *view, const char *user, struct auth_job *job)
{
	const char *error = NULL, *hash, *state, *tenant;
	json_t *acc = NULL;

	if (evm_address_normalize(user, job->account, &error) < 0) {
		job->account[0] = '\0';
		return;
	}
	if (view == NULL)
		return;
	if (directory_account_get(view, job->account, &acc, &error) <= 0) {
		if (error != NULL)
			log_warn("auth: account lookup: %s", error);
		return;
	}
	hash = json_string_value(json_object_get(acc, "password_hash"));
	state = json_string_value(json_object_get(acc, "state"));
	tenant = json_string_value(json_object_get(acc, "tenant"));
	if (hash != NULL && state != NULL && strcmp(state, "active") == 0 && tenant != NULL &&
	    strlen(tenant) < sizeof job->tenant && evm_password_hash_valid(hash)) {
		job->hash = xstrdup(hash);
		snprintf(job->tenant, sizeof job->tenant, "%s", tenant);
		job->usable = 1;
	}
	json_decref(acc);
}

void auth_password_verify(struct event_base *base, struct view *view, const char *peer_ip,
			  const char *user, const char *password, auth_password_cb *cb, void *ctx)
{
	struct auth_job *job = xcalloc(1, sizeof *job);
	const char *error = NULL;

	job->cb = cb;
	job->ctx = ctx;
	job->base = base;
	snprintf(job->peer_ip, sizeof job->peer_ip, "%s", peer_ip);
	if (strlen(user) > EVM_ADDRESS_MAX || evm_address_normalize(user, job->account, &error) < 0)
		job->account[0] = '\0';
	if (!auth_gate_allowed(job->peer_ip, job->account)) {
		/* no check at all: the same answer as a wrong password, as late */
		auth_gate_delay(base, answer_failure, job);
		return;
	}
	job->password = xstrdup(password);
	if (job->account[0] != '\0')
		lookup(view, user, job);
	if (job->hash == NULL)
		job->hash = xstrdup(AUTH_DUMMY_HASH);
	job->done = event_new(base, -1, 0, verified, job);
	if (job->usable && auth_cache != NULL) {
		if (auth_cache_lookup(auth_cache, job->account, job->password, job->hash) == 1) {
			auth_stats.cache_hits++;
			job->cached = 1;
			job->result = 1;
			event_active(job->done, EV_TIMEOUT, 0);
			return;
		}
		auth_stats.cache_misses++;
	}
	auth_stats.checks++;
	if (auth_running >= AUTH_PASSWORD_CONCURRENT) {
		if (auth_queue_tail != NULL)
			auth_queue_tail->next = job;
		else
			auth_queue_head = job;
		auth_queue_tail = job;
		return;
	}
	auth_start(job);
}

/* Runs one check on a detached worker thread (loop thread). */
static void auth_start(struct auth_job *job)
{
	pthread_attr_t attr;
	pthread_t th;

	auth_running++;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, worker, job) != 0) {
		log_error("auth: cannot start a password-check thread");
		job->result = -1;
		event_active(job->done, EV_TIMEOUT, 0);
	}
	pthread_attr_destroy(&attr);
}

int auth_password_cache_setup(unsigned ttl_s, unsigned size, const char **error_r)
{
	auth_cache_free(&auth_cache);
	if (ttl_s == 0)
		return 0;
	return auth_cache_new(ttl_s, size, NULL, &auth_cache, error_r);
}

void auth_password_cache_teardown(void)
{
	auth_cache_free(&auth_cache);
}

void auth_password_get_stats(struct auth_password_stats *stats_r)
{
	*stats_r = auth_stats;
}
