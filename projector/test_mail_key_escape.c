/* test_mail_key_escape - an account name in a mail key: '%' and '/'
 * escaped, every other byte as it is, whatever runs lie between them. */
#include "projector/mail_internal.h"
#include "tests/unit/testlib.h"

#include <string.h>

static const char *escaped(const char *s)
{
	static struct buf k = BUF_INIT;

	buf_truncate(&k, 0);
	buf_puts(&k, "pre|");
	mail_key_escape(&k, s);
	return k.data;
}

static void test_escape(void)
{
	CHECK_EQ_STR(escaped(""), "pre|");
	CHECK_EQ_STR(escaped("user1@example.test"), "pre|user1@example.test");
	CHECK_EQ_STR(escaped("%"), "pre|%25");
	CHECK_EQ_STR(escaped("/"), "pre|%2F");
	CHECK_EQ_STR(escaped("a%b/c"), "pre|a%25b%2Fc");
	CHECK_EQ_STR(escaped("%%//"), "pre|%25%25%2F%2F");
	CHECK_EQ_STR(escaped("/lead"), "pre|%2Flead");
	CHECK_EQ_STR(escaped("trail%"), "pre|trail%25");
	CHECK_EQ_STR(escaped("\xc3\xa9t\xc3\xa9/x"), "pre|\xc3\xa9t\xc3\xa9%2Fx");
	CHECK_EQ_STR(escaped("%2F"), "pre|%252F");
}

static void test_account_key(void)
{
	struct buf k = BUF_INIT;

	mail_key_account(&k, "a/b%c@d.test");
	CHECK_EQ_STR(k.data, "mail/a%2Fb%25c@d.test/");
	CHECK_EQ_INT(k.len, strlen("mail/a%2Fb%25c@d.test/"));
	buf_free(&k);
}

int main(void)
{
	test_run("'%' and '/' escaped, runs between them kept", test_escape);
	test_run("an account's key prefix", test_account_key);
	return test_done();
}
