/* fuzz_imap_url - libFuzzer target for the RFC 5092 / RFC 4467 URL parser
 * (imap_url.h) and METADATA entry names (built with -DEVMAIL_FUZZ=ON).
 *
 * Input: the URL. A parsed URL must be self-consistent: a mailbox and a
 * UID, a rump inside the input ending right after the access identifier,
 * a verifier only with a mechanism and lower-case hex of 32..128 digits,
 * URLAUTH only with a user; parsing the rump alone gives the same
 * components without a verifier. The input is also checked as an entry
 * name: a valid one is lower-case printable ASCII. Aborts otherwise. */
#include "gateway/imap/imap_url.h"
#include "projector/mail.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* A name mail_meta_entry_valid accepts has only what RFC 5464 3.2 allows. */
static void check_entry(const char *s, size_t len)
{
	if (!mail_meta_entry_valid(s, len))
		return;
	if (len > MAIL_META_NAME_MAX || (strncmp(s, "/private/", 9) != 0 && strncmp(s, "/shared/", 8) != 0))
		abort();
	for (size_t i = 0; i < len; i++) {
		if (s[i] <= ' ' || s[i] >= 0x7f || (s[i] >= 'A' && s[i] <= 'Z') || s[i] == '*' || s[i] == '%')
			abort();
	}
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	const char *error = NULL;
	struct imap_url u, r;
	char *s = malloc(size + 1);

	memcpy(s, data, size);
	s[size] = '\0';
	check_entry(s, size);
	if (imap_url_parse(s, size, &u, &error) == 0) {
		if (u.mailbox == NULL || u.uid == 0 || (u.access != NULL && u.user == NULL) ||
		    (u.mech == NULL) != (u.token == NULL) || (u.mech != NULL && u.access == NULL))
			abort();
		if (u.token != NULL) {
			size_t n = strlen(u.token);

			if (n < 32 || n > IMAP_URLAUTH_TOKEN_MAX || strspn(u.token, "0123456789abcdef") != n)
				abort();
		}
		if (u.access != NULL) {
			if (u.rump_len > size || (u.rump_len < size && s[u.rump_len] != ':'))
				abort();
			if (imap_url_parse(s, u.rump_len, &r, &error) < 0 || r.token != NULL ||
			    strcmp(r.access, u.access) != 0 || strcmp(r.mailbox, u.mailbox) != 0 || r.uid != u.uid ||
			    r.rump_len != u.rump_len)
				abort();
			imap_url_free(&r);
		}
		imap_url_free(&u);
	} else if (u.mailbox != NULL || u.user != NULL) {
		abort();
	}
	free(s);
	return 0;
}
