/* mta_sts_policy - the MTA-STS policy file (RFC 8461 3.2) as a push
 * parser, and the pieces of MTA-STS that are pure text: the _mta-sts TXT
 * record (RFC 8461 3.1) and MX pattern matching (RFC 8461 4.1).
 *
 * Policy: "key: value" lines ended by LF or CRLF; version (STSv1), mode
 * (enforce, testing, none) and max_age (0..31557600) required, mx
 * (one or more) required unless mode is none; unknown keys ignored; the
 * first of a repeated single-valued key wins. Limits: a line at most
 * MTA_STS_MAX_LINE octets, MTA_STS_MAX_LINES lines, MTA_STS_MAX_MX mx
 * patterns; the fetch caps the body at 64 KiB. */
#ifndef EVM_MTA_STS_POLICY_H
#define EVM_MTA_STS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define MTA_STS_MAX_LINE 1000
#define MTA_STS_MAX_LINES 1000
#define MTA_STS_MAX_MX 32
#define MTA_STS_MAX_AGE 31557600          /* RFC 8461 3.2 */
#define MTA_STS_MAX_BODY 65536            /* RFC 8461 3.3: 64 KiB */

enum mta_sts_mode { MTA_STS_MODE_NONE, MTA_STS_MODE_TESTING, MTA_STS_MODE_ENFORCE };

struct mta_sts_policy {
	enum mta_sts_mode mode;
	int64_t max_age;
	char mx[MTA_STS_MAX_MX][254];     /* lower case, "*.example.com" or "mx.example.com" */
	unsigned nmx;
};

struct mta_sts_parser {
	struct mta_sts_policy policy;
	char line[MTA_STS_MAX_LINE + 1];
	size_t linelen;
	unsigned lines;
	int have_version, have_mode, have_max_age;
	int failed;
	char error[160];
};

void mta_sts_parser_init(struct mta_sts_parser *p);
/* Any number of octets at a time; -1 with error_r at the first error (and
 * every later call). */
int mta_sts_parser_feed(struct mta_sts_parser *p, const void *data, size_t len, const char **error_r);
/* End of the body: a last line without LF is taken; then the required keys
 * are checked. */
int mta_sts_parser_finish(struct mta_sts_parser *p, struct mta_sts_policy *policy_r, const char **error_r);
const char *mta_sts_mode_name(enum mta_sts_mode mode);

/* One TXT record's text (character-strings concatenated): 1 an STS record
 * with its id (1-32 alphanumerics) copied, 0 not an STS record (no
 * "v=STSv1" first), -1 an STS record that is malformed. */
int mta_sts_txt_parse(const char *txt, size_t len, char id[33]);
/* RFC 8461 4.1: host (no trailing dot) matches pattern exactly or, for
 * "*.d", host is one label followed by ".d". Case-insensitive. */
int mta_sts_mx_match(const char *pattern, const char *host);

#endif
