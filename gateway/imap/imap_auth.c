/* imap_auth - checks a password without blocking the loop: yescrypt takes
 * ~50-100 ms, so the verification runs on a short-lived worker thread and
 * comes back to the loop through event_active (libevent is set up for
 * threads by main: evthread_use_pthreads). An unknown or disabled account
 * is checked against a dummy hash, so the answer takes as long and says
 * the same (RFC 9051 7.1 AUTHENTICATIONFAILED; no user enumeration).
 *
 * At most IMAP_AUTH_CONCURRENT checks run at once; the rest wait in a FIFO
 * (loop thread only, no locks). Each yescrypt check uses ~16 MiB: a burst
 * of logins (wrong passwords included) must not become gigabytes of
 * memory and hundreds of threads (bench/README.md, IMAP findings). */
#include "gateway/imap/imap_session_private.h"
#include "common/log.h"
#include "common/password.h"
#include "projector/directory.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IMAP_DUMMY_HASH "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"

#define IMAP_AUTH_CONCURRENT 4

struct auth_job {
	struct auth_job *next;           /* waiting queue */
	struct imap_session *s;
	struct event *done;
	char *password;
	char *hash;
	int usable;                      /* the account exists and is active */
	int result;                      /* evm_password_verify's */
	char account[EVM_ADDRESS_MAX + 1];
	char tenant[64];
};

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

static void *worker(void *ctx)
{
	struct auth_job *job = ctx;
	const char *error = NULL;

	job->result = evm_password_verify(job->password, job->hash, &error);
	event_active(job->done, EV_TIMEOUT, 0);
	return NULL;
}

static unsigned auth_running;
static struct auth_job *auth_queue_head, *auth_queue_tail;

static void auth_start(struct auth_job *job);

static void verified(evutil_socket_t fd, short what, void *ctx)
{
	struct auth_job *job = ctx;
	struct imap_session *s = job->s;
	struct buf caps = BUF_INIT;

	auth_running--;
	if (auth_queue_head != NULL) {
		struct auth_job *next = auth_queue_head;
		auth_queue_head = next->next;
		if (auth_queue_head == NULL)
			auth_queue_tail = NULL;
		auth_start(next);
	}

	if (s->bev != NULL && !s->closing) {
		if (job->usable && job->result == 1) {
			imap_logged_in(s, job->account, job->tenant);
			imap_capability_string(s, &caps);
			imap_ok(s, "[CAPABILITY %s] Logged in", caps.data);
			buf_free(&caps);
		} else {
			log_info("imap[%s]: authentication failed for %s from [%s]", s->id,
				 job->account[0] ? job->account : "(invalid name)", s->peer_ip);
			imap_no(s, "[AUTHENTICATIONFAILED] Authentication failed");
		}
	}
	job_free(job);
	imap_session_unref(s);
}

/* The account's hash and tenant when it may log in. */
static void lookup(struct imap_session *s, const char *user, struct auth_job *job)
{
	const char *error = NULL, *hash, *state, *tenant;
	json_t *acc = NULL;

	if (evm_address_normalize(user, job->account, &error) < 0) {
		job->account[0] = '\0';
		return;
	}
	if (directory_account_get(s->node->view, job->account, &acc, &error) <= 0) {
		if (error != NULL)
			log_warn("imap[%s]: account lookup: %s", s->id, error);
		return;
	}
	hash = json_string_value(json_object_get(acc, "password_hash"));
	state = json_string_value(json_object_get(acc, "state"));
	tenant = json_string_value(json_object_get(acc, "tenant"));
	if (hash != NULL && state != NULL && strcmp(state, "active") == 0 && tenant != NULL &&
	    evm_password_hash_valid(hash)) {
		job->hash = xstrdup(hash);
		snprintf(job->tenant, sizeof job->tenant, "%s", tenant);
		job->usable = 1;
	}
	json_decref(acc);
}

void imap_auth_verify(struct imap_session *s, const char *user, const char *password)
{
	struct auth_job *job = xcalloc(1, sizeof *job);

	job->s = s;
	job->password = xstrdup(password);
	if (strlen(user) <= EVM_ADDRESS_MAX)
		lookup(s, user, job);
	if (job->hash == NULL)
		job->hash = xstrdup(IMAP_DUMMY_HASH);
	job->done = event_new(s->base, -1, 0, verified, job);
	imap_session_ref(s);
	if (auth_running >= IMAP_AUTH_CONCURRENT) {
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
		log_error("imap[%s]: cannot start an authentication thread", job->s->id);
		job->result = -1;
		event_active(job->done, EV_TIMEOUT, 0);
	}
	pthread_attr_destroy(&attr);
}
