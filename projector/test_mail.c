/* test_mail - the mail and blob appliers and the mail read API against a
 * real view: every event's accept path and rejections, identifiers,
 * counters, tombstones, provisioning, blobs, shared summaries and
 * determinism. Events get fixed ids, times and offsets, as from a log. */
#include "projector/applier.h"
#include "projector/keys.h"
#include "projector/mail.h"
#include "projector/mail_internal.h"
#include "projector/test_apply.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdlib.h>

#define HASH1 "$y$j9T$NZFDRRWZkdzWPjx4VuTMU/$o9Y0Whp8m.T8p7AeJbjUEXmVuREK8T8lFnCRJR6skYD"
#define BOB "bob@acme.test"
#define ALICE "alice@acme.test"
#define MB1 "11111111111111111111111111111111"
#define MB2 "22222222222222222222222222222222"
#define MB3 "33333333333333333333333333333333"

static struct view *view;
static int64_t next_offset;   /* the next event's offset (and id, time) */
static json_t *last;          /* result of the last accepted event */
static char last_reason[256];

static struct apply_env env = { &next_offset, 0xabc000, "", 1, NULL, "" };

/* Runs one event's applier in its own committed batch (test_apply.h);
 * last is its outcome when accepted. Returns "accepted" or the code. */
static const char *run_on(struct view *v, const char *type, const char *account, json_t *data)
{
	const char *code = apply_event(&env, v, type, account, data);

	last = env.result;
	snprintf(last_reason, sizeof last_reason, "%s", env.reason);
	return code;
}

static const char *run(const char *type, const char *account, json_t *data)
{
	return run_on(view, type, account, data);
}

/* Literal JSON. */
static json_t *JL(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	if (v == NULL)
		abort();
	return v;
}

static int64_t res_int(const char *field)
{
	return json_integer_value(json_object_get(last, field));
}

static struct view *open_view_at(const char *name)
{
	struct view *v = NULL;
	const char *error;

	if (view_open(test_tmpdir(name), &v, &error) < 0) {
		fprintf(stderr, "view_open: %s\n", error);
		exit(2);
	}
	return v;
}

/* The directory: tenant acme, domain acme.test, bob (quota) and alice. */
static void setup_dir(struct view *v, json_int_t bob_quota)
{
	if (strcmp(run_on(v, "tenant.create", "", json_pack("{s:s}", "name", "acme")), "accepted") != 0 ||
	    strcmp(run_on(v, "domain.add", "", json_pack("{s:s, s:s}", "domain", "acme.test", "tenant", "acme")),
		   "accepted") != 0 ||
	    strcmp(run_on(v, "account.create", "", json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", BOB,
							      "display_name", "Bob", "quota", bob_quota,
							      "state", "active", "password_hash", HASH1)),
		   "accepted") != 0 ||
	    strcmp(run_on(v, "account.create", "", json_pack("{s:s, s:s, s:I, s:s, s:s}", "address", ALICE,
							      "display_name", "Alice", "quota", (json_int_t)0,
							      "state", "active", "password_hash", HASH1)),
		   "accepted") != 0) {
		fprintf(stderr, "directory setup failed\n");
		exit(2);
	}
}

/* A fresh view with the directory set up; with a quota, bob's mail state
 * is told it (account.quota, as the admin API appends after an update),
 * which provisions bob at offset 4. */
static void fresh(const char *name, json_int_t bob_quota)
{
	view_close(&view);
	next_offset = 0;
	view = open_view_at(name);
	setup_dir(view, bob_quota);
	if (bob_quota > 0 &&
	    strcmp(run_on(view, "account.quota", BOB, json_pack("{s:I}", "quota", bob_quota)), "accepted") != 0) {
		fprintf(stderr, "account.quota failed\n");
		exit(2);
	}
}

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* A summary as mime.h describes it (only the parts the store looks at). */
static json_t *summary(const char *msgid)
{
	return json_pack("{s:I, s:{s:[s]}, s:{s:s}}", "size", (json_int_t)10, "headers", "message_id",
			 msgid, "thread", "base_subject", "hello");
}

/* message.append data; blob named by a digit pattern. */
static json_t *append_data(const char *mailbox_id, const char *blob_id, json_int_t size,
			   const char *prefix, json_t *flags, json_t *keywords)
{
	json_t *d = json_pack("{s:s, s:I, s:s, s:I, s:o}", "blob_id", blob_id, "blob_size", size,
			      "prefix", prefix, "internal_date", (json_int_t)1690000000000,
			      "summary", summary("m1@x"));

	if (strlen(mailbox_id) == 32)
		json_object_set_new(d, "mailbox_id", json_string(mailbox_id));
	else
		json_object_set_new(d, "mailbox", json_string(mailbox_id));
	json_object_set_new(d, "flags", flags != NULL ? flags : json_array());
	json_object_set_new(d, "keywords", keywords != NULL ? keywords : json_array());
	return d;
}

#define BLOB_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BLOB_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define BLOB_C "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

/* A mailbox record, valid until the next call (NULL when not found). */
static json_t *mailbox(const char *account, const char *id)
{
	static json_t *keep;
	const char *error;

	json_decref(keep);
	keep = NULL;
	if (mail_mailbox_get(view, account, id, &keep, &error) != 1)
		return NULL;
	return keep;
}

/* A mailbox's counter, -1 when the mailbox is not there. */
static int64_t mb_int(const char *account, const char *id, const char *field)
{
	json_t *m = NULL;
	const char *error;
	int64_t v;

	if (mail_mailbox_get(view, account, id, &m, &error) != 1)
		return -1;
	v = json_integer_value(json_object_get(m, field));
	json_decref(m);
	return v;
}

static int64_t usage(const char *account, const char *field)
{
	json_t *u = NULL;
	const char *error;
	int64_t v;

	if (mail_account_usage(view, account, &u, &error) != 1)
		return -1;
	v = json_integer_value(json_object_get(u, field));
	json_decref(u);
	return v;
}

/* The id of a mailbox by name ("" when none). */
static const char *mb_id(const char *account, const char *name)
{
	static char id[33];
	json_t *m = NULL;
	const char *error;

	id[0] = '\0';
	if (mail_mailbox_by_name(view, account, name, &m, &error) == 1)
		snprintf(id, sizeof id, "%s", json_string_value(json_object_get(m, "id")));
	json_decref(m);
	return id;
}

/* Recounts every mailbox's counters and the account's usage from the
 * message records: 1 when the stored counters are exact. */
static int counters_exact(const char *account)
{
	json_t *list = NULL, *m, *msgs, *msg;
	const char *error;
	int64_t all_msgs = 0, all_size = 0;
	size_t i, j;
	int ok = 1;

	if (mail_mailboxes(view, account, &list, &error) != 0)
		return 0;
	json_array_foreach(list, i, m) {
		int64_t n = 0, size = 0, unseen = 0, maxuid = 0, maxmod = 0;

		if (mail_messages(view, account, json_string_value(json_object_get(m, "id")), 0, &msgs,
				  &error) != 1)
			return 0;
		json_array_foreach(msgs, j, msg) {
			n++;
			size += json_integer_value(json_object_get(msg, "size"));
			if (!(mail_flags_bits(json_object_get(msg, "flags")) & MAIL_F_SEEN))
				unseen++;
			if (json_integer_value(json_object_get(msg, "uid")) > maxuid)
				maxuid = json_integer_value(json_object_get(msg, "uid"));
			if (json_integer_value(json_object_get(msg, "modseq")) > maxmod)
				maxmod = json_integer_value(json_object_get(msg, "modseq"));
		}
		json_decref(msgs);
		if (n != json_integer_value(json_object_get(m, "messages")) ||
		    size != json_integer_value(json_object_get(m, "size")) ||
		    unseen != json_integer_value(json_object_get(m, "unseen")) ||
		    maxuid >= json_integer_value(json_object_get(m, "uidnext")) ||
		    maxmod > json_integer_value(json_object_get(m, "highestmodseq"))) {
			fprintf(stderr, "counters of %s are off: n %lld size %lld unseen %lld\n",
				json_string_value(json_object_get(m, "name")), (long long)n, (long long)size,
				(long long)unseen);
			ok = 0;
		}
		all_msgs += n;
		all_size += size;
	}
	json_decref(list);
	if (usage(account, "messages") != all_msgs || usage(account, "quota_used") != all_size) {
		fprintf(stderr, "usage of %s is off: %lld/%lld vs %lld/%lld\n", account,
			(long long)usage(account, "messages"), (long long)usage(account, "quota_used"),
			(long long)all_msgs, (long long)all_size);
		ok = 0;
	}
	return ok;
}

/* Keys under a prefix. */
static int count_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(*(int *)ctx)++;
	return 0;
}

static int count_keys(const char *prefix)
{
	int n = 0;
	const char *error;

	if (view_scan(view, prefix, strlen(prefix), count_cb, &n, &error) < 0)
		return -1;
	return n;
}

static void test_registry(void)
{
	static const char *const types[] = {
		"mailbox.provision", "account.quota", "mailbox.create", "mailbox.rename", "mailbox.delete",
		"mailbox.subscribe", "message.append", "message.store", "message.copy",
		"message.move", "message.expunge", "mailbox.claim_recent",
	};

	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
		const struct applier *a = applier_find(types[i]);

		CHECK(a != NULL);
		CHECK_EQ_INT(a->topic, EVM_TOPIC_MAIL);
	}
	CHECK(applier_find("blob.chunk") != NULL);
	CHECK_EQ_INT(applier_find("blob.chunk")->topic, EVM_TOPIC_BLOB);
	CHECK(applier_find("tenant.create") != NULL);
}

static void test_provision(void)
{
	static const char *const names[] = { "Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash" };
	static const char *const uses[] = { "\\Archive", "\\Drafts", "", "\\Junk", "\\Sent", "\\Trash" };
	json_t *list = NULL, *m;
	const char *error;
	char evid[33], want[33], pre[64];
	int64_t off;
	size_t i;

	fresh("mail-provision", 0);
	/* A bad envelope account: rejected, nothing written. */
	CHECK_EQ_STR(run("mailbox.provision", "Bob@ACME.test", NULL), "invalid");
	CHECK_EQ_STR(run("mailbox.provision", "bob", NULL), "invalid");
	CHECK_EQ_STR(run("mailbox.provision", BOB, json_pack("{s:i}", "quota", -1)), "invalid");
	CHECK_EQ_STR(run("mailbox.provision", BOB, json_pack("{s:s}", "quota", "1")), "invalid");
	CHECK_EQ_STR(run("account.quota", BOB, NULL), "invalid");
	CHECK_EQ_STR(run("account.quota", BOB, json_pack("{s:f}", "quota", 1.5)), "invalid");
	CHECK_EQ_STR(run("mailbox.provision", "", NULL), "invalid");
	/* A rejected first event provisions nothing. */
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB1)), "not-found");
	CHECK_EQ_INT(mail_mailboxes(view, BOB, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 0);
	json_decref(list);
	CHECK_EQ_INT(mail_account_usage(view, BOB, &list, &error), 0);

	off = next_offset;
	snprintf(evid, sizeof evid, "%032" PRIx64, (uint64_t)off + 0xabc000);
	CHECK_EQ_STR(run("mailbox.provision", BOB, NULL), "accepted");
	CHECK(json_is_true(json_object_get(last, "provisioned")));
	CHECK_EQ_INT(mail_mailboxes(view, BOB, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 6);
	json_array_foreach(list, i, m) {
		snprintf(pre, sizeof pre, "/%s", names[i]);
		mail_hash_id(evid, pre, want);
		CHECK_EQ_STR(json_string_value(json_object_get(m, "name")), names[i]);
		CHECK_EQ_STR(json_string_value(json_object_get(m, "special_use")), uses[i]);
		CHECK_EQ_STR(json_string_value(json_object_get(m, "id")), want);
		CHECK_EQ_INT(json_integer_value(json_object_get(m, "uidvalidity")), off + 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(m, "uidnext")), 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(m, "highestmodseq")), off + 1);
		CHECK_EQ_INT(json_integer_value(json_object_get(m, "messages")), 0);
		CHECK_EQ_INT(json_integer_value(json_object_get(m, "unseen")), 0);
		CHECK_EQ_INT(json_integer_value(json_object_get(m, "size")), 0);
		CHECK(json_is_true(json_object_get(m, "subscribed")));
	}
	json_decref(list);
	CHECK_EQ_INT(usage(BOB, "messages"), 0);
	CHECK_EQ_INT(usage(BOB, "quota_used"), 0);
	/* Once: a second provision only sets the quota. */
	CHECK_EQ_STR(run("mailbox.provision", BOB, json_pack("{s:i}", "quota", 100)), "accepted");
	CHECK(json_is_false(json_object_get(last, "provisioned")));
	CHECK_EQ_INT(mail_mailboxes(view, BOB, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 6);
	json_decref(list);
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 101, "", NULL, NULL)), "quota");
	CHECK_EQ_STR(run("account.quota", BOB, json_pack("{s:i}", "quota", 101)), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 101, "", NULL, NULL)), "accepted");
	CHECK_EQ_STR(run("account.quota", BOB, json_pack("{s:i}", "quota", 0)), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 100000, "", NULL, NULL)), "accepted");
	CHECK_EQ_INT(count_keys("mail/bob@acme.test/quota"), 0);

	/* The mail state never reads the directory: an address the directory
	 * does not know is provisioned like any other (mail.h). */
	CHECK_EQ_STR(run("mailbox.provision", "nobody@nowhere.test", json_pack("{s:i}", "quota", 5)), "accepted");
	CHECK(json_is_true(json_object_get(last, "provisioned")));
	CHECK_EQ_STR(run("message.append", "nobody@nowhere.test", append_data("INBOX", BLOB_A, 6, "", NULL, NULL)),
		     "quota");

	/* Any first event provisions: alice's first is an append to INBOX. */
	off = next_offset;
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 5, "", NULL, NULL)), "accepted");
	CHECK_EQ_INT(res_int("uid"), 1);
	CHECK_EQ_INT(res_int("uidvalidity"), off + 1);
	CHECK_EQ_INT(mb_int(ALICE, mb_id(ALICE, "Trash"), "uidnext"), 1);
	CHECK_EQ_INT(mb_int(ALICE, mb_id(ALICE, "INBOX"), "messages"), 1);
	/* A first event that creates a default name is rejected against the
	 * virtual default mailboxes, and provisions nothing. */
	view_close(&view);
	fresh("mail-provision2", 0);
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s, s:s, s:s}", "mailbox_id", MB1, "name",
							    "Sent", "special_use", "")), "exists");
	CHECK_EQ_INT(count_keys(KEY_MAIL), 0);
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s, s:s, s:s}", "mailbox_id", MB1, "name",
							    "Work", "special_use", "")), "accepted");
	CHECK_EQ_INT(mail_mailboxes(view, BOB, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 7);
	json_decref(list);
}

static json_t *create_data(const char *id, const char *name, const char *su)
{
	return json_pack("{s:s, s:s, s:s}", "mailbox_id", id, "name", name, "special_use", su);
}

static void test_mailbox_create(void)
{
	char longname[600];
	json_t *m = NULL;
	const char *error;
	int64_t off;

	fresh("mail-create", 0);
	off = next_offset;
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB1, "Work", "")), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(last, "mailbox_id")), MB1);
	CHECK_EQ_INT(res_int("uidvalidity"), off + 1);
	CHECK_EQ_INT(mb_int(BOB, MB1, "uidvalidity"), off + 1);
	CHECK_EQ_INT(mb_int(BOB, MB1, "highestmodseq"), off + 1);
	CHECK_EQ_STR(mb_id(BOB, "Work"), MB1);
	CHECK_EQ_INT(mail_mailbox_get(view, BOB, MB1, &m, &error), 1);
	CHECK(json_is_false(json_object_get(m, "subscribed")));
	json_decref(m);
	/* The stored record: the same counters, no subscription lookup. */
	CHECK_EQ_INT(mail_mailbox_record(view, BOB, MB1, &m, &error), 1);
	CHECK(json_object_get(m, "subscribed") == NULL);
	CHECK_EQ_INT(json_integer_value(json_object_get(m, "uidvalidity")), off + 1);
	json_decref(m);
	CHECK_EQ_INT(mail_mailbox_record(view, BOB, MB2, &m, &error), 0);
	CHECK(m == NULL);
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB2, "Work/Projects", "\\Flagged")), "accepted");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "Work", "")), "exists");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "INBOX", "")), "exists");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "inbox", "")), "exists");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "Sent", "")), "exists");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB1, "Other", "")), "exists");
	/* inbox/x is INBOX/x */
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "inbox/x", "")), "accepted");
	CHECK_EQ_STR(mb_id(BOB, "INBOX/x"), MB3);
	CHECK_EQ_STR(mb_id(BOB, "Inbox/x"), MB3);
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "INBOX/x", "")), "exists");

	/* Malformed. */
	memset(longname, 'a', 513);
	longname[513] = '\0';
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("4444", "A", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("4444444444444444444444444444444G", "A", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "A", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "/a", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "a/", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "a//b", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "a*", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "a%b", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "a\tb", "")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, longname, "")), "invalid");
	longname[512] = '\0';
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("44444444444444444444444444444444", longname, "")),
		     "accepted");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "B", "\\Important")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "B", "\\sent")), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s, s:i}", "mailbox_id", MB3, "name", 5)), "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s, s:s#}", "mailbox_id", MB3, "name", "a\0b", 3)),
		     "invalid");
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s}", "name", "B")), "invalid");
	/* Names are UTF-8. */
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("55555555555555555555555555555555", "Entwürfe/ß", "")),
		     "accepted");
	CHECK_EQ_STR(mb_id(BOB, "Entwürfe/ß"), "55555555555555555555555555555555");
	CHECK(counters_exact(BOB));
}

static void test_mailbox_rename_delete(void)
{
	json_t *list = NULL;
	const char *error;

	fresh("mail-rename", 0);
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB1, "A", "")), "accepted");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB2, "A/B", "")), "accepted");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB3, "A/B/C", "")), "accepted");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("44444444444444444444444444444444", "X", "")), "accepted");

	/* Rejections. */
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "X")), "exists");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "A")), "exists");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "INBOX")), "exists");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "A/D")), "invalid");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "a//")), "invalid");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id",
							    "99999999999999999999999999999999", "name", "Q")),
		     "not-found");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", mb_id(BOB, "INBOX"), "name",
							    "Old")), "forbidden");
	/* A child's new name taken: X/B exists -> A cannot become X. Set it up
	 * with a fresh name. */
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("66666666666666666666666666666666", "Y/B", "")), "accepted");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Y")), "exists");

	/* Children move with it; ids, UIDVALIDITY stay. */
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Z/New")),
		     "accepted");
	CHECK_EQ_STR(mb_id(BOB, "Z/New"), MB1);
	CHECK_EQ_STR(mb_id(BOB, "Z/New/B"), MB2);
	CHECK_EQ_STR(mb_id(BOB, "Z/New/B/C"), MB3);
	CHECK_EQ_STR(mb_id(BOB, "A"), "");
	CHECK_EQ_STR(mb_id(BOB, "A/B"), "");
	CHECK_EQ_INT(mb_int(BOB, MB2, "uidvalidity"), 6);
	/* Moving a child up over its old parent's vacated names. */
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB2, "name", "B")), "accepted");
	CHECK_EQ_STR(mb_id(BOB, "B/C"), MB3);
	CHECK_EQ_STR(json_string_value(json_object_get(mailbox(BOB, MB3), "name")), "B/C");

	/* Delete. */
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", mb_id(BOB, "INBOX"))), "forbidden");
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB2)), "not-empty");
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", "99999999999999999999999999999999")),
		     "not-found");
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", "xyz")), "invalid");
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB3)), "accepted");
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB2)), "accepted");
	CHECK_EQ_STR(mb_id(BOB, "B"), "");
	CHECK(mailbox(BOB, MB2) == NULL);
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB2)), "not-found");
	/* The name is free again; the new mailbox has a new UIDVALIDITY. */
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data("77777777777777777777777777777777", "B", "")), "accepted");
	CHECK_EQ_INT(mb_int(BOB, "77777777777777777777777777777777", "uidvalidity"), next_offset);
	CHECK_EQ_INT(mail_mailboxes(view, BOB, &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 10);
	json_decref(list);

	/* Subscriptions: any name, idempotent. */
	CHECK_EQ_STR(run("mailbox.subscribe", BOB, json_pack("{s:s, s:b}", "name", "B", "subscribed", 1)), "accepted");
	CHECK(json_is_true(json_object_get(mailbox(BOB, "77777777777777777777777777777777"), "subscribed")));
	CHECK_EQ_STR(run("mailbox.subscribe", BOB, json_pack("{s:s, s:b}", "name", "B", "subscribed", 1)), "accepted");
	CHECK_EQ_STR(run("mailbox.subscribe", BOB, json_pack("{s:s, s:b}", "name", "Nowhere", "subscribed", 1)),
		     "accepted");
	CHECK_EQ_STR(run("mailbox.subscribe", BOB, json_pack("{s:s, s:b}", "name", "Sent", "subscribed", 0)), "accepted");
	CHECK(json_is_false(json_object_get(mailbox(BOB, mb_id(BOB, "Sent")), "subscribed")));
	CHECK_EQ_STR(run("mailbox.subscribe", BOB, json_pack("{s:s, s:i}", "name", "B", "subscribed", 1)), "invalid");
	CHECK_EQ_STR(run("mailbox.subscribe", BOB, json_pack("{s:s, s:b}", "name", "/B", "subscribed", 1)), "invalid");
	CHECK_EQ_STR(run("mailbox.subscribe", BOB, json_pack("{s:b}", "subscribed", 1)), "invalid");
}

static void test_append(void)
{
	char email[33];
	json_t *msg = NULL, *kws, *sum = NULL;
	const char *error, *inbox;
	int64_t off;
	char kwname[16];

	fresh("mail-append", 1000);
	off = next_offset;
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 100, "Delivered-To: bob\r\n",
							     json_pack("[s]", "\\seen"), json_pack("[s,s]", "$Junk", "work"))),
		     "accepted");
	inbox = mb_id(BOB, "INBOX");
	mail_hash_id(BLOB_A, "Delivered-To: bob\r\n", email);
	CHECK_EQ_STR(json_string_value(json_object_get(last, "mailbox_id")), inbox);
	CHECK_EQ_INT(res_int("uid"), 1);
	CHECK_EQ_INT(res_int("modseq"), off + 1);
	CHECK_EQ_INT(res_int("uidvalidity"), 5);   /* provisioned by account.quota at offset 4 */
	CHECK_EQ_STR(json_string_value(json_object_get(last, "email_id")), email);
	CHECK_EQ_INT(mail_message_get(view, BOB, inbox, 1, &msg, &error), 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(msg, "size")), 100 + 19);
	CHECK_EQ_INT(json_integer_value(json_object_get(msg, "modseq")), off + 1);
	CHECK_EQ_INT(json_integer_value(json_object_get(msg, "internal_date")), 1690000000000);
	CHECK_EQ_INT(json_integer_value(json_object_get(msg, "savedate")), 1700000000000 + off);
	CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(msg, "flags"), 0)), "\\Seen");
	CHECK_EQ_STR(json_string_value(json_object_get(msg, "blob_id")), BLOB_A);
	CHECK_EQ_STR(json_string_value(json_object_get(msg, "prefix")), "Delivered-To: bob\r\n");
	CHECK_EQ_STR(json_string_value(json_object_get(msg, "email_id")), email);
	kws = json_object_get(msg, "keywords");
	CHECK_EQ_INT(json_array_size(kws), 2);
	CHECK_EQ_STR(json_string_value(json_array_get(kws, 0)), "$Junk");
	json_decref(msg);
	CHECK_EQ_INT(mail_summary_get(view, BOB, email, &sum, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(sum, "thread"), "base_subject")), "hello");
	json_decref(sum);
	CHECK_EQ_INT(mb_int(BOB, inbox, "uidnext"), 2);
	CHECK_EQ_INT(mb_int(BOB, inbox, "unseen"), 0);
	CHECK_EQ_INT(mb_int(BOB, inbox, "highestmodseq"), off + 1);
	CHECK_EQ_INT(mb_int(BOB, inbox, "uidvalidity"), 5);
	CHECK_EQ_INT(usage(BOB, "messages"), 1);
	CHECK_EQ_INT(usage(BOB, "quota_used"), 119);

	/* By id, unseen; UIDs count up; the mailbox's modseq follows. */
	off = next_offset;
	CHECK_EQ_STR(run("message.append", BOB, append_data(inbox, BLOB_B, 200, "", NULL, NULL)), "accepted");
	CHECK_EQ_INT(res_int("uid"), 2);
	CHECK_EQ_INT(res_int("modseq"), off + 1);
	CHECK_EQ_INT(mb_int(BOB, inbox, "unseen"), 1);
	CHECK_EQ_INT(mb_int(BOB, inbox, "highestmodseq"), off + 1);
	CHECK_EQ_STR(run("message.append", BOB, append_data("inbox", BLOB_B, 300, "", NULL, NULL)), "accepted");
	CHECK_EQ_INT(res_int("uid"), 3);
	CHECK_EQ_INT(usage(BOB, "quota_used"), 619);
	/* Quota: 619 + 382 > 1000; 619 + 381 = 1000 fits. */
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_C, 382, "", NULL, NULL)), "quota");
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_C, 381, "", NULL, NULL)), "accepted");
	CHECK_EQ_INT(res_int("uid"), 4);
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_C, 0, "x", NULL, NULL)), "quota");
	CHECK_EQ_INT(usage(BOB, "quota_used"), 1000);
	/* Unlimited for alice. */
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_C, 1000000000, "", NULL, NULL)), "accepted");

	/* Not found. */
	CHECK_EQ_STR(run("message.append", BOB, append_data("Nowhere", BLOB_C, 1, "", NULL, NULL)), "not-found");
	CHECK_EQ_STR(run("message.append", BOB, append_data(MB1, BLOB_C, 1, "", NULL, NULL)), "not-found");
	CHECK_EQ_STR(run("message.append", "carol@acme.test", append_data("Work", BLOB_C, 1, "", NULL, NULL)),
		     "not-found");

	/* Malformed. */
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", "abc", 1, "", NULL, NULL)), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A "a", 1, "", NULL, NULL)), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1, "", NULL, NULL)), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, -1, "", NULL, NULL)), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "",
							       json_pack("[s]", "\\Recent"), NULL)), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "",
							       json_pack("[s]", "work"), NULL)), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "", NULL,
							       json_pack("[s]", "\\Seen"))), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "", NULL,
							       json_pack("[s]", "a b"))), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "", NULL,
							       json_pack("[s]", "a]"))), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "", NULL,
							       json_pack("[i]", 3))), "invalid");
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "", NULL,
							       json_pack("[s]", "é"))), "invalid");
	kws = json_array();
	for (int i = 0; i < 101; i++) {
		snprintf(kwname, sizeof kwname, "k%d", i);
		json_array_append_new(kws, json_string(kwname));
	}
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "", NULL, json_deep_copy(kws))),
		     "invalid");
	json_array_remove(kws, 0);
	CHECK_EQ_STR(run("message.append", ALICE, append_data("INBOX", BLOB_A, 1, "", NULL, kws)), "accepted");
	{
		json_t *d = append_data("INBOX", BLOB_A, 1, "", NULL, NULL);

		json_object_set_new(d, "mailbox_id", json_string(inbox));
		CHECK_EQ_STR(run("message.append", ALICE, d), "invalid");
		d = append_data("INBOX", BLOB_A, 1, "", NULL, NULL);
		json_object_del(d, "summary");
		CHECK_EQ_STR(run("message.append", ALICE, d), "invalid");
		d = append_data("INBOX", BLOB_A, 1, "", NULL, NULL);
		json_object_set_new(d, "summary", json_string("x"));
		CHECK_EQ_STR(run("message.append", ALICE, d), "invalid");
		d = append_data("INBOX", BLOB_A, 1, "", NULL, NULL);
		json_object_set_new(d, "internal_date", json_string("today"));
		CHECK_EQ_STR(run("message.append", ALICE, d), "invalid");
		d = append_data("INBOX", BLOB_A, 1, "", NULL, NULL);
		json_object_set_new(d, "dsn", json_string("x"));
		CHECK_EQ_STR(run("message.append", ALICE, d), "invalid");
		d = append_data("INBOX", BLOB_A, 1, "", NULL, NULL);
		json_object_set_new(d, "dsn", json_pack("{s:s}", "ret", "hdrs"));
		CHECK_EQ_STR(run("message.append", ALICE, d), "accepted");
		d = append_data("INBOX", BLOB_A, 1, "", NULL, NULL);
		json_object_del(d, "mailbox");
		CHECK_EQ_STR(run("message.append", ALICE, d), "invalid");
	}
	CHECK(counters_exact(BOB));
	CHECK(counters_exact(ALICE));
}

static json_t *uids1(json_int_t lo, json_int_t hi)
{
	return json_pack("[[I,I]]", lo, hi);
}

static json_t *store_data(const char *mb, json_t *uids, const char *action, json_t *flags)
{
	return json_pack("{s:s, s:o, s:s, s:o}", "mailbox_id", mb, "uids", uids, "action", action,
			 "flags", flags);
}

/* Flags of a message as "a b c" (system flags then keywords). */
static const char *flags_of(const char *account, const char *mb, uint32_t uid)
{
	static char out[512];
	json_t *msg = NULL, *v;
	const char *error;
	size_t i;

	out[0] = '\0';
	if (mail_message_get(view, account, mb, uid, &msg, &error) != 1)
		return "(none)";
	json_array_foreach(json_object_get(msg, "flags"), i, v) {
		strcat(out, out[0] ? " " : "");
		strcat(out, json_string_value(v));
	}
	json_array_foreach(json_object_get(msg, "keywords"), i, v) {
		strcat(out, out[0] ? " " : "");
		strcat(out, json_string_value(v));
	}
	json_decref(msg);
	return out;
}

static int64_t msg_int(const char *account, const char *mb, uint32_t uid, const char *field)
{
	json_t *msg = NULL;
	const char *error;
	int64_t v;

	if (mail_message_get(view, account, mb, uid, &msg, &error) != 1)
		return -1;
	v = json_integer_value(json_object_get(msg, field));
	json_decref(msg);
	return v;
}

static void test_store(void)
{
	const char *inbox;
	char in[33];
	int64_t off, m1;
	json_t *ranges, *many;

	fresh("mail-store", 0);
	for (int i = 0; i < 5; i++)
		CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 10, "", NULL, NULL)), "accepted");
	inbox = mb_id(BOB, "INBOX");
	snprintf(in, sizeof in, "%s", inbox);
	CHECK_EQ_INT(mb_int(BOB, in, "unseen"), 5);

	off = next_offset;
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, json_pack("[[I,I],[I,I]]", (json_int_t)1,
		(json_int_t)2, (json_int_t)4, (json_int_t)4), "add", json_pack("[s,s]", "\\Seen", "Work"))), "accepted");
	CHECK_EQ_INT(res_int("modseq"), off + 1);
	CHECK_EQ_INT(json_array_size(json_object_get(last, "modified")), 0);
	CHECK_EQ_STR(flags_of(BOB, in, 1), "\\Seen Work");
	CHECK_EQ_STR(flags_of(BOB, in, 3), "");
	CHECK_EQ_INT(msg_int(BOB, in, 2, "modseq"), off + 1);
	CHECK_EQ_INT(msg_int(BOB, in, 3, "modseq"), 7);
	CHECK_EQ_INT(mb_int(BOB, in, "unseen"), 2);
	CHECK_EQ_INT(mb_int(BOB, in, "highestmodseq"), off + 1);
	m1 = off + 1;
	/* Case-insensitive keywords; no change -> no new modseq. */
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 1), "add", json_pack("[s,s]", "\\SEEN", "work"))),
		     "accepted");
	CHECK_EQ_INT(res_int("modseq"), m1);
	CHECK_EQ_INT(msg_int(BOB, in, 1, "modseq"), m1);
	CHECK_EQ_INT(mb_int(BOB, in, "highestmodseq"), m1);
	/* remove */
	off = next_offset;
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 5), "remove", json_pack("[s]", "\\Seen"))),
		     "accepted");
	CHECK_EQ_INT(res_int("modseq"), off + 1);
	CHECK_EQ_STR(flags_of(BOB, in, 1), "Work");
	CHECK_EQ_INT(msg_int(BOB, in, 3, "modseq"), 7);   /* not changed */
	CHECK_EQ_INT(mb_int(BOB, in, "unseen"), 5);
	/* set */
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 4294967295), "set",
							  json_pack("[s,s,s]", "\\Flagged", "\\Deleted", "$Label1"))),
		     "accepted");
	CHECK_EQ_STR(flags_of(BOB, in, 5), "\\Deleted \\Flagged $Label1");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(2, 2), "remove", json_pack("[s]", "$label1"))),
		     "accepted");
	CHECK_EQ_STR(flags_of(BOB, in, 2), "\\Deleted \\Flagged");
	/* Nonexistent UIDs are fine. */
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(100, 200), "add", json_pack("[s]", "\\Seen"))),
		     "accepted");

	/* unchanged_since (RFC 7162 3.1.3): 2 and 5 were changed after m. */
	{
		int64_t m = msg_int(BOB, in, 1, "modseq");
		json_t *d;

		CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(2, 2), "add", json_pack("[s]", "x"))),
			     "accepted");
		CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(5, 5), "add", json_pack("[s]", "x"))),
			     "accepted");
		d = store_data(in, uids1(1, 5), "add", json_pack("[s]", "\\Seen"));
		json_object_set_new(d, "unchanged_since", json_integer(m));
		off = next_offset;
		CHECK_EQ_STR(run("message.store", BOB, d), "accepted");
		ranges = json_object_get(last, "modified");
		CHECK_EQ_INT(json_array_size(ranges), 2);
		CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(ranges, 0), 0)), 2);
		CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(ranges, 0), 1)), 2);
		CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(ranges, 1), 0)), 5);
		CHECK_EQ_STR(flags_of(BOB, in, 2), "\\Deleted \\Flagged x");
		CHECK_EQ_STR(flags_of(BOB, in, 1), "\\Deleted \\Flagged \\Seen $Label1");
		CHECK_EQ_INT(res_int("modseq"), off + 1);
		CHECK_EQ_INT(mb_int(BOB, in, "unseen"), 2);
		/* unchanged_since 0: every message fails. */
		d = store_data(in, uids1(1, 5), "add", json_pack("[s]", "y"));
		json_object_set_new(d, "unchanged_since", json_integer(0));
		CHECK_EQ_STR(run("message.store", BOB, d), "accepted");
		CHECK_EQ_INT(json_array_size(json_object_get(last, "modified")), 1);
		CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(json_object_get(last, "modified"), 0), 1)), 5);
		CHECK_EQ_INT(res_int("modseq"), off + 1);
		d = store_data(in, uids1(1, 5), "add", json_pack("[s]", "y"));
		json_object_set_new(d, "unchanged_since", json_integer(-1));
		CHECK_EQ_STR(run("message.store", BOB, d), "invalid");
	}

	/* Bad UIDs, actions and flags. */
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(0, 1), "add", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(5, 3), "add", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 4294967296), "add", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, json_pack("[]"), "add", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, JL("[[1]]"), "add", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, JL("[[1,2,3]]"), "add", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, JL("[1]"), "add", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, JL("[[\"1\",2]]"), "add", json_pack("[]"))), "invalid");
	many = json_array();
	for (int i = 0; i < 10001; i++)
		json_array_append_new(many, json_pack("[i,i]", 2 * i + 1, 2 * i + 1));
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, json_deep_copy(many), "add", json_pack("[s]", "z"))),
		     "invalid");
	json_array_remove(many, 0);
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, many, "add", json_pack("[s]", "z"))), "accepted");
	CHECK_EQ_STR(flags_of(BOB, in, 3), "\\Deleted \\Flagged \\Seen $Label1 z");
	CHECK_EQ_STR(flags_of(BOB, in, 2), "\\Deleted \\Flagged x");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 1), "toggle", json_pack("[]"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 1), "add", json_pack("[s]", "\\Recent"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 1), "add", json_pack("[s]", "\\*"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 1), "add", json_pack("[s]", "a(b"))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(1, 1), "add", json_pack("[s]", ""))), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, json_pack("{s:s, s:o, s:s}", "mailbox_id", in, "uids", uids1(1, 1),
							  "action", "add")), "invalid");
	CHECK_EQ_STR(run("message.store", BOB, store_data(MB1, uids1(1, 1), "add", json_pack("[]"))), "not-found");
	/* More than 100 keywords on one message. */
	{
		json_t *kw = json_array();
		char k[16];

		for (int i = 0; i < 99; i++) {
			snprintf(k, sizeof k, "k%d", i);
			json_array_append_new(kw, json_string(k));
		}
		CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(4, 4), "set", json_deep_copy(kw))), "accepted");
		CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(4, 4), "add", json_pack("[s]", "k99"))),
			     "accepted");
		CHECK_EQ_STR(run("message.store", BOB, store_data(in, uids1(4, 4), "add", json_pack("[s]", "k100"))),
			     "invalid");
		json_decref(kw);
	}
	CHECK(counters_exact(BOB));
}

/* The n-th range of a result member as lo*100000+hi (small numbers). */
static long long range_at(const char *field, size_t i)
{
	json_t *r = json_array_get(json_object_get(last, field), i);

	if (r == NULL)
		return -1;
	return json_integer_value(json_array_get(r, 0)) * 100000 + json_integer_value(json_array_get(r, 1));
}

static json_t *copy_data(const char *from, json_t *uids, const char *to)
{
	return json_pack("{s:s, s:o, s:s}", "mailbox_id", from, "uids", uids, "to_mailbox_id", to);
}

static void test_copy_move_expunge(void)
{
	char in[33], tr[33];
	json_t *ranges = NULL;
	const char *error;
	int64_t off, mexp;

	fresh("mail-copy", 1000);
	for (int i = 0; i < 6; i++)
		CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 50, "", i % 2 ? json_pack("[s]", "\\Seen")
								    : NULL, NULL)), "accepted");
	snprintf(in, sizeof in, "%s", mb_id(BOB, "INBOX"));
	snprintf(tr, sizeof tr, "%s", mb_id(BOB, "Trash"));
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB1, "Work", "")), "accepted");
	/* uid 3 gone, so the source set is 1,2,4 -> COPYUID src 1:2,4 dst 1:3 */
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:o}", "mailbox_id", in, "uids", uids1(3, 3))),
		     "accepted");
	mexp = next_offset;
	CHECK_EQ_INT(res_int("modseq"), mexp);
	CHECK_EQ_INT(range_at("expunged", 0), 300003);
	CHECK_EQ_INT(usage(BOB, "messages"), 5);
	CHECK_EQ_INT(usage(BOB, "quota_used"), 250);

	off = next_offset;
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, JL("[[1,2],[4,4]]"), MB1)), "accepted");
	CHECK_EQ_INT(res_int("uidvalidity"), mb_int(BOB, MB1, "uidvalidity"));
	CHECK_EQ_INT(range_at("src", 0), 100002);
	CHECK_EQ_INT(range_at("src", 1), 400004);
	CHECK_EQ_INT(range_at("src", 2), -1);
	CHECK_EQ_INT(range_at("dst", 0), 100003);
	CHECK_EQ_INT(mb_int(BOB, MB1, "messages"), 3);
	CHECK_EQ_INT(mb_int(BOB, MB1, "unseen"), 1);   /* 1 unseen; 2 and 4 seen */
	CHECK_EQ_INT(mb_int(BOB, MB1, "uidnext"), 4);
	CHECK_EQ_INT(mb_int(BOB, MB1, "highestmodseq"), off + 1);
	CHECK_EQ_INT(msg_int(BOB, MB1, 3, "modseq"), off + 1);
	CHECK_EQ_STR(flags_of(BOB, MB1, 2), "\\Seen");
	CHECK_EQ_INT(mb_int(BOB, in, "messages"), 5);
	CHECK_EQ_INT(usage(BOB, "messages"), 8);
	CHECK_EQ_INT(usage(BOB, "quota_used"), 400);
	/* Quota counts copies: 400 + 12 * 50 = 1000 fits, one more does not. */
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 6), MB1)), "accepted");
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 6), MB1)), "accepted");
	CHECK_EQ_INT(usage(BOB, "quota_used"), 900);
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 6), MB1)), "quota");
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 1), MB1)), "accepted");
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 1), MB1)), "accepted");
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 1), MB1)), "quota");
	/* Nothing to copy: accepted, empty COPYUID. */
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(3, 3), MB1)), "accepted");
	CHECK_EQ_INT(range_at("src", 0), -1);
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 1), MB2)), "not-found");
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(MB2, uids1(1, 1), MB1)), "not-found");
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(0, 1), MB1)), "invalid");
	CHECK_EQ_STR(run("message.copy", BOB, json_pack("{s:s, s:o}", "mailbox_id", in, "uids", uids1(1, 1))), "invalid");
	CHECK(counters_exact(BOB));

	/* Move: no quota needed (account is full), source gets tombstones. */
	off = next_offset;
	CHECK_EQ_STR(run("message.move", BOB, copy_data(in, JL("[[4,6],[1,1]]"), tr)), "accepted");
	CHECK_EQ_INT(range_at("src", 0), 100001);
	CHECK_EQ_INT(range_at("src", 1), 400006);
	CHECK_EQ_INT(range_at("dst", 0), 100004);
	CHECK_EQ_INT(res_int("uidvalidity"), mb_int(BOB, tr, "uidvalidity"));
	CHECK_EQ_INT(mb_int(BOB, in, "messages"), 1);
	CHECK_EQ_INT(mb_int(BOB, tr, "messages"), 4);
	CHECK_EQ_INT(mb_int(BOB, in, "highestmodseq"), off + 1);
	CHECK_EQ_INT(mb_int(BOB, tr, "highestmodseq"), off + 1);
	CHECK_EQ_INT(usage(BOB, "quota_used"), 1000);
	CHECK(counters_exact(BOB));
	/* Vanished: since before the first expunge -> 1,3:6; since it -> 1,4:6. */
	CHECK_EQ_INT(mail_vanished(view, BOB, in, 0, &ranges, &error), 1);
	CHECK_EQ_INT(json_array_size(ranges), 2);
	CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(ranges, 1), 0)), 3);
	CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(ranges, 1), 1)), 6);
	json_decref(ranges);
	CHECK_EQ_INT(mail_vanished(view, BOB, in, (uint64_t)mexp, &ranges, &error), 1);
	CHECK_EQ_INT(json_array_size(ranges), 2);
	CHECK_EQ_INT(json_integer_value(json_array_get(json_array_get(ranges, 1), 0)), 4);
	json_decref(ranges);
	CHECK_EQ_INT(mail_vanished(view, BOB, in, (uint64_t)off + 1, &ranges, &error), 1);
	CHECK_EQ_INT(json_array_size(ranges), 0);
	json_decref(ranges);
	CHECK_EQ_INT(mail_vanished(view, BOB, MB2, 0, &ranges, &error), 0);
	/* Move within one mailbox renumbers. */
	CHECK_EQ_STR(run("message.move", BOB, copy_data(tr, uids1(1, 2), tr)), "accepted");
	CHECK_EQ_INT(range_at("dst", 0), 500006);
	CHECK_EQ_INT(mb_int(BOB, tr, "messages"), 4);
	CHECK(msg_int(BOB, tr, 1, "uid") == -1);
	CHECK_EQ_INT(msg_int(BOB, tr, 6, "uid"), 6);
	CHECK(counters_exact(BOB));

	/* Expunge frees quota; unknown UIDs are fine; bad input rejected. */
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:o}", "mailbox_id", MB1, "uids", uids1(1, 4294967295))),
		     "accepted");
	CHECK_EQ_INT(mb_int(BOB, MB1, "messages"), 0);
	CHECK_EQ_INT(mb_int(BOB, MB1, "unseen"), 0);
	CHECK_EQ_INT(mb_int(BOB, MB1, "size"), 0);
	CHECK_EQ_INT(usage(BOB, "quota_used"), 250);
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:o}", "mailbox_id", MB1, "uids", uids1(1, 9))),
		     "accepted");
	CHECK_EQ_INT(range_at("expunged", 0), -1);
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:o}", "mailbox_id", MB2, "uids", uids1(1, 9))),
		     "not-found");
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "uids", "1:9")), "invalid");
	/* Deleting a mailbox removes its messages and frees quota. */
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(tr, uids1(1, 10), MB1)), "accepted");
	CHECK_EQ_INT(usage(BOB, "quota_used"), 450);
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB1)), "accepted");
	CHECK_EQ_INT(usage(BOB, "quota_used"), 250);
	CHECK_EQ_INT(usage(BOB, "messages"), 5);
	CHECK(counters_exact(BOB));
}

static void test_summary_refcount(void)
{
	char e1[33], e2[33], in[33];
	json_t *sum = NULL;
	const char *error;
	char prefix[200];

	fresh("mail-summary", 0);
	mail_hash_id(BLOB_A, "", e1);
	mail_hash_id(BLOB_A, "P: 1\r\n", e2);
	CHECK(strcmp(e1, e2) != 0);
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 10, "", NULL, NULL)), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(last, "email_id")), e1);
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 10, "", NULL, NULL)), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(last, "email_id")), e1);
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_A, 10, "P: 1\r\n", NULL, NULL)), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(last, "email_id")), e2);
	snprintf(in, sizeof in, "%s", mb_id(BOB, "INBOX"));
	snprintf(prefix, sizeof prefix, "mail/bob@acme.test/email/");
	CHECK_EQ_INT(count_keys(prefix), 2);
	snprintf(prefix, sizeof prefix, "mail/bob@acme.test/mid/m1@x/");
	CHECK_EQ_INT(count_keys(prefix), 2);
	/* A copy shares the summary. */
	CHECK_EQ_STR(run("message.copy", BOB, copy_data(in, uids1(1, 1), mb_id(BOB, "Archive"))), "accepted");
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:o}", "mailbox_id", in, "uids", uids1(1, 2))),
		     "accepted");
	CHECK_EQ_INT(mail_summary_get(view, BOB, e1, &sum, &error), 1);
	json_decref(sum);
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:o}", "mailbox_id", mb_id(BOB, "Archive"),
							     "uids", uids1(1, 1))), "accepted");
	CHECK_EQ_INT(mail_summary_get(view, BOB, e1, &sum, &error), 0);
	CHECK_EQ_INT(mail_summary_get(view, BOB, e2, &sum, &error), 1);
	json_decref(sum);
	CHECK_EQ_INT(count_keys(prefix), 1);
	CHECK_EQ_INT(count_keys("mail/bob@acme.test/eref/"), 1);
	/* Summaries are per account. */
	CHECK_EQ_INT(mail_summary_get(view, ALICE, e2, &sum, &error), 0);
	/* A move keeps it. */
	CHECK_EQ_STR(run("message.move", BOB, copy_data(in, uids1(3, 3), mb_id(BOB, "Junk"))), "accepted");
	CHECK_EQ_INT(mail_summary_get(view, BOB, e2, &sum, &error), 1);
	json_decref(sum);
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", mb_id(BOB, "Junk"))), "accepted");
	CHECK_EQ_INT(mail_summary_get(view, BOB, e2, &sum, &error), 0);
	CHECK_EQ_INT(count_keys("mail/bob@acme.test/mid/"), 0);
	CHECK_EQ_INT(count_keys("mail/bob@acme.test/eref/"), 0);
	/* Message-IDs with '/' and '%' are escaped into one component. */
	{
		json_t *d = append_data("INBOX", BLOB_B, 1, "", NULL, NULL);

		json_object_set_new(d, "summary", summary("a/b%c@x"));
		CHECK_EQ_STR(run("message.append", BOB, d), "accepted");
		CHECK_EQ_INT(count_keys("mail/bob@acme.test/mid/a%2Fb%25c@x/"), 1);
	}
}

/* blob.chunk data for bytes [off, off+len) of body. */
static json_t *chunk_data(const char *blob_id, int index, int count, size_t size, const unsigned char *p,
			  size_t len)
{
	char *b64 = xmalloc(len / 3 * 4 + 8);
	json_t *d;

	EVP_EncodeBlock((unsigned char *)b64, p, (int)len);
	d = json_pack("{s:s, s:i, s:i, s:I, s:s}", "blob_id", blob_id, "index", index, "count", count,
		      "size", (json_int_t)size, "data", b64);
	free(b64);
	return d;
}

static void test_blobs(void)
{
	enum { CH = MAIL_BLOB_CHUNK_MAX };
	size_t size = 2 * CH + 1000;
	unsigned char *body = xmalloc(size);
	char id[65], *data = NULL, in[33];
	const char *error;
	size_t len = 0;
	char digest[65], digest2[65];
	uint64_t keys;

	for (size_t i = 0; i < size; i++)
		body[i] = (unsigned char)(i * 7 + i / 1000);
	body[5] = '\0';
	sha256_hex(body, size, id);
	fresh("mail-blobs", 0);
	/* Out of order, with a duplicate. */
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 2, 3, size, body + 2 * CH, 1000)), "accepted");
	CHECK_EQ_INT(res_int("present"), 1);
	CHECK(json_is_false(json_object_get(last, "complete")));
	CHECK_EQ_INT(mail_blob_read(view, id, &data, &len, &error), 0);
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 0, 3, size, body, CH)), "accepted");
	CHECK_EQ_INT(view_digest(view, digest, &keys, &error), 0);
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 0, 3, size, body, CH)), "accepted");
	CHECK_EQ_INT(res_int("present"), 2);
	CHECK_EQ_INT(view_digest(view, digest2, &keys, &error), 0);
	CHECK_EQ_STR(digest, digest2);
	/* Contradictions and malformed chunks. */
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 0, 3, size, body + 1, CH)), "conflict");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 1, 4, size, body + CH, CH)), "conflict");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 1, 3, size + 1, body + CH, CH)), "conflict");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 3, 3, size, body, 10)), "invalid");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, -1, 3, size, body, 10)), "invalid");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 0, 0, size, body, 10)), "invalid");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data("abc", 0, 3, size, body, 10)), "invalid");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(BLOB_A, 0, 1, 3 * CH, body, 10)), "invalid");
	{
		json_t *d = chunk_data(BLOB_A, 0, 1, 10, body, 10);
		unsigned char *big = xcalloc(1, CH + 1);

		json_object_set_new(d, "data", json_string("AAA"));
		CHECK_EQ_STR(run("blob.chunk", "", d), "invalid");
		d = chunk_data(BLOB_A, 0, 1, 10, body, 10);
		json_object_set_new(d, "data", json_string("AA=A"));
		CHECK_EQ_STR(run("blob.chunk", "", d), "invalid");
		d = chunk_data(BLOB_A, 0, 1, 10, body, 10);
		json_object_set_new(d, "data", json_string("AB=="));   /* non-canonical */
		CHECK_EQ_STR(run("blob.chunk", "", d), "invalid");
		d = chunk_data(BLOB_A, 0, 1, 10, body, 10);
		json_object_set_new(d, "data", json_string("A\nA="));
		CHECK_EQ_STR(run("blob.chunk", "", d), "invalid");
		d = chunk_data(BLOB_A, 0, 1, 10, body, 10);
		json_object_del(d, "data");
		CHECK_EQ_STR(run("blob.chunk", "", d), "invalid");
		CHECK_EQ_STR(run("blob.chunk", "", chunk_data(BLOB_A, 0, 2, CH + 1, big, CH + 1)), "invalid");
		free(big);
	}
	/* The completing chunk must make the blob hash to its id. */
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(BLOB_A, 0, 1, 10, body, 10)), "invalid");
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 1, 3, size, body, CH)), "invalid");
	CHECK_EQ_INT(mail_blob_read(view, id, &data, &len, &error), 0);
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 1, 3, size, body + CH, CH)), "accepted");
	CHECK(json_is_true(json_object_get(last, "complete")));
	CHECK_EQ_INT(mail_blob_read(view, id, &data, &len, &error), 1);
	CHECK_EQ_INT(len, size);
	CHECK(memcmp(data, body, size) == 0);
	free(data);
	CHECK_EQ_STR(run("blob.chunk", "", chunk_data(id, 2, 3, size, body + 2 * CH, 1000)), "accepted");
	CHECK_EQ_INT(res_int("present"), 3);

	/* The body of a message: prefix + blob, byte-identical. */
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", id, (json_int_t)size, "Delivered-To: bob\r\n",
							     NULL, NULL)), "accepted");
	snprintf(in, sizeof in, "%s", mb_id(BOB, "INBOX"));
	CHECK_EQ_INT(mail_message_body(view, BOB, in, 1, &data, &len, &error), 1);
	CHECK_EQ_INT(len, size + 19);
	CHECK(memcmp(data, "Delivered-To: bob\r\n", 19) == 0);
	CHECK(memcmp(data + 19, body, size) == 0);
	free(data);
	CHECK_EQ_INT(mail_message_body(view, BOB, in, 2, &data, &len, &error), 0);
	/* A message whose blob is not here (yet). */
	CHECK_EQ_STR(run("message.append", BOB, append_data("INBOX", BLOB_C, 3, "", NULL, NULL)), "accepted");
	CHECK_EQ_INT(mail_message_body(view, BOB, in, 2, &data, &len, &error), 0);
	CHECK(data == NULL);
	/* A small blob, one chunk, and the empty blob. */
	{
		char sid[65];

		sha256_hex("abc", 3, sid);
		CHECK_EQ_STR(run("blob.chunk", "", chunk_data(sid, 0, 1, 3, (const unsigned char *)"abc", 3)), "accepted");
		CHECK_EQ_INT(mail_blob_read(view, sid, &data, &len, &error), 1);
		CHECK_EQ_INT(len, 3);
		CHECK(memcmp(data, "abc", 3) == 0);
		free(data);
		sha256_hex("", 0, sid);
		CHECK_EQ_STR(run("blob.chunk", "", chunk_data(sid, 0, 1, 0, (const unsigned char *)"", 0)), "accepted");
		CHECK_EQ_INT(mail_blob_read(view, sid, &data, &len, &error), 1);
		CHECK_EQ_INT(len, 0);
		free(data);
	}
	free(body);
}

static json_t *claim_data(const char *mb)
{
	return json_pack("{s:s}", "mailbox_id", mb);
}

/* mailbox.claim_recent: each claim takes the UIDs no claim took before. */
static void test_claim_recent(void)
{
	char inbox[33];

	fresh("mail-recent", 0);
	CHECK_EQ_STR(run("mailbox.provision", BOB, NULL), "accepted");
	snprintf(inbox, sizeof inbox, "%s", mb_id(BOB, "INBOX"));
	/* Empty mailbox: nothing claimed, nothing written. */
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data(inbox)), "accepted");
	CHECK_EQ_INT(res_int("claimed_from"), 0);
	CHECK_EQ_INT(res_int("recent_uid"), 0);
	CHECK(json_object_get(mailbox(BOB, inbox), "recent_uid") == NULL);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_STR(run("message.append", BOB, append_data(inbox, BLOB_A, 10, "", NULL, NULL)), "accepted");
	/* The first claim takes 1..3, the second nothing. */
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data(inbox)), "accepted");
	CHECK_EQ_INT(res_int("claimed_from"), 0);
	CHECK_EQ_INT(res_int("recent_uid"), 3);
	CHECK_EQ_INT(mb_int(BOB, inbox, "recent_uid"), 3);
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data(inbox)), "accepted");
	CHECK_EQ_INT(res_int("claimed_from"), 3);
	CHECK_EQ_INT(res_int("recent_uid"), 3);
	/* New arrivals: the next claim takes exactly them. */
	CHECK_EQ_STR(run("message.append", BOB, append_data(inbox, BLOB_B, 10, "", NULL, NULL)), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, append_data(inbox, BLOB_C, 10, "", NULL, NULL)), "accepted");
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data(inbox)), "accepted");
	CHECK_EQ_INT(res_int("claimed_from"), 3);
	CHECK_EQ_INT(res_int("recent_uid"), 5);
	/* An expunge never lowers it; other counters are untouched. */
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:o}", "mailbox_id", inbox, "uids", uids1(5, 5))),
		     "accepted");
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data(inbox)), "accepted");
	CHECK_EQ_INT(res_int("claimed_from"), 5);
	CHECK_EQ_INT(res_int("recent_uid"), 5);
	CHECK_EQ_INT(mb_int(BOB, inbox, "messages"), 4);
	CHECK(counters_exact(BOB));
	/* Other mailboxes have their own. */
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data(mb_id(BOB, "Sent"))), "accepted");
	CHECK_EQ_INT(res_int("claimed_from"), 0);
	CHECK_EQ_INT(res_int("recent_uid"), 0);
	/* Rejections. */
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data(MB3)), "not-found");
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, claim_data("nothex")), "invalid");
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, json_object()), "invalid");
	/* A fresh account (virtual mailboxes): accepted, nothing claimed. */
	CHECK_EQ_STR(run("mailbox.claim_recent", ALICE, claim_data(MB3)), "not-found");
}

/* A fixed pseudo-random workload over two accounts. */
static void workload(struct view *v)
{
	static const char *const accts[] = { BOB, ALICE };
	uint32_t seed = 12345;
	char mbs[2][4][33];
	const char *error;

#define RND() (seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xffffff)
	for (int a = 0; a < 2; a++) {
		json_t *m = NULL;

		run_on(v, "mailbox.provision", accts[a], NULL);
		for (int k = 0; k < 3; k++) {
			char id[33], name[16];

			snprintf(id, sizeof id, "%031d%d", a, k);
			snprintf(name, sizeof name, "F%d", k);
			run_on(v, "mailbox.create", accts[a], create_data(id, name, ""));
			snprintf(mbs[a][k], 33, "%s", id);
		}
		mail_mailbox_by_name(v, accts[a], "INBOX", &m, &error);
		snprintf(mbs[a][3], 33, "%s", json_string_value(json_object_get(m, "id")));
		json_decref(m);
	}
	for (int i = 0; i < 400; i++) {
		static const char *const blobs[] = { BLOB_A, BLOB_B, BLOB_C };
		/* One draw per statement: argument order is unspecified. */
		int a = RND() % 2;
		const char *mb = mbs[a][RND() % 4];
		const char *to = mbs[a][RND() % 4];
		uint32_t lo = RND() % 20 + 1;
		uint32_t hi = lo + RND() % 5;
		uint32_t op = RND() % 6;
		const char *blob = blobs[RND() % 3];
		json_int_t size = RND() % 1000;
		const char *prefix = RND() % 2 ? "" : "X: y\r\n";
		json_t *flags = RND() % 2 ? json_pack("[s]", "\\Seen") : NULL;
		const char *action = RND() % 2 ? "add" : "remove";
		const char *kw = RND() % 2 ? "a" : "b";

		switch (op) {
		case 0:
		case 1:
			run_on(v, "message.append", accts[a], append_data(mb, blob, size, prefix, flags, NULL));
			flags = NULL;
			break;
		case 2:
			run_on(v, "message.store", accts[a],
			       store_data(mb, uids1(lo, hi), action, json_pack("[s,s]", "\\Seen", kw)));
			break;
		case 3:
			run_on(v, "message.copy", accts[a], copy_data(mb, uids1(lo, hi), to));
			break;
		case 4:
			run_on(v, "message.move", accts[a], copy_data(mb, uids1(lo, hi), to));
			break;
		default:
			run_on(v, "message.expunge", accts[a],
			       json_pack("{s:s, s:o}", "mailbox_id", mb, "uids", uids1(lo, hi)));
			break;
		}
		json_decref(flags);
		if (i % 7 == 0)
			run_on(v, "mailbox.claim_recent", accts[a], json_pack("{s:s}", "mailbox_id", mb));
	}
#undef RND
}

static void test_determinism_and_counters(void)
{
	struct view *v2;
	char d1[65], d2[65];
	const char *error;
	uint64_t k1, k2;

	fresh("mail-det-1", 0);
	workload(view);
	CHECK(counters_exact(BOB));
	CHECK(counters_exact(ALICE));
	CHECK(usage(BOB, "messages") > 10);
	CHECK_EQ_INT(view_digest(view, d1, &k1, &error), 0);

	next_offset = 0;
	v2 = open_view_at("mail-det-2");
	setup_dir(v2, 0);
	workload(v2);
	CHECK_EQ_INT(view_digest(v2, d2, &k2, &error), 0);
	view_close(&v2);
	CHECK_EQ_INT(k1, k2);
	CHECK_EQ_STR(d1, d2);
}

/* mail_changes into text: "uid@modseq:flags[ kw]" or "x<uid>@modseq", ';'-separated. */
static int change_text(void *ctx, const struct mail_change *c)
{
	struct buf *out = ctx;

	if (out->len > 0)
		buf_puts(out, ";");
	if (c->expunged)
		buf_printf(out, "x%u@%lld", c->uid, (long long)c->modseq);
	else
		buf_printf(out, "%u@%lld:%u%s%.*s", c->uid, (long long)c->modseq, c->flags, c->kwlen ? " " : "",
			   (int)c->kwlen, c->keywords);
	return 0;
}

static const char *changes(const char *mailbox_id, int64_t since, int with_expunged)
{
	static struct buf out = BUF_INIT;
	const char *error = NULL;

	buf_truncate(&out, 0);
	buf_puts(&out, "");
	if (mail_changes(view, BOB, mailbox_id, since, with_expunged, change_text, &out, &error) < 0)
		return error;
	return out.data;
}

/* Keys of bob's index kind (MAIL_K_MSEQ / MAIL_K_MEXP) for a mailbox. */
static int index_keys(const char *kind, const char *mailbox_id)
{
	struct buf k = BUF_INIT;
	const char *error = NULL;
	int n = 0;

	mail_key_uid(&k, BOB, kind, mailbox_id, 0);
	if (view_scan(view, k.data, k.len, count_cb, &n, &error) < 0)
		n = -1;
	buf_free(&k);
	return n;
}

/* The modseq index: one live entry per message at its modseq, expunges
 * after, the previous entry gone in the same batch; removed with the
 * mailbox (mail_keys.h). */
static void test_modseq_index(void)
{
	int64_t m1, m2, m3, m4, m5, m6;
	char want[256];
	json_t *list = NULL;
	const char *error = NULL;

	fresh("mail-mseq", 0);
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB1, "Work", "")), "accepted");
	CHECK_EQ_STR(run("mailbox.create", BOB, create_data(MB2, "Other", "")), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, append_data(MB1, BLOB_A, 5, "", NULL, NULL)), "accepted");
	m1 = res_int("modseq");
	CHECK_EQ_STR(run("message.append", BOB, append_data(MB1, BLOB_B, 5, "", JL("[\"\\\\Seen\"]"), NULL)),
		     "accepted");
	m2 = res_int("modseq");
	CHECK_EQ_STR(run("message.append", BOB, append_data(MB1, BLOB_C, 5, "", NULL, JL("[\"$b\", \"$a\"]"))),
		     "accepted");
	m3 = res_int("modseq");
	snprintf(want, sizeof want, "1@%lld:0;2@%lld:16;3@%lld:0 $a $b", (long long)m1, (long long)m2, (long long)m3);
	CHECK_EQ_STR(changes(MB1, 0, 1), want);
	snprintf(want, sizeof want, "3@%lld:0 $a $b", (long long)m3);
	CHECK_EQ_STR(changes(MB1, m2, 1), want);
	CHECK_EQ_STR(changes(MB1, m3, 1), "");
	/* A store moves the entry: the old one is gone. */
	CHECK_EQ_STR(run("message.store", BOB, json_pack("{s:s, s:[[i,i]], s:s, s:[s,s]}", "mailbox_id", MB1,
							 "uids", 2, 2, "action", "add", "flags", "\\Flagged", "$x")),
		     "accepted");
	m4 = res_int("modseq");
	snprintf(want, sizeof want, "1@%lld:0;3@%lld:0 $a $b;2@%lld:24 $x", (long long)m1, (long long)m3,
		 (long long)m4);
	CHECK_EQ_STR(changes(MB1, 0, 1), want);
	snprintf(want, sizeof want, "2@%lld:24 $x", (long long)m4);
	CHECK_EQ_STR(changes(MB1, m3, 1), want);
	CHECK_EQ_INT(index_keys(MAIL_K_MSEQ, MB1), 3);
	/* Expunge: an mexp entry, the live one removed. */
	CHECK_EQ_STR(run("message.expunge", BOB, json_pack("{s:s, s:[[i,i]]}", "mailbox_id", MB1, "uids", 1, 1)),
		     "accepted");
	m5 = res_int("modseq");
	snprintf(want, sizeof want, "x1@%lld", (long long)m5);
	CHECK_EQ_STR(changes(MB1, m4, 1), want);
	CHECK_EQ_STR(changes(MB1, m4, 0), "");
	snprintf(want, sizeof want, "3@%lld:0 $a $b;2@%lld:24 $x", (long long)m3, (long long)m4);
	CHECK_EQ_STR(changes(MB1, 0, 0), want);
	/* Move: expunged here, a live entry there. */
	CHECK_EQ_STR(run("message.move", BOB, json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", MB1, "uids", 3, 3,
							"to_mailbox_id", MB2)), "accepted");
	m6 = res_int("modseq");
	snprintf(want, sizeof want, "x1@%lld;x3@%lld", (long long)m5, (long long)m6);
	CHECK_EQ_STR(changes(MB1, m4, 1), want);
	snprintf(want, sizeof want, "1@%lld:0 $a $b", (long long)m6);
	CHECK_EQ_STR(changes(MB2, 0, 1), want);
	/* A UID range read. */
	CHECK(mail_messages_range(view, BOB, MB1, 1, 2, &list, &error) == 0);
	CHECK_EQ_INT((int)json_array_size(list), 1);
	CHECK_EQ_INT((int)json_integer_value(json_object_get(json_array_get(list, 0), "uid")), 2);
	json_decref(list);
	/* Deleting the mailbox removes both indexes. */
	CHECK_EQ_INT(index_keys(MAIL_K_MEXP, MB1), 2);
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB1)), "accepted");
	CHECK_EQ_INT(index_keys(MAIL_K_MSEQ, MB1), 0);
	CHECK_EQ_INT(index_keys(MAIL_K_MEXP, MB1), 0);
	CHECK_EQ_STR(changes(MB1, 0, 1), "");
}

int main(void)
{
	test_run("registry has every mail and blob event", test_registry);
	test_run("provisioning: six mailboxes, special-use, once", test_provision);
	test_run("mailbox.create: names, ids, UIDVALIDITY, rejections", test_mailbox_create);
	test_run("mailbox.rename/delete/subscribe", test_mailbox_rename_delete);
	test_run("message.append: UIDs, MODSEQ, email id, quota, validation", test_append);
	test_run("message.store: add/remove/set, unchanged_since, validation", test_store);
	test_run("message.copy/move/expunge: COPYUID, counters, tombstones", test_copy_move_expunge);
	test_run("summaries shared by copies, refcounted", test_summary_refcount);
	test_run("blob chunks and message bodies", test_blobs);
	test_run("mailbox.claim_recent: claimed ranges", test_claim_recent);
	test_run("determinism and exact counters over a workload", test_determinism_and_counters);
	test_run("the modseq index: changes after a modseq, expunges, moves", test_modseq_index);
	json_decref(env.result);
	env.result = last = NULL;
	view_close(&view);
	return test_done();
}
