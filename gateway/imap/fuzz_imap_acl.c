/* fuzz_imap_acl - libFuzzer target for the arguments of the ACL commands
 * (RFC 4314 3): identifiers ("anyone", "-identifier", addresses) and
 * rights, and the effective-rights arithmetic (RFC 4314 2).
 *
 * The input is one command line (a "t SETACL " prefix is added when the
 * input does not start with a tag) fed to the push parser; each string
 * argument of a parsed command goes through imap_acl_identifier_parse and
 * mail_rights_parse (after an optional + or -). Besides not crashing: an
 * identifier that parses is a valid stored identifier, parses again to
 * itself, and its base is it without the "-"; rights print canonically
 * and parse back to the same bits (with c and d: to at least them),
 * inside MAIL_R_EVERY; effective rights
 * from any two parsed sets hold no right of a negative entry and none
 * that no positive entry gave. */
#include "gateway/imap/imap_acl.h"
#include "gateway/imap/imap_parser.h"
#include "gateway/imap/imap_session_util.h"
#include "common/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

/* One identifier argument. */
static void check_identifier(const char *arg)
{
	char out[MAIL_ACL_ID_MAX + 1], base[EVM_ADDRESS_MAX + 1], out2[MAIL_ACL_ID_MAX + 1],
		base2[EVM_ADDRESS_MAX + 1];
	const char *err = NULL;

	if (imap_acl_identifier_parse(arg, out, base, &err) < 0)
		return;
	check(mail_acl_identifier_kind(out) >= 0);
	check(strcmp(out + (out[0] == '-'), base) == 0);
	check(imap_acl_identifier_parse(out, out2, base2, &err) == 0);
	check(strcmp(out, out2) == 0 && strcmp(base, base2) == 0);
}

/* One rights argument; *bits_r for the arithmetic. 0, or -1. */
static int check_rights(const char *arg, unsigned *bits_r)
{
	char canon[MAIL_RIGHTS_LEN], with[MAIL_RIGHTS_LEN];
	unsigned again = 0;

	if (arg[0] == '+' || arg[0] == '-')
		arg++;
	if (mail_rights_parse(arg, bits_r) < 0)
		return -1;
	check((*bits_r & ~MAIL_R_EVERY) == 0);
	mail_rights_string(*bits_r, 0, canon);
	check(mail_rights_parse(canon, &again) == 0 && again == *bits_r);
	/* With c and d (RFC 4314 2.1.1) it reads back as at least the same:
	 * d stands for all of x t e. */
	mail_rights_string(*bits_r, 1, with);
	check(mail_rights_parse(with, &again) == 0 && (again & *bits_r) == *bits_r);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_parser_limits lim = { .max_line = 8192, .max_literal = 1024, .max_args = 1000, .max_depth = 8 };
	struct imap_parser *p = imap_parser_new(&lim);
	struct buf in = BUF_INIT;
	struct imap_command *cmd = NULL;
	const char *err = NULL;
	size_t used = 0, off = 0;
	enum imap_parse_result r = IMAP_PARSE_NEED_MORE;
	unsigned sets[4] = { 0 }, n = 0, bits;

	if (size == 0 || data[0] != 't')
		buf_puts(&in, "t SETACL ");
	buf_append(&in, data, size);
	buf_puts(&in, "\r\n");
	while (off < in.len) {
		r = imap_parser_feed(p, in.data + off, in.len - off, &used, &cmd, &err);
		off += used;
		if (r != IMAP_PARSE_CONTINUE)
			break;
	}
	if (r == IMAP_PARSE_COMMAND) {
		for (size_t i = 0; i < cmd->nargs; i++) {
			const char *a = imap_arg_str(&cmd->args[i]);

			if (a == NULL)
				continue;
			check_identifier(a);
			if (check_rights(a, &bits) == 0 && n < 4)
				sets[n++] = bits;
		}
		bits = mail_rights_effective(sets[0], sets[1], sets[2], sets[3]);
		check((bits & (sets[2] | sets[3])) == 0);
		check((bits & ~(sets[0] | sets[1])) == 0);
	}
	imap_parser_free(&p);
	buf_free(&in);
	return 0;
}
