/* test_mail_upload - the blob.upload applier and mail_upload_get against
 * a real view: accepted and read back for its account only, a repeated
 * upload recorded again, every invalid field rejected without a write,
 * and equal digests after replay. */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define AMY "amy@acme.test"
#define B1 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define B2 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static struct view *view;
static int64_t next_offset;

static struct apply_env env = { &next_offset, 0x0b1000, "acme", 1, NULL, "" };

static const char *run_on(struct view *v, const char *account, json_t *data)
{
	return apply_event(&env, v, "blob.upload", account, data);
}

static const char *up(const char *account, const char *blob, json_int_t size, const char *type)
{
	return run_on(view, account, json_pack("{s:s, s:I, s:s}", "blob_id", blob, "size", size, "type", type));
}

static struct view *open_at(const char *name)
{
	struct view *v = NULL;
	const char *error = NULL;

	if (view_open(test_tmpdir(name), &v, &error) < 0) {
		fprintf(stderr, "view: %s\n", error);
		exit(2);
	}
	return v;
}

/* The record of an upload as "size type at", "(none)" or "(error)". */
static const char *rec(const char *account, const char *blob)
{
	static char out[512];
	const char *error = NULL;
	json_t *u = NULL;
	int r = mail_upload_get(view, account, blob, &u, &error);

	if (r <= 0) {
		snprintf(out, sizeof out, "%s", r == 0 ? "(none)" : "(error)");
		return out;
	}
	snprintf(out, sizeof out, "%" JSON_INTEGER_FORMAT " %s %" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(u, "size")), json_string_value(json_object_get(u, "type")),
		 json_integer_value(json_object_get(u, "at")));
	json_decref(u);
	return out;
}

static void test_accepted(void)
{
	char expect[128];

	next_offset = 0;
	CHECK_EQ_STR(up(BOB, B1, 12, "text/plain"), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(env.result, "blob_id")), B1);
	/* at = the event's ts (test_apply.h: 1700000000000 + offset). */
	CHECK_EQ_STR(rec(BOB, B1), "12 text/plain 1700000000000");
	/* Another account has no such upload; nor has bob another blob. */
	CHECK_EQ_STR(rec(AMY, B1), "(none)");
	CHECK_EQ_STR(rec(BOB, B2), "(none)");
	CHECK_EQ_STR(rec(BOB, "xyz"), "(none)");
	CHECK_EQ_STR(rec("not an address", B1), "(none)");
	/* An upload of the same bytes is recorded again, with its time. */
	CHECK_EQ_STR(up(BOB, B1, 12, ""), "accepted");
	snprintf(expect, sizeof expect, "12  %" PRId64, (int64_t)1700000000000 + next_offset - 1);
	CHECK_EQ_STR(rec(BOB, B1), expect);
	/* The same blob for amy is amy's own record; an empty blob is fine. */
	CHECK_EQ_STR(up(AMY, B1, 12, "application/octet-stream"), "accepted");
	CHECK_EQ_STR(up(AMY, B2, 0, ""), "accepted");
	CHECK(strncmp(rec(AMY, B1), "12 application/octet-stream ", 28) == 0);
	CHECK(strncmp(rec(AMY, B2), "0  ", 3) == 0);
	/* The account was provisioned by its first mail event (mail.h). */
	{
		json_t *boxes = NULL;
		const char *error = NULL;

		CHECK_EQ_INT(mail_mailboxes(view, AMY, &boxes, &error), 0);
		CHECK_EQ_INT(json_array_size(boxes), 6);
		json_decref(boxes);
	}
}

static void test_invalid(void)
{
	char longtype[MAIL_UPLOAD_TYPE_MAX + 2];

	memset(longtype, 'a', sizeof longtype - 1);
	longtype[sizeof longtype - 1] = '\0';
	CHECK_EQ_STR(up(BOB, "00112233", 1, ""), "invalid");
	CHECK_EQ_STR(up(BOB, "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff", 1, ""),
		     "invalid");
	CHECK_EQ_STR(up(BOB, B2, -1, ""), "invalid");
	CHECK_EQ_STR(up(BOB, B2, (json_int_t)1 << 50, ""), "invalid");
	CHECK_EQ_STR(up(BOB, B2, 1, "text/plain\r\nX: y"), "invalid");
	CHECK_EQ_STR(up(BOB, B2, 1, longtype), "invalid");
	CHECK_EQ_STR(run_on(view, BOB, json_pack("{s:s, s:I}", "blob_id", B2, "size", (json_int_t)1)), "invalid");
	CHECK_EQ_STR(run_on(view, BOB, json_pack("{s:s, s:s, s:s}", "blob_id", B2, "size", "1", "type", "")),
		     "invalid");
	CHECK_EQ_STR(run_on(view, BOB, json_pack("{s:I, s:I, s:s}", "blob_id", (json_int_t)1, "size",
						 (json_int_t)1, "type", "")), "invalid");
	/* The envelope account must be an address in normal form. */
	CHECK_EQ_STR(up("Bob@ACME.test", B2, 1, ""), "invalid");
	/* Nothing was recorded by the rejections. */
	CHECK_EQ_STR(rec(BOB, B2), "(none)");
}

/* The same log gives the same view. */
static void workload(struct view *v)
{
	for (int i = 0; i < 40; i++) {
		char blob[65];

		snprintf(blob, sizeof blob, "%064x", (unsigned)(i % 9));
		run_on(v, i % 3 ? BOB : AMY,
		       json_pack("{s:s, s:I, s:s}", "blob_id", blob, "size", (json_int_t)i, "type", i % 2 ? "a/b" : ""));
	}
}

static void test_determinism(void)
{
	char d1[65], d2[65];
	const char *error;
	uint64_t k1, k2;
	struct view *v2;

	view_close(&view);
	next_offset = 0;
	view = open_at("upload-det-1");
	workload(view);
	next_offset = 0;
	v2 = open_at("upload-det-2");
	workload(v2);
	CHECK_EQ_INT(view_digest(view, d1, &k1, &error), 0);
	CHECK_EQ_INT(view_digest(v2, d2, &k2, &error), 0);
	view_close(&v2);
	CHECK(k1 > 0);
	CHECK_EQ_INT(k1, k2);
	CHECK_EQ_STR(d1, d2);
}

int main(void)
{
	view = open_at("upload");
	test_run("blob.upload: recorded per account, read back", test_accepted);
	test_run("blob.upload: invalid fields rejected, nothing written", test_invalid);
	test_run("blob.upload: equal digests on replay", test_determinism);
	view_close(&view);
	json_decref(env.result);
	return test_done();
}
