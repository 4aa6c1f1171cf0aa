/* test_directory_record - the account record written straight into a
 * buffer (dir_account_record) has the bytes of json_dumps(JSON_COMPACT |
 * JSON_SORT_KEYS) of the record built with json_pack, as the view has
 * always stored it. */
#include "projector/directory_internal.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

/* The record as the applier built it before dir_account_record. */
static char *packed(const struct dir_account_fields *f, json_t *scram, const char *tenant,
		    const char *domain, int64_t created, int64_t updated)
{
	json_t *rec = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:I, s:I}",
				"address", f->address, "tenant", tenant, "domain", domain,
				"display_name", f->display_name, "quota", (json_int_t)f->quota,
				"state", f->state, "password_hash", f->password_hash,
				"created", (json_int_t)created, "updated", (json_int_t)updated);
	char *s;

	if (scram != NULL)
		json_object_set_new(rec, "scram_sha256", json_deep_copy(scram));
	s = json_dumps(rec, DIR_JSON_FLAGS);
	json_decref(rec);
	return s;
}

static int same_bytes(const struct dir_account_fields *f, json_t *scram, const char *tenant,
		      const char *domain, int64_t created, int64_t updated)
{
	struct buf b = BUF_INIT;
	char *want = packed(f, scram, tenant, domain, created, updated);
	int ok;

	dir_account_record(&b, f, scram, tenant, domain, created, updated);
	ok = want != NULL && b.len == strlen(want) && memcmp(b.data, want, b.len) == 0;
	if (!ok)
		fprintf(stderr, "want %s\n got  %.*s\n", want ? want : "(null)", (int)b.len, b.data);
	free(want);
	buf_free(&b);
	return ok;
}

static void test_same_bytes(void)
{
	static const char *names[] = {
		"", "Ann", "A \"quoted\" \\ name", "J\xc3\xbcrgen \xe2\x82\xac \xf0\x9f\x93\xa7",
		"slash / and del \x7f", "tab\there\nnl",
	};
	static const int64_t ints[] = { 0, 1, -1, 1700000000123, INT64_MAX, INT64_MIN + 1 };
	json_t *scram = json_pack("{s:s, s:i, s:s, s:s}", "salt", "c2FsdA==", "iterations", 4096,
				  "stored_key", "a/b\"c", "server_key", "\xc3\xa9");
	struct dir_account_fields f;

	memset(&f, 0, sizeof f);
	snprintf(f.address, sizeof f.address, "%s", "user1@example.test");
	f.state = "active";
	f.password_hash = "$y$j9T$abc/def$0123456789";
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		for (size_t j = 0; j < sizeof ints / sizeof ints[0]; j++) {
			f.display_name = names[i];
			f.quota = ints[j] < 0 ? 0 : ints[j];
			CHECK(same_bytes(&f, NULL, "t1", "example.test", ints[j], ints[(j + 1) % 6]));
			CHECK(same_bytes(&f, scram, "tenant-\"x\"", "example.test", ints[j], ints[j]));
		}
	}
	f.state = "disabled";
	snprintf(f.address, sizeof f.address, "%s", "a.b+c@xn--bcher-kva.test");
	json_decref(scram);
	scram = json_object();
	CHECK(same_bytes(&f, scram, "", "xn--bcher-kva.test", 5, 6));
	json_decref(scram);
}

int main(void)
{
	test_run("the account record has json_dumps's bytes", test_same_bytes);
	return test_done();
}
