/* test_retention - retention policies (projector/retention.h) against a
 * real view: tenant.retention and mailbox.retention (validation, stored
 * form, clearing, rejections write nothing), which rule applies to a
 * mailbox, and the save-date index (written and deleted with each message,
 * the save date of a move, oldest first, bounded, a mailbox's deletion);
 * two fresh views applying the same events have equal digests. */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/directory.h"
#include "projector/mail.h"
#include "projector/retention.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define T0 INT64_C(1700000000000)
#define DAY INT64_C(86400000)

static int64_t next_offset;
static struct apply_env env = { &next_offset, 0x7e0000, "", 1, NULL, "" };

static struct view *open_at(const char *name)
{
	struct view *v = NULL;
	const char *error;

	if (view_open(test_tmpdir(name), &v, &error) < 0)
		exit(2);
	return v;
}

/* The id of a mailbox by name ("" when none). */
static const char *mb_id(struct view *v, const char *name)
{
	static char id[2][33];
	static int which;
	json_t *m = NULL;
	const char *error;

	which = !which;
	id[which][0] = '\0';
	if (mail_mailbox_by_name(v, BOB, name, &m, &error) == 1)
		snprintf(id[which], sizeof id[which], "%s", json_string_value(json_object_get(m, "id")));
	json_decref(m);
	return id[which];
}

/* Appends message n to the mailbox at time ts (its save date); its
 * internal date is always T0 - 1000 days. */
static void append_at(struct view *v, const char *mailbox, int n, int64_t ts)
{
	char blob[65], msgid[32];
	json_t *d;

	snprintf(blob, sizeof blob, "%064d", n);
	snprintf(msgid, sizeof msgid, "m%d@x", n);
	d = json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I, s:{s:[s], s:[], s:[]}, s:{s:s}}, s:[], s:[]}",
		      "mailbox_id", mb_id(v, mailbox), "blob_id", blob, "blob_size", (json_int_t)100, "prefix", "",
		      "internal_date", (json_int_t)(T0 - 1000 * DAY), "summary", "size", (json_int_t)10,
		      "headers", "message_id", msgid, "in_reply_to", "references", "thread", "base_subject",
		      "hi", "flags", "keywords");
	apply_ts = ts;
	CHECK_EQ_STR(apply_event(&env, v, "message.append", BOB, d), "accepted");
	apply_ts = 0;
}

/* The UIDs of a mailbox saved before cutoff, as "1,2,3". */
static const char *expired(struct view *v, const char *mailbox, int64_t cutoff, size_t max)
{
	static char out[256];
	uint32_t uids[64];
	size_t n = 0, len = 0;
	const char *error = NULL;

	out[0] = '\0';
	if (retention_expired(v, BOB, mb_id(v, mailbox), cutoff, uids, max, &n, &error) < 0)
		return error;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(out + len, sizeof out - len, "%s%" PRIu32, i ? "," : "", uids[i]);
	return out;
}

static int count_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	(*(int *)ctx)++;
	return 0;
}

/* Entries of the account's save-date index. */
static int sdat_entries(struct view *v)
{
	const char *prefix = "mail/" BOB "/sdat/", *error;
	int n = 0;

	if (view_scan(v, prefix, strlen(prefix), count_cb, &n, &error) < 0)
		return -1;
	return n;
}

static json_t *tenant_rules(struct view *v)
{
	json_t *t = NULL, *r;
	const char *error;

	if (directory_tenant_get(v, "acme", &t, &error) != 1)
		return NULL;
	r = json_incref(json_object_get(t, "retention"));
	json_decref(t);
	return r;
}

static json_t *mbox_of(struct view *v, const char *name)
{
	json_t *m = NULL;
	const char *error;

	mail_mailbox_by_name(v, BOB, name, &m, &error);
	return m;
}

static void test_tenant_rules(void)
{
	struct view *v = open_at("tenant");
	json_t *r;

	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "", json_pack("{s:s, s:I}", "name", "acme", "trash_ms",
									     (json_int_t)DAY)),
		     "not-found");
	CHECK_EQ_STR(apply_event(&env, v, "tenant.create", "", json_pack("{s:s}", "name", "acme")), "accepted");
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "",
				 json_pack("{s:s, s:I, s:I}", "name", "acme", "trash_ms", (json_int_t)(2 * DAY),
					   "all_ms", (json_int_t)(365 * DAY))),
		     "accepted");
	r = tenant_rules(v);
	CHECK(r != NULL);
	CHECK_EQ_INT(json_object_size(r), 2);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "trash")), 2 * DAY);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "all")), 365 * DAY);
	json_decref(r);
	/* Invalid values are rejected and write nothing (apply_event checks). */
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "", json_pack("{s:s, s:i}", "name", "acme", "junk_ms", 0)),
		     "invalid");
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "",
				 json_pack("{s:s, s:I}", "name", "acme", "all_ms", (json_int_t)RETENTION_MAX_MS + 1)),
		     "invalid");
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "", json_pack("{s:s, s:s}", "name", "acme", "junk_ms", "1")),
		     "invalid");
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "", json_pack("{s:s, s:i}", "name", "Acme", "junk_ms", 5)),
		     "invalid");
	/* Another tenant's envelope may not set them. */
	env.tenant = "globex";
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "", json_pack("{s:s, s:i}", "name", "acme", "junk_ms", 5)),
		     "forbidden");
	env.tenant = "";
	/* The whole set is replaced: junk only now. */
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "", json_pack("{s:s, s:i}", "name", "acme", "junk_ms", 5)),
		     "accepted");
	r = tenant_rules(v);
	CHECK_EQ_INT(json_object_size(r), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(r, "junk")), 5);
	json_decref(r);
	/* No rule: cleared. */
	CHECK_EQ_STR(apply_event(&env, v, "tenant.retention", "", json_pack("{s:s}", "name", "acme")), "accepted");
	CHECK(tenant_rules(v) == NULL);
	view_close(&v);
}

static void test_mailbox_rule(void)
{
	struct view *v = open_at("mailbox");
	json_t *m;

	CHECK_EQ_STR(apply_event(&env, v, "mailbox.provision", BOB, json_pack("{s:i}", "quota", 0)), "accepted");
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.retention", BOB, json_pack("{s:s, s:i}", "name", "Nope", "max_age_ms", 5)),
		     "not-found");
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.retention", BOB, json_pack("{s:i}", "max_age_ms", 5)), "invalid");
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.retention", BOB,
				 json_pack("{s:s, s:s, s:i}", "name", "INBOX", "mailbox_id", mb_id(v, "INBOX"),
					   "max_age_ms", 5)),
		     "invalid");
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.retention", BOB, json_pack("{s:s, s:i}", "name", "INBOX", "max_age_ms", -1)),
		     "invalid");
	/* By name (case of INBOX folded), then by id. */
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.retention", BOB, json_pack("{s:s, s:i}", "name", "inbox", "max_age_ms", 5000)),
		     "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(env.result, "mailbox_id")), mb_id(v, "INBOX"));
	m = mbox_of(v, "INBOX");
	CHECK_EQ_INT(json_integer_value(json_object_get(m, "retention_ms")), 5000);
	json_decref(m);
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.retention", BOB,
				 json_pack("{s:s, s:i}", "mailbox_id", mb_id(v, "Trash"), "max_age_ms", 0)),
		     "accepted");
	m = mbox_of(v, "Trash");
	CHECK_EQ_INT(json_integer_value(json_object_get(m, "retention_ms")), 0);
	CHECK(json_object_get(m, "retention_ms") != NULL);
	json_decref(m);
	/* Cleared by null. */
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.retention", BOB, json_pack("{s:s, s:n}", "name", "INBOX", "max_age_ms")),
		     "accepted");
	CHECK(json_is_null(json_object_get(env.result, "max_age_ms")));
	m = mbox_of(v, "INBOX");
	CHECK(json_object_get(m, "retention_ms") == NULL);
	json_decref(m);
	/* Kept on rename. */
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.rename", BOB,
				 json_pack("{s:s, s:s}", "mailbox_id", mb_id(v, "Trash"), "name", "Bin")),
		     "accepted");
	m = mbox_of(v, "Bin");
	CHECK(json_object_get(m, "retention_ms") != NULL);
	json_decref(m);
	view_close(&v);
}

/* A mailbox record with a special use and maybe its own rule (-1: none). */
static json_t *mbox_with(const char *su, int64_t own)
{
	json_t *m = json_pack("{s:s}", "special_use", su);

	if (own >= 0)
		json_object_set_new(m, "retention_ms", json_integer(own));
	return m;
}

/* retention_max_age of (rules, mbox); both consumed. */
static int64_t age_of(json_t *rules, json_t *mbox, const char **source_r)
{
	int64_t age = retention_max_age(rules, mbox, source_r);

	json_decref(rules);
	json_decref(mbox);
	return age;
}

static void test_matching(void)
{
	const char *src = NULL;

	CHECK_EQ_INT(age_of(NULL, mbox_with("\\Trash", -1), &src), -1);
	CHECK_EQ_STR(src, "");
	CHECK_EQ_INT(age_of(json_pack("{s:i}", "trash", 10), mbox_with("\\Trash", -1), &src), 10);
	CHECK_EQ_STR(src, "trash");
	CHECK_EQ_INT(age_of(json_pack("{s:i}", "trash", 10), mbox_with("", -1), &src), -1);
	CHECK_EQ_INT(age_of(json_pack("{s:i}", "trash", 10), mbox_with("\\Junk", -1), &src), -1);
	CHECK_EQ_INT(age_of(json_pack("{s:i, s:i}", "trash", 10, "junk", 7), mbox_with("\\Junk", -1), &src), 7);
	CHECK_EQ_STR(src, "junk");
	/* "all" is a cap: the shortest rule that matches wins. */
	CHECK_EQ_INT(age_of(json_pack("{s:i, s:i}", "trash", 10, "all", 100), mbox_with("\\Trash", -1), &src), 10);
	CHECK_EQ_INT(age_of(json_pack("{s:i, s:i}", "trash", 100, "all", 10), mbox_with("\\Trash", -1), &src), 10);
	CHECK_EQ_STR(src, "all");
	CHECK_EQ_INT(age_of(json_pack("{s:i, s:i}", "trash", 10, "all", 100), mbox_with("\\Sent", -1), &src), 100);
	CHECK_EQ_STR(src, "all");
	/* The mailbox's own rule overrides, 0 included (kept forever). */
	CHECK_EQ_INT(age_of(json_pack("{s:i, s:i}", "trash", 10, "all", 100), mbox_with("\\Trash", 500), &src), 500);
	CHECK_EQ_STR(src, "mailbox");
	CHECK_EQ_INT(age_of(json_pack("{s:i}", "all", 100), mbox_with("", 0), &src), 0);
	CHECK_EQ_STR(src, "mailbox");
	CHECK_EQ_INT(age_of(NULL, mbox_with("", 3), NULL), 3);
	/* Malformed members are no rule. */
	CHECK_EQ_INT(age_of(json_pack("{s:s, s:i}", "trash", "10", "all", -4), mbox_with("\\Trash", -1), &src), -1);
	CHECK_EQ_INT(age_of(NULL, json_pack("{s:s, s:s}", "special_use", "", "retention_ms", "x"), &src), -1);
}

/* The events of test_index, on v. */
static void index_events(struct view *v)
{
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.provision", BOB, json_pack("{s:i}", "quota", 0)), "accepted");
	append_at(v, "Trash", 1, T0 + 3000);   /* Trash uid 1 */
	append_at(v, "Trash", 2, T0 + 1000);   /* Trash uid 2: saved earlier */
	append_at(v, "INBOX", 3, T0 + 500);    /* INBOX uid 1 */
	append_at(v, "INBOX", 4, T0 + 600);    /* INBOX uid 2, moved to Trash at T0 + 5000 */
	apply_ts = T0 + 5000;
	CHECK_EQ_STR(apply_event(&env, v, "message.move", BOB,
				 json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", mb_id(v, "INBOX"), "uids", 2, 2,
					   "to_mailbox_id", mb_id(v, "Trash"))),
		     "accepted");
	apply_ts = 0;
}

/* The events of test_index from offset 1000, on v, with its expunge of
 * Trash's first two UIDs. */
static void index_run(struct view *v)
{
	next_offset = 1000;
	index_events(v);
	CHECK_EQ_STR(apply_event(&env, v, "message.expunge", BOB,
				 json_pack("{s:s, s:[[i,i]]}", "mailbox_id", mb_id(v, "Trash"), "uids", 1, 2)),
		     "accepted");
}

static void test_index(void)
{
	struct view *v = open_at("index"), *w = open_at("index2");
	char d1[65], d2[65];
	const char *error;
	uint64_t k1, k2;

	index_events(v);
	CHECK_EQ_INT(sdat_entries(v), 4);
	/* Oldest first by save date, not by UID or internal date. */
	CHECK_EQ_STR(expired(v, "Trash", T0 + 10000, 64), "2,1,3");
	CHECK_EQ_STR(expired(v, "Trash", T0 + 3000, 64), "2");
	CHECK_EQ_STR(expired(v, "Trash", T0 + 3001, 64), "2,1");
	CHECK_EQ_STR(expired(v, "Trash", T0 + 10000, 2), "2,1");
	CHECK_EQ_STR(expired(v, "Trash", T0 + 10000, 0), "");
	/* The moved message is new in Trash: its save date is the move's. */
	CHECK_EQ_STR(expired(v, "Trash", T0 + 5000, 64), "2,1");
	CHECK_EQ_STR(expired(v, "INBOX", T0 + 10000, 64), "1");
	/* Expunged: out of the index; expunging it again changes nothing. */
	CHECK_EQ_STR(apply_event(&env, v, "message.expunge", BOB,
				 json_pack("{s:s, s:[[i,i]]}", "mailbox_id", mb_id(v, "Trash"), "uids", 1, 2)),
		     "accepted");
	CHECK_EQ_STR(expired(v, "Trash", T0 + 10000, 64), "3");
	CHECK_EQ_INT(sdat_entries(v), 2);
	CHECK_EQ_STR(apply_event(&env, v, "message.expunge", BOB,
				 json_pack("{s:s, s:[[i,i]]}", "mailbox_id", mb_id(v, "Trash"), "uids", 1, 2)),
		     "accepted");
	CHECK_EQ_INT(json_array_size(json_object_get(env.result, "expunged")), 0);
	CHECK_EQ_INT(sdat_entries(v), 2);
	/* The mailbox's deletion takes its entries. */
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.create", BOB, json_pack("{s:s, s:s, s:s}", "mailbox_id", "0123456789abcdef0123456789abcdef", "name", "Old", "special_use", "")),
		     "accepted");
	append_at(v, "Old", 9, T0 + 7000);
	CHECK_EQ_INT(sdat_entries(v), 3);
	CHECK_EQ_STR(apply_event(&env, v, "mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", mb_id(v, "Old"))),
		     "accepted");
	CHECK_EQ_INT(sdat_entries(v), 2);
	view_close(&v);
	/* The same events on two fresh views: the same digest. */
	v = open_at("index3");
	index_run(v);
	index_run(w);
	if (view_digest(v, d1, &k1, &error) < 0 || view_digest(w, d2, &k2, &error) < 0)
		exit(2);
	CHECK_EQ_STR(d1, d2);
	CHECK_EQ_INT(k1, k2);
	CHECK(k1 > 0);
	view_close(&v);
	view_close(&w);
}

int main(void)
{
	test_run("retention: tenant rules", test_tenant_rules);
	test_run("retention: a mailbox's own rule", test_mailbox_rule);
	test_run("retention: which rule applies", test_matching);
	test_run("retention: the save-date index", test_index);
	json_decref(env.result);
	return test_done();
}
