/* imap_thread - the RFC 5256 section 3 threading algorithms on plain data
 * (no session, no view: testable alone), and the per-message keys SORT
 * and THREAD share (imap_thread_subject.c). */
#ifndef EVM_IMAP_THREAD_H
#define EVM_IMAP_THREAD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* One message of the set to thread, in mailbox (sequence) order. */
struct imap_thread_msg {
	unsigned num;              /* what is printed: sequence number or UID */
	int64_t date;              /* sent date (RFC 5256 2.2), ms */
	const char *subject;       /* base subject (RFC 5256 2.1), casemapped; "" none */
	bool refwd;                /* the subject was a reply or forward */
	const char *msgid;         /* Message-ID without <>; NULL or "" none */
	const char *const *refs;   /* References (or the first In-Reply-To id) */
	size_t nrefs;
};

/* Appends the thread list (RFC 5256 4: "(1 2)(3 (4)(5))") to out. */
void imap_thread_orderedsubject(const struct imap_thread_msg *m, size_t n, struct buf *out);
void imap_thread_references(const struct imap_thread_msg *m, size_t n, struct buf *out);
/* RFC 5256 2.1: true when extracting the base subject removes a subj-refwd
 * ("Re:", "Fwd:" after optional [blobs]), a "(fwd)" trailer or "[fwd: ...]". */
bool imap_subject_is_refwd(const char *subject);

/* imap_thread_subject.c: the sent date of a message record and its
 * summary, and the casemapped base subject (malloc'ed). */
int64_t imap_sent_date(json_t *rec, json_t *summary);
char *imap_base_subject_key(json_t *summary);

#endif
