/* test_mail_vacation - the vacation.set and vacation.reply appliers: the
 * record, validation, one reply per sender per period decided by the
 * event's time (never a clock), the date window, and the JMAP state. */
#include "projector/applier.h"
#include "projector/test_apply.h"
#include "projector/mail.h"
#include "projector/mail_jmap.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define T0 INT64_C(1700000000000)

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0xfac000, "", 0, NULL, "" };

static const char *run(const char *type, json_t *data)
{
	return apply_event(&env, view, type, BOB, data);
}

static const char *reply_to(const char *sender)
{
	return run("vacation.reply", json_pack("{s:s}", "sender", sender));
}

static void test_vacation(void)
{
	const char *error;
	json_t *vac = NULL;
	int64_t st = -1;

	if (view_open(test_tmpdir("vacation"), &view, &error) < 0)
		exit(2);
	/* Nothing set: no reply. */
	CHECK_EQ_STR(reply_to("ann@x.test"), "off");
	CHECK_EQ_INT(mail_vacation_get(view, BOB, &vac, &error), 0);
	/* Validation. */
	CHECK_EQ_STR(run("vacation.set", json_pack("{s:s}", "enabled", "yes")), "invalid");
	CHECK_EQ_STR(run("vacation.set", json_pack("{s:b, s:i}", "enabled", 1, "subject", 3)), "invalid");
	CHECK_EQ_STR(run("vacation.set", json_pack("{s:b, s:i}", "enabled", 1, "from_date", -5)), "invalid");
	CHECK_EQ_STR(reply_to("not an address"), "invalid");
	/* On, from now (T0 + offset) for ten days. */
	CHECK_EQ_STR(run("vacation.set", json_pack("{s:b, s:I, s:I, s:s, s:s}", "enabled", 1, "from_date",
						   (json_int_t)T0, "to_date",
						   (json_int_t)(T0 + 10 * 86400000LL), "subject", "Away",
						   "text_body", "Back soon.")),
		     "accepted");
	CHECK_EQ_INT(mail_vacation_get(view, BOB, &vac, &error), 1);
	CHECK_EQ_STR(json_string_value(json_object_get(vac, "subject")), "Away");
	CHECK(json_is_null(json_object_get(vac, "html_body")) || json_object_get(vac, "html_body") == NULL);
	json_decref(vac);
	CHECK_EQ_INT(mail_jmap_state(view, BOB, MAIL_J_VACATION, &st, &error), 0);
	CHECK(st > 0);
	/* One reply per sender per period, decided by the events' times. */
	CHECK_EQ_STR(reply_to("Ann@X.test"), "accepted");
	CHECK_EQ_STR(reply_to("ann@x.test"), "not-due");
	CHECK_EQ_STR(reply_to("carl@x.test"), "accepted");
	next_offset += MAIL_VACATION_PERIOD_MS;
	CHECK_EQ_STR(reply_to("ann@x.test"), "accepted");
	/* Past to_date: off again. */
	next_offset += 10 * 86400000LL;
	CHECK_EQ_STR(reply_to("dora@x.test"), "off");
	/* Disabled. */
	next_offset = 100;
	CHECK_EQ_STR(run("vacation.set", json_pack("{s:b}", "enabled", 0)), "accepted");
	CHECK_EQ_STR(reply_to("erin@x.test"), "off");
	view_close(&view);
}

int main(void)
{
	test_run("vacation: record, period, window, state", test_vacation);
	json_decref(env.result);
	return test_done();
}
