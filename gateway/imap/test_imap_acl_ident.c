/* test_imap_acl_ident - the ACL commands' identifier argument (RFC 4314 2):
 * addresses, "anyone" and negative forms (imap_acl_identifier_parse). */
#include "gateway/imap/imap_acl.h"
#include "tests/unit/testlib.h"

/* out and base of one argument, or "(invalid)". */
static const char *parsed(const char *arg, char base[EVM_ADDRESS_MAX + 1])
{
	static char out[MAIL_ACL_ID_MAX + 1];
	const char *err = NULL;

	if (imap_acl_identifier_parse(arg, out, base, &err) < 0)
		return "(invalid)";
	return out;
}

static void test_identifiers(void)
{
	char base[EVM_ADDRESS_MAX + 1];

	CHECK_EQ_STR(parsed("bob@acme.test", base), "bob@acme.test");
	CHECK_EQ_STR(base, "bob@acme.test");
	CHECK_EQ_STR(parsed("Bob@ACME.test", base), "bob@acme.test");   /* the normal form */
	CHECK_EQ_STR(parsed("-Bob@ACME.test", base), "-bob@acme.test");
	CHECK_EQ_STR(base, "bob@acme.test");
	CHECK_EQ_STR(parsed("anyone", base), "anyone");
	CHECK_EQ_STR(parsed("Anyone", base), "anyone");
	CHECK_EQ_STR(parsed("-ANYONE", base), "-anyone");
	CHECK_EQ_STR(base, "anyone");
	CHECK_EQ_STR(parsed("", base), "(invalid)");
	CHECK_EQ_STR(parsed("-", base), "(invalid)");
	CHECK_EQ_STR(parsed("owner", base), "(invalid)");
	CHECK_EQ_STR(parsed("-anybody", base), "(invalid)");
	CHECK_EQ_STR(parsed("bob@", base), "(invalid)");
	CHECK_EQ_STR(parsed("--anyone", base), "(invalid)");
}

int main(void)
{
	test_run("identifiers: address, anyone, -identifier", test_identifiers);
	return test_done();
}
