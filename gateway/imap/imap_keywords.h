/* imap_keywords - FLAGS announcements of the selected mailbox (RFC 9051
 * 7.3.5) (imap_keywords.c) */
#ifndef EVM_IMAP_KEYWORDS_H
#define EVM_IMAP_KEYWORDS_H

#include "gateway/imap/imap_snapshot.h"

struct imap_session;
/* SELECT / EXAMINE: "* FLAGS" and "* OK [PERMANENTFLAGS]" with every
 * keyword of the snapshot. */
void imap_keywords_select(struct imap_session *s);
/* Before a FETCH response with m's flags: announces its new keywords. */
void imap_keywords_check(struct imap_session *s, const struct imap_msg *m);

#endif
