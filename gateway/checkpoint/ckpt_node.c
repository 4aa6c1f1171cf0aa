/* ckpt_node - the start-up bootstrap (ckpt_node_prepare) on a worker
 * thread while the node's loop keeps serving what is already listening
 * (the management API: /healthz answers, /readyz says "starting"), so a
 * long download does not look like a hung process to an orchestrator's
 * probes. */
#include "gateway/checkpoint/checkpoint.h"
#include "common/log.h"

#include <event2/event.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct prepare_job {
	const struct evm_config *cfg;
	const char *view_path;
	struct event *done_ev;
	int done, rc;
	char error[512];
};

static void *prepare_thread(void *arg)
{
	struct prepare_job *j = arg;
	const char *error = NULL;

	j->rc = ckpt_node_prepare(j->cfg, j->view_path, &error);
	/* the message may live in this thread's storage: copy it */
	if (j->rc < 0)
		snprintf(j->error, sizeof j->error, "%s", error != NULL ? error : "bootstrap failed");
	event_active(j->done_ev, EV_TIMEOUT, 0);
	return NULL;
}

static void prepare_done(evutil_socket_t fd, short what, void *arg)
{
	struct prepare_job *j = arg;

	j->done = 1;
}

int ckpt_node_prepare_serving(struct event_base *base, const struct evm_config *cfg, const char *view_path,
			      const char **error_r)
{
	static __thread char err[512];
	struct prepare_job j = { .cfg = cfg, .view_path = view_path };
	pthread_t th;

	j.done_ev = event_new(base, -1, 0, prepare_done, &j);
	if (j.done_ev == NULL || pthread_create(&th, NULL, prepare_thread, &j) != 0) {
		if (j.done_ev != NULL)
			event_free(j.done_ev);
		return ckpt_node_prepare(cfg, view_path, error_r);
	}
	while (!j.done)
		event_base_loop(base, EVLOOP_ONCE);
	pthread_join(th, NULL);
	event_free(j.done_ev);
	if (j.rc < 0) {
		snprintf(err, sizeof err, "%s", j.error);
		*error_r = err;
	}
	return j.rc;
}
