/* imap_list - the mailbox name tree shared by LIST (RFC 9051 6.3.9, RFC
 * 5258) and LSUB (RFC 3501 6.3.9), both in imap_cmd_list.c. */
#ifndef EVM_IMAP_LIST_H
#define EVM_IMAP_LIST_H

#include <jansson.h>
#include <stddef.h>

struct imap_list_entry {
	const char *name;
	json_t *box;          /* the mailbox record; NULL: an implied parent */
	int subscribed;
	int children;
};

/* RFC 9051 6.3.9 wildcard match: "*" anything, "%" anything but '/'. */
int imap_list_match(const char *pat, const char *name);
/* Every mailbox of boxes plus implied parents (their names are kept in
 * names), sorted by name, with children marked. Borrowed from boxes and
 * names; the array is malloc'ed. */
struct imap_list_entry *imap_list_collect(json_t *boxes, size_t *n_r, json_t *names);
/* ref + pattern with a leading INBOX component upper-cased (malloc'ed). */
char *imap_list_pattern(const char *ref, const char *pat);

#endif
