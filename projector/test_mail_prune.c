/* test_mail_prune - tombstone pruning after the horizon
 * (projector/mail_prune.c) against a real view, with synthetic event
 * times: expunge tombstones and destroyed JMAP entries older than the
 * horizon go, newer ones stay, at most MAIL_PRUNE_MAX per event; the
 * pruned positions IMAP and JMAP read; no horizon, no pruning; and two
 * fresh views replaying the same events have equal digests. */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define MB1 "11111111111111111111111111111111"
#define T0 INT64_C(1700000000000)
#define HORIZON 1000   /* ms */
#define EXPUNGED 100   /* more than MAIL_PRUNE_MAX, fewer than two batches */

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0x9e0000, "", 1, NULL, "" };

static const char *run_on(struct view *v, const char *type, json_t *data)
{
	const char *code = apply_event(&env, v, type, BOB, data);

	if (strcmp(code, "accepted") != 0)
		fprintf(stderr, "%s: %s %s\n", type, code, env.reason);
	return code;
}

static struct view *open_at(const char *name)
{
	struct view *v = NULL;
	const char *error;

	if (view_open(test_tmpdir(name), &v, &error) < 0)
		exit(2);
	return v;
}

/* Appends blob n to MB1 (one email id per blob). */
static void append_on(struct view *v, int n)
{
	char blob[65], msgid[32];
	json_t *d;

	snprintf(blob, sizeof blob, "%064d", n);
	snprintf(msgid, sizeof msgid, "m%d@x", n);
	d = json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I, s:{s:[s], s:[], s:[]}, s:{s:s}}, s:[], s:[]}",
		      "mailbox_id", MB1, "blob_id", blob, "blob_size", (json_int_t)100, "prefix", "",
		      "internal_date", (json_int_t)T0, "summary", "size", (json_int_t)10, "headers",
		      "message_id", msgid, "in_reply_to", "references", "thread", "base_subject", "hi",
		      "flags", "keywords");
	CHECK_EQ_STR(run_on(v, "message.append", d), "accepted");
}

static void expunge_on(struct view *v, int lo, int hi)
{
	CHECK_EQ_STR(run_on(v, "message.expunge", json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB1, "uids", lo, hi)),
		     "accepted");
}

/* A flag change of uid (\Seen set, then cleared, ...: a store that
 * changes nothing writes nothing): an event of the mailbox and of the
 * Email type. */
static int seen;

static void store_on(struct view *v, int uid)
{
	seen = !seen;
	CHECK_EQ_STR(run_on(v, "message.store", json_pack("{s:s, s:[[i,i]], s:s, s:[s]}", "mailbox_id", MB1,
							  "uids", uid, uid, "action", seen ? "add" : "remove",
							  "flags", "\\Seen")),
		     "accepted");
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

/* Keys of bob's store under kind (e.g. "gone/"). */
static int count(struct view *v, const char *kind)
{
	char prefix[128];
	const char *error;
	int n = 0;

	snprintf(prefix, sizeof prefix, "mail/%s/%s", BOB, kind);
	if (view_scan(v, prefix, strlen(prefix), count_cb, &n, &error) < 0)
		abort();
	return n;
}

static int64_t pruned_modseq(void)
{
	const char *error;
	uint64_t p = 0;

	if (mail_mailbox_pruned(view, BOB, MB1, &p, &error) != 1)
		abort();
	return (int64_t)p;
}

static int64_t jmap_horizon(enum mail_jtype t)
{
	const char *error;
	int64_t h = -1;

	if (mail_jmap_horizon(view, BOB, t, &h, &error) < 0)
		abort();
	return h;
}

/* Emails destroyed at the expunge of 2..EXPUNGED+1 (one event), a later
 * one at +600 ms, and the events that prune them. Returns the modseqs of
 * the two expunges. */
static void workload(struct view *v, int64_t *m1_r, int64_t *m2_r)
{
	apply_ts = T0;
	seen = 0;
	CHECK_EQ_STR(run_on(v, "mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "A")),
		     "accepted");
	for (int i = 1; i <= EXPUNGED + 3; i++)
		append_on(v, i);
	expunge_on(v, 2, EXPUNGED + 1);
	*m1_r = next_offset;   /* modseq = offset + 1 */
	apply_ts = T0 + 600;
	expunge_on(v, EXPUNGED + 2, EXPUNGED + 2);
	*m2_r = next_offset;
	/* Within the horizon of both: nothing goes. */
	apply_ts = T0 + 999;
	store_on(v, 1);
}

static void test_prune(void)
{
	int64_t m1, m2;
	int64_t live_email_modseq;
	json_t *ranges = NULL;
	const char *error;

	view = open_at("prune-1");
	next_offset = 0;
	apply_tombstone_ms = HORIZON;
	workload(view, &m1, &m2);
	CHECK_EQ_INT(count(view, "gone/"), EXPUNGED + 1);
	CHECK_EQ_INT(count(view, "mexp/"), EXPUNGED + 1);
	CHECK_EQ_INT((int)pruned_modseq(), 0);
	CHECK_EQ_INT((int)jmap_horizon(MAIL_J_EMAIL), 0);
	live_email_modseq = next_offset;

	/* T0 + 1500: the first expunge (T0) is older than the horizon, the
	 * second (T0 + 600) is not. One event: MAIL_PRUNE_MAX of the first. */
	apply_ts = T0 + 1500;
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "gone/"), EXPUNGED + 1 - MAIL_PRUNE_MAX);
	CHECK_EQ_INT(count(view, "mexp/"), EXPUNGED + 1 - MAIL_PRUNE_MAX);
	CHECK_EQ_INT((int)pruned_modseq(), (int)m1);
	/* JMAP: the emails destroyed at m1 go too, MAIL_PRUNE_MAX of them;
	 * the live ones before them are stepped over, not pruned. */
	CHECK_EQ_INT((int)jmap_horizon(MAIL_J_EMAIL), (int)m1);
	CHECK_EQ_INT(count(view, "jobj/email/"), EXPUNGED + 3 - MAIL_PRUNE_MAX);
	/* The next event takes the rest of m1; m2 stays. */
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "gone/"), 1);
	CHECK_EQ_INT(count(view, "mexp/"), 1);
	CHECK_EQ_INT((int)pruned_modseq(), (int)m1);
	CHECK_EQ_INT(count(view, "jobj/email/"), 3);
	/* What is left is exact from m1 on. */
	CHECK_EQ_INT(mail_vanished(view, BOB, MB1, (uint64_t)m1, &ranges, &error), 1);
	CHECK_EQ_INT((int)json_array_size(ranges), 1);
	CHECK_EQ_INT((int)json_integer_value(json_array_get(json_array_get(ranges, 0), 0)), EXPUNGED + 2);
	json_decref(ranges);

	/* T0 + 1601: the second expunge is older than the horizon now. */
	apply_ts = T0 + 1601;
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "gone/"), 0);
	CHECK_EQ_INT(count(view, "mexp/"), 0);
	CHECK_EQ_INT((int)pruned_modseq(), (int)m2);
	CHECK_EQ_INT((int)jmap_horizon(MAIL_J_EMAIL), (int)m2);
	CHECK_EQ_INT(count(view, "jobj/email/"), 2);
	/* The live emails' changes are all there. */
	CHECK(live_email_modseq > m2);
	CHECK_EQ_INT(count(view, "jseq/email/"), 2);
	CHECK_EQ_INT((int)jmap_horizon(MAIL_J_MAILBOX), 0);
	view_close(&view);
}

/* Without a horizon (apply_ctx.tombstone_ms 0) nothing is ever pruned. */
static void test_no_horizon(void)
{
	int64_t m1, m2;

	view = open_at("prune-none");
	next_offset = 0;
	apply_tombstone_ms = 0;
	workload(view, &m1, &m2);
	apply_ts = T0 + INT64_C(1000000000);
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "gone/"), EXPUNGED + 1);
	CHECK_EQ_INT((int)pruned_modseq(), 0);
	CHECK_EQ_INT((int)jmap_horizon(MAIL_J_EMAIL), 0);
	view_close(&view);
}

/* A fresh view "name" with the horizon on, MB1 created at T0 and n
 * messages appended to it. */
static void start_skip_view(const char *name, int n)
{
	view = open_at(name);
	next_offset = 0;
	apply_tombstone_ms = HORIZON;
	apply_ts = T0;
	seen = 0;
	CHECK_EQ_STR(run_on(view, "mailbox.create", json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "A")),
		     "accepted");
	for (int i = 1; i <= n; i++)
		append_on(view, i);
}

/* The JMAP scan is skipped while it cannot prune (jprn's "next"): after
 * many events that destroy nothing, a destroy, and the horizon passing,
 * the destroyed email still goes, and only then. */
static void test_jmap_skip(void)
{
	int64_t destroyed_at;

	start_skip_view("prune-skip", 3);
	for (int i = 0; i < 20; i++) {
		apply_ts = T0 + 10 + i;
		store_on(view, 1);      /* live touches only: nothing to prune */
	}
	CHECK_EQ_INT(count(view, "jobj/email/"), 3);
	apply_ts = T0 + 100;
	expunge_on(view, 2, 2);
	destroyed_at = next_offset;
	CHECK_EQ_INT(count(view, "jobj/email/"), 3);   /* destroyed, kept */
	apply_ts = T0 + 100 + HORIZON - 1;
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "jobj/email/"), 3);   /* not old enough yet */
	CHECK_EQ_INT((int)jmap_horizon(MAIL_J_EMAIL), 0);
	apply_ts = T0 + 100 + HORIZON + 1;
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "jobj/email/"), 2);
	CHECK_EQ_INT((int)jmap_horizon(MAIL_J_EMAIL), (int)destroyed_at);
	view_close(&view);
}

/* A member of MB1's record (0 when absent, -2 when the record is). */
static int64_t mbox_field(const char *member)
{
	const char *error;
	json_t *box = NULL;
	int64_t v;

	if (mail_mailbox_record(view, BOB, MB1, &box, &error) != 1)
		return -2;
	v = json_integer_value(json_object_get(box, member));
	json_decref(box);
	return v;
}

/* The mailbox scan is skipped while it would stop at its first entry
 * ("prune_next"): the record says when the first tombstone left was
 * expunged, or that none is left; an expunge after every tombstone went
 * is still pruned once the horizon passes, and only then; the sync's
 * "expunged_modseq" follows the newest expunge. */
static void test_mbox_skip(void)
{
	int64_t again;

	start_skip_view("prune-mbox-skip", 4);
	/* The appends' scans found no tombstone. */
	CHECK_EQ_INT((int)mbox_field("prune_next"), MAIL_PRUNE_NONE);
	CHECK_EQ_INT((int)mbox_field("expunged_modseq"), 0);
	apply_ts = T0 + 100;
	expunge_on(view, 2, 2);
	CHECK_EQ_INT((int)mbox_field("expunged_modseq"), (int)next_offset);
	CHECK(mbox_field("prune_next") == T0 + 100);
	apply_ts = T0 + 100 + HORIZON - 1;
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "mexp/"), 1);                /* not old enough yet */
	apply_ts = T0 + 100 + HORIZON + 1;
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "mexp/"), 0);
	CHECK_EQ_INT((int)mbox_field("prune_next"), MAIL_PRUNE_NONE);
	/* Every tombstone gone; a new expunge is the first again. */
	apply_ts = T0 + 5000;
	expunge_on(view, 3, 3);
	again = next_offset;
	CHECK_EQ_INT((int)mbox_field("expunged_modseq"), (int)again);
	CHECK(mbox_field("prune_next") == T0 + 5000);
	apply_ts = T0 + 5000 + 10;
	expunge_on(view, 4, 4);                               /* the first stays the first */
	CHECK(mbox_field("prune_next") == T0 + 5000);
	CHECK_EQ_INT((int)mbox_field("expunged_modseq"), (int)next_offset);
	apply_ts = T0 + 5000 + HORIZON + 1;
	store_on(view, 1);
	CHECK_EQ_INT(count(view, "mexp/"), 1);                /* uid 3's went, uid 4's stays */
	CHECK(mbox_field("prune_next") == T0 + 5010);
	CHECK_EQ_INT((int)pruned_modseq(), (int)again);
	view_close(&view);
}

/* The workload and the pruning events, then equal digests of two views. */
static void replay(struct view *v)
{
	int64_t m1, m2;

	next_offset = 0;
	apply_tombstone_ms = HORIZON;
	workload(v, &m1, &m2);
	for (int i = 0; i < 3; i++) {
		apply_ts = T0 + 1500 + 50 * i;
		store_on(v, 1);
	}
	expunge_on(v, 1, 1);
	apply_ts = T0 + 5000;
	append_on(v, 999);
}

static void test_determinism(void)
{
	struct view *v1 = open_at("prune-det-1"), *v2 = open_at("prune-det-2");
	char d1[65], d2[65];
	const char *error;
	uint64_t k1, k2;

	replay(v1);
	replay(v2);
	CHECK_EQ_INT(view_digest(v1, d1, &k1, &error), 0);
	CHECK_EQ_INT(view_digest(v2, d2, &k2, &error), 0);
	CHECK_EQ_INT((int)k1, (int)k2);
	CHECK_EQ_STR(d1, d2);
	/* ... and it pruned: the last tombstone (uid 1, T0 + 1600) went with
	 * the append at T0 + 5000, the others before. */
	CHECK_EQ_INT(count(v1, "gone/"), 0);
	view_close(&v1);
	view_close(&v2);
}

/* The strict "<20 digits>/<10 digits>" key suffix parser the scans share. */
static void test_key_num_uid(void)
{
	int64_t n = -1;
	uint32_t uid = 0;

	CHECK_EQ_INT(mail_key_num_uid("00000000000000000042/0000000007", 31, &n, &uid), 0);
	CHECK(n == 42 && uid == 7);
	CHECK_EQ_INT(mail_key_num_uid("09223372036854775807/4294967295", 31, &n, &uid), 0);
	CHECK(n == INT64_MAX && uid == UINT32_MAX);
	/* int64 and UID overflow, UID 0, a non-digit, a wrong separator or length */
	CHECK_EQ_INT(mail_key_num_uid("09223372036854775808/0000000001", 31, &n, &uid), -1);
	CHECK_EQ_INT(mail_key_num_uid("99999999999999999999/0000000001", 31, &n, &uid), -1);
	CHECK_EQ_INT(mail_key_num_uid("00000000000000000001/4294967296", 31, &n, &uid), -1);
	CHECK_EQ_INT(mail_key_num_uid("00000000000000000001/0000000000", 31, &n, &uid), -1);
	CHECK_EQ_INT(mail_key_num_uid("0000000000000000000x/0000000001", 31, &n, &uid), -1);
	CHECK_EQ_INT(mail_key_num_uid("00000000000000000001-0000000001", 31, &n, &uid), -1);
	CHECK_EQ_INT(mail_key_num_uid("00000000000000000001/00000000012", 32, &n, &uid), -1);
	CHECK_EQ_INT(mail_key_num_uid("00000000000000000001/000000001", 30, &n, &uid), -1);
}

int main(void)
{
	test_run("prune: older than the horizon go, newer stay, bounded per event", test_prune);
	test_run("prune: no horizon, nothing pruned", test_no_horizon);
	test_run("prune: the JMAP scan waits until it can prune", test_jmap_skip);
	test_run("prune: the mailbox scan waits until it can prune", test_mbox_skip);
	test_run("prune: equal digests on replay", test_determinism);
	test_run("prune: key suffix parser", test_key_num_uid);
	json_decref(env.result);
	return test_done();
}
