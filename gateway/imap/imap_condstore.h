/* imap_condstore - CONDSTORE / QRESYNC (RFC 7162) (imap_condstore.c) */
#ifndef EVM_IMAP_CONDSTORE_H
#define EVM_IMAP_CONDSTORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/imap/imap_parser.h"

struct imap_session;
/* A CONDSTORE enabling command was issued (RFC 7162 3.1). */
void imap_condstore_enable(struct imap_session *s);
/* The unsolicited or STORE FETCH response of message i: FLAGS, plus UID
 * and MODSEQ when uid is set or CONDSTORE is on (RFC 7162 3.1.4). */
void imap_flags_fetch(struct imap_session *s, size_t i, int uid, int flags);
/* Appends uid to a [[lo,hi]...] array kept in ascending order. */
void imap_ranges_add(json_t *ranges, uint32_t uid);
/* "* VANISHED [(EARLIER) ]<set>" (RFC 7162 3.2.10); nothing when empty. */
void imap_vanished(struct imap_session *s, json_t *ranges, int earlier);
/* VANISHED (EARLIER) for the expunged UIDs in set with modseq > since
 * (RFC 7162 3.2.5, 3.2.6); when tombstones after since were pruned
 * (mail.tombstone_days), every UID of set below UIDNEXT that is not a
 * live message instead (imap_vanished.c). *from_r: the modseq after which
 * the caller reports changed messages: since, or 0 after pruning. 0, or
 * -1 on a view error (nothing sent). */
int imap_vanished_since(struct imap_session *s, const struct imap_range *set, size_t nset,
			uint64_t since, uint64_t *from_r);
struct imap_select_opts {
	int condstore, qresync;
	uint32_t uidvalidity;
	uint64_t modseq;
	struct imap_range *known;     /* known-uids, NULL: all */
	size_t nknown;
	int seq_match;                /* seq-match-data was given (refused with UIDONLY, RFC 9586) */
};
/* SELECT/EXAMINE parameters (RFC 7162 3.1.8, 3.2.5). 0, or -1 with *error_r (BAD). */
int imap_select_opts_parse(struct imap_session *s, const struct imap_arg *a, struct imap_select_opts *o,
			   const char **error_r);
void imap_select_opts_free(struct imap_select_opts *o);
/* After the SELECT responses: VANISHED (EARLIER) and FETCH of what changed
 * since the client's modseq (RFC 7162 3.2.5). */
void imap_qresync_select(struct imap_session *s, const struct imap_select_opts *o);
/* FETCH modifiers (CHANGEDSINCE, VANISHED). 0, or -1 with *error_r (BAD). */
int imap_fetch_modifiers(struct imap_session *s, const struct imap_command *cmd, const struct imap_arg *a,
			 uint64_t *since_r, int *vanished_r, const char **error_r);
/* UID FETCH (VANISHED): the VANISHED (EARLIER) response for a UID set;
 * returns the modseq after which changed messages are to be fetched
 * (since, or 0 when the history after since was pruned). */
uint64_t imap_fetch_vanished(struct imap_session *s, const char *set, uint64_t since);
/* 1 when SEARCH/SORT criteria use MODSEQ; enables CONDSTORE then (RFC 7162 3.1.5). */
int imap_search_args_modseq(struct imap_session *s, const struct imap_arg *args, size_t n);

#endif
