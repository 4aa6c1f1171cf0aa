/* fts_idcache - the email id of each (mailbox, UID) a text search met
 * (fts_idcache.c) */
#ifndef EVM_FTS_IDCACHE_H
#define EVM_FTS_IDCACHE_H

#include <stddef.h>
#include <stdint.h>

/* At most this many UIDs are kept over all mailboxes of a node (20
 * octets each); past it the least recently searched mailboxes go. */
#define EVM_FTS_IDS_MAX (1u << 20)

struct evm_fts_idcache;
struct evm_fts_ids;
struct evm_fts_idcache *evm_fts_idcache_new(void);
void evm_fts_idcache_free(struct evm_fts_idcache **c);
/* The mailbox's entry (made when new, then the most recent; others may go
 * to keep the bound). Valid until the next call on c. */
struct evm_fts_ids *evm_fts_idcache_box(struct evm_fts_idcache *c, const char *owner, const char *mailbox_id,
					uint32_t uidvalidity);
/* UIDs kept over all mailboxes. */
size_t evm_fts_idcache_size(const struct evm_fts_idcache *c);
/* 1 and the email id (32 hex digits) in hex_r, or 0. */
int evm_fts_ids_get(struct evm_fts_ids *b, uint32_t uid, char hex_r[33]);
/* Keeps uid -> email_id (32 lower-case hex digits; anything else is not
 * kept). A message's email id never changes (mail.h), so an entry
 * never goes stale while its mailbox and UIDVALIDITY stay. */
void evm_fts_ids_put(struct evm_fts_ids *b, uint32_t uid, const char *email_id);

#endif
