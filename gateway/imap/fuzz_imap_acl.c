/* fuzz_imap_acl - libFuzzer target for the rights strings of SETACL and
 * the names of the "Other Users" namespace (RFC 4314 2.1, RFC 2342).
 *
 * The input is a rights string: parsing never crashes, and what parses
 * prints canonically and parses back to the same bits; with the obsolete
 * c and d added (RFC 4314 2.1.1) it parses back to a superset (d stands
 * for all of x t e). It is also classified as a mailbox
 * name, which must agree with a plain prefix test. */
#include "gateway/imap/imap_acl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int cond)
{
	if (!cond)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), out[MAIL_RIGHTS_LEN];
	unsigned bits, again;
	size_t n = strlen(IMAP_OTHER_USERS);

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (mail_rights_parse(s, &bits) == 0) {
		check((bits & ~MAIL_R_EVERY) == 0);
		mail_rights_string(bits, 0, out);
		check(mail_rights_parse(out, &again) == 0 && again == bits);
		mail_rights_string(bits, 1, out);
		check(strlen(out) < MAIL_RIGHTS_LEN);
		check(mail_rights_parse(out, &again) == 0 && (again & bits) == bits);
	}
	check(imap_acl_is_other(s) ==
	      (strncmp(s, IMAP_OTHER_USERS, n) == 0 && (s[n] == '\0' || s[n] == '/')));
	free(s);
	return 0;
}
