/* test_mail_acl - mailbox.acl, the rights of events submitted as a sharee
 * ("as"), the sharee index across rename and delete, the ACL read API and
 * determinism of a workload with sharing (projector/mail_acl.h). */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "projector/mail_acl.h"
#include "projector/mail_internal.h"
#include "projector/keys.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <stdlib.h>

#define BOB "bob@acme.test"
#define ALICE "alice@acme.test"
#define CAROL "carol@acme.test"
#define MB1 "11111111111111111111111111111111"
#define BLOB_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static struct view *view;
static int64_t next_offset;

static struct apply_env env = { &next_offset, 0xac1000, "acme", 0, NULL, "" };

/* Runs one event in its own committed batch (test_apply.h). Returns
 * "accepted" or the rejection code. */
static const char *run_on(struct view *v, const char *type, const char *account, json_t *data)
{
	return apply_event(&env, v, type, account, data);
}

static const char *run(const char *type, const char *account, json_t *data)
{
	return run_on(view, type, account, data);
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

static void fresh(const char *name)
{
	view_close(&view);
	next_offset = 0;
	view = open_view_at(name);
}

/* The id of one of bob's mailboxes. */
static const char *mb_id(const char *name)
{
	static char id[33];
	json_t *m = NULL;
	const char *error;

	id[0] = '\0';
	if (mail_mailbox_by_name(view, BOB, name, &m, &error) == 1)
		snprintf(id, sizeof id, "%s", json_string_value(json_object_get(m, "id")));
	json_decref(m);
	return id;
}

static json_t *acl_data(const char *mb, const char *who, const char *action, const char *rights)
{
	json_t *d = json_pack("{s:s, s:s, s:s}", "mailbox_id", mb, "identifier", who, "action", action);

	if (rights != NULL)
		json_object_set_new(d, "rights", json_string(rights));
	return d;
}

/* d with "as": who. */
static json_t *as(json_t *d, const char *who)
{
	json_object_set_new(d, "as", json_string(who));
	return d;
}

static json_t *append_data(const char *mb, const char *flags)
{
	return json_pack("{s:s, s:s, s:I, s:s, s:I, s:{s:I}, s:o, s:[]}", "mailbox_id", mb, "blob_id", BLOB_A,
			 "blob_size", (json_int_t)100, "prefix", "", "internal_date",
			 (json_int_t)1690000000000, "summary", "size", (json_int_t)100, "flags",
			 json_loads(flags, 0, NULL), "keywords");
}

static json_t *store_data(const char *mb, const char *action, const char *flags)
{
	return json_pack("{s:s, s:[[i,i]], s:s, s:o}", "mailbox_id", mb, "uids", 1, 100, "action", action,
			 "flags", json_loads(flags, 0, NULL));
}

/* who's rights on bob's mailbox as a string. */
static const char *rights_of(const char *mb, const char *who)
{
	static char out[MAIL_RIGHTS_LEN];
	const char *error;
	unsigned bits = 0;

	if (mail_acl_rights(view, BOB, mb, who, &bits, &error) < 0)
		return "(error)";
	mail_rights_string(bits, 0, out);
	return out;
}

/* How many mailboxes are shared with who in tenant. */
static int shared_count(const char *who, const char *tenant)
{
	json_t *list = NULL;
	const char *error;
	int n;

	if (mail_shared_list(view, who, tenant, &list, &error) < 0)
		return -1;
	n = (int)json_array_size(list);
	json_decref(list);
	return n;
}

static void test_rights_strings(void)
{
	char out[MAIL_RIGHTS_LEN];
	unsigned bits;

	CHECK_EQ_INT(mail_rights_parse("lrswipkxtea", &bits), 0);
	CHECK_EQ_INT(bits, MAIL_R_EVERY);
	CHECK_EQ_INT(mail_rights_parse("arl", &bits), 0);
	mail_rights_string(bits, 0, out);
	CHECK_EQ_STR(out, "lra");
	/* RFC 4314 2.1.1: c = k, d = x t e; reported back with c and d. */
	CHECK_EQ_INT(mail_rights_parse("lc", &bits), 0);
	mail_rights_string(bits, 0, out);
	CHECK_EQ_STR(out, "lk");
	CHECK_EQ_INT(mail_rights_parse("rd", &bits), 0);
	mail_rights_string(bits, 0, out);
	CHECK_EQ_STR(out, "rxte");
	mail_rights_string(bits, 1, out);
	CHECK_EQ_STR(out, "rxted");
	mail_rights_string(MAIL_R_EVERY, 1, out);
	CHECK_EQ_STR(out, "lrswipkxteacd");
	mail_rights_string(MAIL_R_EXPUNGE, 1, out);
	CHECK_EQ_STR(out, "ed");
	CHECK_EQ_INT(mail_rights_parse("", &bits), 0);
	CHECK_EQ_INT(bits, 0);
	CHECK_EQ_INT(mail_rights_parse("lz", &bits), -1);
	CHECK_EQ_INT(mail_rights_parse("L", &bits), -1);
	CHECK_EQ_INT(mail_rights_parse("+l", &bits), -1);
}

static void test_acl_set(void)
{
	char inbox[33];
	json_t *acl = NULL;
	const char *error;

	fresh("acl-set");
	/* Granting on an account not provisioned yet provisions it. */
	snprintf(inbox, sizeof inbox, "%s", "");
	CHECK_EQ_STR(run("mailbox.provision", BOB, json_object()), "accepted");
	snprintf(inbox, sizeof inbox, "%s", mb_id("INBOX"));
	CHECK_EQ_INT(strlen(inbox), 32);
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "set", "lr")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "lr");
	CHECK_EQ_STR(rights_of(inbox, BOB), "lrswipkxtea");
	CHECK_EQ_STR(rights_of(inbox, CAROL), "");
	CHECK_EQ_INT(shared_count(ALICE, "acme"), 1);
	CHECK_EQ_INT(shared_count(ALICE, "other"), 0);   /* another tenant's grant is not seen */
	CHECK_EQ_INT(shared_count(CAROL, "acme"), 0);
	CHECK_EQ_INT(mail_acl_list(view, BOB, inbox, &acl, &error), 0);
	CHECK_EQ_STR(json_string_value(json_object_get(acl, ALICE)), "lr");
	CHECK_EQ_INT(json_object_size(acl), 1);
	json_decref(acl);
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "add", "wd")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "lrwxte");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "remove", "rx")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "lwte");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "set", "")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "");
	CHECK_EQ_INT(shared_count(ALICE, "acme"), 0);
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "set", "l")), "accepted");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "delete", NULL)), "accepted");
	CHECK_EQ_INT(shared_count(ALICE, "acme"), 0);
	CHECK_EQ_STR(rights_of(inbox, ALICE), "");
	/* Rejections. */
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, BOB, "set", "l")), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "set", "lz")), "invalid");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "grant", "l")), "invalid");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "Alice@ACME.test", "set", "l")), "invalid");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "-" BOB, "set", "l")), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "-Alice@ACME.test", "set", "l")), "invalid");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "Anyone", "set", "l")), "invalid");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "--anyone", "set", "l")), "invalid");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(MB1, ALICE, "set", "l")), "not-found");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "set", NULL)), "invalid");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data("xyz", ALICE, "set", "l")), "invalid");
}

static int count_keys(const char *prefix);

/* RFC 4314 2: effective rights and identifiers, pure arithmetic. */
static void test_rights_arith(void)
{
	unsigned l = MAIL_R_LOOKUP, r = MAIL_R_READ, i = MAIL_R_INSERT;

	CHECK_EQ_INT((int)mail_rights_effective(0, 0, 0, 0), 0);
	CHECK_EQ_INT((int)mail_rights_effective(l | r, 0, 0, 0), (int)(l | r));
	CHECK_EQ_INT((int)mail_rights_effective(0, l | r, 0, 0), (int)(l | r));
	CHECK_EQ_INT((int)mail_rights_effective(i, l | r, 0, 0), (int)(l | r | i));
	/* Negative entries win over both positive ones. */
	CHECK_EQ_INT((int)mail_rights_effective(l | r, 0, r, 0), (int)l);
	CHECK_EQ_INT((int)mail_rights_effective(0, l | r, r, 0), (int)l);
	CHECK_EQ_INT((int)mail_rights_effective(l | r, l | i, 0, l), (int)(r | i));
	CHECK_EQ_INT((int)mail_rights_effective(MAIL_R_EVERY, 0, MAIL_R_EVERY, 0), 0);
	CHECK_EQ_INT((int)mail_rights_effective(0xffffu, 0, 0, 0), (int)MAIL_R_EVERY);
	CHECK_EQ_INT(mail_acl_identifier_kind(ALICE), MAIL_ID_USER);
	CHECK_EQ_INT(mail_acl_identifier_kind("anyone"), MAIL_ID_ANYONE);
	CHECK_EQ_INT(mail_acl_identifier_kind("-" ALICE), MAIL_ID_NEG_USER);
	CHECK_EQ_INT(mail_acl_identifier_kind("-anyone"), MAIL_ID_NEG_ANYONE);
	CHECK_EQ_INT(mail_acl_identifier_kind("ANYONE"), -1);
	CHECK_EQ_INT(mail_acl_identifier_kind("-"), -1);
	CHECK_EQ_INT(mail_acl_identifier_kind(""), -1);
	/* RFC 4314 2: a leading "-" is always negative, even before an
	 * address that itself starts with one. */
	CHECK_EQ_INT(mail_acl_identifier_kind("--" ALICE), MAIL_ID_NEG_USER);
	CHECK_EQ_INT(mail_acl_identifier_kind("-Alice@acme.test"), -1);
	CHECK_EQ_INT(mail_acl_identifier_kind("owner"), -1);
}

/* "anyone" (the tenant's index) and negative entries, applied. */
static void test_anyone_negative(void)
{
	char inbox[33], drafts[33];

	fresh("acl-anyone");
	CHECK_EQ_STR(run("mailbox.provision", BOB, json_object()), "accepted");
	snprintf(inbox, sizeof inbox, "%s", mb_id("INBOX"));
	snprintf(drafts, sizeof drafts, "%s", mb_id("Drafts"));
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "anyone", "set", "lr")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "lr");
	CHECK_EQ_STR(rights_of(inbox, CAROL), "lr");
	CHECK_EQ_STR(rights_of(inbox, BOB), "lrswipkxtea");
	CHECK_EQ_INT(count_keys(KEY_ACL_ANYONE), 1);
	CHECK_EQ_INT(count_keys("mail/" ALICE "/"), 0);   /* no per-sharee entry */
	/* Listed for every account of the tenant, never another's or the owner. */
	CHECK_EQ_INT(shared_count(ALICE, "acme"), 1);
	CHECK_EQ_INT(shared_count(CAROL, "acme"), 1);
	CHECK_EQ_INT(shared_count(CAROL, "other"), 0);
	CHECK_EQ_INT(shared_count(CAROL, NULL), 0);
	CHECK_EQ_INT(shared_count(BOB, "acme"), 0);
	/* Own and anyone entries add up; one list entry, marked direct. */
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "set", "i")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "lri");
	CHECK_EQ_INT(shared_count(ALICE, "acme"), 1);
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), ALICE)), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), CAROL)), "forbidden");
	/* anyone is of the owner's tenant: an event of another tenant's
	 * envelope gets nothing from it (alice keeps her own i only). */
	env.tenant = "other";
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, as(json_pack("{s:s}", "mailbox_id", inbox), CAROL)),
		     "forbidden");
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, as(json_pack("{s:s}", "mailbox_id", inbox), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), ALICE)), "accepted");
	env.tenant = "acme";
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, as(json_pack("{s:s}", "mailbox_id", inbox), CAROL)),
		     "accepted");
	/* Negative entries take away from both. */
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "-" ALICE, "set", "ri")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "l");
	CHECK_EQ_STR(rights_of(inbox, CAROL), "lr");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), ALICE)), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "-anyone", "set", "l")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "");
	CHECK_EQ_STR(rights_of(inbox, CAROL), "r");
	CHECK_EQ_STR(rights_of(inbox, BOB), "lrswipkxtea");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "-anyone", "delete", NULL)), "accepted");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, "-" ALICE, "remove", "i")), "accepted");
	CHECK_EQ_STR(rights_of(inbox, ALICE), "li");
	/* "anyone" with a; the ACL lists every kind of entry. */
	CHECK_EQ_STR(run("mailbox.acl", BOB, as(acl_data(inbox, CAROL, "set", "l"), ALICE)), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(drafts, "anyone", "set", "l")), "accepted");
	CHECK_EQ_INT(shared_count(CAROL, "acme"), 2);
	CHECK_EQ_INT(count_keys(KEY_ACL_ANYONE), 2);
	/* The index goes with the grant, and with the mailbox. */
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(drafts, "anyone", "remove", "l")), "accepted");
	CHECK_EQ_INT(count_keys(KEY_ACL_ANYONE), 1);
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Team")),
		     "accepted");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(MB1, "anyone", "set", "lr")), "accepted");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(MB1, "-" CAROL, "set", "r")), "accepted");
	CHECK_EQ_INT(count_keys(KEY_ACL_ANYONE), 2);
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB1)), "accepted");
	CHECK_EQ_INT(count_keys(KEY_ACL_ANYONE), 1);
	/* account.purge takes the rest. */
	CHECK_EQ_STR(run("account.purge", BOB, json_object()), "accepted");
	CHECK_EQ_INT(count_keys(KEY_ACL_ANYONE), 0);
	CHECK_EQ_INT(count_keys("mail/"), 0);
}

/* RFC 4314 4: a sharee's CREATE (k on the parent), DELETE (x), RENAME (x,
 * and k on the new parent); the creator's rights on what it made. */
/* A mailbox.create or mailbox.rename of MB1 to name in bob's tree, by who. */
static const char *bob_named(const char *type, const char *name, const char *who)
{
	return run(type, BOB, as(json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", name), who));
}

static void test_sharee_mailboxes(void)
{
	char archive[33], drafts[33];
	json_t *list = NULL;
	const char *error;

	fresh("acl-sharee-mbox");
	CHECK_EQ_STR(run("mailbox.provision", BOB, json_object()), "accepted");
	snprintf(archive, sizeof archive, "%s", mb_id("Archive"));
	snprintf(drafts, sizeof drafts, "%s", mb_id("Drafts"));
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(archive, ALICE, "set", "lr")), "accepted");
	CHECK_EQ_STR(bob_named("mailbox.create", "Archive/Sub", ALICE), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(archive, ALICE, "add", "k")), "accepted");
	/* Top-level, or below a mailbox that does not exist: no parent. */
	CHECK_EQ_STR(bob_named("mailbox.create", "Top", ALICE), "forbidden");
	CHECK_EQ_STR(bob_named("mailbox.create", "Nope/Sub", ALICE), "forbidden");
	CHECK_EQ_STR(bob_named("mailbox.create", "Archive/Sub", CAROL), "forbidden");
	CHECK_EQ_STR(bob_named("mailbox.create", "Archive/Sub", ALICE), "accepted");
	CHECK_EQ_STR(mb_id("Archive/Sub"), MB1);   /* the owner's */
	CHECK_EQ_STR(rights_of(MB1, ALICE), "lrswipkxtea");
	CHECK_EQ_STR(rights_of(MB1, CAROL), "");
	CHECK_EQ_INT(mail_shared_list(view, ALICE, "acme", &list, &error), 0);
	CHECK_EQ_INT((int)json_array_size(list), 2);
	json_decref(list);
	/* DELETE needs x: not on Archive, on what alice created. */
	CHECK_EQ_STR(run("mailbox.delete", BOB, as(json_pack("{s:s}", "mailbox_id", archive), ALICE)),
		     "forbidden");
	/* RENAME: x on the source, k on the new parent. */
	CHECK_EQ_STR(bob_named("mailbox.rename", "Drafts/Sub", ALICE), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(drafts, ALICE, "set", "lk")), "accepted");
	CHECK_EQ_STR(bob_named("mailbox.rename", "Sub", ALICE), "forbidden");
	CHECK_EQ_STR(bob_named("mailbox.rename", "Drafts/Sub", ALICE), "accepted");
	CHECK_EQ_STR(mb_id("Drafts/Sub"), MB1);
	CHECK_EQ_STR(run("mailbox.rename", BOB,
			 as(json_pack("{s:s, s:s}", "mailbox_id", drafts, "name", "Archive/D"), ALICE)),
		     "forbidden");   /* no x on Drafts */
	/* A negative entry takes x away again. */
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(MB1, "-" ALICE, "set", "x")), "accepted");
	CHECK_EQ_STR(run("mailbox.delete", BOB, as(json_pack("{s:s}", "mailbox_id", MB1), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(MB1, "-" ALICE, "delete", NULL)), "accepted");
	CHECK_EQ_STR(run("mailbox.delete", BOB, as(json_pack("{s:s}", "mailbox_id", MB1), ALICE)),
		     "accepted");
	CHECK_EQ_STR(mb_id("Drafts/Sub"), "");
	CHECK_EQ_INT(shared_count(ALICE, "acme"), 2);   /* Archive and Drafts */
}

static void test_as_rights(void)
{
	char inbox[33], archive[33];
	json_t *copy;

	fresh("acl-as");
	CHECK_EQ_STR(run("mailbox.provision", BOB, json_object()), "accepted");
	snprintf(inbox, sizeof inbox, "%s", mb_id("INBOX"));
	snprintf(archive, sizeof archive, "%s", mb_id("Archive"));
	/* No grant: nothing. */
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), ALICE)), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "set", "lr")), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), ALICE)), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "add", "i")), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), ALICE)), "accepted");
	/* Flags on APPEND need their rights. */
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[\"\\\\Seen\"]"), ALICE)), "forbidden");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[\"\\\\Deleted\"]"), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[\"\\\\Flagged\"]"), ALICE)),
		     "forbidden");
	/* STORE: s for \Seen, t for \Deleted, w for the rest; set needs all. */
	CHECK_EQ_STR(run("message.store", BOB, as(store_data(inbox, "add", "[\"\\\\Seen\"]"), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "add", "s")), "accepted");
	CHECK_EQ_STR(run("message.store", BOB, as(store_data(inbox, "add", "[\"\\\\Seen\"]"), ALICE)),
		     "accepted");
	CHECK_EQ_STR(run("message.store", BOB, as(store_data(inbox, "add", "[\"\\\\Flagged\"]"), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("message.store", BOB, as(store_data(inbox, "add", "[\"$Junk\"]"), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("message.store", BOB, as(store_data(inbox, "add", "[\"\\\\Deleted\"]"), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("message.store", BOB, as(store_data(inbox, "set", "[\"\\\\Seen\"]"), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "add", "wt")), "accepted");
	CHECK_EQ_STR(run("message.store", BOB, as(store_data(inbox, "set", "[\"\\\\Deleted\"]"), ALICE)),
		     "accepted");
	/* EXPUNGE needs e. */
	CHECK_EQ_STR(run("message.expunge", BOB,
			 as(json_pack("{s:s, s:[[i,i]]}", "mailbox_id", inbox, "uids", 1, 1), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "add", "e")), "accepted");
	CHECK_EQ_STR(run("message.expunge", BOB,
			 as(json_pack("{s:s, s:[[i,i]]}", "mailbox_id", inbox, "uids", 1, 1), ALICE)),
		     "accepted");
	/* COPY needs i on the target too. */
	copy = json_pack("{s:s, s:[[i,i]], s:s}", "mailbox_id", inbox, "uids", 1, 9, "to_mailbox_id", archive);
	CHECK_EQ_STR(run("message.copy", BOB, as(json_deep_copy(copy), ALICE)), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(archive, ALICE, "set", "li")), "accepted");
	CHECK_EQ_STR(run("message.copy", BOB, as(json_deep_copy(copy), ALICE)), "accepted");
	CHECK_EQ_STR(run("message.move", BOB, as(json_deep_copy(copy), ALICE)), "accepted");
	json_decref(copy);
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, as(json_pack("{s:s}", "mailbox_id", archive), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("mailbox.claim_recent", BOB, as(json_pack("{s:s}", "mailbox_id", inbox), ALICE)),
		     "accepted");
	/* The owner's alone: mailbox commands, and the ACL without a. */
	CHECK_EQ_STR(bob_named("mailbox.create", "INBOX/x", ALICE), "forbidden");
	CHECK_EQ_STR(run("mailbox.delete", BOB, as(json_pack("{s:s}", "mailbox_id", archive), ALICE)),
		     "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, as(acl_data(inbox, CAROL, "set", "l"), ALICE)), "forbidden");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(inbox, ALICE, "add", "a")), "accepted");
	CHECK_EQ_STR(run("mailbox.acl", BOB, as(acl_data(inbox, CAROL, "set", "l"), ALICE)), "accepted");
	CHECK_EQ_STR(rights_of(inbox, CAROL), "l");
	/* Carol holds l only. */
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), CAROL)), "forbidden");
	/* "as" the owner is the owner; a malformed "as" is invalid. */
	CHECK_EQ_STR(run("mailbox.create", BOB,
			 as(json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "x"), BOB)), "accepted");
	CHECK_EQ_STR(run("message.append", BOB, as(append_data(inbox, "[]"), "Alice@Acme.test")), "invalid");
	CHECK_EQ_STR(run("message.append", BOB, json_pack("{s:i}", "as", 5)), "invalid");
	/* An unprovisioned owner has no grants. */
	CHECK_EQ_STR(run("message.append", CAROL, as(append_data(inbox, "[]"), ALICE)), "forbidden");
}

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

static void test_rename_delete(void)
{
	json_t *list = NULL;
	const char *error;

	fresh("acl-rename");
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Team")),
		     "accepted");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(MB1, ALICE, "set", "lr")), "accepted");
	CHECK_EQ_STR(run("mailbox.acl", BOB, acl_data(MB1, CAROL, "set", "lrs")), "accepted");
	CHECK_EQ_STR(run("mailbox.rename", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Crew")),
		     "accepted");
	CHECK_EQ_STR(rights_of(MB1, ALICE), "lr");
	CHECK_EQ_INT(mail_shared_list(view, CAROL, "acme", &list, &error), 0);
	CHECK_EQ_INT(json_array_size(list), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "owner")), BOB);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "mailbox_id")), MB1);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 0), "rights")), "lrs");
	json_decref(list);
	CHECK_EQ_INT(count_keys("mail/bob@acme.test/acl/"), 2);
	CHECK_EQ_STR(run("mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", MB1)), "accepted");
	CHECK_EQ_INT(count_keys("mail/bob@acme.test/acl/"), 0);
	CHECK_EQ_INT(count_keys("mail/alice@acme.test/shared/"), 0);
	CHECK_EQ_INT(count_keys("mail/carol@acme.test/shared/"), 0);
	CHECK_EQ_STR(rights_of(MB1, ALICE), "");
	/* A new mailbox with the old id starts without grants. */
	CHECK_EQ_STR(run("mailbox.create", BOB, json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "Team")),
		     "accepted");
	CHECK_EQ_STR(rights_of(MB1, CAROL), "");
}

/* Sharing in both directions, writes as sharees, a delete. */
static void workload(struct view *v)
{
	static const char *const names[] = { "A", "B", "C" };
	char ids[3][33];

	for (int i = 0; i < 3; i++) {
		snprintf(ids[i], sizeof ids[i], "%031d%d", 0, i + 1);
		run_on(v, "mailbox.create", BOB, json_pack("{s:s, s:s}", "mailbox_id", ids[i], "name", names[i]));
		run_on(v, "mailbox.create", ALICE, json_pack("{s:s, s:s}", "mailbox_id", ids[i], "name", names[i]));
	}
	for (int i = 0; i < 3; i++) {
		run_on(v, "mailbox.acl", BOB, acl_data(ids[i], ALICE, "set", "lrswite"));
		run_on(v, "mailbox.acl", ALICE, acl_data(ids[i], BOB, "set", i == 1 ? "lr" : "lri"));
		run_on(v, "mailbox.acl", BOB, acl_data(ids[i], CAROL, "set", "l"));
	}
	for (int i = 0; i < 6; i++) {
		run_on(v, "message.append", BOB, as(append_data(ids[i % 3], "[\"\\\\Seen\"]"), ALICE));
		run_on(v, "message.append", ALICE, as(append_data(ids[i % 3], "[]"), BOB));
	}
	run_on(v, "message.store", BOB, as(store_data(ids[0], "add", "[\"\\\\Deleted\"]"), ALICE));
	run_on(v, "message.expunge", BOB, as(json_pack("{s:s, s:[[i,i]]}", "mailbox_id", ids[0], "uids", 1, 9),
					     ALICE));
	run_on(v, "mailbox.acl", BOB, acl_data(ids[2], CAROL, "delete", NULL));
	run_on(v, "message.expunge", BOB, json_pack("{s:s, s:[[i,i]]}", "mailbox_id", ids[1], "uids", 1, 9));
	run_on(v, "mailbox.delete", BOB, json_pack("{s:s}", "mailbox_id", ids[1]));
	/* anyone, negative entries, and a sharee's mailbox commands. */
	run_on(v, "mailbox.acl", ALICE, acl_data(ids[2], "anyone", "set", "lrk"));
	run_on(v, "mailbox.acl", ALICE, acl_data(ids[2], "-" CAROL, "set", "k"));
	run_on(v, "mailbox.create", ALICE,
	       as(json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "C/ByBob"), BOB));
	run_on(v, "mailbox.rename", ALICE, as(json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "C/Bob2"), BOB));
	run_on(v, "mailbox.create", ALICE,
	       as(json_pack("{s:s, s:s}", "mailbox_id", MB1, "name", "C/ByCarol"), CAROL));
}

static void test_determinism(void)
{
	struct view *v2;
	char d1[65], d2[65];
	const char *error;
	uint64_t k1, k2;

	fresh("acl-det-1");
	workload(view);
	CHECK_EQ_INT(shared_count(ALICE, "acme"), 2);   /* B was deleted */
	CHECK_EQ_INT(shared_count(BOB, "acme"), 4);   /* + C/Bob2, his creation */
	CHECK_EQ_INT(shared_count(CAROL, "acme"), 2);   /* + alice's C, to anyone */
	CHECK_EQ_INT(count_keys(KEY_ACL_ANYONE), 1);
	{
		json_t *m = NULL;

		CHECK_EQ_INT(mail_mailbox_by_name(view, ALICE, "C/Bob2", &m, &error), 1);
		json_decref(m);
		CHECK_EQ_INT(mail_mailbox_by_name(view, ALICE, "C/ByCarol", &m, &error), 0);
	}
	CHECK_EQ_INT(view_digest(view, d1, &k1, &error), 0);
	next_offset = 0;
	v2 = open_view_at("acl-det-2");
	workload(v2);
	CHECK_EQ_INT(view_digest(v2, d2, &k2, &error), 0);
	view_close(&v2);
	CHECK_EQ_INT(k1, k2);
	CHECK_EQ_STR(d1, d2);
}

int main(void)
{
	test_run("rights letters, c and d (RFC 4314 2.1.1)", test_rights_strings);
	test_run("mailbox.acl: set/add/remove/delete, sharee index, rejections", test_acl_set);
	test_run("effective rights and identifiers (RFC 4314 2)", test_rights_arith);
	test_run("anyone (the tenant index) and negative entries", test_anyone_negative);
	test_run("a sharee's CREATE / DELETE / RENAME: k and x (RFC 4314 4)", test_sharee_mailboxes);
	test_run("writes as a sharee: the rights of every event type", test_as_rights);
	test_run("rename keeps grants, delete drops them and the index", test_rename_delete);
	test_run("determinism of a sharing workload", test_determinism);
	view_close(&view);
	json_decref(env.result);
	return test_done();
}
