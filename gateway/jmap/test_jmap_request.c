/* test_jmap_request - the Request object and its request-level errors
 * (RFC 8620 3.3, 3.6.1): each body read whole, one octet and seven octets
 * at a time must give the same outcome. */
#include "gateway/jmap/jmap_request.h"
#include "common/buf.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

static struct jmap_settings settings;
static json_t *known;

/* "ok N" (N method calls) or "type-suffix[/limit]" for body fed in pieces
 * of step octets (0: whole). */
static char *outcome(const char *body, size_t len, size_t step)
{
	struct jmap_reader *r = jmap_reader_new(&settings);
	struct jmap_request *req = NULL;
	json_t *problem = NULL;
	struct buf out = BUF_INIT;
	size_t off = 0;
	int ret = 0;

	while (ret == 0 && off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step;

		ret = jmap_reader_feed(r, body + off, n, &problem);
		off += n;
	}
	if (ret == 0)
		ret = jmap_reader_finish(r, known, &req, &problem);
	if (ret == 0) {
		buf_printf(&out, "ok %zu", json_array_size(req->method_calls));
	} else {
		const char *type = json_string_value(json_object_get(problem, "type"));
		const char *limit = json_string_value(json_object_get(problem, "limit"));

		buf_printf(&out, "%s", strrchr(type, ':') + 1);
		if (limit != NULL)
			buf_printf(&out, "/%s", limit);
		if (json_integer_value(json_object_get(problem, "status")) != 400 ||
		    !json_is_string(json_object_get(problem, "detail")))
			buf_puts(&out, " (bad problem object)");
	}
	json_decref(problem);
	jmap_request_free(&req);
	jmap_reader_free(&r);
	buf_puts(&out, "");
	return buf_steal(&out);
}

/* The same outcome whole, by 1 and by 7 octets, and it is expect. */
static int same(const char *body, const char *expect)
{
	size_t steps[] = { 0, 1, 7 };

	for (size_t i = 0; i < 3; i++) {
		char *got = outcome(body, strlen(body), steps[i]);
		int ok = strcmp(got, expect) == 0;

		if (!ok)
			fprintf(stderr, "  body %.60s step %zu: %s, expected %s\n", body, steps[i], got, expect);
		free(got);
		if (!ok)
			return 0;
	}
	return 1;
}

static void test_valid(void)
{
	CHECK(same("{\"using\":[],\"methodCalls\":[]}", "ok 0"));
	CHECK(same("{\"using\":[\"urn:ietf:params:jmap:core\"],\"methodCalls\":"
		   "[[\"Core/echo\",{\"a\":[1,{\"b\":\"[[[{{{\"}]},\"c1\"]]}", "ok 1"));
	CHECK(same(" {\"using\":[],\"methodCalls\":[],\"createdIds\":{\"k1\":\"id-1\"}} ", "ok 0"));
	/* RFC 8887 4.3.1 puts "@type" and "id" beside the rest. */
	CHECK(same("{\"@type\":\"Request\",\"id\":\"r1\",\"using\":[],\"methodCalls\":[]}", "ok 0"));
}

static void test_not_json(void)
{
	CHECK(same("", "notJSON"));
	CHECK(same("{", "notJSON"));
	CHECK(same("{\"using\":[],}", "notJSON"));
	CHECK(same("{\"using\":[],\"using\":[],\"methodCalls\":[]}", "notJSON"));  /* I-JSON: duplicate */
	CHECK(same("{\"using\":[\"\xff\"],\"methodCalls\":[]}", "notJSON"));      /* not UTF-8 */
	CHECK(same("{\"using\":[\"a\\u0000\"],\"methodCalls\":[]}", "notJSON"));  /* NUL */
	CHECK(same("{\"using\":[\"\\ud800\"],\"methodCalls\":[]}", "notJSON"));   /* lone surrogate */
	CHECK(same("{\"using\":[],\"methodCalls\":[]} x", "notJSON"));
	CHECK(same("{\"x\":99999999999999999999999,\"using\":[],\"methodCalls\":[]}", "notJSON"));
}

static void test_depth(void)
{
	/* max_depth is 8 here: 8 levels pass, 9 are refused as they arrive. */
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"x\":[[[[[[[1]]]]]]]}", "ok 0"));
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"x\":[[[[[[[[1]]]]]]]]}", "notJSON"));
	CHECK(same("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "notJSON"));
	/* Brackets in strings, also after escaped quotes, do not count. */
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"x\":\"\\\"[[[[[[[[[[[[\\\\\"}", "ok 0"));
}

static void test_not_request(void)
{
	CHECK(same("[]", "notRequest"));
	CHECK(same("\"request\"", "notRequest"));
	CHECK(same("null", "notRequest"));
	CHECK(same("{}", "notRequest"));
	CHECK(same("{\"methodCalls\":[]}", "notRequest"));
	CHECK(same("{\"using\":{},\"methodCalls\":[]}", "notRequest"));
	CHECK(same("{\"using\":[1],\"methodCalls\":[]}", "notRequest"));
	CHECK(same("{\"using\":[]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":{}}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[[\"Core/echo\",{}]]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[[\"Core/echo\",{},\"c\",1]]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[[\"Core/echo\",[],\"c\"]]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[[1,{},\"c\"]]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[[\"Core/echo\",{},null]]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[\"Core/echo\"]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"createdIds\":[]}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"createdIds\":null}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"createdIds\":{\"k\":1}}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"createdIds\":{\"k\":\"a b\"}}", "notRequest"));
	CHECK(same("{\"using\":[],\"methodCalls\":[],\"createdIds\":{\"#k\":\"a\"}}", "notRequest"));
	/* A request that is not a Request says so before its capabilities. */
	CHECK(same("{\"using\":[\"urn:nope\"],\"methodCalls\":{}}", "notRequest"));
}

static void test_unknown_capability(void)
{
	CHECK(same("{\"using\":[\"urn:ietf:params:jmap:core\",\"urn:nope\"],\"methodCalls\":[]}",
		   "unknownCapability"));
	CHECK(same("{\"using\":[\"\"],\"methodCalls\":[]}", "unknownCapability"));
}

static void test_limits(void)
{
	struct buf big = BUF_INIT;
	char *got;

	/* maxCallsInRequest is 3 here. */
	CHECK(same("{\"using\":[],\"methodCalls\":[[\"a\",{},\"1\"],[\"a\",{},\"2\"],[\"a\",{},\"3\"]]}",
		   "ok 3"));
	CHECK(same("{\"using\":[],\"methodCalls\":[[\"a\",{},\"1\"],[\"a\",{},\"2\"],[\"a\",{},\"3\"],"
		   "[\"a\",{},\"4\"]]}", "limit/maxCallsInRequest"));
	/* maxSizeRequest is 200 octets: 200 pass, 201 are refused. */
	buf_puts(&big, "{\"using\":[],\"methodCalls\":[],\"x\":\"");
	while (big.len < 198)
		buf_puts(&big, "a");
	buf_puts(&big, "\"}");
	CHECK_EQ_INT(big.len, 200);
	CHECK(same(big.data, "ok 0"));
	buf_truncate(&big, 198);
	buf_puts(&big, "a\"}");
	CHECK(same(big.data, "limit/maxSizeRequest"));
	/* Refused as soon as the limit is crossed, and for good. */
	{
		struct jmap_reader *r = jmap_reader_new(&settings);
		json_t *problem = NULL;
		struct jmap_request *req = NULL;

		CHECK_EQ_INT(jmap_reader_feed(r, big.data, 200, &problem), 0);
		CHECK_EQ_INT(jmap_reader_feed(r, "x", 1, &problem), -1);
		CHECK_EQ_STR(json_string_value(json_object_get(problem, "limit")), "maxSizeRequest");
		json_decref(problem);
		problem = NULL;
		CHECK_EQ_INT(jmap_reader_finish(r, known, &req, &problem), -1);
		json_decref(problem);
		jmap_reader_free(&r);
	}
	got = outcome(big.data, big.len, 0);
	CHECK_EQ_STR(got, "limit/maxSizeRequest");
	free(got);
	buf_free(&big);
}

static void test_ids_and_content_type(void)
{
	char id[257];

	CHECK(jmap_is_id("a"));
	CHECK(jmap_is_id("Az09-_"));
	CHECK(!jmap_is_id(""));
	CHECK(!jmap_is_id("a=b"));
	CHECK(!jmap_is_id("a/b"));
	CHECK(!jmap_is_id("#a"));
	CHECK(!jmap_is_id("\xc3\xa9"));
	memset(id, 'x', 256);
	id[256] = '\0';
	CHECK(!jmap_is_id(id));
	id[255] = '\0';
	CHECK(jmap_is_id(id));

	CHECK(jmap_content_type_is_json("application/json"));
	CHECK(jmap_content_type_is_json("Application/JSON; charset=utf-8"));
	CHECK(jmap_content_type_is_json("application/json ;charset=utf-8"));
	CHECK(!jmap_content_type_is_json("application/jsonx"));
	CHECK(!jmap_content_type_is_json("text/plain"));
	CHECK(!jmap_content_type_is_json(""));
	CHECK(!jmap_content_type_is_json(NULL));
}

int main(void)
{
	jmap_settings_default(&settings);
	settings.max_depth = 8;
	settings.max_calls_in_request = 3;
	settings.max_size_request = 200;
	known = json_pack("{s:{}, s:{}}", JMAP_CAP_CORE, "urn:ietf:params:jmap:mail");
	test_run("valid requests", test_valid);
	test_run("notJSON", test_not_json);
	test_run("nesting depth", test_depth);
	test_run("notRequest", test_not_request);
	test_run("unknownCapability", test_unknown_capability);
	test_run("limits", test_limits);
	test_run("Id syntax and content type", test_ids_and_content_type);
	json_decref(known);
	return test_done();
}
