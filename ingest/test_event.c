/* Unit tests: the event envelope codec, including malformed input. */
#include "ingest/event.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

static const char *VALID =
	"{\"account\":\"bob@acme.test\",\"actor\":\"admin\",\"data\":{\"name\":\"acme\"},"
	"\"id\":\"0123456789abcdef0123456789abcdef\",\"tenant\":\"acme\",\"ts\":1700000000000,"
	"\"type\":\"tenant.create\",\"v\":1}";

static void test_roundtrip(void)
{
	struct evm_event ev, back;
	const char *error = NULL;
	char *s = NULL;
	size_t len = 0;

	CHECK(evm_event_init(&ev, "tenant.create", "acme", "", "admin",
			     json_pack("{s:s}", "name", "acme"), &error) == 0);
	CHECK(evm_id_valid(ev.id));
	CHECK(evm_event_encode(&ev, &s, &len, &error) == 0);
	CHECK(evm_event_decode(s, len, &back, &error) == 0);
	CHECK_EQ_STR(back.type, "tenant.create");
	CHECK_EQ_STR(back.id, ev.id);
	CHECK_EQ_STR(back.tenant, "acme");
	CHECK_EQ_STR(back.account, "");
	CHECK_EQ_STR(back.actor, "admin");
	CHECK_EQ_INT(back.ts, ev.ts);
	CHECK(json_equal(back.data, ev.data));
	free(s);
	evm_event_clear(&ev);
	evm_event_clear(&back);
}

static void test_decode_valid(void)
{
	struct evm_event ev;
	const char *error = NULL;

	CHECK(evm_event_decode(VALID, strlen(VALID), &ev, &error) == 0);
	CHECK_EQ_STR(ev.account, "bob@acme.test");
	CHECK_EQ_INT(ev.ts, 1700000000000LL);
	evm_event_clear(&ev);
}

/* Each malformed envelope must be refused with an error, never crash. */
static void test_decode_malformed(void)
{
	static const char *const bad[] = {
		"",
		"null",
		"[]",
		"{",
		"{\"v\":1}",
		/* unknown major version */
		"{\"v\":2,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* v as string */
		"{\"v\":\"1\",\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* missing type */
		"{\"v\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* bad type characters */
		"{\"v\":1,\"type\":\"A B\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* short id */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* upper-case id */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789ABCDEF0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* negative ts */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":-5,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* ts as float */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1.5,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* tenant wrong type */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":5,\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
		/* empty actor */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"\",\"data\":{}}",
		/* data not an object */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":[]}",
		/* control character in account */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"a\\u0001b\",\"actor\":\"x\",\"data\":{}}",
		/* embedded NUL in actor */
		"{\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\\u0000y\",\"data\":{}}",
		/* duplicate key */
		"{\"v\":1,\"v\":1,\"type\":\"a\",\"id\":\"0123456789abcdef0123456789abcdef\",\"ts\":1,\"tenant\":\"\",\"account\":\"\",\"actor\":\"x\",\"data\":{}}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct evm_event ev;
		const char *error = NULL;
		if (evm_event_decode(bad[i], strlen(bad[i]), &ev, &error) != -1 || error == NULL) {
			char m[64];
			snprintf(m, sizeof m, "malformed case %zu accepted", i);
			test_fail(__FILE__, __LINE__, m);
			return;
		}
	}
}

/* Every proper prefix of a valid envelope is malformed; none may crash. */
static void test_decode_prefixes(void)
{
	size_t n = strlen(VALID);

	for (size_t i = 0; i < n; i++) {
		struct evm_event ev;
		const char *error = NULL;
		CHECK(evm_event_decode(VALID, i, &ev, &error) == -1);
	}
}

static void test_size_limit(void)
{
	size_t n = EVM_EVENT_MAX_BYTES + 10;
	char *big = malloc(n);
	struct evm_event ev;
	const char *error = NULL;

	memset(big, ' ', n);
	CHECK(evm_event_decode(big, n, &ev, &error) == -1);
	free(big);
}

static void test_init_rejects(void)
{
	struct evm_event ev;
	const char *error = NULL;

	CHECK(evm_event_init(&ev, "Bad Type", "", "", "admin", NULL, &error) == -1);
	CHECK(evm_event_init(&ev, "a.b", "", "", "", NULL, &error) == -1);
	CHECK(evm_event_init(&ev, "a.b", "", "", "admin", json_array(), &error) == -1);
}

static void test_data_accessors(void)
{
	struct evm_event ev;
	const char *error = NULL;
	int64_t v = 0;

	CHECK(evm_event_init(&ev, "a.b", "", "", "admin",
			     json_pack("{s:s,s:i,s:i}", "s", "abc", "n", 7, "f", 1), &error) == 0);
	CHECK_EQ_STR(evm_data_str(&ev, "s", 10, &error), "abc");
	CHECK(evm_data_str(&ev, "s", 2, &error) == NULL);
	CHECK(evm_data_str(&ev, "n", 10, &error) == NULL);
	CHECK(evm_data_str(&ev, "missing", 10, &error) == NULL);
	CHECK(evm_data_int(&ev, "n", 0, 10, &v, &error) == 0 && v == 7);
	CHECK(evm_data_int(&ev, "n", 8, 10, &v, &error) == -1);
	CHECK(evm_data_int(&ev, "s", 0, 10, &v, &error) == -1);
	evm_event_clear(&ev);
}

int main(void)
{
	test_run("roundtrip", test_roundtrip);
	test_run("decode valid", test_decode_valid);
	test_run("decode malformed", test_decode_malformed);
	test_run("decode every prefix", test_decode_prefixes);
	test_run("size limit", test_size_limit);
	test_run("init rejects", test_init_rejects);
	test_run("data accessors", test_data_accessors);
	return test_done();
}
