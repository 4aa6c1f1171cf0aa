/* test_jmap_pushsub - PushSubscription/get and /set (RFC 8620 7.2) on a
 * node, with the push sender posting through a recording transport: the
 * PushVerification on create, verification by the code, url and keys
 * never returned, StateChanges only to verified, unexpired subscriptions
 * and only for their types, expires clamped, destroy; a subscription with
 * keys gets every POST encrypted (RFC 8291), decrypted here by the user
 * agent's side of common/webpush.h. */
#include "gateway/jmap/test_jmap_node.h"
#include "common/base64.h"
#include "gateway/jmap/jmap_pushsub_private.h"
#include "gateway/pushsub_sender.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <unistd.h>

static struct tjn_user bob;
static pthread_mutex_t posts_mu = PTHREAD_MUTEX_INITIALIZER;
static json_t *posts;   /* [[url, body object, encrypted]...] */
/* The user agent of the encrypted subscriptions: its keys and private
 * key (set before any is created, read by the worker). */
static struct webpush_keys ua_keys;
static unsigned char ua_priv[WEBPUSH_PRIV_LEN];

/* The recording transport (worker thread): an encrypted body is decrypted
 * as the user agent would ("undecryptable" when it cannot be). */
static int record_post(void *ctx, const struct pushsub_post *p, char *err, size_t errsize)
{
	struct buf plain = BUF_INIT;
	const char *error = NULL;
	json_t *b;

	(void)ctx;
	(void)err;
	(void)errsize;
	if (!p->encrypted)
		b = json_loadb(p->body, p->len, 0, NULL);
	else if (webpush_decrypt(ua_priv, &ua_keys, p->body, p->len, &plain, &error) == 0)
		b = json_loadb(plain.data, plain.len, 0, NULL);
	else
		b = json_string("undecryptable");
	buf_free(&plain);
	pthread_mutex_lock(&posts_mu);
	json_array_append_new(posts, json_pack("[s, o, b]", p->url, b != NULL ? b : json_null(), p->encrypted));
	pthread_mutex_unlock(&posts_mu);
	return 0;
}

/* How many POSTs to url were encrypted. */
static size_t encrypted_to(const char *url)
{
	json_t *p;
	size_t i, n = 0;

	pthread_mutex_lock(&posts_mu);
	json_array_foreach(posts, i, p)
		if (strcmp(json_string_value(json_array_get(p, 0)), url) == 0 && json_is_true(json_array_get(p, 2)))
			n++;
	pthread_mutex_unlock(&posts_mu);
	return n;
}

/* The bodies POSTed to url so far (new array). */
static json_t *posts_to(const char *url)
{
	json_t *out = json_array(), *p;
	size_t i;

	pthread_mutex_lock(&posts_mu);
	json_array_foreach(posts, i, p)
		if (strcmp(json_string_value(json_array_get(p, 0)), url) == 0)
			json_array_append(out, json_array_get(p, 1));
	pthread_mutex_unlock(&posts_mu);
	return out;
}

static size_t count_to(const char *url)
{
	json_t *l = posts_to(url);
	size_t n = json_array_size(l);

	json_decref(l);
	return n;
}

/* Runs the loop until url got n POSTs (aborts after TJN_WAIT_MS). */
static void wait_posts(const char *url, size_t n)
{
	int64_t deadline = evm_mono_ms() + TJN_WAIT_MS;
	struct timeval tick = { 0, 5000 };

	while (count_to(url) < n && evm_mono_ms() < deadline) {
		event_base_loopexit(node.base, &tick);
		event_base_dispatch(node.base);
	}
	if (count_to(url) < n) {
		fprintf(stderr, "timed out waiting for %zu POSTs to %s\n", n, url);
		abort();
	}
}

/* POST n to url, as an object (owned by the caller). */
static json_t *post_n(const char *url, size_t n)
{
	json_t *l = posts_to(url), *b = json_incref(json_array_get(l, n));

	json_decref(l);
	return b;
}

/* Creates a subscription to url with the extra properties (JSON members,
 * "" for none); returns its id (static) or "(none)". */
static const char *create(const char *url, const char *extra)
{
	static char id[64];
	char calls[1024];
	json_t *r;

	snprintf(calls, sizeof calls,
		 "[[\"PushSubscription/set\",{\"create\":{\"k\":{\"deviceClientId\":\"dev\",\"url\":\"%s\"%s}}},\"0\"]]",
		 url, extra);
	r = request(&bob, calls);
	snprintf(id, sizeof id, "%s", sget(json_object_get(json_object_get(r, "created"), "k"), "id"));
	return id;
}

/* Sends the verification code url received back: the update's response. */
static json_t *verify(const char *id, const char *code)
{
	char calls[512];

	snprintf(calls, sizeof calls,
		 "[[\"PushSubscription/set\",{\"update\":{\"%s\":{\"verificationCode\":\"%s\"}}},\"0\"]]", id, code);
	return request(&bob, calls);
}

/* Creates a subscription, waits for its verification and verifies it;
 * then waits for the first StateChange (every type, sent when a node
 * starts sending for it). Returns its id. */
static const char *subscribe(const char *url, const char *extra)
{
	static char id[64];
	json_t *v, *r;

	snprintf(id, sizeof id, "%s", create(url, extra));
	wait_posts(url, 1);
	v = post_n(url, 0);
	r = verify(id, sget(v, "verificationCode"));
	json_decref(v);
	if (!json_is_object(json_object_get(r, "updated"))) {
		fprintf(stderr, "verification refused: %s\n", dump(r));
		abort();
	}
	wait_posts(url, 2);
	return id;
}

static void mailbox_change(const char *name)
{
	char id[33];

	snprintf(id, sizeof id, "%032x", (unsigned)strlen(name) * 7919u + (unsigned)name[0]);
	submit(EVM_TOPIC_MAIL, bob.req.address, "mailbox.create",
	       json_pack("{s:s, s:s, s:s}", "mailbox_id", id, "name", name, "special_use", ""));
}

static void test_create_verify(void)
{
	json_t *r, *v, *obj;
	char id[64];
	const char *url = "https://push.example/a";

	/* Refused creations. */
	r = request(&bob, "[[\"PushSubscription/set\",{\"create\":{"
			  "\"h\":{\"deviceClientId\":\"d\",\"url\":\"http://push.example/\"},"
			  "\"k\":{\"deviceClientId\":\"d\",\"url\":\"https://push.example/\",\"keys\":{\"p256dh\":\"x\",\"auth\":\"y\"}},"
			  "\"c\":{\"deviceClientId\":\"d\",\"url\":\"https://push.example/\",\"verificationCode\":\"x\"},"
			  "\"e\":{\"deviceClientId\":\"d\",\"url\":\"https://push.example/\",\"expires\":\"2001-01-01T00:00:00Z\"},"
			  "\"n\":{\"url\":\"https://push.example/\"},"
			  "\"i\":{\"id\":\"x\",\"deviceClientId\":\"d\",\"url\":\"https://push.example/\"}}},\"0\"]]");
	CHECK(r != NULL);
	CHECK(json_object_get(r, "accountId") == NULL && json_object_get(r, "newState") == NULL);
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(r, "notCreated"), "h"), "properties")),
		     "[\"url\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(r, "notCreated"), "k"), "properties")),
		     "[\"keys\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(r, "notCreated"), "c"), "properties")),
		     "[\"verificationCode\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(r, "notCreated"), "e"), "properties")),
		     "[\"expires\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(r, "notCreated"), "n"), "properties")),
		     "[\"deviceClientId\"]");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(r, "notCreated"), "i"), "properties")),
		     "[\"id\"]");
	CHECK_EQ_INT(json_array_size(posts), 0);

	/* Created: the id and the expiry the server set (none given). */
	snprintf(id, sizeof id, "%s", create(url, ""));
	CHECK_EQ_INT(strlen(id), 32);
	wait_posts(url, 1);
	v = post_n(url, 0);
	CHECK_EQ_STR(sget(v, "@type"), "PushVerification");
	CHECK_EQ_STR(sget(v, "pushSubscriptionId"), id);
	CHECK_EQ_INT(strlen(sget(v, "verificationCode")), 32);

	/* /get: no url, no keys, no code until verified; asking for url is forbidden. */
	r = request(&bob, "[[\"PushSubscription/get\",{}, \"0\"]]");
	obj = json_array_get(json_object_get(r, "list"), 0);
	CHECK(json_object_get(r, "state") == NULL && json_object_get(r, "accountId") == NULL);
	CHECK_EQ_STR(sget(obj, "id"), id);
	CHECK_EQ_STR(sget(obj, "deviceClientId"), "dev");
	CHECK(json_object_get(obj, "url") == NULL && json_object_get(obj, "keys") == NULL);
	CHECK(json_is_null(json_object_get(obj, "verificationCode")));
	CHECK(json_is_string(json_object_get(obj, "expires")));
	request(&bob, "[[\"PushSubscription/get\",{\"properties\":[\"url\"]}, \"0\"]]");
	CHECK_EQ_STR(resp_name(0), "error");
	CHECK_EQ_STR(sget(json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 0), 1), "type"),
		     "forbidden");

	/* A wrong code is invalidProperties (7.2.2); nothing is pushed to an
	 * unverified subscription. */
	r = verify(id, "0000");
	CHECK_EQ_STR(dump(json_object_get(json_object_get(json_object_get(r, "notUpdated"), id), "properties")),
		     "[\"verificationCode\"]");
	/* The right one verifies it; a first StateChange follows. */
	r = verify(id, sget(v, "verificationCode"));
	CHECK(json_object_get(json_object_get(r, "updated"), id) != NULL);
	wait_posts(url, 2);
	r = request(&bob, "[[\"PushSubscription/get\",{\"ids\":[\"nope\"]}, \"0\"]]");
	CHECK_EQ_STR(dump(json_object_get(r, "notFound")), "[\"nope\"]");
	r = request(&bob, "[[\"PushSubscription/get\",{\"properties\":[\"verificationCode\"]}, \"0\"]]");
	CHECK_EQ_STR(sget(json_array_get(json_object_get(r, "list"), 0), "verificationCode"),
		     sget(v, "verificationCode"));
	json_decref(v);
	/* Immutable properties. */
	{
		char calls[512];

		snprintf(calls, sizeof calls,
			 "[[\"PushSubscription/set\",{\"update\":{\"%s\":{\"url\":\"https://x.example/\"}}},\"0\"]]",
			 id);
		r = request(&bob, calls);
		CHECK_EQ_STR(sget(json_object_get(json_object_get(r, "notUpdated"), id), "type"), "invalidProperties");
	}
	/* Destroy; then it is gone. */
	{
		char calls[512];

		snprintf(calls, sizeof calls, "[[\"PushSubscription/set\",{\"destroy\":[\"%s\"]},\"0\"]]", id);
		r = request(&bob, calls);
		snprintf(calls, sizeof calls, "[\"%s\"]", id);
		CHECK_EQ_STR(dump(json_object_get(r, "destroyed")), calls);
		snprintf(calls, sizeof calls, "[[\"PushSubscription/set\",{\"destroy\":[\"%s\"]},\"0\"]]", id);
		r = request(&bob, calls);
		CHECK_EQ_STR(sget(json_object_get(json_object_get(r, "notDestroyed"), id), "type"), "notFound");
	}
}

static void test_state_changes(void)
{
	const char *all = "https://push.example/all", *pending = "https://push.example/pending";
	const char *vac = "https://push.example/vac";
	char id_all[64], account_id[JMAP_ACCOUNT_ID_LEN + 1];
	json_t *sc, *changed;

	jmap_account_id(bob.req.address, account_id);
	snprintf(id_all, sizeof id_all, "%s", subscribe(all, ""));
	(void)subscribe(vac, ",\"types\":[\"VacationResponse\"]");
	(void)create(pending, "");
	wait_posts(pending, 1);

	/* A mailbox appears: the verified subscription asking for every
	 * type hears of Mailbox; the unverified one and the one asking for
	 * VacationResponse only hear nothing. */
	mailbox_change("Projects");
	wait_posts(all, 3);
	sc = post_n(all, 2);
	CHECK_EQ_STR(sget(sc, "@type"), "StateChange");
	changed = json_object_get(json_object_get(sc, "changed"), account_id);
	CHECK(json_is_string(json_object_get(changed, "Mailbox")));
	CHECK(json_object_get(changed, "Email") == NULL);
	json_decref(sc);
	/* The vacation subscription hears of its type only. */
	submit(EVM_TOPIC_MAIL, bob.req.address, "vacation.set", json_pack("{s:b}", "enabled", 1));
	wait_posts(vac, 3);
	sc = post_n(vac, 2);
	changed = json_object_get(json_object_get(sc, "changed"), account_id);
	CHECK_EQ_INT(json_object_size(changed), 1);
	CHECK(json_is_string(json_object_get(changed, "VacationResponse")));
	json_decref(sc);
	wait_posts(all, 4);
	/* Every change was pushed by then: nothing to the unverified one,
	 * and the vacation one got no Mailbox change. */
	CHECK_EQ_INT(count_to(pending), 1);
	CHECK_EQ_INT(count_to(vac), 3);
}

/* An expiry given is kept; one past the maximum is clamped; a lapsed
 * subscription gets nothing. */
static void test_expiry(void)
{
	const char *soon = "https://push.example/soon", *probe = "https://push.example/probe";
	char calls[1024], date[32], id[64];
	int64_t t;
	json_t *r;

	/* Clamped to 7 days. */
	r = request(&bob, "[[\"PushSubscription/set\",{\"create\":{\"far\":{\"deviceClientId\":\"d\","
			  "\"url\":\"https://push.example/far\",\"expires\":\"2999-01-01T00:00:00Z\"}}},\"0\"]]");
	CHECK(jmap_utcdate_parse(sget(json_object_get(json_object_get(r, "created"), "far"), "expires"), &t) == 0);
	CHECK(t <= evm_now_ms() + JMAP_PUSHSUB_LIFE_MAX_MS && t > evm_now_ms() + JMAP_PUSHSUB_LIFE_MAX_MS - 60000);

	/* A subscription that lapses 2 s from now, verified at once. */
	jmap_utcdate_format(evm_now_ms() + 2000, date, sizeof date);
	snprintf(id, sizeof id, "%s", create(soon, ""));
	wait_posts(soon, 1);
	{
		json_t *v = post_n(soon, 0);

		r = verify(id, sget(v, "verificationCode"));
		json_decref(v);
	}
	snprintf(calls, sizeof calls,
		 "[[\"PushSubscription/set\",{\"update\":{\"%s\":{\"expires\":\"%s\"}}},\"0\"]]", id, date);
	r = request(&bob, calls);
	CHECK(json_object_get(json_object_get(r, "updated"), id) != NULL);
	(void)subscribe(probe, "");
	/* Past its expiry (the gateway's clock decides what it sends). */
	jmap_utcdate_parse(date, &t);
	while (evm_now_ms() <= t + 1000)
		usleep(100 * 1000);
	{
		size_t before = count_to(soon), probe_before = count_to(probe);

		mailbox_change("Later");
		wait_posts(probe, probe_before + 1);
		CHECK_EQ_INT(count_to(soon), before);
	}
	r = request(&bob, "[[\"PushSubscription/get\",{\"properties\":[\"deviceClientId\"]}, \"0\"]]");
	{
		json_t *o;
		size_t i;

		json_array_foreach(json_object_get(r, "list"), i, o)
			CHECK(strcmp(sget(o, "id"), id) != 0);
	}
}

/* A new user agent key pair and auth secret; *keys_r the "keys" members
 * of a PushSubscription (base64url). 0 or -1. */
static int new_user_agent(char *keys_r, size_t size)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct buf p = BUF_INIT, a = BUF_INIT;
	BIGNUM *d = NULL;
	size_t n = 0;
	int ok;

	ok = key != NULL &&
	     EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, ua_keys.p256dh,
					     sizeof ua_keys.p256dh, &n) == 1 && n == WEBPUSH_P256_LEN &&
	     EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &d) == 1 &&
	     BN_bn2binpad(d, ua_priv, sizeof ua_priv) == (int)sizeof ua_priv &&
	     RAND_bytes(ua_keys.auth, sizeof ua_keys.auth) == 1;
	BN_clear_free(d);
	EVP_PKEY_free(key);
	evm_b64url_encode(ua_keys.p256dh, sizeof ua_keys.p256dh, &p);
	evm_b64url_encode(ua_keys.auth, sizeof ua_keys.auth, &a);
	snprintf(keys_r, size, ",\"keys\":{\"p256dh\":\"%s\",\"auth\":\"%s\"}", p.data, a.data);
	buf_free(&p);
	buf_free(&a);
	return ok ? 0 : -1;
}

/* RFC 8620 7.2 and RFC 8291: keys checked on create; with keys, the
 * verification and every StateChange are encrypted to them; keys are
 * never returned and immutable. */
static void test_encrypted(void)
{
	const char *url = "https://push.example/enc";
	char extra[512], calls[1024], account_id[JMAP_ACCOUNT_ID_LEN + 1];
	json_t *r, *sc;
	const char *id;

	jmap_account_id(bob.req.address, account_id);
	/* Bad keys: auth 15 octets, p256dh off the curve, compressed, a
	 * third member. */
	r = request(&bob, "[[\"PushSubscription/set\",{\"create\":{"
			  "\"a\":{\"deviceClientId\":\"d\",\"url\":\"https://push.example/\",\"keys\":{"
			  "\"p256dh\":\"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4\","
			  "\"auth\":\"BTBZMqHH6r4Tts7J_aSI\"}},"
			  "\"p\":{\"deviceClientId\":\"d\",\"url\":\"https://push.example/\",\"keys\":{"
			  "\"p256dh\":\"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw5\","
			  "\"auth\":\"BTBZMqHH6r4Tts7J_aSIgg\"}},"
			  "\"c\":{\"deviceClientId\":\"d\",\"url\":\"https://push.example/\",\"keys\":{"
			  "\"p256dh\":\"AiVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcx\",\"auth\":\"BTBZMqHH6r4Tts7J_aSIgg\"}},"
			  "\"x\":{\"deviceClientId\":\"d\",\"url\":\"https://push.example/\",\"keys\":{"
			  "\"p256dh\":\"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4\","
			  "\"auth\":\"BTBZMqHH6r4Tts7J_aSIgg\",\"x\":1}}}},\"0\"]]");
	CHECK(r != NULL);
	{
		static const char *const refused[] = { "a", "p", "c", "x" };

		for (size_t i = 0; i < 4; i++) {
			json_t *e = json_object_get(json_object_get(r, "notCreated"), refused[i]);

			CHECK_EQ_STR(sget(e, "type"), "invalidProperties");
			CHECK_EQ_STR(dump(json_object_get(e, "properties")), "[\"keys\"]");
		}
		CHECK(strstr(sget(json_object_get(json_object_get(r, "notCreated"), "a"), "description"),
			     "keys/auth") != NULL);
	}
	CHECK_EQ_INT(count_to("https://push.example/"), 0);

	/* Good keys: the verification arrives encrypted and decrypts. */
	CHECK(new_user_agent(extra, sizeof extra) == 0);
	id = subscribe(url, extra);
	CHECK_EQ_INT(encrypted_to(url), 2);
	sc = post_n(url, 0);
	CHECK_EQ_STR(sget(sc, "@type"), "PushVerification");
	CHECK_EQ_STR(sget(sc, "pushSubscriptionId"), id);
	json_decref(sc);
	sc = post_n(url, 1);
	CHECK_EQ_STR(sget(sc, "@type"), "StateChange");
	json_decref(sc);
	/* A change: an encrypted StateChange. */
	mailbox_change("Encrypted");
	wait_posts(url, 3);
	CHECK_EQ_INT(encrypted_to(url), 3);
	sc = post_n(url, 2);
	CHECK_EQ_STR(sget(sc, "@type"), "StateChange");
	CHECK(json_is_string(json_object_get(json_object_get(json_object_get(sc, "changed"), account_id), "Mailbox")));
	json_decref(sc);
	/* keys: never returned, immutable. */
	request(&bob, "[[\"PushSubscription/get\",{\"properties\":[\"keys\"]}, \"0\"]]");
	CHECK_EQ_STR(resp_name(0), "error");
	snprintf(calls, sizeof calls, "[[\"PushSubscription/set\",{\"update\":{\"%s\":{\"keys\":null}}},\"0\"]]",
		 id);
	r = request(&bob, calls);
	CHECK_EQ_STR(sget(json_object_get(json_object_get(r, "notUpdated"), id), "type"), "invalidProperties");
	/* The plain subscriptions stayed plain. */
	CHECK_EQ_INT(encrypted_to("https://push.example/all"), 0);
}

/* Rendezvous: one node per user among the live gateway nodes. */
static void test_rendezvous(void)
{
	json_t *nodes = json_pack("{s:{s:s, s:I}, s:{s:s, s:I}, s:{s:s, s:I}, s:{s:s, s:I, s:b}}",
				  "n1", "roles", "projector,gateway", "ts", (json_int_t)1000,
				  "n2", "roles", "gateway", "ts", (json_int_t)1000,
				  "n3", "roles", "projector", "ts", (json_int_t)1000,
				  "n4", "roles", "gateway", "ts", (json_int_t)1000, "draining", 1);
	json_t *copy = json_object();
	int picked[2] = { 0, 0 };
	char user[64];

	for (int i = 0; i < 64; i++) {
		const char *o;

		snprintf(user, sizeof user, "u%d@acme.test", i);
		o = pushsub_rendezvous(nodes, user, 2000, 3000);
		CHECK(o != NULL && (strcmp(o, "n1") == 0 || strcmp(o, "n2") == 0));
		picked[strcmp(o, "n1") == 0 ? 0 : 1]++;
		/* The same answer whatever the table's order. */
		json_object_set(copy, "n2", json_object_get(nodes, "n2"));
		json_object_set(copy, "n1", json_object_get(nodes, "n1"));
		CHECK_EQ_STR(pushsub_rendezvous(copy, user, 2000, 3000), o);
		json_object_clear(copy);
	}
	CHECK(picked[0] > 0 && picked[1] > 0);
	/* A node whose heartbeat is too old is not alive; none: NULL. */
	CHECK(pushsub_rendezvous(nodes, "x@acme.test", 4000, 3000) != NULL);
	CHECK(pushsub_rendezvous(nodes, "x@acme.test", 4001, 3000) == NULL);
	/* Only the live one is left. */
	json_object_set_new(json_object_get(nodes, "n1"), "ts", json_integer(3000));
	CHECK_EQ_STR(pushsub_rendezvous(nodes, "x@acme.test", 4500, 3000), "n1");
	json_decref(copy);
	json_decref(nodes);
}

int main(void)
{
	struct pushsub_transport t = { record_post, NULL };
	const char *error = NULL;

	posts = json_array();
	setup("jmap_pushsub");
	add_user(&bob, "bob@acme.test", 0);
	if (pushsub_sender_start(&node, &t, &node.pushsub, &error) < 0) {
		fprintf(stderr, "sender: %s\n", error);
		return 2;
	}
	test_run("PushSubscription: create, verification, get, destroy", test_create_verify);
	test_run("PushSubscription: StateChange to verified subscriptions, by type", test_state_changes);
	test_run("PushSubscription: expires clamped, lapsed ones get nothing", test_expiry);
	test_run("PushSubscription: keys, encrypted pushes (RFC 8291)", test_encrypted);
	test_run("PushSubscription: rendezvous", test_rendezvous);
	pushsub_sender_stop(&node.pushsub);
	json_decref(last.body);
	teardown();
	json_decref(posts);
	return test_done();
}
