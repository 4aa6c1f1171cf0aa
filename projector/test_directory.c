/* test_directory - the directory appliers and read API against a real
 * view: every accept path, every rejection, and determinism. */
#include "projector/applier.h"
#include "common/scram.h"
#include "projector/directory.h"
#include "projector/keys.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>

#define HASH1 "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"
#define HASH2 "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$Cj115gthXrRhPJg3KBpsDBqy2ZmC/TWr0LftjZ9mDL4"

static struct view *view;
static int64_t next_ts = 1700000000000;

/* What one applier run decided. */
struct outcome {
	enum apply_status st;
	char code[32];
	char reason[256];
	json_t *result;
	json_t *changed;
};

static void outcome_clear(struct outcome *o)
{
	json_decref(o->result);
	json_decref(o->changed);
	memset(o, 0, sizeof *o);
}

/* Runs one event's applier inside batch b. A rejected event must not have
 * written anything (checked through the batch's count). */
static enum apply_status apply_in(struct view_batch *b, const char *type, const char *tenant,
				  json_t *data, struct outcome *o)
{
	struct evm_event ev;
	struct apply_ctx ctx;
	const struct applier *a = applier_find(type);
	const char *error = NULL;
	size_t before;

	memset(o, 0, sizeof *o);
	if (a == NULL || evm_event_init(&ev, type, tenant, "", "admin", data, &error) < 0) {
		fprintf(stderr, "cannot make event %s: %s\n", type, error ? error : "no applier");
		abort();
	}
	ev.ts = next_ts++;   /* deterministic times, as if read from the log */
	memset(&ctx, 0, sizeof ctx);
	ctx.batch = b;
	ctx.ev = &ev;
	ctx.topic = a->topic;
	ctx.offset = ev.ts;
	ctx.result = json_object();
	ctx.changed = json_array();
	before = view_batch_count(b);
	o->st = a->apply(&ctx, &error);
	if (o->st == APPLY_FAILED) {
		fprintf(stderr, "%s failed: %s\n", type, error);
		abort();
	}
	if (o->st == APPLY_REJECTED) {
		if (view_batch_count(b) != before) {
			fprintf(stderr, "%s was rejected but wrote to the batch\n", type);
			abort();
		}
		snprintf(o->code, sizeof o->code, "%s", ctx.reject_code ? ctx.reject_code : "(none)");
		snprintf(o->reason, sizeof o->reason, "%s", ctx.reject_reason);
	}
	o->result = ctx.result;
	o->changed = ctx.changed;
	evm_event_clear(&ev);
	return o->st;
}

/* One event in its own committed batch. Returns "accepted" or the reject
 * code (static storage). data is stolen. */
static const char *run(const char *type, const char *tenant, json_t *data)
{
	static char code[32];
	struct outcome o;
	struct view_batch *b = view_batch_begin(view);
	const char *error;

	apply_in(b, type, tenant, data, &o);
	if (view_batch_commit(&b, &error) < 0) {
		fprintf(stderr, "commit: %s\n", error);
		abort();
	}
	snprintf(code, sizeof code, "%s", o.st == APPLY_ACCEPTED ? "accepted" : o.code);
	outcome_clear(&o);
	return code;
}

static json_t *account_data(const char *address, const char *name, json_int_t quota,
			    const char *state, const char *hash)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address, "display_name", name,
			 "quota", quota, "state", state, "password_hash", hash);
}

#define TENANT(n) json_pack("{s:s}", "name", (n))
#define DOMAIN(d, t) json_pack("{s:s, s:s}", "domain", (d), "tenant", (t))
#define ACCOUNT(a) account_data((a), "Someone", 0, "active", HASH1)
#define ADDR(a) json_pack("{s:s}", "address", (a))
#define ALIAS(a, t) json_pack("{s:s, s:s}", "alias", (a), "target", (t))

static void open_view(const char *name)
{
	const char *error;

	view_close(&view);
	if (view_open(test_tmpdir(name), &view, &error) < 0) {
		fprintf(stderr, "view_open: %s\n", error);
		exit(2);
	}
}

/* acme owns acme.test and acme.example; globex owns globex.test. */
static void setup_basic(const char *name)
{
	open_view(name);
	if (strcmp(run("tenant.create", "", TENANT("acme")), "accepted") != 0 ||
	    strcmp(run("tenant.create", "", TENANT("globex")), "accepted") != 0 ||
	    strcmp(run("domain.add", "", DOMAIN("acme.test", "acme")), "accepted") != 0 ||
	    strcmp(run("domain.add", "", DOMAIN("acme.example", "acme")), "accepted") != 0 ||
	    strcmp(run("domain.add", "", DOMAIN("globex.test", "globex")), "accepted") != 0) {
		fprintf(stderr, "setup failed\n");
		exit(2);
	}
}

static void test_registry(void)
{
	static const char *const types[] = {
		"tenant.create", "tenant.delete", "domain.add", "domain.remove", "account.create",
		"account.update", "account.remove", "alias.add", "alias.remove",
	};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		const struct applier *a = applier_find(types[i]);

		CHECK(a != NULL);
		CHECK_EQ_INT(a->topic, EVM_TOPIC_DIRECTORY);
	}
	CHECK(applier_find("tenant.rename") == NULL);
}

static void test_tenant(void)
{
	json_t *t = NULL, *list = NULL;
	const char *error;
	struct outcome o;
	struct view_batch *b;

	open_view("dir-tenant");
	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "tenant.create", "acme", TENANT("acme"), &o), APPLY_ACCEPTED);
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "tenant")), "acme");
	CHECK_EQ_INT(json_array_size(o.changed), 0);
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);

	CHECK_EQ_INT(directory_tenant_get(view, "acme", &t, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(t, "name")), "acme");
	CHECK_EQ_INT(json_integer_value(json_object_get(t, "created")), next_ts - 1);
	json_decref(t);
	CHECK_EQ_INT(directory_tenant_get(view, "nobody", &t, &error), 0);
	CHECK(t == NULL);
	CHECK_EQ_INT(directory_tenant_get(view, "Bad/Name", &t, &error), 0);

	CHECK_EQ_STR(run("tenant.create", "", TENANT("acme")), "exists");
	CHECK_EQ_STR(run("tenant.create", "other", TENANT("zeta")), "forbidden");
	CHECK_EQ_STR(run("tenant.create", "", TENANT("beta")), "accepted");
	CHECK_EQ_INT(directory_tenants(view, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "name")), "acme");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "name")), "beta");
	json_decref(list);

	/* Malformed names. */
	CHECK_EQ_STR(run("tenant.create", "", NULL), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", json_pack("{s:i}", "name", 7)), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", json_pack("{s:n}", "name")), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", TENANT("")), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", TENANT("Acme")), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", TENANT("-acme")), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", TENANT("ac/me")), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", TENANT("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")), "invalid");
	CHECK_EQ_STR(run("tenant.create", "", json_pack("{s:s#}", "name", "ac\0me", 5)), "invalid");
	CHECK_EQ_STR(run("tenant.delete", "", TENANT("ACME")), "invalid");

	/* Delete: unknown, owning a domain, then empty. */
	CHECK_EQ_STR(run("tenant.delete", "", TENANT("nobody")), "not-found");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("acme.test", "acme")), "accepted");
	CHECK_EQ_STR(run("tenant.delete", "", TENANT("acme")), "not-empty");
	CHECK_EQ_STR(run("tenant.delete", "beta", TENANT("acme")), "forbidden");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("acme.test", "acme")), "accepted");
	CHECK_EQ_STR(run("tenant.delete", "acme", TENANT("acme")), "accepted");
	CHECK_EQ_INT(directory_tenant_get(view, "acme", &t, &error), 0);
	CHECK_EQ_STR(run("tenant.delete", "", TENANT("acme")), "not-found");
	/* The name is free again. */
	CHECK_EQ_STR(run("tenant.create", "", TENANT("acme")), "accepted");
}

static void test_domain(void)
{
	json_t *d = NULL, *list = NULL;
	const char *error;
	struct outcome o;
	struct view_batch *b;

	setup_basic("dir-domain");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("new.test", "nobody")), "not-found");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("acme.test", "globex")), "exists");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("acme.test", "acme")), "exists");
	CHECK_EQ_STR(run("domain.add", "globex", DOMAIN("new.test", "acme")), "forbidden");

	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "domain.add", "acme", DOMAIN("b.acme.test", "acme"), &o), APPLY_ACCEPTED);
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "domain")), "b.acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "tenant")), "acme");
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);

	CHECK_EQ_INT(directory_domain_get(view, "B.Acme.Test", &d, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(d, "domain")), "b.acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(d, "tenant")), "acme");
	CHECK_EQ_INT(json_integer_value(json_object_get(d, "created")), next_ts - 1);
	json_decref(d);
	CHECK_EQ_INT(directory_domain_get(view, "nope.test", &d, &error), 0);
	CHECK_EQ_INT(directory_domain_get(view, "not a domain", &d, &error), 0);

	CHECK_EQ_INT(directory_domains(view, "acme", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 3);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "domain")), "acme.example");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "domain")), "acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 2), "domain")), "b.acme.test");
	json_decref(list);
	CHECK_EQ_INT(directory_domains(view, NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 4);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 3), "domain")), "globex.test");
	json_decref(list);
	CHECK_EQ_INT(directory_domains(view, "nobody", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
	CHECK_EQ_INT(directory_domains(view, "Not/Valid", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);

	/* Malformed. */
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("Upper.test", "acme")), "invalid");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("localhost", "acme")), "invalid");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("a..test", "acme")), "invalid");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("-a.test", "acme")), "invalid");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("a/b.test", "acme")), "invalid");
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("ok.test", "Acme")), "invalid");
	CHECK_EQ_STR(run("domain.add", "", json_pack("{s:s}", "domain", "ok.test")), "invalid");
	CHECK_EQ_STR(run("domain.add", "", json_pack("{s:i, s:s}", "domain", 1, "tenant", "acme")), "invalid");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("A.test", "acme")), "invalid");

	/* Remove: unknown, wrong tenant, non-empty, accepted. */
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("nope.test", "acme")), "not-found");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("acme.test", "globex")), "not-found");
	CHECK_EQ_STR(run("domain.remove", "globex", DOMAIN("acme.test", "acme")), "forbidden");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("bob@acme.test")), "accepted");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("acme.test", "acme")), "not-empty");
	CHECK_EQ_STR(run("account.remove", "", ADDR("bob@acme.test")), "accepted");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "x@else.where")), "accepted");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("acme.test", "acme")), "not-empty");
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("info@acme.test", "x@else.where")), "accepted");
	CHECK_EQ_STR(run("domain.remove", "acme", DOMAIN("acme.test", "acme")), "accepted");
	CHECK_EQ_INT(directory_domain_get(view, "acme.test", &d, &error), 0);
	CHECK_EQ_INT(directory_domains(view, "acme", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	json_decref(list);
	/* Now free for another tenant. */
	CHECK_EQ_STR(run("domain.add", "", DOMAIN("acme.test", "globex")), "accepted");
	CHECK_EQ_INT(directory_domains(view, "globex", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	json_decref(list);
}

static void test_account(void)
{
	json_t *a = NULL, *list = NULL;
	const char *error;
	struct outcome o;
	struct view_batch *b;
	int64_t created;

	setup_basic("dir-account");
	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "account.create", "acme",
			      account_data("bob@acme.test", "Bob B\xc3\xa4r", 1000, "active", HASH1), &o),
		     APPLY_ACCEPTED);
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "tenant")), "acme");
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "address")), "bob@acme.test");
	CHECK_EQ_INT(json_array_size(o.changed), 1);
	CHECK_EQ_STR(json_string_value(json_array_get(o.changed, 0)), "bob@acme.test");
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	created = next_ts - 1;

	CHECK_EQ_INT(directory_account_get(view, "Bob@ACME.test", &a, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "address")), "bob@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "tenant")), "acme");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "domain")), "acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "display_name")), "Bob B\xc3\xa4r");
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "quota")), 1000);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "state")), "active");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "password_hash")), HASH1);
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "created")), created);
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "updated")), created);
	CHECK_EQ_INT(json_object_size(a), 9);
	json_decref(a);
	CHECK_EQ_INT(directory_account_get(view, "nobody@acme.test", &a, &error), 0);
	CHECK_EQ_INT(directory_account_get(view, "not an address", &a, &error), 0);

	/* Preconditions. */
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("bob@acme.test")), "exists");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("bob@nowhere.test")), "not-found");
	CHECK_EQ_STR(run("account.create", "globex", ACCOUNT("eve@acme.test")), "forbidden");
	CHECK_EQ_STR(run("account.create", "acme", ACCOUNT("eve@acme.test")), "accepted");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "bob@acme.test")), "accepted");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("info@acme.test")), "exists");

	/* Invalid data, field by field. */
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("Carol@acme.test")), "invalid");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("carol@@acme.test")), "invalid");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("carol")), "invalid");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("car..ol@acme.test")), "invalid");
	CHECK_EQ_STR(run("account.create", "", json_pack("{s:s, s:I, s:s, s:s}", "display_name", "C",
							  "quota", (json_int_t)0, "state", "active",
							  "password_hash", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test", "C\narol", 0, "active", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test",
		"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
		"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC"
		"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC", 0, "active", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", json_pack("{s:s, s:i, s:I, s:s, s:s}", "address", "carol@acme.test",
							  "display_name", 5, "quota", (json_int_t)0, "state", "active",
							  "password_hash", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test", "C", -1, "active", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", json_pack("{s:s, s:s, s:s, s:s, s:s}", "address", "carol@acme.test",
							  "display_name", "C", "quota", "10", "state", "active",
							  "password_hash", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", json_pack("{s:s, s:s, s:f, s:s, s:s}", "address", "carol@acme.test",
							  "display_name", "C", "quota", 1.5, "state", "active",
							  "password_hash", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test", "C", 0, "locked", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test", "C", 0, "Active", HASH1)), "invalid");
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test", "C", 0, "active", "hunter2")), "invalid");
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test", "C", 0, "active", "$1$abcdefgh$abcdefghijklmnopqrstuv")), "invalid");
	CHECK_EQ_STR(run("account.create", "", json_pack("{s:s, s:s, s:I, s:s}", "address", "carol@acme.test",
							  "display_name", "C", "quota", (json_int_t)0, "state", "active")), "invalid");
	/* The boundaries that are fine. */
	CHECK_EQ_STR(run("account.create", "", account_data("carol@acme.test", "", INT64_MAX, "disabled", HASH1)), "accepted");

	/* Update. */
	CHECK_EQ_STR(run("account.update", "", ACCOUNT("nobody@acme.test")), "not-found");
	CHECK_EQ_STR(run("account.update", "globex", ACCOUNT("bob@acme.test")), "forbidden");
	CHECK_EQ_STR(run("account.update", "", account_data("bob@acme.test", "Bob", 5, "wrong", HASH2)), "invalid");
	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "account.update", "acme",
			      account_data("bob@acme.test", "Robert", 2000, "disabled", HASH2), &o),
		     APPLY_ACCEPTED);
	CHECK_EQ_STR(json_string_value(json_array_get(o.changed, 0)), "bob@acme.test");
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(directory_account_get(view, "bob@acme.test", &a, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "display_name")), "Robert");
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "quota")), 2000);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "state")), "disabled");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "password_hash")), HASH2);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "tenant")), "acme");
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "created")), created);
	CHECK_EQ_INT(json_integer_value(json_object_get(a, "updated")), next_ts - 1);
	json_decref(a);

	/* Listing omits password hashes. */
	CHECK_EQ_INT(directory_accounts(view, "acme.test", NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 3);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "address")), "bob@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "address")), "carol@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 2), "address")), "eve@acme.test");
	for (size_t i = 0; i < 3; i++)
		CHECK(json_object_get(json_array_get(list, i), "password_hash") == NULL);
	json_decref(list);

	/* Remove. */
	CHECK_EQ_STR(run("account.remove", "", ADDR("nobody@acme.test")), "not-found");
	CHECK_EQ_STR(run("account.remove", "", ADDR("Bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("account.remove", "", json_pack("{s:i}", "address", 3)), "invalid");
	CHECK_EQ_STR(run("account.remove", "globex", ADDR("bob@acme.test")), "forbidden");
	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "account.remove", "", ADDR("bob@acme.test"), &o), APPLY_ACCEPTED);
	CHECK_EQ_STR(json_string_value(json_array_get(o.changed, 0)), "bob@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "tenant")), "acme");
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(directory_account_get(view, "bob@acme.test", &a, &error), 0);
	CHECK_EQ_STR(run("account.remove", "", ADDR("bob@acme.test")), "not-found");
	CHECK_EQ_STR(run("account.update", "", ACCOUNT("bob@acme.test")), "not-found");
	CHECK_EQ_INT(directory_accounts(view, "acme.test", NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	json_decref(list);
	/* The address can be taken again. */
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("bob@acme.test")), "accepted");
}

/* account data with a scram_sha256 member (stolen). */
static json_t *scram_account(const char *address, json_t *scram)
{
	json_t *d = ACCOUNT(address);

	json_object_set_new(d, "scram_sha256", scram);
	return d;
}

#define SCRAM_REC(salt, it, sk, svk) json_pack("{s:s, s:I, s:s, s:s}", "salt", (salt), \
	"iterations", (json_int_t)(it), "stored_key", (sk), "server_key", (svk))
#define K32 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

/* The optional scram_sha256 object: validated strictly, stored, dropped
 * by an update without it, never in listings. */
static void test_account_scram(void)
{
	json_t *a = NULL, *list = NULL;
	const char *error;

	setup_basic("dir-account-scram");
	CHECK_EQ_STR(run("account.create", "", scram_account("s1@acme.test", evm_scram_record_new("pw"))), "accepted");
	CHECK_EQ_INT(directory_account_get(view, "s1@acme.test", &a, &error), 1);
	CHECK(json_is_object(json_object_get(a, "scram_sha256")));
	CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(a, "scram_sha256"), "iterations")), 10000);
	json_decref(a);
	CHECK_EQ_INT(directory_accounts(view, "acme.test", NULL, &list, &error), 0);
	CHECK(json_object_get(json_array_get(list, 0), "scram_sha256") == NULL);
	json_decref(list);
	CHECK_EQ_INT(directory_accounts(view, NULL, NULL, &list, &error), 0);
	CHECK(json_object_get(json_array_get(list, 0), "scram_sha256") == NULL);
	json_decref(list);
	/* invalid records */
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test", json_string("x"))), "invalid");
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test",
		SCRAM_REC("c2FsdHNhbHQ=", 4095, K32, K32))), "invalid");
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test",
		SCRAM_REC("c2FsdA==", 4096, K32, K32))), "invalid");          /* salt of 4 octets */
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test",
		SCRAM_REC("c2FsdHNhbHQ", 4096, K32, K32))), "invalid");       /* no padding */
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test",
		SCRAM_REC("c2FsdHNhbHQ=", 4096, "AAEC", K32))), "invalid");   /* short key */
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test",
		json_pack("{s:s, s:s, s:s, s:s}", "salt", "c2FsdHNhbHQ=", "iterations", "4096",
			  "stored_key", K32, "server_key", K32))), "invalid");
	a = SCRAM_REC("c2FsdHNhbHQ=", 4096, K32, K32);
	json_object_set_new(a, "extra", json_true());
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test", a)), "invalid");
	CHECK_EQ_STR(run("account.create", "", scram_account("s2@acme.test",
		SCRAM_REC("c2FsdHNhbHQ=", 4096, K32, K32))), "accepted");
	/* an update without it drops it */
	CHECK_EQ_STR(run("account.update", "", ACCOUNT("s2@acme.test")), "accepted");
	CHECK_EQ_INT(directory_account_get(view, "s2@acme.test", &a, &error), 1);
	CHECK(json_object_get(a, "scram_sha256") == NULL);
	json_decref(a);
	CHECK_EQ_STR(run("account.update", "", scram_account("s2@acme.test",
		SCRAM_REC("c2FsdHNhbHQ=", 4096, "AAEC", K32))), "invalid");
}

static const char *target_at(json_t *alias, size_t i)
{
	return json_string_value(json_array_get(json_object_get(alias, "targets"), i));
}

static void test_alias(void)
{
	json_t *a = NULL, *list = NULL;
	const char *error;
	struct outcome o;
	struct view_batch *b;

	setup_basic("dir-alias");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("bob@acme.test")), "accepted");

	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "alias.add", "acme", ALIAS("info@acme.test", "zed@elsewhere.test"), &o),
		     APPLY_ACCEPTED);
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "tenant")), "acme");
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "alias")), "info@acme.test");
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "bob@acme.test")), "accepted");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "mia@acme.test")), "accepted");

	CHECK_EQ_INT(directory_alias_get(view, "INFO@acme.test", &a, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "alias")), "info@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "tenant")), "acme");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "domain")), "acme.test");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "targets")), 3);
	CHECK_EQ_STR(target_at(a, 0), "bob@acme.test");
	CHECK_EQ_STR(target_at(a, 1), "mia@acme.test");
	CHECK_EQ_STR(target_at(a, 2), "zed@elsewhere.test");
	json_decref(a);
	CHECK_EQ_INT(directory_alias_get(view, "nobody@acme.test", &a, &error), 0);

	/* Preconditions. */
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "bob@acme.test")), "exists");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("bob@acme.test", "x@y.test")), "exists");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@nowhere.test", "x@y.test")), "not-found");
	CHECK_EQ_STR(run("alias.add", "globex", ALIAS("sales@acme.test", "x@y.test")), "forbidden");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("self@acme.test", "self@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("Info@acme.test", "x@y.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "X@y.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "x@localhost")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("info@acme.test", "")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", json_pack("{s:s}", "alias", "info@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", json_pack("{s:s, s:[s]}", "alias", "info@acme.test",
						     "target", "x@y.test")), "invalid");

	/* Remove. */
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("nobody@acme.test", "x@y.test")), "not-found");
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("info@acme.test", "x@y.test")), "not-found");
	CHECK_EQ_STR(run("alias.remove", "globex", ALIAS("info@acme.test", "bob@acme.test")), "forbidden");
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("info@acme.test", "bad")), "invalid");
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("info@acme.test", "mia@acme.test")), "accepted");
	CHECK_EQ_INT(directory_alias_get(view, "info@acme.test", &a, &error), 1);
	CHECK_EQ_INT(json_array_size(json_object_get(a, "targets")), 2);
	CHECK_EQ_STR(target_at(a, 0), "bob@acme.test");
	CHECK_EQ_STR(target_at(a, 1), "zed@elsewhere.test");
	json_decref(a);
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("info@acme.test", "bob@acme.test")), "accepted");
	CHECK_EQ_INT(directory_aliases(view, "acme.test", NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 1);
	json_decref(list);
	CHECK_EQ_STR(run("alias.remove", "acme", ALIAS("info@acme.test", "zed@elsewhere.test")), "accepted");
	CHECK_EQ_INT(directory_alias_get(view, "info@acme.test", &a, &error), 0);
	CHECK_EQ_INT(directory_aliases(view, "acme.test", NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("info@acme.test", "zed@elsewhere.test")), "not-found");
	/* The address is free for an account now. */
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("info@acme.test")), "accepted");
}

/* "@domain" is the domain's catch-all: an alias with an empty local part,
 * only for a domain of ours, in normal form. */
static void test_catch_all(void)
{
	json_t *a = NULL, *list = NULL;
	const char *error;
	struct outcome o;
	struct view_batch *b;

	setup_basic("dir-catch-all");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("bob@acme.test")), "accepted");
	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "alias.add", "acme", ALIAS("@acme.test", "bob@acme.test"), &o),
		     APPLY_ACCEPTED);
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "alias")), "@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(o.result, "tenant")), "acme");
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@acme.test", "ext@elsewhere.test")), "accepted");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@acme.test", "bob@acme.test")), "exists");

	/* The record and the domain's index, like any alias. */
	CHECK_EQ_INT(directory_aliases(view, "acme.test", NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 1);
	a = json_array_get(list, 0);
	CHECK_EQ_STR(json_string_value(json_object_get(a, "alias")), "@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "domain")), "acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(a, "tenant")), "acme");
	CHECK_EQ_INT(json_array_size(json_object_get(a, "targets")), 2);
	CHECK_EQ_STR(target_at(a, 0), "bob@acme.test");
	CHECK_EQ_STR(target_at(a, 1), "ext@elsewhere.test");
	json_decref(list);
	CHECK_EQ_INT(directory_aliases(view, NULL, "acme", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 1);
	json_decref(list);
	/* It keeps its domain from being removed. */
	CHECK_EQ_STR(run("account.remove", "", ADDR("bob@acme.test")), "accepted");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("acme.test", "acme")), "not-empty");

	/* Only our domains, only the normal form, a real target. */
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@nowhere.test", "bob@acme.test")), "not-found");
	CHECK_EQ_STR(run("alias.add", "globex", ALIAS("@acme.example", "bob@acme.test")), "forbidden");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@Acme.example", "bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@", "bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@@acme.example", "bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@localhost", "bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@acme..example", "bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@acme.example/x", "bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@acme.example", "@acme.example")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@acme.example", "@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("@acme.example", "")), "invalid");
	CHECK_EQ_STR(run("alias.add", "", json_pack("{s:i, s:s}", "alias", 5, "target", "bob@acme.test")), "invalid");
	/* A catch-all name is never an account. */
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("@acme.example")), "invalid");

	/* Remove: target by target, the last one removes it. */
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("@acme.example", "bob@acme.test")), "not-found");
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("@ACME.test", "bob@acme.test")), "invalid");
	CHECK_EQ_STR(run("alias.remove", "globex", ALIAS("@acme.test", "bob@acme.test")), "forbidden");
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("@acme.test", "bob@acme.test")), "accepted");
	CHECK_EQ_STR(run("alias.remove", "acme", ALIAS("@acme.test", "ext@elsewhere.test")), "accepted");
	CHECK_EQ_INT(directory_aliases(view, "acme.test", NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
	CHECK_EQ_STR(run("alias.remove", "", ALIAS("@acme.test", "ext@elsewhere.test")), "not-found");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("acme.test", "acme")), "accepted");
}

/* Listings by domain, by tenant, both and neither, across domains. */
static void test_listings(void)
{
	json_t *list = NULL;
	const char *error;

	setup_basic("dir-list");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("zoe@acme.example")), "accepted");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("amy@acme.test")), "accepted");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("bob@acme.example")), "accepted");
	CHECK_EQ_STR(run("account.create", "", ACCOUNT("cat@globex.test")), "accepted");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("x@acme.test", "amy@acme.test")), "accepted");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("a@acme.example", "amy@acme.test")), "accepted");
	CHECK_EQ_STR(run("alias.add", "", ALIAS("g@globex.test", "cat@globex.test")), "accepted");

	/* Tenant: sorted by address across its domains. */
	CHECK_EQ_INT(directory_accounts(view, NULL, "acme", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 3);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "address")), "amy@acme.test");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "address")), "bob@acme.example");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 2), "address")), "zoe@acme.example");
	CHECK(json_object_get(json_array_get(list, 0), "password_hash") == NULL);
	json_decref(list);
	/* Every account. */
	CHECK_EQ_INT(directory_accounts(view, NULL, NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 4);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 2), "address")), "cat@globex.test");
	CHECK(json_object_get(json_array_get(list, 2), "password_hash") == NULL);
	json_decref(list);
	/* Domain and tenant must agree. */
	CHECK_EQ_INT(directory_accounts(view, "ACME.example", "acme", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "address")), "bob@acme.example");
	json_decref(list);
	CHECK_EQ_INT(directory_accounts(view, "acme.example", "globex", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
	CHECK_EQ_INT(directory_accounts(view, "bad domain", NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
	CHECK_EQ_INT(directory_accounts(view, NULL, "nobody", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);

	/* Aliases. */
	CHECK_EQ_INT(directory_aliases(view, NULL, "acme", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "alias")), "a@acme.example");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "alias")), "x@acme.test");
	json_decref(list);
	CHECK_EQ_INT(directory_aliases(view, NULL, NULL, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 3);
	json_decref(list);
	CHECK_EQ_INT(directory_aliases(view, "globex.test", "globex", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "alias")), "g@globex.test");
	json_decref(list);
}

/* Several events in one uncommitted batch see each other's writes. */
static void test_one_batch(void)
{
	struct view_batch *b;
	struct outcome o;
	json_t *a = NULL;
	const char *error;

	open_view("dir-batch");
	b = view_batch_begin(view);
	CHECK_EQ_INT(apply_in(b, "tenant.create", "", TENANT("acme"), &o), APPLY_ACCEPTED);
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "domain.add", "", DOMAIN("acme.test", "acme"), &o), APPLY_ACCEPTED);
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "account.create", "", ACCOUNT("bob@acme.test"), &o), APPLY_ACCEPTED);
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "account.create", "", ACCOUNT("bob@acme.test"), &o), APPLY_REJECTED);
	CHECK_EQ_STR(o.code, "exists");
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "alias.add", "", ALIAS("bob@acme.test", "x@y.test"), &o), APPLY_REJECTED);
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "domain.remove", "", DOMAIN("acme.test", "acme"), &o), APPLY_REJECTED);
	CHECK_EQ_STR(o.code, "not-empty");
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "account.remove", "", ADDR("bob@acme.test"), &o), APPLY_ACCEPTED);
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "domain.remove", "", DOMAIN("acme.test", "acme"), &o), APPLY_ACCEPTED);
	outcome_clear(&o);
	CHECK_EQ_INT(apply_in(b, "account.create", "", ACCOUNT("amy@acme.test"), &o), APPLY_REJECTED);
	CHECK_EQ_STR(o.code, "not-found");
	outcome_clear(&o);
	CHECK_EQ_INT(view_batch_commit(&b, &error), 0);
	CHECK_EQ_INT(directory_account_get(view, "bob@acme.test", &a, &error), 0);
	CHECK_EQ_INT(directory_tenant_get(view, "acme", &a, &error), 1);
	json_decref(a);
}

/* A fixed history with accepts and rejects of every kind. */
static void replay_history(void)
{
	run("tenant.create", "", TENANT("acme"));
	run("tenant.create", "", TENANT("acme"));
	run("tenant.create", "", TENANT("globex"));
	run("domain.add", "", DOMAIN("acme.test", "acme"));
	run("domain.add", "", DOMAIN("acme.test", "globex"));
	run("domain.add", "", DOMAIN("globex.test", "globex"));
	run("account.create", "", account_data("bob@acme.test", "Bob \xe2\x98\x83", 10, "active", HASH1));
	run("account.create", "", ACCOUNT("amy@acme.test"));
	run("account.create", "", ACCOUNT("amy@acme.test"));
	run("account.update", "", account_data("amy@acme.test", "Amy", 99, "disabled", HASH2));
	run("alias.add", "", ALIAS("all@acme.test", "bob@acme.test"));
	run("alias.add", "", ALIAS("all@acme.test", "amy@acme.test"));
	run("alias.add", "", ALIAS("all@acme.test", "ext@globex.test"));
	run("alias.remove", "", ALIAS("all@acme.test", "bob@acme.test"));
	run("account.create", "", ACCOUNT("cat@globex.test"));
	run("account.remove", "", ADDR("cat@globex.test"));
	run("domain.remove", "", DOMAIN("globex.test", "globex"));
	run("tenant.delete", "", TENANT("acme"));
	run("account.create", "", ACCOUNT("Bad@acme.test"));
}

static void test_determinism(void)
{
	char d1[65], d2[65], d3[65];
	uint64_t k1 = 0, k2 = 0;
	const char *error;
	int64_t start = next_ts;

	open_view("dir-det1");
	replay_history();
	CHECK_EQ_INT(view_digest(view, d1, &k1, &error), 0);
	open_view("dir-det2");
	next_ts = start;
	replay_history();
	CHECK_EQ_INT(view_digest(view, d2, &k2, &error), 0);
	CHECK_EQ_STR(d1, d2);
	CHECK_EQ_INT(k1, k2);
	CHECK(k1 > 0);
	/* Sanity: a different history (other times) gives another digest. */
	open_view("dir-det3");
	next_ts = start + 1;
	replay_history();
	CHECK_EQ_INT(view_digest(view, d3, NULL, &error), 0);
	CHECK(strcmp(d1, d3) != 0);
}

#define DKIM(d, s, alg, pub) json_pack("{s:s, s:s, s:s, s:s, s:s}", "domain", (d), "selector", (s), \
	"algorithm", (alg), "private_key", "-----BEGIN PRIVATE KEY-----\nMC4CAQ\n-----END PRIVATE KEY-----\n", \
	"public_key", (pub))
#define ED_PUB "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

/* dkim.set / dkim.remove and their reads. */
static void test_dkim(void)
{
	json_t *list = NULL, *k = NULL;
	const char *error;

	setup_basic("dir-dkim");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "evm202501", "ed25519-sha256", ED_PUB)), "accepted");
	CHECK_EQ_STR(run("dkim.set", "acme", DKIM("acme.test", "r1", "rsa-sha256", "TUlJQkln")), "accepted");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("globex.test", "a.b-c", "ed25519-sha256", ED_PUB)), "accepted");
	/* Preconditions and bounds. */
	CHECK_EQ_STR(run("dkim.set", "", DKIM("nowhere.test", "s", "ed25519-sha256", ED_PUB)), "not-found");
	CHECK_EQ_STR(run("dkim.set", "globex", DKIM("acme.test", "s", "ed25519-sha256", ED_PUB)), "forbidden");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "Upper", "ed25519-sha256", ED_PUB)), "invalid");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "a..b", "ed25519-sha256", ED_PUB)), "invalid");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "s/x", "ed25519-sha256", ED_PUB)), "invalid");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "s", "rsa-sha1", ED_PUB)), "invalid");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "s", "ed25519-sha256", "TUlJQkln")), "invalid");
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "s", "ed25519-sha256", "not base64")), "invalid");
	CHECK_EQ_STR(run("dkim.set", "", json_pack("{s:s, s:s, s:s, s:s, s:s}", "domain", "acme.test", "selector",
						  "s", "algorithm", "ed25519-sha256", "private_key", "secret",
						  "public_key", ED_PUB)), "invalid");
	/* Reads: sorted, the private key only when asked. */
	CHECK_EQ_INT(directory_dkim_keys(view, "ACME.test", 0, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "selector")), "evm202501");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "algorithm")), "rsa-sha256");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "tenant")), "acme");
	CHECK(json_object_get(json_array_get(list, 0), "private_key") == NULL);
	json_decref(list);
	CHECK_EQ_INT(directory_dkim_keys(view, NULL, 1, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 3);
	CHECK(json_object_get(json_array_get(list, 2), "private_key") != NULL);
	json_decref(list);
	CHECK_EQ_INT(directory_dkim_get(view, "acme.test", "r1", 0, &k, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(k, "public_key")), "TUlJQkln");
	json_decref(k);
	CHECK_EQ_INT(directory_dkim_get(view, "acme.test", "nope", 0, &k, &error), 0);
	/* Replace, remove; the domain cannot go while keys remain. */
	CHECK_EQ_STR(run("dkim.set", "", DKIM("acme.test", "r1", "ed25519-sha256", ED_PUB)), "accepted");
	CHECK_EQ_INT(directory_dkim_get(view, "acme.test", "r1", 0, &k, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(k, "algorithm")), "ed25519-sha256");
	json_decref(k);
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("globex.test", "globex")), "not-empty");
	CHECK_EQ_STR(run("dkim.remove", "", json_pack("{s:s, s:s}", "domain", "globex.test", "selector", "zz")),
		     "not-found");
	CHECK_EQ_STR(run("dkim.remove", "acme", json_pack("{s:s, s:s}", "domain", "globex.test", "selector", "a.b-c")),
		     "forbidden");
	CHECK_EQ_STR(run("dkim.remove", "", json_pack("{s:s, s:s}", "domain", "globex.test", "selector", "a.b-c")),
		     "accepted");
	CHECK_EQ_STR(run("domain.remove", "", DOMAIN("globex.test", "globex")), "accepted");
	CHECK_EQ_INT(directory_dkim_keys(view, "globex.test", 1, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
}

int main(void)
{
	test_run("registry", test_registry);
	test_run("tenant", test_tenant);
	test_run("domain", test_domain);
	test_run("account", test_account);
	test_run("account scram_sha256", test_account_scram);
	test_run("alias", test_alias);
	test_run("catch-all", test_catch_all);
	test_run("dkim", test_dkim);
	test_run("listings", test_listings);
	test_run("one batch", test_one_batch);
	test_run("determinism", test_determinism);
	view_close(&view);
	return test_done();
}
