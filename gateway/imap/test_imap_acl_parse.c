/* test_imap_acl_parse - the RFC 4314 commands through the IMAP push
 * parser (fed whole, one octet, seven octets at a time and in random
 * splits, with identical transcripts), the rights strings and the
 * identifiers (anyone, -identifier, RFC 4314 2) they carry
 * (projector/mail_acl.h) and the "Other Users" names (imap_acl.h). */
#include "gateway/imap/imap_acl.h"
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_parser_transcript.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>

static const struct imap_parser_limits lim = {
	.max_line = 1000, .max_literal = 100000, .max_args = 100, .max_depth = 4, .max_nonsync = 4096
};

static size_t seven(void *ctx)
{
	(void)ctx;
	return 7;
}

/* in fed in every way gives want. */
static bool same_all_ways(size_t idx, const char *in, const char *want)
{
	size_t len = strlen(in);
	char *whole = transcript(in, len, NULL, NULL, &lim);
	char *bytewise = transcript(in, len, transcript_one_octet, NULL, &lim);
	char *sevens = transcript(in, len, seven, NULL, &lim);
	bool ok = transcript_same("whole", idx, whole, want) && transcript_same("bytewise", idx, bytewise, want) &&
		  transcript_same("sevens", idx, sevens, want);

	for (unsigned seed = 1; ok && seed <= 20; seed++) {
		struct rand_chunks rc = { seed * 7919u + (unsigned)idx, seed % 2 ? 5 : 40 };
		char *split = transcript(in, len, transcript_random_chunk, &rc, &lim);

		ok = transcript_same("random", idx, split, want);
		free(split);
	}
	free(whole);
	free(bytewise);
	free(sevens);
	return ok;
}

static void test_commands(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "a SETACL INBOX bob@acme.test lrs\r\n", "C a SETACL INBOX bob@acme.test lrs\n" },
		{ "b SETACL \"Other Users/amy@acme.test/INBOX\" bob@acme.test +wd\r\n",
		  "C b SETACL \"Other Users/amy@acme.test/INBOX\" bob@acme.test +wd\n" },
		{ "c SETACL Team {13+}\r\nbob@acme.test -c\r\n", "C c SETACL Team {13}\"bob@acme.test\" -c\n" },
		{ "d DELETEACL INBOX \"bob@acme.test\"\r\n", "C d DELETEACL INBOX \"bob@acme.test\"\n" },
		{ "e GETACL INBOX\r\nf MYRIGHTS \"Other Users/amy@acme.test/INBOX\"\r\n",
		  "C e GETACL INBOX\nC f MYRIGHTS \"Other Users/amy@acme.test/INBOX\"\n" },
		{ "g LISTRIGHTS INBOX anyone\r\n", "C g LISTRIGHTS INBOX anyone\n" },
		{ "h SETACL INBOX \"\" \"\"\r\n", "C h SETACL INBOX \"\" \"\"\n" },
		/* RFC 4314 2: anyone and negative identifiers */
		{ "i SETACL INBOX -anyone -lr\r\n", "C i SETACL INBOX -anyone -lr\n" },
		{ "j DELETEACL Team \"-bob@acme.test\"\r\n", "C j DELETEACL Team \"-bob@acme.test\"\n" },
		{ "k SETACL Team {14+}\r\n-bob@acme.test +x\r\n", "C k SETACL Team {14}\"-bob@acme.test\" +x\n" },
		{ "l LISTRIGHTS INBOX -anyone\r\n", "C l LISTRIGHTS INBOX -anyone\n" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		CHECK(same_all_ways(i, cases[i].in, cases[i].want));
}

static void test_rights_and_names(void)
{
	char out[MAIL_RIGHTS_LEN];
	unsigned bits;

	CHECK_EQ_INT(mail_rights_parse("wd", &bits), 0);
	mail_rights_string(bits, 1, out);
	CHECK_EQ_STR(out, "wxted");
	CHECK_EQ_INT(mail_rights_parse("c", &bits), 0);
	mail_rights_string(bits, 1, out);
	CHECK_EQ_STR(out, "kc");
	CHECK_EQ_INT(mail_rights_parse("+l", &bits), -1);
	CHECK_EQ_INT(mail_rights_parse("l r", &bits), -1);
	CHECK(imap_acl_is_other("Other Users"));
	CHECK(imap_acl_is_other("Other Users/amy@acme.test/INBOX"));
	CHECK(!imap_acl_is_other("Other Usersx"));
	CHECK(!imap_acl_is_other("other users/amy@acme.test/INBOX"));
	CHECK(!imap_acl_is_other("INBOX"));
}

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

/* "Other Users/<owner>/<rest>" (imap_acl_split). */
static void test_split(void)
{
	char owner[EVM_ADDRESS_MAX + 1];
	const char *rest = NULL;

	CHECK(imap_acl_split("Other Users/amy@acme.test/Team/Sub", owner, &rest));
	CHECK_EQ_STR(owner, "amy@acme.test");
	CHECK_EQ_STR(rest, "Team/Sub");
	CHECK(imap_acl_split("Other Users/amy@acme.test/Top", owner, &rest));
	CHECK_EQ_STR(rest, "Top");
	CHECK(!imap_acl_split("Other Users/amy@acme.test/", owner, &rest));
	CHECK(!imap_acl_split("Other Users/amy@acme.test", owner, &rest));
	CHECK(!imap_acl_split("Other Users", owner, &rest));
	CHECK(!imap_acl_split("INBOX/x", owner, &rest));
}

int main(void)
{
	test_run("ACL commands parse the same in every split", test_commands);
	test_run("rights strings and Other Users names", test_rights_and_names);
	test_run("identifiers: address, anyone, -identifier", test_identifiers);
	test_run("Other Users/<owner>/<rest>", test_split);
	return test_done();
}
