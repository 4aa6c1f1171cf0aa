/* test_keyring - data keys and sealed events against a real view: the
 * round trip, wrong and unknown keys, tampering, key rotation, master key
 * rotation, erasure, and the appliers account.key and account.erase. */
#include "projector/keyring.h"
#include "projector/keys.h"
#include "projector/test_apply.h"
#include "tests/unit/testlib.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH1 "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"
#define KEK_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEK_B "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f"

static int64_t offset;
static struct apply_env env = { .offset = &offset, .id_base = 0xabc0000, .tenant = "acme" };

/* A KEK file (mode 0600) in dir; returns its path (static per name). */
static const char *kek_file(const char *dir, const char *name, const char *hex)
{
	static char paths[4][1100];
	static int n;
	char *path = paths[n++ % 4];
	int fd;

	snprintf(path, sizeof paths[0], "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex))
		abort();
	close(fd);
	return path;
}

/* A keyring over master key current (and old, a comma list, or ""). */
static struct keyring *ring(const char *current, const char *old)
{
	struct evm_config cfg;
	struct keyring *kr = NULL;
	const char *error = NULL;

	if (config_load(NULL, &cfg, &error) < 0 ||
	    config_set(&cfg, "crypto.master_key_file", current, &error) < 0 ||
	    config_set(&cfg, "crypto.old_master_key_files", old, &error) < 0 ||
	    keyring_open(&cfg, &kr, &error) < 0) {
		fprintf(stderr, "keyring: %s\n", error);
		abort();
	}
	config_free(&cfg);
	return kr;
}

/* A view with tenant acme, domain acme.test and accounts a@ and b@. */
static struct view *directory(const char *name)
{
	char path[1100];
	struct view *v = NULL;
	const char *error = NULL;

	snprintf(path, sizeof path, "%s/view", test_tmpdir(name));
	if (view_open(path, &v, &error) < 0)
		abort();
	apply_event(&env, v, "tenant.create", "", json_pack("{s:s}", "name", "acme"));
	apply_event(&env, v, "domain.add", "", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	for (int i = 0; i < 2; i++) {
		const char *address = i == 0 ? "a@acme.test" : "b@acme.test";
		if (strcmp(apply_event(&env, v, "account.create", "",
				       json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address,
						 "display_name", "A", "quota", (json_int_t)0, "state", "active",
						 "password_hash", HASH1)), "accepted") != 0)
			abort();
	}
	return v;
}

/* A new key for address, applied; its kid in kid_r. Returns the code. */
static const char *add_key(struct keyring *kr, struct view *v, const char *address, char *kid_r)
{
	const char *error = NULL;
	json_t *data = NULL;

	if (keyring_new_key(kr, address, &data, &error) < 0) {
		fprintf(stderr, "new key: %s\n", error);
		abort();
	}
	if (kid_r != NULL)
		snprintf(kid_r, KEYRING_KID_LEN + 1, "%s", json_string_value(json_object_get(data, "kid")));
	return apply_event(&env, v, "account.key", "", data);
}

/* A mail-like event of account with some personal data. */
static void mail_event(struct evm_event *ev, const char *account, const char *subject)
{
	const char *error = NULL;

	if (evm_event_init(ev, "mail.deliver", "acme", account, "smtp",
			   json_pack("{s:s, s:[s], s:I}", "subject", subject, "flags", "\\Seen",
				     "size", (json_int_t)42), &error) < 0)
		abort();
}

/* The value of a view key, or NULL (malloc'ed). */
static char *get(struct view *v, const char *key)
{
	const char *error = NULL;
	char *val = NULL;

	if (view_get(v, key, strlen(key), &val, NULL, &error) <= 0)
		return NULL;
	return val;
}

static void test_open_config(void)
{
	const char *dir = test_tmpdir("kr-config");
	struct evm_config cfg;
	struct keyring *kr = (struct keyring *)&cfg;
	const char *error = NULL;

	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK_EQ_INT(keyring_open(&cfg, &kr, &error), 0);
	CHECK(kr == NULL);
	CHECK_EQ_INT(config_set(&cfg, "crypto.old_master_key_files", kek_file(dir, "a", KEK_A), &error), 0);
	CHECK_EQ_INT(keyring_open(&cfg, &kr, &error), -1);
	CHECK(strstr(error, "needs crypto.master_key_file") != NULL);
	CHECK_EQ_INT(config_set(&cfg, "crypto.master_key_file", kek_file(dir, "bad", "xyz"), &error), 0);
	CHECK_EQ_INT(keyring_open(&cfg, &kr, &error), -1);
	CHECK(strstr(error, "/bad: ") != NULL);
	CHECK(kr == NULL);
	config_free(&cfg);
}

/* Seal and open through the view; a second account and events without an
 * account stay plain. */
static void test_round_trip(void)
{
	const char *dir = test_tmpdir("kr-rt");
	struct keyring *kr = ring(kek_file(dir, "a", KEK_A), "");
	struct view *v = directory("kr-rt-view");
	enum keyring_open_result res;
	char kid[KEYRING_KID_LEN + 1], cur[KEYRING_KID_LEN + 1];
	struct evm_event ev, plain;
	const char *error = NULL;
	char *s;

	CHECK_EQ_INT(keyring_current_kid(v, "a@acme.test", cur, &error), 0);
	CHECK_EQ_STR(add_key(kr, v, "a@acme.test", kid), "accepted");
	CHECK_EQ_INT(keyring_current_kid(v, "a@acme.test", cur, &error), 1);
	CHECK_EQ_STR(cur, kid);
	mail_event(&ev, "a@acme.test", "Secret subject");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &ev, &error), 1);
	s = json_dumps(ev.data, JSON_COMPACT | JSON_SORT_KEYS);
	CHECK(strstr(s, "Secret") == NULL && strstr(s, "Seen") == NULL);
	CHECK(strstr(s, kid) != NULL);
	free(s);
	CHECK_EQ_INT(json_object_size(ev.data), 1);
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	CHECK_EQ_STR(json_string_value(json_object_get(ev.data, "subject")), "Secret subject");
	CHECK_EQ_INT(json_integer_value(json_object_get(ev.data, "size")), 42);
	/* Opening plain data leaves it. */
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_PLAIN);
	evm_event_clear(&ev);
	/* b@ has no key, and neither has an event without an account. */
	mail_event(&plain, "b@acme.test", "x");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &plain, &error), 0);
	CHECK(json_object_get(plain.data, "subject") != NULL);
	free(plain.account);
	plain.account = xstrdup("");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &plain, &error), 0);
	CHECK_EQ_INT(keyring_seal_event(NULL, v, &plain, &error), 0);
	evm_event_clear(&plain);
	/* The view never holds the DEK in clear: only its wrapped form. */
	{
		char key[64];
		snprintf(key, sizeof key, "akey/%s", kid);
		s = get(v, key);
		CHECK(s != NULL && strstr(s, "\"wrapped\"") != NULL && strstr(s, "\"a@acme.test\"") != NULL);
		free(s);
	}
	keyring_close(&kr);
	CHECK(kr == NULL);
	view_close(&v);
}

/* The envelope is authenticated, the ciphertext too; a sealed event of an
 * unknown kid is UNKNOWN; a node without a keyring refuses sealed data. */
static void test_tamper_and_unknown(void)
{
	const char *dir = test_tmpdir("kr-t");
	struct keyring *kr = ring(kek_file(dir, "a", KEK_A), "");
	struct view *v = directory("kr-t-view");
	enum keyring_open_result res;
	struct evm_event ev;
	const char *error = NULL;
	json_t *sealed, *copy;
	char ct[4096];

	CHECK_EQ_STR(add_key(kr, v, "a@acme.test", NULL), "accepted");
	mail_event(&ev, "a@acme.test", "s");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &ev, &error), 1);
	sealed = json_object_get(ev.data, "sealed");
	snprintf(ct, sizeof ct, "%s", json_string_value(json_object_get(sealed, "ct")));
	copy = json_deep_copy(ev.data);
	/* Another type in the envelope: does not authenticate. */
	snprintf(ev.type, sizeof ev.type, "mail.expunge");
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_INVALID);
	CHECK_EQ_STR(error, "sealed data does not authenticate");
	snprintf(ev.type, sizeof ev.type, "mail.deliver");
	/* A changed character of the ciphertext (still base64). */
	ct[10] = ct[10] == 'A' ? 'B' : 'A';
	json_object_set_new(sealed, "ct", json_string(ct));
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_INVALID);
	json_object_set_new(sealed, "ct", json_string("not base64!"));
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_INVALID);
	/* Malformed sealed objects. */
	json_object_set_new(sealed, "ct", json_string(ct));
	json_object_set_new(sealed, "kid", json_string("XYZ"));
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_INVALID);
	CHECK_EQ_STR(error, "malformed sealed object");
	json_decref(ev.data);
	ev.data = json_pack("{s:s, s:O}", "subject", "x", "sealed", json_object_get(copy, "sealed"));
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_INVALID);
	/* An unknown kid. */
	json_decref(ev.data);
	ev.data = json_deep_copy(copy);
	json_object_set_new(json_object_get(ev.data, "sealed"), "kid",
			    json_string("0123456789abcdef0123456789abcdef"));
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_UNKNOWN);
	/* No keyring: an error that is not the event's fault. */
	json_decref(ev.data);
	ev.data = json_deep_copy(copy);
	CHECK_EQ_INT(keyring_open_event(NULL, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_PLAIN);
	CHECK_EQ_STR(error, "sealed events need crypto.master_key_file");
	/* Untouched, it still opens. */
	CHECK_EQ_INT(keyring_open_event(kr, v, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	json_decref(copy);
	evm_event_clear(&ev);
	keyring_close(&kr);
	view_close(&v);
}

/* Two keys of one account both open their events; new events use the
 * newer; then account.erase makes both ERASED and lists both key events. */
static void test_rotation_and_erase(void)
{
	const char *dir = test_tmpdir("kr-rot");
	struct keyring *kr = ring(kek_file(dir, "a", KEK_A), "");
	struct keyring *fresh = ring(kek_file(dir, "a2", KEK_A), "");
	struct view *v = directory("kr-rot-view");
	enum keyring_open_result res;
	char kid1[KEYRING_KID_LEN + 1], kid2[KEYRING_KID_LEN + 1], key[128];
	struct evm_event e1, e2, e3;
	const char *error = NULL;
	json_t *s1, *s2, *tomb;
	char *val, id1[EVM_ID_HEX_LEN + 1], id2[EVM_ID_HEX_LEN + 1];

	snprintf(id1, sizeof id1, "%032llx", (unsigned long long)(offset + env.id_base));
	CHECK_EQ_STR(add_key(kr, v, "a@acme.test", kid1), "accepted");
	mail_event(&e1, "a@acme.test", "first");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &e1, &error), 1);
	snprintf(id2, sizeof id2, "%032llx", (unsigned long long)(offset + env.id_base));
	CHECK_EQ_STR(add_key(kr, v, "a@acme.test", kid2), "accepted");
	CHECK(strcmp(kid1, kid2) != 0);
	mail_event(&e2, "a@acme.test", "second");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &e2, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(e2.data, "sealed"), "kid")), kid2);
	s1 = json_deep_copy(e1.data);
	s2 = json_deep_copy(e2.data);
	/* A keyring with a cold cache unwraps from the view. */
	CHECK_EQ_INT(keyring_open_event(fresh, v, &e1, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	CHECK_EQ_STR(json_string_value(json_object_get(e1.data, "subject")), "first");
	CHECK_EQ_INT(keyring_open_event(fresh, v, &e2, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	CHECK_EQ_STR(json_string_value(json_object_get(e2.data, "subject")), "second");
	/* Erase a@ (b@ must keep its key). */
	CHECK_EQ_STR(add_key(kr, v, "b@acme.test", NULL), "accepted");
	mail_event(&e3, "b@acme.test", "b's");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &e3, &error), 1);
	CHECK_EQ_STR(apply_event(&env, v, "account.erase", "", json_pack("{s:s}", "address", "a@acme.test")),
		     "accepted");
	tomb = json_object_get(env.result, "tombstones");
	CHECK_EQ_INT(json_array_size(tomb), 2);
	/* In kid order, which is random: compare as a set. */
	CHECK((strcmp(json_string_value(json_array_get(tomb, 0)), id1) == 0 &&
	       strcmp(json_string_value(json_array_get(tomb, 1)), id2) == 0) ||
	      (strcmp(json_string_value(json_array_get(tomb, 0)), id2) == 0 &&
	       strcmp(json_string_value(json_array_get(tomb, 1)), id1) == 0));
	CHECK_EQ_STR(json_string_value(json_object_get(env.result, "address")), "a@acme.test");
	json_decref(e1.data);
	e1.data = s1;
	json_decref(e2.data);
	e2.data = s2;
	/* Both keyrings, the warm one too: the content is gone. */
	CHECK_EQ_INT(keyring_open_event(kr, v, &e1, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_ERASED);
	CHECK_EQ_INT(keyring_open_event(fresh, v, &e2, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_ERASED);
	CHECK_EQ_INT(keyring_open_event(kr, v, &e2, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_ERASED);
	CHECK(json_object_get(e2.data, "sealed") != NULL);
	snprintf(key, sizeof key, "akeyx/%s", kid1);
	val = get(v, key);
	CHECK(val != NULL);
	CHECK_EQ_STR(val, "a@acme.test");
	free(val);
	snprintf(key, sizeof key, "akey/%s", kid2);
	CHECK(get(v, key) == NULL);
	CHECK(get(v, "akeycur/a@acme.test") == NULL);
	CHECK(get(v, "dir/account/a@acme.test") == NULL);
	CHECK_EQ_INT(keyring_current_kid(v, "a@acme.test", kid1, &error), 0);
	/* Nothing sealed for a@ any more; b@ still opens. */
	CHECK_EQ_INT(keyring_open_event(fresh, v, &e3, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	CHECK_EQ_STR(json_string_value(json_object_get(e3.data, "subject")), "b's");
	evm_event_clear(&e1);
	evm_event_clear(&e2);
	evm_event_clear(&e3);
	keyring_close(&kr);
	keyring_close(&fresh);
	view_close(&v);
}

/* KEK rotation: keys wrapped under the old KEK open with it listed in
 * crypto.old_master_key_files, new keys use the current one, and a node
 * that lacks the old KEK fails (not "invalid"). */
static void test_kek_rotation(void)
{
	const char *dir = test_tmpdir("kr-kek");
	const char *a = kek_file(dir, "a", KEK_A), *b = kek_file(dir, "b", KEK_B);
	struct keyring *old = ring(a, ""), *rotated, *lacking = ring(b, "");
	struct view *v = directory("kr-kek-view");
	enum keyring_open_result res;
	struct evm_event ev;
	const char *error = NULL;
	json_t *data = NULL, *sealed;
	char list[2300];

	snprintf(list, sizeof list, " %s , %s,", a, b);
	rotated = ring(b, list);
	CHECK_EQ_STR(add_key(old, v, "a@acme.test", NULL), "accepted");
	mail_event(&ev, "a@acme.test", "old kek");
	CHECK_EQ_INT(keyring_seal_event(old, v, &ev, &error), 1);
	sealed = json_deep_copy(ev.data);
	CHECK_EQ_INT(keyring_open_event(lacking, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_PLAIN);
	CHECK(strstr(error, "crypto.old_master_key_files") != NULL);
	CHECK_EQ_INT(keyring_open_event(rotated, v, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	CHECK_EQ_STR(json_string_value(json_object_get(ev.data, "subject")), "old kek");
	/* A new key names the current KEK, which the old keyring lacks. */
	CHECK_EQ_INT(keyring_new_key(rotated, "a@acme.test", &data, &error), 0);
	{
		char id_b[SEAL_KEK_ID_LEN + 1], id_a[SEAL_KEK_ID_LEN + 1];
		unsigned char k[SEAL_KEY_LEN];
		CHECK_EQ_INT(seal_kek_load(b, k, id_b, &error), 0);
		CHECK_EQ_INT(seal_kek_load(a, k, id_a, &error), 0);
		CHECK_EQ_STR(json_string_value(json_object_get(data, "kek")), id_b);
		CHECK(strcmp(id_a, id_b) != 0);
	}
	CHECK_EQ_STR(apply_event(&env, v, "account.key", "", data), "accepted");
	json_decref(ev.data);
	ev.data = json_object();
	json_object_set_new(ev.data, "subject", json_string("new kek"));
	CHECK_EQ_INT(keyring_seal_event(rotated, v, &ev, &error), 1);
	CHECK_EQ_INT(keyring_open_event(old, v, &ev, &res, &error), -1);
	CHECK_EQ_INT(res, KEYRING_PLAIN);
	CHECK_EQ_INT(keyring_open_event(lacking, v, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	json_decref(sealed);
	evm_event_clear(&ev);
	keyring_close(&old);
	keyring_close(&rotated);
	keyring_close(&lacking);
	view_close(&v);
}

/* The appliers' rejections. */
static void test_appliers(void)
{
	const char *dir = test_tmpdir("kr-app");
	struct keyring *kr = ring(kek_file(dir, "a", KEK_A), "");
	struct view *v = directory("kr-app-view");
	const char *error = NULL;
	json_t *data = NULL, *bad;
	char *val;

	CHECK_EQ_STR(add_key(kr, v, "nobody@acme.test", NULL), "not-found");
	CHECK_EQ_STR(apply_event(&env, v, "account.erase", "", json_pack("{s:s}", "address", "nobody@acme.test")),
		     "not-found");
	CHECK_EQ_STR(apply_event(&env, v, "account.erase", "", json_pack("{s:s}", "address", "A@acme.test")),
		     "invalid");
	CHECK_EQ_INT(keyring_new_key(kr, "a@acme.test", &data, &error), 0);
	/* Each field malformed in turn. */
	static const char *const fields[][2] = {
		{ "kid", "0123" }, { "kid", "0123456789ABCDEF0123456789abcdef" },
		{ "kek", "0011" }, { "kek", "00112233445566778" },
		{ "wrapped", "AAAA" }, { "wrapped", "not base64" },
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		bad = json_deep_copy(data);
		json_object_set_new(bad, fields[i][0], json_string(fields[i][1]));
		CHECK_EQ_STR(apply_event(&env, v, "account.key", "", bad), "invalid");
	}
	bad = json_deep_copy(data);
	json_object_del(bad, "wrapped");
	CHECK_EQ_STR(apply_event(&env, v, "account.key", "", bad), "invalid");
	/* Another tenant may not add keys to acme's accounts. */
	env.tenant = "other";
	CHECK_EQ_STR(apply_event(&env, v, "account.key", "", json_deep_copy(data)), "forbidden");
	env.tenant = "acme";
	CHECK_EQ_STR(apply_event(&env, v, "account.key", "", json_deep_copy(data)), "accepted");
	CHECK_EQ_STR(apply_event(&env, v, "account.key", "", json_deep_copy(data)), "exists");
	/* After erasure the kid stays taken, for any account. */
	CHECK_EQ_STR(apply_event(&env, v, "account.erase", "", json_pack("{s:s}", "address", "a@acme.test")),
		     "accepted");
	CHECK_EQ_INT(json_array_size(json_object_get(env.result, "tombstones")), 1);
	json_object_set_new(data, "address", json_string("b@acme.test"));
	CHECK_EQ_STR(apply_event(&env, v, "account.key", "", data), "exists");
	/* kids: malformed, or another account's live key: rejected. */
	{
		char kid_b[KEYRING_KID_LEN + 1], key[64];
		CHECK_EQ_STR(add_key(kr, v, "b@acme.test", kid_b), "accepted");
		CHECK_EQ_STR(apply_event(&env, v, "account.erase", "",
					 json_pack("{s:s, s:s}", "address", "b@acme.test", "kids", "x")), "invalid");
		CHECK_EQ_STR(apply_event(&env, v, "account.erase", "",
					 json_pack("{s:s, s:[s]}", "address", "b@acme.test", "kids", "ABC")), "invalid");
		CHECK_EQ_STR(apply_event(&env, v, "account.create", "",
					 json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", "c@acme.test",
						   "display_name", "C", "quota", (json_int_t)0, "state", "active",
						   "password_hash", HASH1)), "accepted");
		CHECK_EQ_STR(apply_event(&env, v, "account.erase", "",
					 json_pack("{s:s, s:[s]}", "address", "c@acme.test", "kids", kid_b)), "invalid");
		snprintf(key, sizeof key, "akey/%s", kid_b);
		val = get(v, key);
		CHECK(val != NULL);
		free(val);
		/* A named kid the view never held (its record compacted away
		 * before a replay) is marked erased as well. */
		CHECK_EQ_STR(apply_event(&env, v, "account.erase", "",
					 json_pack("{s:s, s:[s, s]}", "address", "b@acme.test", "kids", kid_b,
						   "00000000000000000000000000000abc")), "accepted");
		CHECK_EQ_INT(json_array_size(json_object_get(env.result, "tombstones")), 1);
		val = get(v, "akeyx/00000000000000000000000000000abc");
		CHECK(val != NULL);
		CHECK_EQ_STR(val, "b@acme.test");
		free(val);
		snprintf(key, sizeof key, "akeyx/%s", kid_b);
		val = get(v, key);
		CHECK(val != NULL);
		free(val);
		CHECK_EQ_STR(apply_event(&env, v, "account.erase", "", json_pack("{s:s}", "address", "c@acme.test")),
			     "accepted");
		CHECK_EQ_INT(json_array_size(json_object_get(env.result, "tombstones")), 0);
	}
	/* An account without keys is erased like a removal, with no tombstones. */
	CHECK_EQ_STR(apply_event(&env, v, "account.erase", "", json_pack("{s:s}", "address", "b@acme.test")),
		     "not-found");
	val = get(v, "dir/domain-account/acme.test/b@acme.test");
	CHECK(val == NULL);
	keyring_close(&kr);
	view_close(&v);
}

/* keyring_open_event_batch sees a key applied in the open batch. */
static void test_batch_read(void)
{
	const char *dir = test_tmpdir("kr-batch");
	struct keyring *kr = ring(kek_file(dir, "a", KEK_A), "");
	struct view *v = directory("kr-batch-view");
	struct view *w = directory("kr-batch-view2");
	enum keyring_open_result res;
	struct view_batch *b;
	struct evm_event ev;
	const char *error = NULL;
	char kid[KEYRING_KID_LEN + 1], key[64];
	char *rec;

	CHECK_EQ_STR(add_key(kr, v, "a@acme.test", kid), "accepted");
	mail_event(&ev, "a@acme.test", "batched");
	CHECK_EQ_INT(keyring_seal_event(kr, v, &ev, &error), 1);
	/* w lacks the key; put v's record into an uncommitted batch of w. */
	CHECK_EQ_INT(keyring_open_event(kr, w, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_UNKNOWN);
	snprintf(key, sizeof key, "akey/%s", kid);
	rec = get(v, key);
	CHECK(rec != NULL);
	b = view_batch_begin(w);
	CHECK_EQ_INT(keyring_open_event_batch(kr, b, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_UNKNOWN);
	view_batch_put(b, key, strlen(key), rec, strlen(rec));
	CHECK_EQ_INT(keyring_open_event_batch(kr, b, &ev, &res, &error), 0);
	CHECK_EQ_INT(res, KEYRING_OPENED);
	view_batch_abort(&b);
	free(rec);
	evm_event_clear(&ev);
	keyring_close(&kr);
	view_close(&v);
	view_close(&w);
}

#define MANY 150

struct opener {
	struct keyring *kr;
	struct view *view;
	json_t *sealed;     /* MANY sealed data objects, one per key */
	int failures;
};

/* Thread: opens every sealed object, in its own order. */
static void *open_all(void *arg)
{
	struct opener *o = arg;
	static int seq;
	int start = __atomic_fetch_add(&seq, 37, __ATOMIC_RELAXED);

	for (int n = 0; n < MANY; n++) {
		int i = (start + n) % MANY;
		enum keyring_open_result res;
		const char *error = NULL;
		struct evm_event ev;
		char subject[32];

		mail_event(&ev, "a@acme.test", "x");
		json_decref(ev.data);
		ev.data = json_deep_copy(json_array_get(o->sealed, (size_t)i));
		snprintf(subject, sizeof subject, "s%d", i);
		snprintf(ev.id, sizeof ev.id, "%032x", i);
		if (keyring_open_event(o->kr, o->view, &ev, &res, &error) != 0 || res != KEYRING_OPENED ||
		    strcmp(json_string_value(json_object_get(ev.data, "subject")), subject) != 0)
			__atomic_fetch_add(&o->failures, 1, __ATOMIC_RELAXED);
		evm_event_clear(&ev);
	}
	return NULL;
}

/* Many keys (the cache grows twice), opened by four threads at once with a
 * cold cache, then by the warm one. */
static void test_many_keys_threads(void)
{
	const char *dir = test_tmpdir("kr-many");
	struct keyring *kr = ring(kek_file(dir, "a", KEK_A), "");
	struct opener o = { .kr = ring(kek_file(dir, "a2", KEK_A), ""), .view = directory("kr-many-view") };
	pthread_t th[4];
	const char *error = NULL;

	o.sealed = json_array();
	for (int i = 0; i < MANY; i++) {
		struct evm_event ev;
		char subject[32];

		CHECK_EQ_STR(add_key(kr, o.view, "a@acme.test", NULL), "accepted");
		snprintf(subject, sizeof subject, "s%d", i);
		mail_event(&ev, "a@acme.test", subject);
		snprintf(ev.id, sizeof ev.id, "%032x", i);
		CHECK_EQ_INT(keyring_seal_event(kr, o.view, &ev, &error), 1);
		json_array_append(o.sealed, ev.data);
		evm_event_clear(&ev);
	}
	for (int t = 0; t < 4; t++)
		CHECK_EQ_INT(pthread_create(&th[t], NULL, open_all, &o), 0);
	for (int t = 0; t < 4; t++)
		pthread_join(th[t], NULL);
	CHECK_EQ_INT(o.failures, 0);
	open_all(&o);
	CHECK_EQ_INT(o.failures, 0);
	keyring_close(&o.kr);
	o.kr = kr;   /* the writer's keyring cached every key as it made it */
	open_all(&o);
	CHECK_EQ_INT(o.failures, 0);
	json_decref(o.sealed);
	keyring_close(&kr);
	view_close(&o.view);
}

int main(void)
{
	test_run("open_config", test_open_config);
	test_run("round_trip", test_round_trip);
	test_run("tamper_and_unknown", test_tamper_and_unknown);
	test_run("rotation_and_erase", test_rotation_and_erase);
	test_run("kek_rotation", test_kek_rotation);
	test_run("appliers", test_appliers);
	test_run("batch_read", test_batch_read);
	test_run("many_keys_threads", test_many_keys_threads);
	json_decref(env.result);
	return test_done();
}
