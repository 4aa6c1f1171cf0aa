/* imap_sort - the SORT order (RFC 5256 3) of messages of the selected
 * mailbox, for SORT (imap_cmd_sort.c) and the update contexts of ESORT
 * (imap_context.c): the keys ARRIVAL CC DATE FROM REVERSE SIZE SUBJECT TO,
 * DISPLAYFROM DISPLAYTO (RFC 5957). Strings compare under
 * i;unicode-casemap (RFC 5051); exact ties keep mailbox order. One loop
 * thread (the comparator reads a static context). */
#ifndef EVM_IMAP_SORT_H
#define EVM_IMAP_SORT_H

#include <stddef.h>

struct imap_arg;
struct imap_session;

/* 0 when crit is a valid sort-criteria list (RFC 5256 3), else -1. */
int imap_sort_criteria_valid(const struct imap_arg *crit);
/* Sorts idx[n] (message indexes of s->mbox) by the criteria list crit,
 * reading the messages' view records. 0, or -1 if crit is invalid. */
int imap_sort_idx(struct imap_session *s, const struct imap_arg *crit, size_t *idx, size_t n);

#endif
