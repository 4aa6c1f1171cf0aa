/* imap_snapshot - the selected mailbox as a session holds it: its messages
 * (16 bytes each), keyword sets, \Recent claims, saved search result and
 * update contexts. Data only: the engines that read and change it
 * (imap_mailbox.c, imap_msgrec.c, imap_recent.c, ...) include it without
 * calling each other. */
#ifndef EVM_IMAP_SNAPSHOT_H
#define EVM_IMAP_SNAPSHOT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/address.h"

struct imap_uctx;
struct projector_sub;

/* A message of the snapshot: 16 bytes, no view record (imap_msgrec.c
 * reads those when a command needs more than UID, flags and MODSEQ). */
struct imap_msg {
	uint32_t uid;
	uint32_t kw : 24;     /* keyword set (imap_mbox.kwsets), 0: none */
	uint32_t flags : 5;   /* system flags, MAIL_F_* (projector/mail.h) */
	uint32_t expunged : 1; /* gone from the view, not announced yet */
	uint32_t dirty : 1;   /* flags changed, FETCH FLAGS not sent yet */
	int64_t modseq;
};
/* A distinct keyword set of the mailbox: space-separated keywords as the
 * modseq index stores them (sorted). */
struct imap_kwset {
	char *kw;
	size_t len;
	int told;             /* its keywords were announced by FLAGS */
};
#define IMAP_KWSETS_MAX (1u << 24)
struct imap_mbox {
	char id[33];
	char *name;
	int readonly;
	int uidonly;               /* the session enabled UIDONLY (RFC 9586): SEARCH takes no sequence set */
	uint32_t uidvalidity, uidnext;
	int64_t highestmodseq;
	int64_t synced;           /* every change up to this modseq is applied */
	struct imap_msg *msgs;    /* in UID order = sequence order */
	size_t n, cap;
	size_t exists_sent;       /* the EXISTS the client knows */
	uint32_t *saved;          /* RFC 5182 "$": UIDs saved by SEARCH RETURN (SAVE) */
	size_t nsaved;
	struct imap_uctx *uctx;   /* RFC 5267 4.3 update contexts (imap_context.c) */
	unsigned serial;          /* tells a reopened mailbox from this one */
	/* IMAP4rev1 \Recent (RFC 3501 2.3.2, imap_recent.c): the UID ranges
	 * this session claimed (mailbox.claim_recent), ascending. */
	int claim;                /* a rev1 SELECT: claims new arrivals */
	int claiming;             /* a claim is in flight */
	int recent_dirty;         /* the RECENT count changed, not sent yet */
	uint32_t claimed;         /* every UID up to this is decided */
	uint32_t view_recent;     /* the mailbox's recent_uid in the view */
	uint32_t (*recent)[2];
	size_t nrecent;
	json_t *keywords;         /* the keywords FLAGS announced (imap_keywords.c) */
	/* ACL (imap_acl.c): the account whose mailbox this is (the session's
	 * own, or the owner of a shared one), the session's rights on it
	 * (projector/mail_acl.h bits), and the owner's change subscription. */
	char owner[EVM_ADDRESS_MAX + 1];
	unsigned rights;
	struct projector_sub *owner_sub;
	struct imap_kwset *kwsets; /* [0] is the empty set */
	size_t nkwsets, kwcap;
};

#endif
