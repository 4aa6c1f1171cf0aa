/* test_imap_msgrec - the 16-byte session record: keyword sets, FLAGS
 * rendering and flag tests from the bits (imap_msgrec.c). */
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_msgrec.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <string.h>

static void test_record_size(void)
{
	CHECK_EQ_INT((int)sizeof(struct imap_msg), 16);
}

static void test_kwsets(void)
{
	struct imap_mbox mb;

	memset(&mb, 0, sizeof mb);
	CHECK_EQ_INT((int)imap_kwset_id(&mb, "", 0), 0);
	CHECK_EQ_INT((int)imap_kwset_id(&mb, "$a $b", 5), 1);
	CHECK_EQ_INT((int)imap_kwset_id(&mb, "$Junk", 5), 2);
	CHECK_EQ_INT((int)imap_kwset_id(&mb, "$a $b", 5), 1);    /* the same set, the same id */
	CHECK_EQ_INT((int)imap_kwset_id(&mb, "$a $bx", 3), 3);   /* only len octets count: "$a " */
	CHECK_EQ_INT((int)mb.nkwsets, 4);
	imap_kwsets_free(&mb);
	CHECK(mb.kwsets == NULL);
}

static void test_flags(void)
{
	struct imap_mbox mb;
	struct imap_msg m;
	struct buf out = BUF_INIT;

	memset(&mb, 0, sizeof mb);
	memset(&m, 0, sizeof m);
	m.uid = 7;
	imap_flags_string(&mb, &m, 0, &out);
	CHECK_EQ_STR(out.data, "()");
	buf_truncate(&out, 0);
	imap_flags_string(&mb, &m, 1, &out);
	CHECK_EQ_STR(out.data, "(\\Recent)");
	m.flags = MAIL_F_SEEN | MAIL_F_ANSWERED;
	m.kw = (uint32_t)imap_kwset_id(&mb, "$Junk $x", 8);
	buf_truncate(&out, 0);
	imap_flags_string(&mb, &m, 1, &out);
	CHECK_EQ_STR(out.data, "(\\Recent \\Answered \\Seen $Junk $x)");
	m.flags = 0;
	buf_truncate(&out, 0);
	imap_flags_string(&mb, &m, 0, &out);
	CHECK_EQ_STR(out.data, "($Junk $x)");
	CHECK_EQ_INT(imap_msg_has_flag(&mb, &m, "$junk"), 1);   /* case-insensitive */
	CHECK_EQ_INT(imap_msg_has_flag(&mb, &m, "$X"), 1);
	CHECK_EQ_INT(imap_msg_has_flag(&mb, &m, "$Jun"), 0);
	CHECK_EQ_INT(imap_msg_has_flag(&mb, &m, "\\Seen"), 0);
	m.flags = MAIL_F_DELETED;
	CHECK_EQ_INT(imap_msg_has_flag(&mb, &m, "\\deleted"), 1);
	CHECK_EQ_INT(imap_msg_has_flag(&mb, &m, "\\Draft"), 0);
	buf_free(&out);
	imap_kwsets_free(&mb);
}

static void test_idx_run(void)
{
	size_t idx[] = { 0, 1, 2, 5, 6, 9 };

	CHECK_EQ_INT((int)imap_idx_run(idx, 6, 0), 3);
	CHECK_EQ_INT((int)imap_idx_run(idx, 6, 3), 2);
	CHECK_EQ_INT((int)imap_idx_run(idx, 6, 5), 1);
}

int main(void)
{
	test_run("a session record is 16 bytes", test_record_size);
	test_run("keyword sets: one id per distinct set", test_kwsets);
	test_run("FLAGS from bits and keyword sets", test_flags);
	test_run("runs of consecutive messages", test_idx_run);
	return test_done();
}
