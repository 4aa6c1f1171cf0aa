/* test_auth_cache - the cache of successful password checks: hit, miss,
 * wrong password beside a cached right one, changed hash, expiry on an
 * injected clock, eviction of the least recently used, bad settings. */
#include "gateway/auth_cache.h"
#include "gateway/auth_password.h"
#include "tests/unit/testlib.h"

#include <stdio.h>

#define H1 "$y$j9T$salt1$hash-one"
#define H2 "$y$j9T$salt2$hash-two"

static int64_t fake_now = 1000;

/* The injected clock. */
static int64_t fake_clock(void)
{
	return fake_now;
}

/* A 60-second cache of size entries on the fake clock. */
static struct auth_cache *cache_of(unsigned size)
{
	struct auth_cache *c = NULL;
	const char *error = NULL;

	fake_now = 1000;
	if (auth_cache_new(60, size, fake_clock, &c, &error) < 0)
		fprintf(stderr, "auth_cache_new: %s\n", error);
	return c;
}

/* Stored credentials match; nothing else does. */
static void test_hit_and_miss(void)
{
	struct auth_cache *c = cache_of(10);

	CHECK(c != NULL);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 0);
	auth_cache_store(c, "a@x.test", "pw", H1);
	CHECK_EQ_INT(auth_cache_count(c), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "b@x.test", "pw", H1), 0);
	/* The framing is unambiguous: moving bytes between fields never matches. */
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw$", &H1[1]), 0);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "p", "w" H1), 0);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "", H1), 0);
	auth_cache_free(&c);
	CHECK(c == NULL);
	auth_cache_free(&c);
}

/* A wrong password misses and leaves the right one cached. */
static void test_wrong_password(void)
{
	struct auth_cache *c = cache_of(10);

	CHECK(c != NULL);
	auth_cache_store(c, "a@x.test", "right", H1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "wrong", H1), 0);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "Right", H1), 0);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "right ", H1), 0);
	CHECK_EQ_INT(auth_cache_count(c), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "right", H1), 1);
	auth_cache_free(&c);
}

/* A new stored hash (password changed) never matches the old entry. */
static void test_changed_hash(void)
{
	struct auth_cache *c = cache_of(10);

	CHECK(c != NULL);
	auth_cache_store(c, "a@x.test", "old", H1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "old", H2), 0);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "new", H2), 0);
	auth_cache_store(c, "a@x.test", "new", H2);
	CHECK_EQ_INT(auth_cache_count(c), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "new", H2), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "old", H1), 0);
	auth_cache_free(&c);
}

/* An entry is valid for ttl from its store, then dropped. */
static void test_expiry(void)
{
	struct auth_cache *c = cache_of(10);

	CHECK(c != NULL);
	auth_cache_store(c, "a@x.test", "pw", H1);
	fake_now += 59999;
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 1);
	fake_now += 1;
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 0);
	CHECK_EQ_INT(auth_cache_count(c), 0);
	/* A hit does not extend the entry; a new store does. */
	auth_cache_store(c, "a@x.test", "pw", H1);
	fake_now += 30000;
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 1);
	fake_now += 30000;
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 0);
	auth_cache_free(&c);
}

/* Full: the least recently used account goes; the size is never exceeded. */
static void test_eviction(void)
{
	struct auth_cache *c = cache_of(3);
	char name[64];

	CHECK(c != NULL);
	auth_cache_store(c, "a@x.test", "pa", H1);
	auth_cache_store(c, "b@x.test", "pb", H1);
	auth_cache_store(c, "c@x.test", "pc", H1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pa", H1), 1);   /* a is now the most recent */
	auth_cache_store(c, "d@x.test", "pd", H1);                     /* evicts b */
	CHECK_EQ_INT(auth_cache_count(c), 3);
	CHECK_EQ_INT(auth_cache_lookup(c, "b@x.test", "pb", H1), 0);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pa", H1), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "c@x.test", "pc", H1), 1);
	CHECK_EQ_INT(auth_cache_lookup(c, "d@x.test", "pd", H1), 1);
	/* Replacing an account's entry does not evict another. */
	auth_cache_store(c, "c@x.test", "pc2", H2);
	CHECK_EQ_INT(auth_cache_count(c), 3);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pa", H1), 1);
	auth_cache_free(&c);

	/* Many accounts: the table grows, every recent one is found. */
	c = cache_of(1000);
	CHECK(c != NULL);
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof name, "user%d@x.test", i);
		auth_cache_store(c, name, name, H1);
	}
	CHECK_EQ_INT(auth_cache_count(c), 1000);
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof name, "user%d@x.test", i);
		CHECK_EQ_INT(auth_cache_lookup(c, name, name, H1), i >= 500);
	}
	auth_cache_free(&c);
}

/* Settings out of range are refused; ttl 0 turns the node's cache off. */
static void test_settings(void)
{
	struct auth_cache *c = NULL;
	const char *error = NULL;

	CHECK_EQ_INT(auth_cache_new(0, 10, NULL, &c, &error), -1);
	CHECK(c == NULL && error != NULL);
	CHECK_EQ_INT(auth_cache_new(10, 0, NULL, &c, &error), -1);
	CHECK_EQ_INT(auth_cache_new(10, AUTH_CACHE_SIZE_MAX + 1, NULL, &c, &error), -1);
	CHECK_EQ_INT(auth_cache_new(10, 5, NULL, &c, &error), 0);
	auth_cache_store(c, "a@x.test", "pw", H1);
	CHECK_EQ_INT(auth_cache_lookup(c, "a@x.test", "pw", H1), 1);
	auth_cache_free(&c);
	CHECK_EQ_INT(auth_password_cache_setup(0, 10, &error), 0);
	CHECK_EQ_INT(auth_password_cache_setup(60, 10, &error), 0);
	CHECK_EQ_INT(auth_password_cache_setup(60, 0, &error), -1);
	auth_password_cache_teardown();
}

int main(void)
{
	test_run("hit and miss", test_hit_and_miss);
	test_run("wrong password beside a cached right one", test_wrong_password);
	test_run("changed hash", test_changed_hash);
	test_run("expiry", test_expiry);
	test_run("eviction", test_eviction);
	test_run("settings", test_settings);
	return test_done();
}
