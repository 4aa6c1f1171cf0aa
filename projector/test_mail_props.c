/* test_mail_props - the mailbox.update applier (special use and sort
 * order after creation, one mailbox per special use) and the
 * identity.set / identity.destroy appliers (create, override, update,
 * immutable email, limits, JMAP change tracking). */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "projector/mail_jmap.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"

static struct view *view;
static int64_t next_offset = 1;
static struct apply_env env = { &next_offset, 0xb0b000, "", 1, NULL, "" };

static const char *run(const char *type, json_t *data)
{
	return apply_event(&env, view, type, BOB, data);
}

static json_t *mbox_named(const char *name)
{
	json_t *m = NULL;
	const char *error;

	if (mail_mailbox_by_name(view, BOB, name, &m, &error) != 1) {
		fprintf(stderr, "no mailbox %s\n", name);
		abort();
	}
	return m;
}

static const char *id_of(const char *name, char out[33])
{
	json_t *m = mbox_named(name);

	snprintf(out, 33, "%s", m != NULL ? json_string_value(json_object_get(m, "id")) : "");
	json_decref(m);
	return out;
}

static const char *upd(const char *id, const char *su, json_int_t sort)
{
	json_t *d = json_pack("{s:s}", "mailbox_id", id);

	if (su != NULL)
		json_object_set_new(d, "special_use", json_string(su));
	if (sort >= 0)
		json_object_set_new(d, "sort_order", json_integer(sort));
	return run("mailbox.update", d);
}

static void test_mailbox_update(void)
{
	char sent[33], inbox[33], work[33];
	const char *error;
	int64_t st0 = 0, st1 = 0;
	json_t *m;

	if (view_open(test_tmpdir("props_mbox"), &view, &error) < 0)
		exit(2);
	/* On an account not provisioned yet: the virtual mailboxes. */
	CHECK_EQ_STR(upd("0123456789abcdef0123456789abcdef", "\\Sent", -1), "not-found");
	CHECK_EQ_STR(run("mailbox.provision", json_object()), "accepted");
	id_of("Sent", sent);
	id_of("INBOX", inbox);
	CHECK_EQ_STR(run("mailbox.create", json_pack("{s:s, s:s}", "mailbox_id",
						     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "name", "Work")),
		     "accepted");
	id_of("Work", work);
	/* Validation. */
	CHECK_EQ_STR(run("mailbox.update", json_pack("{s:s}", "mailbox_id", work)), "invalid");
	CHECK_EQ_STR(upd(work, "\\Important", -1), "invalid");
	CHECK_EQ_STR(upd(work, "\\sent", -1), "invalid");
	CHECK_EQ_STR(run("mailbox.update", json_pack("{s:s, s:i}", "mailbox_id", work, "sort_order", -1)),
		     "invalid");
	CHECK_EQ_STR(run("mailbox.update", json_pack("{s:s, s:I}", "mailbox_id", work, "sort_order",
						     (json_int_t)UINT32_MAX + 1)),
		     "invalid");
	CHECK_EQ_STR(run("mailbox.update", json_pack("{s:s, s:i}", "mailbox_id", work, "special_use", 3)),
		     "invalid");
	CHECK_EQ_STR(upd(inbox, "\\Archive", -1), "invalid");
	/* One mailbox per special use (RFC 8621 2). */
	CHECK_EQ_STR(upd(work, "\\Sent", -1), "exists");
	CHECK_EQ_STR(upd(sent, "\\Sent", -1), "accepted");   /* its own: no conflict */
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_MAILBOX, &st0, &error), 0);
	CHECK_EQ_STR(upd(sent, "", -1), "accepted");
	CHECK_EQ_STR(upd(work, "\\Sent", 7), "accepted");
	CHECK_EQ_STR(json_string_value(json_object_get(env.result, "special_use")), "\\Sent");
	CHECK_EQ_INT((int)json_integer_value(json_object_get(env.result, "sort_order")), 7);
	m = mbox_named("Work");
	CHECK_EQ_STR(json_string_value(json_object_get(m, "special_use")), "\\Sent");
	CHECK_EQ_INT((int)json_integer_value(json_object_get(m, "sort_order")), 7);
	json_decref(m);
	m = mbox_named("Sent");
	CHECK_EQ_STR(json_string_value(json_object_get(m, "special_use")), "");
	CHECK(json_object_get(m, "sort_order") == NULL);
	json_decref(m);
	/* A JMAP Mailbox change. */
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_MAILBOX, &st1, &error), 0);
	CHECK(st1 > st0);
	/* Sort order 0 is stored as absent; the special use stays. */
	CHECK_EQ_STR(upd(work, NULL, 0), "accepted");
	m = mbox_named("Work");
	CHECK(json_object_get(m, "sort_order") == NULL);
	CHECK_EQ_STR(json_string_value(json_object_get(m, "special_use")), "\\Sent");
	json_decref(m);
	/* The special use goes with the mailbox: another may take it. */
	CHECK_EQ_STR(run("mailbox.delete", json_pack("{s:s}", "mailbox_id", work)), "accepted");
	CHECK_EQ_STR(upd(sent, "\\Sent", 1), "accepted");
	view_close(&view);
}

/* Collects "id:c" (created) or "id:u" per change, comma-separated. */
static int change_cb(void *ctx, const struct mail_jchange *c)
{
	char *out = ctx;

	snprintf(out + strlen(out), 256 - strlen(out), "%s%s:%s", out[0] ? "," : "", c->id,
		 c->destroyed ? "d" : c->created ? "c" : "u");
	return 0;
}

/* An identity.set event's data. */
static json_t *ident(const char *id, int create, const char *email, const char *name, const char *sig)
{
	return json_pack("{s:s, s:b, s:s, s:s, s:n, s:n, s:s, s:s}", "identity_id", id, "create", create, "email",
			 email, "name", name, "reply_to", "bcc", "text_signature", sig, "html_signature", "");
}

static void test_identity(void)
{
	const char *error;
	json_t *list = NULL, *d;
	int64_t st0 = 0, st1 = 0;
	char *big, id[16];

	if (view_open(test_tmpdir("props_ident"), &view, &error) < 0)
		exit(2);
	CHECK_EQ_INT(mail_identities(view, BOB, &list, &error), 0);
	CHECK_EQ_INT((int)json_array_size(list), 0);
	json_decref(list);
	/* Validation. */
	CHECK_EQ_STR(run("identity.set", ident("bad id", 1, BOB, "Bob", "")), "invalid");
	CHECK_EQ_STR(run("identity.set", ident("c1", 1, "not-an-address", "Bob", "")), "invalid");
	CHECK_EQ_STR(run("identity.set", ident("c1", 1, "two@at@x.test", "Bob", "")), "invalid");
	d = ident("c1", 1, BOB, "Bob", "");
	json_object_set_new(d, "default", json_true());
	CHECK_EQ_STR(run("identity.set", d), "invalid");
	d = ident("c1", 1, BOB, "Bob", "");
	json_object_set_new(d, "reply_to", json_pack("[{s:s}]", "name", "no email"));
	CHECK_EQ_STR(run("identity.set", d), "invalid");
	big = calloc(1, MAIL_IDENTITY_SIG_MAX + 2);
	memset(big, 'x', MAIL_IDENTITY_SIG_MAX + 1);
	CHECK_EQ_STR(run("identity.set", ident("c1", 1, BOB, "Bob", big)), "invalid");
	big[MAIL_IDENTITY_SIG_MAX] = '\0';
	CHECK_EQ_STR(run("identity.set", ident("c1", 1, BOB, "Bob", big)), "accepted");
	free(big);
	/* Create, exists, update, immutable email. */
	CHECK_EQ_STR(run("identity.set", ident("c1", 1, BOB, "Bob", "")), "exists");
	CHECK_EQ_STR(run("identity.set", ident("c2", 0, BOB, "Bob", "")), "not-found");
	d = ident("c2", 1, "*@acme.test", "Any", "--\nBob");
	json_object_set_new(d, "bcc", json_pack("[{s:n, s:s}]", "name", "email", "archive@acme.test"));
	CHECK_EQ_STR(run("identity.set", d), "accepted");
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_IDENTITY, &st0, &error), 0);
	CHECK(st0 > 0);
	CHECK_EQ_STR(run("identity.set", ident("c2", 0, "other@acme.test", "Any", "")), "immutable");
	CHECK_EQ_STR(run("identity.set", ident("c2", 0, "*@acme.test", "Anyone", "sig")), "accepted");
	CHECK_EQ_INT(mail_identities(view, BOB, &list, &error), 0);
	CHECK_EQ_INT((int)json_array_size(list), 2);
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "name")), "Anyone");
	CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(list, 1), "text_signature")), "sig");
	CHECK(json_is_null(json_object_get(json_array_get(list, 1), "bcc")));
	json_decref(list);
	/* An override of a default identity: written without a record. */
	d = ident("iabc", 0, BOB, "Bob B.", "");
	json_object_set_new(d, "default", json_true());
	CHECK_EQ_STR(run("identity.set", d), "accepted");
	d = ident("iabc", 0, BOB, "Bob C.", "");   /* default must stay */
	CHECK_EQ_STR(run("identity.set", d), "immutable");
	/* The override is an update of an identity the client knew. */
	{
		char seen[256] = "";
		int more = 0;

		CHECK_EQ_INT(mail_jmap_changes(view, BOB, MAIL_J_IDENTITY, 0, "", 10, change_cb, seen, &more,
					       &error), 0);
		CHECK_EQ_STR(seen, "c1:c,c2:c,iabc:u");
	}
	/* Destroy. */
	CHECK_EQ_STR(run("identity.destroy", json_pack("{s:s}", "identity_id", "c9")), "not-found");
	CHECK_EQ_STR(run("identity.destroy", json_pack("{s:s}", "identity_id", "c2")), "accepted");
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_IDENTITY, &st1, &error), 0);
	CHECK(st1 > st0);
	CHECK_EQ_STR(run("identity.destroy", json_pack("{s:s}", "identity_id", "c2")), "not-found");
	/* At most MAIL_IDENTITY_MAX records (c1 and iabc are two). */
	for (int i = 0; i < MAIL_IDENTITY_MAX - 2; i++) {
		snprintf(id, sizeof id, "n%d", i);
		CHECK_EQ_STR(run("identity.set", ident(id, 1, BOB, "", "")), "accepted");
	}
	CHECK_EQ_STR(run("identity.set", ident("last", 1, BOB, "", "")), "limit");
	CHECK_EQ_STR(run("identity.set", ident("c1", 0, BOB, "still", "")), "accepted");
	view_close(&view);
}

int main(void)
{
	test_run("mailbox.update: special use, sort order, one per role", test_mailbox_update);
	test_run("identity.set/destroy: records, limits, changes", test_identity);
	json_decref(env.result);
	return test_done();
}
