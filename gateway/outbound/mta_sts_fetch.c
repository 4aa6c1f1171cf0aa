/* mta_sts_fetch - fetches one MTA-STS policy on a worker thread. */
#include "gateway/outbound/mta_sts_fetch.h"
#include "common/buf.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mta_sts_fetch {
	pthread_t thread;
	int started;
	atomic_int cancel;
	struct event *done;
	char url[400];
	char resolve[600];           /* CURLOPT_RESOLVE entry */
	char host[300];
	char *ca_file;
	struct mta_sts_parser parser;
	size_t body;
	int ok;                      /* the thread's outcome */
	struct mta_sts_policy policy;
	char error[300];
	mta_sts_fetch_cb *cb;
	void *ctx;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* The body, pushed into the parser as it arrives; beyond the cap: abort. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct mta_sts_fetch *f = arg;
	size_t n = size * nmemb;
	const char *error = NULL;

	if (f->body + n > MTA_STS_MAX_BODY) {
		snprintf(f->error, sizeof f->error, "policy larger than %d octets", MTA_STS_MAX_BODY);
		return 0;
	}
	f->body += n;
	if (mta_sts_parser_feed(&f->parser, data, n, &error) < 0) {
		snprintf(f->error, sizeof f->error, "policy: %s", error);
		return 0;
	}
	return n;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct mta_sts_fetch *f = arg;

	return atomic_load(&f->cancel) ? 1 : 0;
}

/* The blocking transfer (worker thread). */
static void fetch(struct mta_sts_fetch *f)
{
	CURL *c = curl_easy_init();
	struct curl_slist *resolve = NULL;
	CURLcode rc;
	long status = 0;
	char *ctype = NULL;
	const char *error = NULL;

	if (c == NULL) {
		snprintf(f->error, sizeof f->error, "cannot create a curl handle");
		return;
	}
	resolve = curl_slist_append(NULL, f->resolve);
	curl_easy_setopt(c, CURLOPT_URL, f->url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);      /* RFC 8461 3.3: no redirects */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)MTA_STS_FETCH_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_PROXY, "");                /* never an environment proxy */
	curl_easy_setopt(c, CURLOPT_USERAGENT, "evmail-mta-sts");
	if (f->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, f->ca_file);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, f);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
	if (rc != CURLE_OK) {
		if (f->error[0] == '\0')
			snprintf(f->error, sizeof f->error, "%s: %s", f->url, curl_easy_strerror(rc));
	} else if (status != 200) {
		snprintf(f->error, sizeof f->error, "%s: HTTP status %ld", f->url, status);
	} else if (ctype == NULL || strncasecmp(ctype, "text/plain", 10) != 0) {
		snprintf(f->error, sizeof f->error, "%s: media type %s, not text/plain", f->url,
			 ctype ? ctype : "(none)");
	} else if (mta_sts_parser_finish(&f->parser, &f->policy, &error) < 0) {
		snprintf(f->error, sizeof f->error, "%s: policy: %s", f->url, error);
	} else {
		f->ok = 1;
	}
	curl_slist_free_all(resolve);
	curl_easy_cleanup(c);
}

static void *worker(void *arg)
{
	struct mta_sts_fetch *f = arg;

	fetch(f);
	event_active(f->done, EV_TIMEOUT, 0);
	return NULL;
}

static void fetch_free(struct mta_sts_fetch *f)
{
	if (f->started)
		pthread_join(f->thread, NULL);
	event_free(f->done);
	free(f->ca_file);
	free(f);
}

/* Back on the loop. */
static void finished(evutil_socket_t fd, short what, void *arg)
{
	struct mta_sts_fetch *f = arg;

	if (f->ok)
		f->cb(f->ctx, &f->policy, NULL);
	else
		f->cb(f->ctx, NULL, f->error);
	fetch_free(f);
}

struct mta_sts_fetch *mta_sts_fetch_start(struct event_base *base, const char *domain, int port,
					  const char *const *addrs, unsigned naddrs, const char *ca_file,
					  mta_sts_fetch_cb *cb, void *ctx)
{
	struct mta_sts_fetch *f = xcalloc(1, sizeof *f);
	struct buf r = BUF_INIT;

	pthread_once(&curl_once, curl_init_once);
	f->cb = cb;
	f->ctx = ctx;
	f->done = event_new(base, -1, 0, finished, f);
	mta_sts_parser_init(&f->parser);
	snprintf(f->host, sizeof f->host, "mta-sts.%s", domain);
	snprintf(f->url, sizeof f->url, "https://%s:%d/.well-known/mta-sts.txt", f->host, port);
	buf_printf(&r, "%s:%d:", f->host, port);
	for (unsigned i = 0; i < naddrs; i++)
		buf_printf(&r, strchr(addrs[i], ':') ? "%s[%s]" : "%s%s", i ? "," : "", addrs[i]);
	snprintf(f->resolve, sizeof f->resolve, "%s", r.data);
	buf_free(&r);
	if (ca_file != NULL && ca_file[0] != '\0')
		f->ca_file = xstrdup(ca_file);
	if (pthread_create(&f->thread, NULL, worker, f) != 0) {
		snprintf(f->error, sizeof f->error, "cannot start a fetch thread");
		event_active(f->done, EV_TIMEOUT, 0);
	} else {
		f->started = 1;
	}
	return f;
}

void mta_sts_fetch_cancel(struct mta_sts_fetch *f)
{
	atomic_store(&f->cancel, 1);
	fetch_free(f);
}
