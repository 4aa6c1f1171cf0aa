/* fuzz_imap_mutf7 - libFuzzer target for the modified UTF-7 codec and the
 * SCRAM-SHA-256 message parsers (built with -DEVMAIL_FUZZ=ON).
 *
 * Input: one selector byte, then the text. Selector bit 0 clear: the text
 * is decoded as modified UTF-7; when that succeeds the UTF-8 must encode
 * back to 7-bit text that decodes to the same UTF-8, and the text itself
 * as UTF-8 is encoded and decoded back. Bit 0 set: the text (up to a LF)
 * is a SCRAM client-first-message, the rest a client-final-message.
 * Aborts on a broken round trip. */
#include "gateway/imap/imap_mutf7.h"
#include "gateway/imap/imap_scram.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

/* Decode, re-encode, decode again: the same UTF-8. */
static void mutf7_round(const char *s)
{
	struct buf d = BUF_INIT, e = BUF_INIT, d2 = BUF_INIT;

	if (imap_mutf7_decode(s, &d) == 0) {
		if (imap_mutf7_encode(d.data, &e) < 0 || imap_has_8bit(e.data) ||
		    imap_mutf7_decode(e.data, &d2) < 0 || strcmp(d.data, d2.data) != 0)
			abort();
	}
	buf_free(&d);
	buf_free(&e);
	buf_free(&d2);
	e = (struct buf)BUF_INIT;
	d2 = (struct buf)BUF_INIT;
	if (imap_mutf7_encode(s, &e) == 0 && (imap_mutf7_decode(e.data, &d2) < 0 || strcmp(d2.data, s) != 0))
		abort();
	buf_free(&e);
	buf_free(&d2);
}

/* Both SCRAM client messages against made-up keys: never a success. */
static void scram(const char *s, size_t len)
{
	struct imap_scram sc;
	const char *error = NULL, *lf = memchr(s, '\n', len);
	char *final = NULL;

	memset(&sc, 0, sizeof sc);
	if (imap_scram_client_first(&sc, s, lf ? (size_t)(lf - s) : len, &error) == 0) {
		imap_scram_set_keys(&sc, NULL);
		imap_scram_server_first(&sc, "fuzz");
		if (lf != NULL && imap_scram_client_final(&sc, lf + 1, len - (size_t)(lf + 1 - s), &final, &error) > 0)
			abort();
		free(final);
	}
	imap_scram_clear(&sc);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *s;

	if (size < 1 || size > 4096)
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	if (data[0] & 1)
		scram(s, strlen(s));
	else
		mutf7_round(s);
	free(s);
	return 0;
}
