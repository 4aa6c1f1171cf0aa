/* retention - retention policies (issue #13 item 4): their events, which
 * rule applies to a mailbox, and the save-date index the enforcer reads
 * (gateway/retention/retention.h decides; ordinary message.expunge events
 * carry out its decisions).
 *
 * Events (appliers deterministic: the rules are data, no clock is read):
 *   tenant.retention  (directory; envelope tenant = the tenant or "")
 *                     {name, trash_ms?, junk_ms?, all_ms?}
 *                     the tenant's whole rule set, replacing the previous
 *                     one; a rule absent is no rule (none at all clears
 *                     them). Each is a maximum age in ms, 1 ms ..
 *                     RETENTION_MAX_MS. Stored in the tenant record
 *                     (dir/tenant/<name>) as "retention": {"trash": ms,
 *                     "junk": ms, "all": ms}, only the rules set; gone
 *                     with the tenant. "not-found" without the tenant.
 *   mailbox.retention (mail; envelope account = the owner)
 *                     {mailbox_id | name, max_age_ms?}
 *                     the mailbox's own rule, overriding the tenant's for
 *                     it: 0 .. RETENTION_MAX_MS, 0 = keep forever;
 *                     max_age_ms absent or null clears it (the tenant's
 *                     rules apply again). Stored in the mailbox record as
 *                     "retention_ms" (absent = none); kept on RENAME (the
 *                     record is the id's), gone with the mailbox. Not a
 *                     JMAP or IMAP change (no modseq). "not-found"
 *                     without the mailbox.
 *
 * Which rule applies (retention_max_age): the mailbox's own rule when it
 * has one; otherwise the SHORTEST of the tenant's rules that match it:
 * "trash" for the mailbox whose special use is \Trash, "junk" for \Junk
 * (RFC 6154 2), "all" for every mailbox. A tenant's "all" is a cap for
 * every mailbox, so Trash with trash 30 d and all 365 d keeps 30 days.
 *
 * Age is measured from the message's SAVE DATE (RFC 8514: when it entered
 * THIS mailbox, the record's "savedate", the event time of its append,
 * copy or move), not its INTERNALDATE (RFC 3501 2.3.3, set by the client
 * on APPEND and kept on COPY): a message moved to Trash yesterday is one
 * day old in Trash however old the message is. A record without a save
 * date (none are written now) counts from its internal date.
 *
 * The index (projector/mail_keys.h sdat/): one entry per live message,
 * mail/<acct>/sdat/<mailbox id>/<save date ms, 20 digits>/<uid, 10
 * digits> = "", written with the message record and deleted with it, so a
 * mailbox's oldest messages are the first keys under its prefix. */
#ifndef EVM_RETENTION_H
#define EVM_RETENTION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "projector/view.h"

/* 100 years, in ms. */
#define RETENTION_MAX_MS (INT64_C(36500) * 86400000)
/* UIDs one retention_expired call returns at most. */
#define RETENTION_UIDS_MAX 10000

/* The maximum age (ms) of the messages of a mailbox: tenant_rules is the
 * tenant record's "retention" (NULL: none), mbox the mailbox record.
 * Returns -1 when no rule applies (kept), 0 when its own rule keeps it
 * forever, else the age. *source_r (may be NULL) gets "mailbox", "trash",
 * "junk", "all" or "" (none). Malformed members are ignored. */
int64_t retention_max_age(json_t *tenant_rules, json_t *mbox, const char **source_r);

/* Up to max (<= RETENTION_UIDS_MAX) UIDs of the account's mailbox whose
 * save date is before cutoff_ms, oldest first, into uids (room for max);
 * *n_r gets their number. Reads the committed view (any thread). 0, or -1
 * with *error_r (an index entry is malformed, or a view error). */
int retention_expired(struct view *view, const char *account, const char *mailbox_id, int64_t cutoff_ms,
		      uint32_t *uids, size_t max, size_t *n_r, const char **error_r);

#endif
