/* test_jmap_resultref - JSON Pointer (RFC 6901 5's own examples), the "*"
 * of RFC 8620 3.7 and the resolution of ResultReference arguments. */
#include "gateway/jmap/jmap_resultref.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

/* The dump of doc at path, or "ERR". */
static char *at(json_t *doc, const char *path)
{
	const char *error = NULL;
	json_t *v;
	char *s;

	if (jmap_pointer_eval(doc, path, &v, &error) < 0)
		return strdup(error != NULL ? "ERR" : "ERR(no message)");
	s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	return s;
}

#define CHECK_AT(doc, path, expect) do { char *g_ = at(doc, path); int ok_ = strcmp(g_, expect) == 0; \
	if (!ok_) { fprintf(stderr, "  %s -> %s\n", path, g_); } free(g_); CHECK(ok_); } while (0)

static void test_rfc6901(void)
{
	json_t *doc = json_loads("{\"foo\":[\"bar\",\"baz\"],\"\":0,\"a/b\":1,\"c%d\":2,\"e^f\":3,"
				 "\"g|h\":4,\"i\\\\j\":5,\"k\\\"l\":6,\" \":7,\"m~n\":8}", 0, NULL);

	CHECK(doc != NULL);
	CHECK_AT(doc, "/foo", "[\"bar\",\"baz\"]");
	CHECK_AT(doc, "/foo/0", "\"bar\"");
	CHECK_AT(doc, "/", "0");
	CHECK_AT(doc, "/a~1b", "1");
	CHECK_AT(doc, "/c%d", "2");
	CHECK_AT(doc, "/e^f", "3");
	CHECK_AT(doc, "/g|h", "4");
	CHECK_AT(doc, "/i\\j", "5");
	CHECK_AT(doc, "/k\"l", "6");
	CHECK_AT(doc, "/ ", "7");
	CHECK_AT(doc, "/m~0n", "8");
	/* Errors: no such member or index, leading zero, "-", bad escape,
	 * no leading slash, below a scalar. */
	CHECK_AT(doc, "/nope", "ERR");
	CHECK_AT(doc, "/foo/2", "ERR");
	CHECK_AT(doc, "/foo/01", "ERR");
	CHECK_AT(doc, "/foo/-", "ERR");
	CHECK_AT(doc, "/foo/+1", "ERR");
	CHECK_AT(doc, "/foo/99999999999999999999999999", "ERR");
	CHECK_AT(doc, "/m~2n", "ERR");
	CHECK_AT(doc, "/m~", "ERR");
	CHECK_AT(doc, "foo", "ERR");
	CHECK_AT(doc, "/foo/0/x", "ERR");
	json_decref(doc);
}

static void test_star(void)
{
	json_t *doc = json_loads("{\"list\":[{\"id\":\"t1\",\"emailIds\":[\"e1\",\"e2\"]},"
				 "{\"id\":\"t2\",\"emailIds\":[\"e3\"]},{\"id\":\"t3\",\"emailIds\":[]}],"
				 "\"nested\":[[1,2],[3]],\"obj\":{\"*\":\"star\"}}", 0, NULL);

	CHECK(doc != NULL);
	CHECK_AT(doc, "/list/*/id", "[\"t1\",\"t2\",\"t3\"]");
	/* RFC 8620 3.7: arrays of arrays are flattened. */
	CHECK_AT(doc, "/list/*/emailIds", "[\"e1\",\"e2\",\"e3\"]");
	CHECK_AT(doc, "/nested/*", "[1,2,3]");
	CHECK_AT(doc, "/list/*/emailIds/0", "ERR");  /* t3 has none */
	CHECK_AT(doc, "/list/*/nope", "ERR");
	CHECK_AT(doc, "/obj/*", "\"star\"");          /* on an object, "*" is a name */
	CHECK_AT(doc, "/list/0/*", "ERR");
	json_decref(doc);
}

/* The responses the references resolve against. */
static json_t *responses(void)
{
	return json_loads("[[\"Email/query\",{\"ids\":[\"m1\",\"m2\"]},\"t0\"],"
			  "[\"error\",{\"type\":\"serverFail\"},\"t1\"],"
			  "[\"Email/query\",{\"ids\":[\"later\"]},\"t0\"]]", 0, NULL);
}

/* "ok <args>" or "<type>" of resolving args. */
static char *resolve(const char *args_text)
{
	json_t *resp = responses(), *args = json_loads(args_text, 0, NULL), *out;
	const char *type = NULL, *error = NULL;
	char *s, *r;

	if (jmap_resultref_resolve(resp, args, &out, &type, &error) < 0) {
		r = strdup(type != NULL && error != NULL ? type : "(no type)");
	} else {
		s = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS);
		r = malloc(strlen(s) + 4);
		sprintf(r, "ok %s", s);
		free(s);
		json_decref(out);
	}
	json_decref(resp);
	json_decref(args);
	return r;
}

#define CHECK_RESOLVE(args, expect) do { char *g_ = resolve(args); int ok_ = strcmp(g_, expect) == 0; \
	if (!ok_) { fprintf(stderr, "  %s -> %s\n", args, g_); } free(g_); CHECK(ok_); } while (0)

static void test_resolve(void)
{
	CHECK_RESOLVE("{\"a\":1}", "ok {\"a\":1}");
	/* The first response with that call id. */
	CHECK_RESOLVE("{\"a\":1,\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/ids\"}}",
		      "ok {\"a\":1,\"ids\":[\"m1\",\"m2\"]}");
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":\"t9\",\"name\":\"Email/query\",\"path\":\"/ids\"}}",
		      "invalidResultReference");
	/* An error response has the name "error". */
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":\"t1\",\"name\":\"Email/get\",\"path\":\"/ids\"}}",
		      "invalidResultReference");
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/get\",\"path\":\"/ids\"}}",
		      "invalidResultReference");
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/list\"}}",
		      "invalidResultReference");
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"ids\"}}",
		      "invalidResultReference");
	/* RFC 8620 3.7: "foo" and "#foo" together is invalidArguments. */
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/ids\"},\"ids\":[]}",
		      "invalidArguments");
	CHECK_RESOLVE("{\"ids\":null,\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/ids\"}}",
		      "invalidArguments");
	/* Not a ResultReference. */
	CHECK_RESOLVE("{\"#ids\":[\"t0\"]}", "invalidArguments");
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\"}}", "invalidArguments");
	CHECK_RESOLVE("{\"#ids\":{\"resultOf\":1,\"name\":\"Email/query\",\"path\":\"/ids\"}}",
		      "invalidArguments");
}

static void test_copy(void)
{
	json_t *resp = responses(), *out, *ids;
	json_t *args = json_loads("{\"#ids\":{\"resultOf\":\"t0\",\"name\":\"Email/query\",\"path\":\"/ids\"}}",
				  0, NULL);
	const char *type, *error;

	CHECK(jmap_resultref_resolve(resp, args, &out, &type, &error) == 0);
	ids = json_object_get(out, "ids");
	json_array_clear(ids);
	/* The earlier response is untouched by what a handler does. */
	CHECK_EQ_INT(json_array_size(json_object_get(json_array_get(json_array_get(resp, 0), 1), "ids")), 2);
	json_decref(out);
	json_decref(args);
	json_decref(resp);
}

int main(void)
{
	test_run("RFC 6901 pointers", test_rfc6901);
	test_run("* maps over arrays and flattens", test_star);
	test_run("resolving references", test_resolve);
	test_run("a resolved value is a copy", test_copy);
	return test_done();
}
