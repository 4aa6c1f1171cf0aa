/* jmap_email_query - the Email query engine (RFC 8621 4.4) below
 * Email/query, Email/queryChanges, SearchSnippet/get and Email/get:
 * an account's emails as the view holds them, the FilterCondition of
 * 4.4.1 checked, compiled and evaluated, and the sort of 4.4.2.
 *
 * An email (one email id, RFC 8621 4) is every copy of one content in the
 * account's mailboxes: mailboxIds is the set of mailboxes holding a copy,
 * keywords the union of the copies' IMAP flags and keywords (copies can
 * disagree after an IMAP STORE on one of them; JMAP has one keywords
 * property per email, so an email has a keyword when any copy has it).
 *
 * Loading (jmap_email_query_load.c) reads every message record of every
 * mailbox of the account and the email's thread record: no message body;
 * a query the indexes can narrow loads only the emails they leave
 * (jmap_email_query_narrow.c).
 * Conditions on headers or body text (text, body, header) and SearchSnippet
 * read the message; a message whose body is not complete on this node yet
 * makes the caller answer serverUnavailable (RFC 8620 3.6.2: retry later)
 * rather than give a result that another node would not give.
 *
 * Text matching is a substring test under i;unicode-casemap (RFC 5051,
 * gateway/fts/fts_casemap.h) on decoded text, the same pieces IMAP
 * SEARCH matches (gateway/fts/fts.h, THE TEXT), so IMAP and JMAP
 * find the same messages.
 *
 * Everything is read from the committed view on the loop thread; results
 * are deterministic: the order is total (ties broken by email id). */
#ifndef EVM_JMAP_EMAIL_QUERY_H
#define EVM_JMAP_EMAIL_QUERY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/jmap/jmap_api.h"
#include "gateway/jmap/jmap_keywords.h"
#include "gateway/jmap/jmap_mail.h"
#include "projector/view.h"

/* One email of the account. */
struct jmap_email {
	char id[33];
	char thread_id[33];
	int64_t received;       /* ms: the internal date of its first copy */
	int64_t size;           /* octets: prefix + blob */
	size_t prefix_len;      /* the summary's offsets start after the prefix */
	char mbox[33];          /* the copy whose body is read */
	uint32_t uid;
	json_t *keywords;       /* {keyword: true}, JMAP form */
	json_t *mailboxes;      /* {mailbox id: true} */
};

/* Every email of an account, in email id order. */
struct jmap_email_set {
	struct jmap_email *v;
	size_t n;
};

/* ---- jmap_email_query_load.c ---- */

/* Loads every email of the account. 0, or -1 with *error_r. */
int jmap_email_set_load(struct view *view, const char *account, struct jmap_email_set *set,
			const char **error_r);
void jmap_email_set_free(struct jmap_email_set *set);
/* The email with that id, or NULL. */
struct jmap_email *jmap_email_set_find(const struct jmap_email_set *set, const char *id);

/* Loads the emails of ids[n] (email ids; one with no copy left is
 * skipped) into set, in email id order. 0, or -1 with *error_r. */
int jmap_email_set_load_ids(struct view *view, const char *account, const char *const *ids, size_t n,
			    struct jmap_email_set *set, const char **error_r);

/* Loads one email by id: 1, 0 when the account has no copy of it (or id
 * is no email id), -1 with *error_r. Free with jmap_email_clear(). */
int jmap_email_load(struct view *view, const char *account, const char *id, struct jmap_email *e,
		    const char **error_r);
void jmap_email_clear(struct jmap_email *e);
/* The same, with only the copies in the mailboxes scope names ({mailbox
 * id: ...}; NULL: all), as a shared account shows them (jmap_shared.h):
 * keywords, mailboxIds and the copy read come from those alone. */
int jmap_email_set_load_in(struct view *view, const char *account, const json_t *scope, struct jmap_email_set *set,
			   const char **error_r);
int jmap_email_load_in(struct view *view, const char *account, const json_t *scope, const char *id,
		       struct jmap_email *e, const char **error_r);

/* Keywords: jmap_keywords.h; UTCDates: jmap_mail.h. */

/* The content of one email, read when a condition, sort or snippet needs
 * it, kept until jmap_email_content_drop(). */
struct jmap_email_content {
	struct view *view;
	const char *account;
	const struct jmap_email *e;   /* the email loaded, or NULL */
	json_t *summary;              /* or NULL: not read yet */
	char *raw;                    /* prefix + blob, or NULL */
	size_t raw_len;
	int raw_state;                /* 0 not read, 1 read, 2 not complete here */
	char *body;                   /* the body text casemapped, or NULL */
};

/* The summary of c->e: 1, 0 when there is none (corrupt view), -1 error. */
int jmap_email_summary(struct jmap_email_content *c, const struct jmap_email *e, json_t **summary_r,
		       const char **error_r);
/* The stored message of c->e: 1, 0 when its body is not complete on this
 * node, -1 error. */
int jmap_email_raw(struct jmap_email_content *c, const struct jmap_email *e, const char **error_r);
/* Forgets what was read (the next email). */
void jmap_email_content_drop(struct jmap_email_content *c);

/* ---- jmap_email_query_filter.c (check, compile), _match.c (evaluate) ---- */

/* What evaluating a filter or sort reads beyond the loaded set. */
#define JMAP_EQ_SUMMARY 1u   /* the MIME summary */
#define JMAP_EQ_RAW 2u       /* the message */
#define JMAP_EQ_THREADS 4u   /* the other emails of the thread */

/* jmap_filter_cond_fn for Email/query (RFC 8621 4.4.1): every condition
 * property known and of its type; ctx unused. */
int jmap_efilter_check(void *ctx, const json_t *cond, const char **error_r);

struct jmap_efilter;
/* Compiles a filter that passed jmap_efilter_check (NULL filter: NULL,
 * which matches everything). */
struct jmap_efilter *jmap_efilter_compile(const json_t *filter);
void jmap_efilter_free(struct jmap_efilter **f);
/* JMAP_EQ_* the filter needs. */
unsigned jmap_efilter_needs(const struct jmap_efilter *f);
/* Whether the filter reads thread-wide keywords or mutable properties in
 * a way /queryChanges cannot follow (RFC 8620 5.6). */
int jmap_efilter_thread_wide(const struct jmap_efilter *f);

/* Per-thread keyword counts for the thread-wide conditions and sorts. */
struct jmap_eq_threads {
	const struct jmap_email_set *set;
	json_t *total;     /* thread id -> number of emails, built on first use */
	json_t *with;      /* keyword -> {thread id -> number having it} */
};
/* How many emails of e's thread have kw (*with_r), of *total_r. */
void jmap_eq_thread_count(struct jmap_eq_threads *t, const struct jmap_email *e, const char *kw,
			  json_int_t *with_r, json_int_t *total_r);
void jmap_eq_threads_free(struct jmap_eq_threads *t);

/* Evaluates f on e: 1 match, 0 not, 2 the message is needed and not
 * complete here, -1 error. */
int jmap_efilter_match(const struct jmap_efilter *f, struct jmap_email_content *c,
		       struct jmap_eq_threads *t, const struct jmap_email *e, const char **error_r);
/* The casemapped terms of the filter's text, subject and body conditions
 * (not under NOT), for SearchSnippet (RFC 8621 5.1): appended to
 * subject_terms (text, subject) and body_terms (text, body). */
void jmap_efilter_terms(const struct jmap_efilter *f, json_t *subject_terms, json_t *body_terms);

/* ---- jmap_email_query_sort.c ---- */

/* jmap_sort_prop_fn for Email/query: the sort options of the account's
 * emailQuerySortOptions (RFC 8621 4.4.2), keyword given where needed. */
int jmap_esort_check(void *ctx, const json_t *comparator, const char **error_r);
/* Whether the sort reads thread-wide keywords. */
int jmap_esort_thread_wide(const json_t *sort);

/* Runs filter and sort (both already checked; either NULL) over set:
 * *ids_r gets the ordered email ids (collapsed to one per thread when
 * collapse, RFC 8621 4.4.3). 0; 1 when a message needed is not complete on
 * this node (serverUnavailable); -1 with *error_r. */
int jmap_email_query_run(struct view *view, const char *account, const struct jmap_email_set *set,
			 const json_t *filter, const json_t *sort, int collapse, json_t **ids_r,
			 const char **error_r);

/* ---- jmap_email_query_narrow.c ---- */

/* What a narrowed query read (for the caller's logs, tests, the bench). */
struct jmap_eq_narrowed {
	size_t scanned;     /* index entries of the scope */
	size_t loaded;      /* emails loaded and checked by the engine */
	size_t unindexed;   /* of those, not in the search index yet */
	int text;           /* the filter has text the search index narrows */
};

/* jmap_email_query_run over only the emails the indexes leave (the scope
 * mailbox's or account's received-time index, receivedAt bounds, the
 * search index for text): the same answer, without loading the account.
 * 0 or 1 as jmap_email_query_run; 2 when the query does not narrow
 * (no scope, no text or date bound, thread-wide conditions or sorts):
 * *ids_r NULL, run the engine over the whole account; -1 with *error_r.
 * *out tells what was read. */
int jmap_email_query_narrow(struct view *view, const char *account, const json_t *filter, const json_t *sort,
			    int collapse, struct jmap_eq_narrowed *out, json_t **ids_r, const char **error_r);

/* The first want ids of jmap_email_query_run's answer (all there are
 * when fewer), for a query sorted by receivedAt alone or not sorted,
 * without collapseThreads: the emails the indexes leave are checked in
 * the received-time index's order and the check stops at the want-th
 * match (a client's page with no total: RFC 8620 5.5). 0 or 1 as
 * jmap_email_query_run (1 only when a message met on the way is not
 * complete); 2 when the query is not of that shape or narrows nothing
 * (no scope, no text or date bound; thread-wide conditions): *ids_r NULL;
 * -1 with *error_r. *out tells what was read. */
int jmap_email_query_first(struct view *view, const char *account, const json_t *filter, const json_t *sort,
			   size_t want, struct jmap_eq_narrowed *out, json_t **ids_r, const char **error_r);

/* ---- the methods jmap_email_register() (jmap_mail.h) adds ---- */
/* Email/get (RFC 8621 4.2), jmap_email_get.c. */
void jmap_email_get(struct jmap_call *call, json_t *args, void *ctx);
/* SearchSnippet/get (RFC 8621 5.1), jmap_snippet.c. */
void jmap_snippet_get(struct jmap_call *call, json_t *args, void *ctx);

#endif
