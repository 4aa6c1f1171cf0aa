/* test_mail_meta - the mailbox.metadata and mailbox.urlauth_key appliers
 * and their read API against a real view: set, remove, all-or-none,
 * limits (MAXSIZE, TOOMANY), validation, RENAME keeps and DELETE drops,
 * the base key dropping mailbox keys, and equal digests after replay. */
#include "projector/applier.h"
#include "common/base64.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "common/scram.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define MB1 "11111111111111111111111111111111"
#define MB2 "22222222222222222222222222222222"
#define KEY1 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define KEY2 "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

static struct view *view;
static int64_t next_offset;

static struct apply_env env = { &next_offset, 0xdef000, "", 0, NULL, "" };

/* Runs one of BOB's events in its own committed batch (test_apply.h).
 * Returns "accepted" or the rejection code. */
static const char *run_on(struct view *v, const char *type, json_t *data)
{
	return apply_event(&env, v, type, BOB, data);
}

static const char *run(const char *type, json_t *data)
{
	return run_on(view, type, data);
}

/* mailbox.metadata with one entry (value NULL: remove). */
static const char *set1(const char *mb, const char *entry, const char *value)
{
	json_t *entries = json_object();

	if (value == NULL) {
		json_object_set_new(entries, entry, json_null());
	} else {
		char *b64 = evm_b64_encode((const unsigned char *)value, strlen(value));

		json_object_set_new(entries, entry, json_string(b64));
		free(b64);
	}
	return run("mailbox.metadata", json_pack("{s:s, s:o}", "mailbox_id", mb, "entries", entries));
}

/* The stored value, or "(none)". */
static const char *get1(const char *mb, const char *entry)
{
	static char out[256];
	const char *error = NULL;
	char *val = NULL;
	size_t len = 0;
	int r = mail_metadata_get(view, BOB, mb, entry, &val, &len, &error);

	snprintf(out, sizeof out, "%s", r > 0 ? val : r == 0 ? "(none)" : "(error)");
	free(val);
	return out;
}

static size_t count_names(const char *mb)
{
	const char *error = NULL;
	json_t *names = NULL;
	size_t n;

	if (mail_metadata_names(view, BOB, mb, &names, &error) < 0)
		abort();
	n = json_array_size(names);
	json_decref(names);
	return n;
}

static struct view *open_at(const char *name)
{
	struct view *v = NULL;
	const char *error;

	if (view_open(test_tmpdir(name), &v, &error) < 0)
		exit(2);
	return v;
}

static void setup(const char *name)
{
	view_close(&view);
	next_offset = 0;
	view = open_at(name);
	run("mailbox.provision", NULL);
	run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Work"));
}

static void test_metadata(void)
{
	json_t *entries;

	setup("meta-1");
	CHECK_EQ_STR(set1(MB1, "/private/comment", "hello"), "accepted");
	CHECK_EQ_STR(get1(MB1, "/private/comment"), "hello");
	CHECK_EQ_STR(set1("", "/shared/comment", "server wide"), "accepted");
	CHECK_EQ_STR(get1("", "/shared/comment"), "server wide");
	CHECK_EQ_STR(get1(MB1, "/shared/comment"), "(none)");
	CHECK_EQ_STR(set1(MB1, "/private/comment", "again"), "accepted");
	CHECK_EQ_STR(get1(MB1, "/private/comment"), "again");
	CHECK_EQ_INT(count_names(MB1), 1);
	CHECK_EQ_STR(set1(MB1, "/private/comment", NULL), "accepted");
	CHECK_EQ_STR(get1(MB1, "/private/comment"), "(none)");
	/* removing what is not there is fine */
	CHECK_EQ_STR(set1(MB1, "/private/comment", NULL), "accepted");
	/* validation */
	CHECK_EQ_STR(set1(MB2, "/private/comment", "x"), "not-found");
	CHECK_EQ_STR(set1(MB1, "/Private/comment", "x"), "invalid");
	CHECK_EQ_STR(set1(MB1, "/private", "x"), "invalid");
	CHECK_EQ_STR(set1(MB1, "/other/x", "x"), "invalid");
	CHECK_EQ_STR(set1(MB1, "/private/a//b", "x"), "invalid");
	CHECK_EQ_STR(set1(MB1, "/private/a/", "x"), "invalid");
	CHECK_EQ_STR(set1(MB1, "/private/a*", "x"), "invalid");
	CHECK_EQ_STR(set1(MB1, "/private/a%", "x"), "invalid");
	CHECK_EQ_STR(set1(MB1, "/private/a b", "x"), "invalid");
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:{s:s}}", "mailbox_id", MB1, "entries",
						       "/private/x", "!!notbase64")), "invalid");
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:{}}", "mailbox_id", MB1, "entries")), "invalid");
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:{s:i}}", "mailbox_id", MB1, "entries",
						       "/private/x", 1)), "invalid");
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:{s:s}}", "mailbox_id", "INBOX", "entries",
						       "/private/x", "eA==")), "invalid");
	/* all or none: one bad entry sets nothing */
	entries = json_pack("{s:s, s:s}", "/private/good", "eA==", "/private/bad*", "eA==");
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:o}", "mailbox_id", MB1, "entries", entries)),
		     "invalid");
	CHECK_EQ_STR(get1(MB1, "/private/good"), "(none)");
	/* binary values with NULs */
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:{s:s}}", "mailbox_id", MB1, "entries",
						       "/shared/bin", "AAEA")), "accepted");
	{
		const char *error = NULL;
		char *val = NULL;
		size_t len = 0;

		CHECK_EQ_INT(mail_metadata_get(view, BOB, MB1, "/shared/bin", &val, &len, &error), 1);
		CHECK_EQ_INT(len, 3);
		CHECK(val[0] == 0 && val[1] == 1 && val[2] == 0);
		free(val);
	}
}

static void test_limits(void)
{
	char name[64], *big, *b64;
	json_t *entries;

	setup("meta-2");
	/* MAXSIZE: a value of exactly the limit is fine, one more is not */
	big = malloc(MAIL_META_VALUE_MAX + 2);
	memset(big, 'v', MAIL_META_VALUE_MAX + 1);
	big[MAIL_META_VALUE_MAX + 1] = '\0';
	b64 = evm_b64_encode((unsigned char *)big, MAIL_META_VALUE_MAX + 1);
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:{s:s}}", "mailbox_id", MB1, "entries",
						       "/private/big", b64)), "invalid");
	free(b64);
	b64 = evm_b64_encode((unsigned char *)big, MAIL_META_VALUE_MAX);
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:{s:s}}", "mailbox_id", MB1, "entries",
						       "/private/big", b64)), "accepted");
	free(b64);
	free(big);
	/* TOOMANY: the count after the change decides */
	entries = json_object();
	for (int i = 1; i < MAIL_META_ENTRIES_MAX; i++) {
		snprintf(name, sizeof name, "/private/e%03d", i);
		json_object_set_new(entries, name, json_string("eA=="));
	}
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:o}", "mailbox_id", MB1, "entries", entries)),
		     "accepted");
	CHECK_EQ_INT(count_names(MB1), MAIL_META_ENTRIES_MAX);
	CHECK_EQ_STR(set1(MB1, "/private/one-more", "x"), "quota");
	CHECK_EQ_STR(set1(MB1, "/private/e001", "changed"), "accepted");
	entries = json_pack("{s:n, s:s}", "/private/e001", "/private/one-more", "eA==");
	CHECK_EQ_STR(run("mailbox.metadata", json_pack("{s:s, s:o}", "mailbox_id", MB1, "entries", entries)),
		     "accepted");
	CHECK_EQ_STR(get1(MB1, "/private/one-more"), "x");
	/* the server's entries count separately */
	CHECK_EQ_STR(set1("", "/private/x", "y"), "accepted");
	/* an entry name at the length limit */
	memset(name, 'a', sizeof name);
	CHECK_EQ_INT(mail_meta_entry_valid("/private/a", 10), 1);
	{
		char longname[MAIL_META_NAME_MAX + 2];

		memcpy(longname, "/private/", 9);
		memset(longname + 9, 'a', sizeof longname - 10);
		longname[MAIL_META_NAME_MAX + 1] = '\0';
		CHECK_EQ_INT(mail_meta_entry_valid(longname, MAIL_META_NAME_MAX + 1), 0);
		longname[MAIL_META_NAME_MAX] = '\0';
		CHECK_EQ_INT(mail_meta_entry_valid(longname, MAIL_META_NAME_MAX), 1);
	}
}

static void test_rename_delete(void)
{
	const char *error = NULL;
	char hex[65];

	setup("meta-3");
	CHECK_EQ_STR(set1(MB1, "/private/comment", "keep me"), "accepted");
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", MB1, "key", KEY1)),
		     "accepted");
	CHECK_EQ_STR(run("mailbox.rename", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Renamed")),
		     "accepted");
	CHECK_EQ_STR(get1(MB1, "/private/comment"), "keep me");
	CHECK_EQ_INT(mail_urlauth_key(view, BOB, MB1, hex, &error), 1);
	CHECK_EQ_STR(run("mailbox.delete", json_pack("{s:s}", "mailbox_id", MB1)), "accepted");
	CHECK_EQ_STR(get1(MB1, "/private/comment"), "(none)");
	CHECK_EQ_INT(count_names(MB1), 0);
	CHECK_EQ_INT(mail_urlauth_key(view, BOB, MB1, hex, &error), 0);
	/* a new mailbox under the same id starts empty */
	CHECK_EQ_STR(run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Renamed")),
		     "accepted");
	CHECK_EQ_STR(get1(MB1, "/private/comment"), "(none)");
}

static void test_urlauth_key(void)
{
	const char *error = NULL;
	char hex[65];

	setup("meta-4");
	CHECK_EQ_INT(mail_urlauth_key(view, BOB, "", hex, &error), 0);
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", "", "key", KEY1)),
		     "accepted");
	CHECK_EQ_INT(mail_urlauth_key(view, BOB, "", hex, &error), 1);
	CHECK_EQ_STR(hex, KEY1);
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", MB1, "key", KEY2)),
		     "accepted");
	CHECK_EQ_INT(mail_urlauth_key(view, BOB, MB1, hex, &error), 1);
	CHECK_EQ_STR(hex, KEY2);
	/* RESETKEY without a mailbox: a new base key, mailbox keys dropped */
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", "", "key", KEY2)),
		     "accepted");
	CHECK_EQ_INT(mail_urlauth_key(view, BOB, MB1, hex, &error), 0);
	CHECK_EQ_INT(mail_urlauth_key(view, BOB, "", hex, &error), 1);
	CHECK_EQ_STR(hex, KEY2);
	/* validation */
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", MB2, "key", KEY1)),
		     "not-found");
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", "", "key", "abc")),
		     "invalid");
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", "",
							  "key", "00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff")),
		     "invalid");
	CHECK_EQ_STR(run("mailbox.urlauth_key", json_pack("{s:s}", "mailbox_id", "")), "invalid");
}

/* The same log gives the same view. */
static void workload(struct view *v)
{
	run_on(v, "mailbox.provision", NULL);
	run_on(v, "mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "A"));
	run_on(v, "mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB2, "name", "B"));
	for (int i = 0; i < 50; i++) {
		char name[32];

		snprintf(name, sizeof name, "/private/k%d", i % 7);
		run_on(v, "mailbox.metadata", json_pack("{s:s, s:{s:s}}", "mailbox_id", i % 2 ? MB1 : MB2,
							"entries", name, i % 3 ? "eA==" : "eXk="));
		if (i % 5 == 0)
			run_on(v, "mailbox.metadata", json_pack("{s:s, s:{s:n}}", "mailbox_id", MB1, "entries", name));
		if (i == 30)
			run_on(v, "mailbox.delete", json_pack("{s:s}", "mailbox_id", MB2));
	}
	run_on(v, "mailbox.urlauth_key", json_pack("{s:s, s:s}", "mailbox_id", MB1, "key", KEY1));
}

static void test_determinism(void)
{
	char d1[65], d2[65];
	const char *error;
	uint64_t k1, k2;
	struct view *v2;

	view_close(&view);
	next_offset = 0;
	view = open_at("meta-det-1");
	workload(view);
	next_offset = 0;
	v2 = open_at("meta-det-2");
	workload(v2);
	CHECK_EQ_INT(view_digest(view, d1, &k1, &error), 0);
	CHECK_EQ_INT(view_digest(v2, d2, &k2, &error), 0);
	view_close(&v2);
	CHECK_EQ_INT(k1, k2);
	CHECK_EQ_STR(d1, d2);
}

int main(void)
{
	test_run("mailbox.metadata: set, remove, validation, all or none", test_metadata);
	test_run("mailbox.metadata: MAXSIZE and TOOMANY", test_limits);
	test_run("metadata and keys: RENAME keeps, DELETE drops", test_rename_delete);
	test_run("mailbox.urlauth_key: mailbox and base keys", test_urlauth_key);
	test_run("metadata: equal digests on replay", test_determinism);
	view_close(&view);
	json_decref(env.result);
	return test_done();
}
