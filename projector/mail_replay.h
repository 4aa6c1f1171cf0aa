/* mail_replay - an account's mailboxes and messages as they were at a
 * given time, rebuilt from the account's mail events and their outcomes.
 *
 * Point-in-time restore (gateway/admin_restore.c) feeds it the events of
 * the account's mail partition in log order, each with the projector's
 * outcome (ev/<id>), and asks what a mailbox held at the time. Pure and
 * deterministic: the events and outcomes are the only input (no clock, no
 * view), so two nodes compute the same answer.
 *
 * What is tracked, from ACCEPTED events with envelope ts <= at_ms (later
 * events and rejected ones change nothing):
 *   the default mailboxes, provisioned by the account's first accepted
 *   event (ids as mail_account.c makes them, SHA-256("<event id>/<name>"));
 *   mailbox.create / rename (children move) / delete / update (special use);
 *   message.append (mailbox and UID from the outcome), message.store (the
 *   UIDs the outcome does not list as "modified"), message.copy and
 *   message.move (the outcome's src/dst ranges pair the UIDs),
 *   message.expunge (the outcome's "expunged" ranges).
 *   account.purge empties it: the next accepted event provisions again.
 * A message keeps what a new message.append needs: blob_id, blob_size,
 * prefix, flags, keywords, internal_date, summary, dsn, and its email_id.
 *
 * An event this module cannot read (a field of the wrong type) is skipped:
 * the projector accepted it, so its shape was right when it was applied,
 * and a restore must not fail on one odd record. Not thread-safe: one
 * replay belongs to one thread. */
#ifndef EVM_MAIL_REPLAY_H
#define EVM_MAIL_REPLAY_H

#include <jansson.h>
#include <stdint.h>

#include "ingest/event.h"

struct mail_replay;

/* A replay of account's events up to at_ms (inclusive). Free with
 * mail_replay_free. */
struct mail_replay *mail_replay_new(const char *account, int64_t at_ms);
/* Frees r and sets it to NULL; NULL-safe. */
void mail_replay_free(struct mail_replay **r);

/* Feeds one event in log order with its outcome (borrowed; NULL when the
 * projector recorded none). Events of other accounts are ignored. Returns
 * 1 when the event changed the state at the time, 0 when not (rejected,
 * after at_ms, another account, a type that holds no messages). */
int mail_replay_feed(struct mail_replay *r, const struct evm_event *ev, const json_t *outcome);

/* The mailboxes alive at the time, sorted by name: a new array of
 * {"id", "name", "special_use", "messages"} (free it). */
json_t *mail_replay_mailboxes(const struct mail_replay *r);
/* The id of the mailbox named name (canonical form, INBOX in any case) at
 * the time: 1 with id_r (33 octets), 0 when there was none. */
int mail_replay_mailbox_by_name(const struct mail_replay *r, const char *name, char id_r[33]);
/* The messages of mailbox_id at the time, in UID order: a new array of
 * {"uid", "blob_id", "blob_size", "prefix", "flags", "keywords",
 *  "internal_date", "summary", "dsn" (when the append had one),
 *  "email_id"} (free it); empty for an unknown mailbox. */
json_t *mail_replay_messages(const struct mail_replay *r, const char *mailbox_id);

#endif
