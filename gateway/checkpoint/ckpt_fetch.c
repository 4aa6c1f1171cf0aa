/* ckpt_fetch - GET /admin/checkpoint from a peer with libcurl, the body
 * handed to a sink piece by piece (checkpoint.h). Blocking: used before
 * the node's loop runs, and by evmailctl. No overall timeout (a large view
 * takes as long as it takes), but a stalled transfer is dropped: under
 * CKPT_LOW_SPEED octets per second for CKPT_LOW_TIME seconds. */
#include "gateway/checkpoint/checkpoint.h"
#include "common/log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#define CKPT_CONNECT_TIMEOUT_S 10
#define CKPT_LOW_SPEED 1024L
#define CKPT_LOW_TIME 60L
#define CKPT_ERROR_BODY_MAX 4096

struct fetch {
	ckpt_sink *sink;
	void *ctx;
	CURL *h;
	long status;
	struct buf error_body;     /* a non-200 answer's body, for its message */
	const char *sink_error;
	char sink_msg[700];
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * nmemb;
	const char *error = NULL;

	if (f->status == 0)
		curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &f->status);
	if (f->status != 200) {
		if (f->error_body.len < CKPT_ERROR_BODY_MAX)
			buf_append(&f->error_body, data, len < CKPT_ERROR_BODY_MAX ? len : CKPT_ERROR_BODY_MAX);
		return len;
	}
	if (f->sink(f->ctx, data, len, &error) < 0) {
		snprintf(f->sink_msg, sizeof f->sink_msg, "%s", error);
		f->sink_error = f->sink_msg;
		return 0;    /* stops the transfer */
	}
	return len;
}

int ckpt_fetch(const char *hostport, const char *token, ckpt_sink *sink, void *ctx, const char **error_r)
{
	static __thread char err[1024];
	struct fetch f = { .sink = sink, .ctx = ctx };
	struct curl_slist *headers = NULL;
	char url[600], auth[600];
	CURLcode rc;
	int ret = 0;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(url, sizeof url, "http://%s/admin/checkpoint", hostport);
	f.h = curl_easy_init();
	if (f.h == NULL) {
		*error_r = "checkpoint fetch: curl_easy_init failed";
		return -1;
	}
	if (token != NULL && token[0] != '\0') {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
		headers = curl_slist_append(headers, auth);
	}
	curl_easy_setopt(f.h, CURLOPT_URL, url);
	curl_easy_setopt(f.h, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(f.h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(f.h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f.h, CURLOPT_PROXY, "");
	curl_easy_setopt(f.h, CURLOPT_CONNECTTIMEOUT, (long)CKPT_CONNECT_TIMEOUT_S);
	curl_easy_setopt(f.h, CURLOPT_LOW_SPEED_LIMIT, CKPT_LOW_SPEED);
	curl_easy_setopt(f.h, CURLOPT_LOW_SPEED_TIME, CKPT_LOW_TIME);
	curl_easy_setopt(f.h, CURLOPT_USERAGENT, "evmail-checkpoint");
	curl_easy_setopt(f.h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(f.h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f.h, CURLOPT_WRITEDATA, &f);
	rc = curl_easy_perform(f.h);
	if (f.status == 0)
		curl_easy_getinfo(f.h, CURLINFO_RESPONSE_CODE, &f.status);
	if (f.sink_error != NULL) {
		snprintf(err, sizeof err, "%s", f.sink_error);
		ret = -1;
	} else if (f.status != 200 && f.status != 0) {
		json_t *body = json_loadb(f.error_body.data ? f.error_body.data : "", f.error_body.len, 0, NULL);
		const char *e = json_string_value(json_object_get(body, "error"));
		snprintf(err, sizeof err, "peer %s answered HTTP %ld: %s", hostport, f.status,
			 e ? e : "(no message)");
		json_decref(body);
		ret = -1;
	} else if (rc != CURLE_OK) {
		snprintf(err, sizeof err, "checkpoint from %s: %s (the stream is incomplete)", hostport,
			 curl_easy_strerror(rc));
		ret = -1;
	}
	if (ret < 0)
		*error_r = err;
	curl_slist_free_all(headers);
	curl_easy_cleanup(f.h);
	buf_free(&f.error_body);
	return ret;
}
