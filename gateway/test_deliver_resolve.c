/* test_deliver_resolve - RCPT resolution against a real view filled
 * through the directory appliers: accounts, disabled accounts, aliases
 * with local and external targets, plus-addressing, the catch-all,
 * unknown domains, invalid addresses and de-duplication. */
#include "gateway/deliver.h"
#include "projector/applier.h"
#include "projector/directory.h"
#include "tests/unit/testlib.h"

#include <stdarg.h>
#include <stdlib.h>

#define HASH "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"

static struct view *view;
static int64_t next_ts = 1700000000000;

/* Applies one directory event in its own batch; aborts unless accepted. */
static void run(const char *type, json_t *data)
{
	struct evm_event ev;
	struct apply_ctx ctx;
	struct view_batch *b;
	const struct applier *a = applier_find(type);
	const char *error = NULL;
	enum apply_status st;

	if (a == NULL || evm_event_init(&ev, type, "", "", "admin", data, &error) < 0) {
		fprintf(stderr, "cannot make event %s: %s\n", type, error ? error : "no applier");
		abort();
	}
	ev.ts = next_ts++;
	memset(&ctx, 0, sizeof ctx);
	b = view_batch_begin(view);
	ctx.batch = b;
	ctx.ev = &ev;
	ctx.topic = a->topic;
	ctx.offset = ev.ts;
	ctx.result = json_object();
	ctx.changed = json_array();
	st = a->apply(&ctx, &error);
	if (st != APPLY_ACCEPTED) {
		fprintf(stderr, "%s not accepted: %s %s\n", type, ctx.reject_code ? ctx.reject_code : "",
			st == APPLY_FAILED ? error : ctx.reject_reason);
		abort();
	}
	if (view_batch_commit(&b, &error) < 0) {
		fprintf(stderr, "commit: %s\n", error);
		abort();
	}
	json_decref(ctx.result);
	json_decref(ctx.changed);
	evm_event_clear(&ev);
}

static void account(const char *address, const char *state)
{
	run("account.create", json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", address,
					 "display_name", "X", "quota", (json_int_t)0, "state", state,
					 "password_hash", HASH));
}

static void alias(const char *a, const char *target)
{
	run("alias.add", json_pack("{s:s, s:s}", "alias", a, "target", target));
}

/* acme: acme.test, acme.example; globex: globex.test (with a catch-all). */
static void setup(void)
{
	const char *error;

	if (view_open(test_tmpdir("deliver-resolve"), &view, &error) < 0) {
		fprintf(stderr, "view_open: %s\n", error);
		exit(2);
	}
	run("tenant.create", json_pack("{s:s}", "name", "acme"));
	run("tenant.create", json_pack("{s:s}", "name", "globex"));
	run("domain.add", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme"));
	run("domain.add", json_pack("{s:s, s:s}", "domain", "acme.example", "tenant", "acme"));
	run("domain.add", json_pack("{s:s, s:s}", "domain", "globex.test", "tenant", "globex"));
	account("bob@acme.test", "active");
	account("amy@acme.test", "active");
	account("zed@acme.test", "disabled");
	account("cat@acme.example", "active");
	account("gus@globex.test", "active");
	account("b+real@acme.test", "active");
	/* Local, disabled, external and alias targets; a duplicate by case. */
	alias("team@acme.test", "bob@acme.test");
	alias("team@acme.test", "amy@acme.test");
	alias("team@acme.test", "zed@acme.test");
	alias("team@acme.test", "out@elsewhere.test");
	alias("team@acme.test", "gus@globex.test");
	alias("team@acme.test", "sales@acme.test");
	alias("sales@acme.test", "cat@acme.example");
	alias("dead@acme.test", "zed@acme.test");
	alias("dead@acme.test", "out@elsewhere.test");
	alias("tag+x@acme.test", "amy@acme.test");
	alias("@globex.test", "gus@globex.test");
	alias("@globex.test", "bob@acme.test");
	alias("@globex.test", "out@elsewhere.test");
}

/* Resolves rcpt; expects status and (for RCPT_OK) exactly the accounts
 * listed, NULL-terminated, in order. */
static int expect(const char *rcpt, enum deliver_rcpt_status want, ...)
{
	struct deliver_target *t = NULL;
	size_t n = 99, i = 0;
	enum deliver_rcpt_status st = deliver_resolve(view, rcpt, &t, &n);
	const char *acct;
	va_list ap;
	int ok = 1;

	if (st != want) {
		fprintf(stderr, "  %s: status %d, want %d\n", rcpt, (int)st, (int)want);
		free(t);
		return 0;
	}
	if (st != RCPT_OK) {
		ok = t == NULL && n == 0;
		free(t);
		return ok;
	}
	va_start(ap, want);
	while ((acct = va_arg(ap, const char *)) != NULL) {
		if (i >= n || strcmp(t[i].account, acct) != 0) {
			fprintf(stderr, "  %s: target %zu is %s, want %s\n", rcpt, i,
				i < n ? t[i].account : "(none)", acct);
			ok = 0;
		}
		i++;
	}
	va_end(ap);
	if (i != n) {
		fprintf(stderr, "  %s: %zu targets, want %zu\n", rcpt, n, i);
		ok = 0;
	}
	free(t);
	return ok;
}

static void test_accounts(void)
{
	struct deliver_target *t = NULL;
	size_t n = 0;

	CHECK(expect("bob@acme.test", RCPT_OK, "bob@acme.test", NULL));
	CHECK(expect("cat@acme.example", RCPT_OK, "cat@acme.example", NULL));
	CHECK(expect("gus@globex.test", RCPT_OK, "gus@globex.test", NULL));
	/* Case-folded: the target and the Delivered-To address are normalised. */
	CHECK_EQ_INT(deliver_resolve(view, "Bob@ACME.Test", &t, &n), RCPT_OK);
	CHECK_EQ_INT(n, 1);
	CHECK_EQ_STR(t[0].account, "bob@acme.test");
	CHECK_EQ_STR(t[0].tenant, "acme");
	CHECK_EQ_STR(t[0].rcpt, "bob@acme.test");
	free(t);
	CHECK_EQ_INT(deliver_resolve(view, "gus@globex.test", &t, &n), RCPT_OK);
	CHECK_EQ_STR(t[0].tenant, "globex");
	free(t);
	CHECK(expect("zed@acme.test", RCPT_DISABLED));
	CHECK(expect("nobody@acme.test", RCPT_UNKNOWN));
	CHECK(expect("nobody@acme.example", RCPT_UNKNOWN));
}

static void test_not_ours_and_invalid(void)
{
	CHECK(expect("bob@elsewhere.test", RCPT_NOT_LOCAL));
	CHECK(expect("bob@sub.acme.test", RCPT_NOT_LOCAL));
	CHECK(expect("bob", RCPT_INVALID));
	CHECK(expect("postmaster", RCPT_INVALID));
	CHECK(expect("", RCPT_INVALID));
	CHECK(expect("@acme.test", RCPT_INVALID));
	CHECK(expect("a..b@acme.test", RCPT_INVALID));
	CHECK(expect("bob@acme", RCPT_INVALID));
	CHECK(expect("\"quoted\"@acme.test", RCPT_INVALID));
	CHECK(expect("bob@@acme.test", RCPT_INVALID));
	CHECK(expect(NULL, RCPT_INVALID));
}

static void test_aliases(void)
{
	struct deliver_target *t = NULL;
	size_t n = 0;

	/* Local active accounts only, in the alias's (sorted) order: not the
	 * disabled one, not the external one, not the nested alias. */
	CHECK(expect("team@acme.test", RCPT_OK, "amy@acme.test", "bob@acme.test", "gus@globex.test",
		     NULL));
	CHECK_EQ_INT(deliver_resolve(view, "TEAM@acme.test", &t, &n), RCPT_OK);
	CHECK_EQ_INT(n, 3);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_STR(t[i].rcpt, "team@acme.test");
	CHECK_EQ_STR(t[0].tenant, "acme");
	CHECK_EQ_STR(t[2].tenant, "globex");
	free(t);
	CHECK(expect("sales@acme.test", RCPT_OK, "cat@acme.example", NULL));
	/* Nothing local and active left. */
	CHECK(expect("dead@acme.test", RCPT_UNKNOWN));
}

static void test_plus_addressing(void)
{
	struct deliver_target *t = NULL;
	size_t n = 0;

	CHECK(expect("bob+news@acme.test", RCPT_OK, "bob@acme.test", NULL));
	CHECK_EQ_INT(deliver_resolve(view, "Bob+News@acme.test", &t, &n), RCPT_OK);
	CHECK_EQ_STR(t[0].rcpt, "bob+news@acme.test");
	free(t);
	/* The first '+' splits; the base may be an alias. */
	CHECK(expect("bob+a+b@acme.test", RCPT_OK, "bob@acme.test", NULL));
	CHECK(expect("team+x@acme.test", RCPT_OK, "amy@acme.test", "bob@acme.test",
		     "gus@globex.test", NULL));
	/* An exact account or alias wins over the split. */
	CHECK(expect("b+real@acme.test", RCPT_OK, "b+real@acme.test", NULL));
	CHECK(expect("tag+x@acme.test", RCPT_OK, "amy@acme.test", NULL));
	CHECK(expect("b+other@acme.test", RCPT_UNKNOWN));
	CHECK(expect("zed+x@acme.test", RCPT_DISABLED));
	CHECK(expect("nobody+x@acme.test", RCPT_UNKNOWN));
	CHECK(expect("+x@acme.test", RCPT_UNKNOWN));
	CHECK(expect("bob+@acme.test", RCPT_OK, "bob@acme.test", NULL));
}

static void test_catch_all(void)
{
	struct deliver_target *t = NULL;
	size_t n = 0;

	/* Accounts and plus-addressing come first. */
	CHECK(expect("gus@globex.test", RCPT_OK, "gus@globex.test", NULL));
	CHECK(expect("gus+x@globex.test", RCPT_OK, "gus@globex.test", NULL));
	/* Anything else goes to the catch-all's local targets. */
	CHECK(expect("whoever@globex.test", RCPT_OK, "bob@acme.test", "gus@globex.test", NULL));
	CHECK(expect("who+ever@globex.test", RCPT_OK, "bob@acme.test", "gus@globex.test", NULL));
	CHECK_EQ_INT(deliver_resolve(view, "Whoever@Globex.test", &t, &n), RCPT_OK);
	CHECK_EQ_STR(t[0].rcpt, "whoever@globex.test");
	free(t);
	/* No catch-all in acme.test. */
	CHECK(expect("whoever@acme.test", RCPT_UNKNOWN));
}

/* An alias naming the same account several ways gives it once. */
static void test_dedup(void)
{
	account("dup@acme.test", "active");
	alias("twice@acme.test", "dup@acme.test");
	alias("twice@acme.test", "bob@acme.test");
	alias("twice@acme.test", "dup2@acme.test");
	/* dup2 is an alias of dup: not followed (one level), so not a dup. */
	alias("dup2@acme.test", "dup@acme.test");
	CHECK(expect("twice@acme.test", RCPT_OK, "bob@acme.test", "dup@acme.test", NULL));
	CHECK(expect("dup2@acme.test", RCPT_OK, "dup@acme.test", NULL));
}

/* The expansion stops at DELIVER_MAX_EXPANSION accounts. */
static void test_expansion_limit(void)
{
	struct deliver_target *t = NULL;
	size_t n = 0;
	char addr[64];

	for (int i = 0; i < DELIVER_MAX_EXPANSION + 5; i++) {
		snprintf(addr, sizeof addr, "m%03d@acme.example", i);
		account(addr, "active");
		alias("many@acme.example", addr);
	}
	CHECK_EQ_INT(deliver_resolve(view, "many@acme.example", &t, &n), RCPT_OK);
	CHECK_EQ_INT(n, DELIVER_MAX_EXPANSION);
	CHECK_EQ_STR(t[0].account, "m000@acme.example");
	CHECK_EQ_STR(t[DELIVER_MAX_EXPANSION - 1].account, "m099@acme.example");
	free(t);
}

int main(void)
{
	setup();
	test_run("accounts", test_accounts);
	test_run("not ours and invalid", test_not_ours_and_invalid);
	test_run("aliases", test_aliases);
	test_run("plus addressing", test_plus_addressing);
	test_run("catch-all", test_catch_all);
	test_run("dedup", test_dedup);
	test_run("expansion limit", test_expansion_limit);
	view_close(&view);
	return test_done();
}
