/* imap_notify - NOTIFY (RFC 5465): the parsed NOTIFY SET / NONE command
 * (imap_notify.c), the session's notification state and its sending
 * (imap_notify_session.c), and the command (imap_cmd_notify.c). */
#ifndef EVM_IMAP_NOTIFY_H
#define EVM_IMAP_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "gateway/imap/imap_parser.h"

#define IMAP_NOTIFY_GROUPS_MAX 32     /* event groups in one NOTIFY SET */
#define IMAP_NOTIFY_NAMES_MAX 100     /* mailbox names over all groups */
#define IMAP_NOTIFY_OVERFLOW 1000     /* responses in one round before NOTIFICATIONOVERFLOW */

/* RFC 5465 6: filter-mailboxes. */
enum imap_notify_filter {
	IMAP_NF_SELECTED,
	IMAP_NF_SELECTED_DELAYED,
	IMAP_NF_INBOXES,
	IMAP_NF_PERSONAL,
	IMAP_NF_SUBSCRIBED,
	IMAP_NF_SUBTREE,
	IMAP_NF_MAILBOXES,
};

/* RFC 5465 5: the events supported (AnnotationChange is not: there are no
 * per-message annotations, RFC 5257). */
enum {
	IMAP_NE_MESSAGE_NEW = 1,
	IMAP_NE_MESSAGE_EXPUNGE = 2,
	IMAP_NE_FLAG_CHANGE = 4,
	IMAP_NE_MAILBOX_NAME = 8,
	IMAP_NE_SUBSCRIPTION = 16,
	IMAP_NE_MAILBOX_METADATA = 32,
	IMAP_NE_SERVER_METADATA = 64,
};
#define IMAP_NE_MESSAGE (IMAP_NE_MESSAGE_NEW | IMAP_NE_MESSAGE_EXPUNGE | IMAP_NE_FLAG_CHANGE)

/* The fetch-att of MessageNew (RFC 5465 5.1) rendered for new messages. */
enum { IMAP_NFA_UID = 1, IMAP_NFA_FLAGS = 2, IMAP_NFA_MODSEQ = 4, IMAP_NFA_SIZE = 8, IMAP_NFA_INTERNALDATE = 16 };

struct imap_notify_group {
	enum imap_notify_filter filter;
	unsigned events;              /* IMAP_NE_*; 0 for NONE */
	char **names;                 /* subtree / mailboxes: canonical UTF-8 names */
	size_t nnames;
};

struct imap_notify_spec {
	bool none;                    /* NOTIFY NONE */
	bool status;                  /* NOTIFY SET STATUS */
	unsigned fetch;               /* IMAP_NFA_* of MessageNew for the selected mailbox */
	struct imap_notify_group *groups;
	size_t n;
};

/* Outcomes of imap_notify_parse. */
enum { IMAP_NOTIFY_OK = 0, IMAP_NOTIFY_BAD = -1, IMAP_NOTIFY_BADEVENT = -2, IMAP_NOTIFY_LIMIT = -3 };
/* The events listed in NO [BADEVENT (...)] (RFC 5465 3.1). */
#define IMAP_NOTIFY_SUPPORTED "(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange " \
	"MailboxMetadataChange ServerMetadataChange)"

struct imap_session;
/* Parses NOTIFY's arguments (RFC 5465 8). Mailbox names are decoded for
 * s (modified UTF-7 for IMAP4rev1), or taken as UTF-8 when s is NULL.
 * IMAP_NOTIFY_OK with *spec_r, else an IMAP_NOTIFY_* failure with
 * *error_r (BAD, NO [BADEVENT], NO [LIMIT]). */
int imap_notify_parse(struct imap_session *s, const struct imap_arg *args, size_t nargs,
		      struct imap_notify_spec **spec_r, const char **error_r);
void imap_notify_spec_free(struct imap_notify_spec **spec);
/* The events the spec asks for on the (non-selected) mailbox name: the
 * first group whose filter takes it (subscribed: whether it is). */
unsigned imap_notify_events_for(const struct imap_notify_spec *sp, const char *name, bool subscribed);
/* The events of the selected / selected-delayed group (0 when none);
 * *delayed_r set for selected-delayed. */
unsigned imap_notify_selected_events(const struct imap_notify_spec *sp, bool *delayed_r);
/* The union of the events over every group. */
unsigned imap_notify_all_events(const struct imap_notify_spec *sp);

/* ---- imap_notify_session.c ---- */
struct imap_notify;
/* Replaces the session's NOTIFY state by spec (stolen; NULL or NONE: off)
 * and takes the current mailboxes as reported; with spec->status, sends
 * STATUS for the watched mailboxes (RFC 5465 3.1). */
void imap_notify_set(struct imap_session *s, struct imap_notify_spec *spec);
/* Hook, the projector changed the account: sends what changed now when no
 * command is in progress (or IDLE), else at its completion. */
void imap_notify_changed(struct imap_session *s);
/* Hook, a command completes (before its tagged reply): sends what is
 * pending; ok: the command did not fail with BAD. */
void imap_notify_flush(struct imap_session *s, bool ok);
void imap_notify_free(struct imap_session *s);

/* ---- imap_notify_shared.c: mailboxes shared with the session ---- */
/* The owners whose partitions a NOTIFY session listens to. */
struct imap_notify_owners {
	json_t *names;                 /* owner -> true */
	struct projector_sub **subs;
	size_t n;
};
/* Adds to boxes (id -> record with keys, and "owner") the mailboxes shared
 * with the session on which it holds l and r, named "Other Users/..."
 * (RFC 4314 4), when a group of sp can take such a name (subscribed,
 * subtree, mailboxes; RFC 5465 6): true then, false when none can. */
bool imap_notify_shared_add(struct imap_session *s, const struct imap_notify_spec *sp, json_t *boxes,
			    const char *const *keys, size_t nkeys);
/* Listens to the partitions of the owners in boxes (their changes call
 * imap_notify_changed), and to no other; with anyone, to the changes of
 * the tenant's grants to anyone too (projector/mail_acl.h). */
void imap_notify_owners_update(struct imap_session *s, struct imap_notify_owners *w, json_t *boxes, bool anyone);
void imap_notify_owners_free(struct imap_notify_owners *w);

#endif
