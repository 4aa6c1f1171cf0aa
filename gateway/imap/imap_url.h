/* imap_url - IMAP URLs naming a message or a part of one (RFC 5092), with
 * URLAUTH (RFC 4467), shared by CATENATE (RFC 4469), GENURLAUTH and
 * URLFETCH (imap_cmd_urlauth.c).
 *
 *   imap://<enc-user>[;AUTH=x]@<host>[:port]/<mailbox>[;UIDVALIDITY=n]/;UID=n
 *        [/;SECTION=x][/;PARTIAL=o[.l]][;EXPIRE=<RFC 3339 date-time>]
 *        [;URLAUTH=<access>[:<mechanism>:<hex>]]
 *   or the relative form starting at "/<mailbox>" (no URLAUTH).
 *
 * Keywords are case-insensitive (RFC 5092 6); components are
 * percent-decoded (%00 refused). The parser works on a whole string (a
 * command argument, already bounded by the IMAP parser) and checks every
 * component's length and number range: IMAP_URL_MAX octets in all,
 * nz-numbers in 1..2^32-1 without leading zeros, the verifier 32..128 hex
 * digits. It never touches the view: imap_url_read does. */
#ifndef EVM_IMAP_URL_H
#define EVM_IMAP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "projector/view.h"

#define IMAP_URL_MAX 4096
#define IMAP_URLAUTH_TOKEN_MAX 128

struct imap_url {
	char *user;              /* decoded enc-user; NULL in the relative form */
	char *mailbox;           /* decoded; "INBOX" canonical */
	uint32_t uidvalidity;    /* 0: not given */
	uint32_t uid;
	char *section;           /* decoded, NULL: the whole message */
	bool partial;
	uint32_t partial_off, partial_len;   /* len 0: to the end */
	bool expire;
	int64_t expire_ms;
	char *access;            /* ";URLAUTH=" access (decoded), NULL without URLAUTH */
	char *mech;              /* NULL without a verifier (a rump URL) */
	char *token;             /* the verifier's hex digits (lower-case) */
	size_t rump_len;         /* octets of the URL up to the end of the access */
};

/* Parses url[0..len) into u (cleared first; free with imap_url_free).
 * 0, or -1 with *error_r (static text). */
int imap_url_parse(const char *url, size_t len, struct imap_url *u, const char **error_r);
void imap_url_free(struct imap_url *u);

/* The octets u names in account's mail (the message, a section, then the
 * partial range), appended to out. mailbox_id_r (33 octets, may be NULL)
 * gets the mailbox's id. 0, or -1 when anything is missing or invalid
 * (the mailbox, the UIDVALIDITY, the message, the body, the section):
 * callers answer every such case alike (RFC 4467 URLFETCH: NIL). */
int imap_url_read(struct view *view, const char *account, const struct imap_url *u, struct buf *out,
		  char *mailbox_id_r);

#endif
