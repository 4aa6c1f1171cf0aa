/* imap_urlauth - URLAUTH-authorized URLs (RFC 4467) over the view: the
 * "INTERNAL" verifier, and the checks URLFETCH (and a submission server's
 * BURL, RFC 4468) make before reading what a URL names.
 *
 * KEYS (projector/mail.h mailbox.urlauth_key): a mailbox's access key is
 * its own key when RESETKEY gave it one, else HMAC-SHA256(account base key,
 * "evmail-urlauth/" mailbox id). INTERNAL verifier = lower-case hex of
 * HMAC-SHA256(mailbox access key, the rump URL: everything up to and
 * including ";URLAUTH=<access>", RFC 4467 2.4). OpenSSL HMAC, compared in
 * constant time. The keys live in the mail partition: the log holds them. */
#ifndef EVM_IMAP_URLAUTH_H
#define EVM_IMAP_URLAUTH_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "gateway/imap/imap_url.h"
#include "projector/view.h"

#define IMAP_URLAUTH_MECH "INTERNAL"

/* A new key: 64 hex digits from RAND_bytes. 0, or -1 (no randomness). */
int imap_urlauth_new_key(char hex_r[65]);
/* The INTERNAL verifier of rump[0..len) for owner's mailbox mailbox_id:
 * 1 and hex_r, 0 when the account has no key yet, -1 on a view error. */
int imap_urlauth_verifier(struct view *view, const char *owner, const char *mailbox_id, const char *rump,
			  size_t len, char hex_r[65], const char **error_r);
/* URLFETCH of url[0..len) for a session of account who (submit: acting as
 * a submission server for who, RFC 4467 3 "submit+"), at now_ms: the
 * octets appended to out and 0, or -1 for every failure alike (RFC 4467
 * 7: the client sees NIL, whatever the reason). */
int imap_urlauth_fetch(struct view *view, const char *who, int submit, int64_t now_ms, const char *url,
		       size_t len, struct buf *out);

#endif
