/* test_pushsub_sender - the url a client may give a PushSubscription
 * (https only unless jmap.push_allow_http) and the curl transport's
 * refusals: loopback and private addresses without
 * jmap.push_allow_private, http:// without jmap.push_allow_http. No
 * connection is made: every refusal happens before one. */
#include "gateway/pushsub_sender.h"
#include "tests/unit/testlib.h"

#include <curl/curl.h>
#include <string.h>

static struct evm_config cfg;

static int url_ok(const char *url)
{
	const char *error = NULL;

	return pushsub_url_check(&cfg, url, &error) == 0;
}

static void test_url_check(void)
{
	cfg.jmap_push_allow_http = 0;
	CHECK(url_ok("https://push.example/x?y=1"));
	CHECK(url_ok("https://[2001:db8::1]:8443/p"));
	CHECK(!url_ok("http://push.example/x"));
	CHECK(!url_ok("ftp://push.example/x"));
	CHECK(!url_ok("https://"));
	CHECK(!url_ok("/relative"));
	CHECK(!url_ok("push.example/x"));
	CHECK(!url_ok("https://push.example/a b"));
	CHECK(!url_ok("https://push.example/\x01"));
	CHECK(!url_ok(""));
	cfg.jmap_push_allow_http = 1;
	CHECK(url_ok("http://127.0.0.1:8080/x"));
	CHECK(!url_ok("ftp://push.example/x"));
	cfg.jmap_push_allow_http = 0;
}

/* A JSON POST of "{}" to url through the curl transport c. */
static int post(struct pushsub_curl *c, const char *url, char *err, size_t errsize)
{
	struct pushsub_post p = { url, "{}", 2, 0 };

	return pushsub_curl_post(c, &p, err, errsize);
}

static void test_refusals(void)
{
	struct pushsub_curl c = { .allow_http = 1, .allow_private = 0, .timeout_s = 5 };
	char err[256];

	/* Loopback, private, link-local, IPv6 loopback: refused before any
	 * connection. */
	CHECK_EQ_INT(post(&c, "http://127.0.0.1:9/x", err, sizeof err), -1);
	CHECK(strstr(err, "private or loopback") != NULL);
	CHECK_EQ_INT(post(&c, "http://10.1.2.3:9/x", err, sizeof err), -1);
	CHECK(strstr(err, "private or loopback") != NULL);
	CHECK_EQ_INT(post(&c, "http://169.254.169.254/x", err, sizeof err), -1);
	CHECK(strstr(err, "private or loopback") != NULL);
	CHECK_EQ_INT(post(&c, "http://[::1]:9/x", err, sizeof err), -1);
	CHECK(strstr(err, "private or loopback") != NULL);
	CHECK_EQ_INT(post(&c, "http://[::ffff:192.168.1.1]:9/x", err, sizeof err), -1);
	CHECK(strstr(err, "private or loopback") != NULL);
	/* http:// is not even tried without allow_http. */
	c.allow_http = 0;
	c.allow_private = 1;
	CHECK_EQ_INT(post(&c, "http://127.0.0.1:9/x", err, sizeof err), -1);
	CHECK(strstr(err, "private or loopback") == NULL);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	test_run("pushsub: the url a client may give", test_url_check);
	test_run("pushsub: curl refuses private addresses and http", test_refusals);
	curl_global_cleanup();
	return test_done();
}
