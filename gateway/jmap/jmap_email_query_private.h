/* jmap_email_query_private - the compiled Email filter, shared by
 * jmap_email_query_filter.c (check, compile), jmap_email_query_match.c
 * (evaluation) and jmap_email_query_narrow.c (narrowing from indexes)
 * only. */
#ifndef EVM_JMAP_EMAIL_QUERY_PRIVATE_H
#define EVM_JMAP_EMAIL_QUERY_PRIVATE_H

#include "gateway/jmap/jmap_email_query.h"

enum { F_COND, F_AND, F_OR, F_NOT };
enum { T_TEXT, T_FROM, T_TO, T_CC, T_BCC, T_SUBJECT, T_BODY, T_COUNT };
enum { K_ALL, K_SOME, K_NONE, K_HAS, K_NOT, K_COUNT };

struct jmap_efilter {
	int op;
	struct jmap_efilter **kids;
	size_t nkids;
	/* F_COND: every given property must match */
	char *in_mailbox;
	json_t *other_than;            /* array of ids, or NULL */
	int64_t before, after, min_size, max_size;
	unsigned has;                  /* H_* given */
	char *kw[K_COUNT];             /* lower-case, or NULL */
	int has_attachment;            /* -1: not given */
	char *text[T_COUNT];           /* casemapped, or NULL */
	char *header_name, *header_value;   /* value casemapped; NULL: presence only */
};

enum { H_BEFORE = 1, H_AFTER = 2, H_MIN = 4, H_MAX = 8 };

#endif
