/* imap_msgrec - keyword sets, flags and view records of the selected
 * mailbox's messages (imap_msgrec.c) */
#ifndef EVM_IMAP_MSGREC_H
#define EVM_IMAP_MSGREC_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "gateway/imap/imap_snapshot.h"

struct imap_session;
/* "(\Seen $Junk)" of a message (recent: with \Recent first). */
void imap_flags_string(const struct imap_mbox *mb, const struct imap_msg *m, int recent, struct buf *out);
/* The id of a keyword set ("kw1 kw2", sorted), added when new; -1 past
 * IMAP_KWSETS_MAX. */
int64_t imap_kwset_id(struct imap_mbox *mb, const char *kw, size_t len);
void imap_kwsets_free(struct imap_mbox *mb);
/* 1 when message m has the system flag or keyword (case-insensitive). */
int imap_msg_has_flag(const struct imap_mbox *mb, const struct imap_msg *m, const char *flag);
/* Reads message records (mail.h) from the view in runs of UIDs. */
struct imap_recs {
	json_t *list;         /* the records of the run, UID order */
	uint32_t lo, hi;      /* the run's UIDs */
	size_t pos;
};
#define IMAP_RECS_RUN 256
/* The record of message i (borrowed: valid until the next call or
 * imap_recs_free), NULL when gone from the view (or on a view error,
 * logged). A miss reads messages i .. i + run - 1 (run capped at
 * IMAP_RECS_RUN) with one range read. */
json_t *imap_recs_get(struct imap_session *s, struct imap_recs *c, size_t i, size_t run);
void imap_recs_free(struct imap_recs *c);
/* How many of idx[k..n) (ascending message indexes) follow each other in
 * the mailbox from k on: the run to pass to imap_recs_get. */
size_t imap_idx_run(const size_t *idx, size_t n, size_t k);

#endif
