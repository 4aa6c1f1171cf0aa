/* fts - the text search engine below IMAP SEARCH and JMAP Email/query:
 * a node-local trigram index of each message's searchable text, used to
 * narrow the messages a text criterion must be checked against.
 *
 * THE TEXT (fts_text.c). What SEARCH matches, per message (one email
 * id), each piece casemapped (RFC 5051, fts_casemap.c) before matching or
 * indexing:
 *   SUBJECT   the summary's decoded subject
 *   FROM..BCC each display name and each address of the field (one at a
 *             time), and the names of its groups (RFC 9051 6.4.4)
 *   HEADER    each field of the top header block, unfolded and RFC 2047
 *             decoded ("name: value" per field for the index)
 *   BODY      the decoded text of the body: every text leaf (text/ any subtype) with its
 *             transfer encoding and charset undone, and the header fields
 *             and text leaves of attached message/rfc822 parts; other
 *             leaves (images, applications) are not text and not searched
 *   TEXT      HEADER's fields or BODY
 * A substring query (RFC 9051 6.4.4) matches when the casemapped needle
 * occurs in one casemapped piece.
 *
 * THE INDEX (fts_index.c writes, evm_fts_query.c reads), node-local
 * under KEY_LOCAL (not in the digest); <acct> escaped like mail/<acct>/:
 *   local/fts/<acct>/seg/<segno %010u>   the segment's documents: per
 *        document 32 hex digits of its email id and 'u' (fully indexed,
 *        its text stored), 't' or '1' (fully indexed by an older version:
 *        't' stored the text of TEXT and BODY only, '1' no text; indexed
 *        again, and the 'u' document wins), 'p' (text
 *        past EVM_FTS_TEXT_MAX: always a candidate, checked by scanning)
 *        or 'x' (dead: its email id left the account, fts_gc.c; not
 *        indexed, so a scan if it ever comes back)
 *   local/fts/<acct>/p/<f><trigram hex6>/<segno %010u>   the documents
 *        of the segment whose field f (FTS_F_*) holds the trigram, as
 *        ascending 16-bit little-endian document numbers
 *   local/fts/<acct>/d/<email id>   the stored fields of a 'u' document
 *        and local/fts/<acct>/b/<email id> its stored body text (THE
 *        TEXT STORED), written in its segment's batch
 * A trigram is three consecutive octets of the casemapped UTF-8 text, so
 * every trigram of a casemapped needle of >= 3 octets occurs in every
 * piece that contains it: the index only removes messages that cannot
 * match. Shorter needles are not narrowed. The postings of an email id
 * are a function of its content (the email id is a hash of it), so they
 * never go stale; those of an email id no longer in the account (eref 0)
 * are ignored (SEARCH only asks about the mailbox's messages).
 *
 * THE TEXT STORED (fts_doctext.c). Trigrams only narrow ("abcd" and
 * "abc bcd" hold the same ones), so a candidate must be confirmed; to
 * confirm without reading and decoding the message again, the indexer
 * keeps what each criterion matches, casemapped: one octet, 'a' when
 * every field name of the top header block is ASCII without NUL octets,
 * else 'n'; then six parts, SUBJECT, FROM, TO, CC, BCC and HEADER, each
 * a 4-octet little-endian length L and L octets: the criterion's pieces
 * (THE TEXT; HEADER's as "name:value" per field), casemapped, each
 * followed by a NUL (the value of d/<email id>); then BODY's text
 * casemapped (the value of b/<email id>: a search of the fields reads
 * the small value only). A needle holds no NUL, so it occurs in a part
 * exactly when it occurs in one of its pieces: memmem over each part
 * gives the answer a scan gives (RFC 9051 6.4.4). HEADER name string
 * looks for "NAME:" at the start of a piece and the needle after it; an
 * ASCII name casemaps to its upper case and holds no ':', so that is
 * exact, but another name may casemap to octets holding ':' (U+FF1A), so
 * an 'n' document's HEADER is checked by scanning. The text of an email
 * id never changes (its content is immutable), so it is never stale
 * either.
 *
 * WHEN (fts_index.c): an account is indexed on this node once it
 * has been searched here (activation), on a worker thread: the account's
 * messages not indexed yet (and whose blob is complete) are read, their
 * text extracted and written as segments of at most EVM_FTS_SEG_DOCS
 * documents. Then every commit that changes the account (projector
 * subscription) queues it again. A search never waits for the indexer:
 * a message not indexed yet is a candidate, checked by scanning it.
 * An account without a mail store (removed: account.purge, which drops
 * the index itself, projector/mail_purge.c) has its index dropped by the
 * worker too, should a run that began before the purge write after it. */
#ifndef EVM_FTS_H
#define EVM_FTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "projector/view.h"

#define EVM_FTS_SEG_DOCS 256
#define EVM_FTS_TEXT_MAX (2u * 1024 * 1024)   /* octets of one field indexed */
#define EVM_FTS_MIN_NEEDLE 3

/* The indexed fields (the <f> of a posting key). */
#define EVM_FTS_F_SUBJECT 's'
#define EVM_FTS_F_FROM 'f'
#define EVM_FTS_F_TO 't'
#define EVM_FTS_F_CC 'c'
#define EVM_FTS_F_BCC 'b'
#define EVM_FTS_F_HEADER 'h'
#define EVM_FTS_F_BODY 'x'

/* ---- fts_text.c: the normaliser ---- */
/* One decoded header field of a message's top header block. */
typedef int evm_fts_field_cb(void *ctx, const char *name, size_t nlen, const char *value);
/* Calls cb for each field of the top header block of msg[len] (unfolded,
 * RFC 2047 decoded, UTF-8) until cb returns non-zero. */
void evm_fts_header_fields(const char *msg, size_t len, evm_fts_field_cb *cb, void *ctx);
/* The end of the top header block of msg[len] (after its blank line). */
size_t evm_fts_header_end(const char *msg, size_t len);
/* BODY's text of a stored message (msg[len]: prefix + blob, plen =
 * strlen(prefix); summary: its MIME summary, offsets relative to the
 * blob), decoded UTF-8, not casemapped, appended to out. */
void evm_fts_body_text(const char *msg, size_t len, size_t plen, json_t *summary, struct buf *out);
/* The pieces of a field of a summary (SUBJECT, FROM..BCC), each
 * NUL-terminated, appended to out (for the index). */
void evm_fts_summary_text(json_t *summary, int field, struct buf *out);
/* Trigram collector of one document: adds every trigram of the
 * casemapped text[len] under field f. Returns 1 when len was over
 * EVM_FTS_TEXT_MAX (only that much was taken), else 0. */
struct evm_fts_doc {
	uint32_t *slot;           /* open addressing: (f << 24 | trigram) + 1 */
	size_t cap, n;
};
int evm_fts_doc_add(struct evm_fts_doc *d, int f, const char *mapped, size_t len);
void evm_fts_doc_free(struct evm_fts_doc *d);
/* Every field of a stored message into d (casemapped here), and unless
 * text is NULL its stored text (THE TEXT STORED) appended to text.
 * Returns 1 when some field was cut at EVM_FTS_TEXT_MAX (then nothing is
 * appended to text). */
int evm_fts_doc_message(struct evm_fts_doc *d, const char *msg, size_t len, size_t plen, json_t *summary,
			struct buf *text);

/* ---- fts_doctext.c: the stored text of a document ---- */
/* A stored text, parsed: part[i][plen[i]] (i: the position of its
 * letter in EVM_FTS_TEXT_PARTS) and body[blen] point into val. */
#define EVM_FTS_TEXT_PARTS "sftcbh"
struct evm_fts_text {
	char *val, *bval;         /* the fields' value, the body's (or NULL) */
	const char *part[6], *body;
	size_t plen[6], blen;
	int names_ascii;          /* the 'a' octet (THE TEXT STORED) */
};
/* "local/fts/<acct>/d/<email id>" into k (acct: evm_fts_key_account). */
void evm_fts_key_text(struct buf *k, const struct buf *acct, const char *email_id);
/* "local/fts/<acct>/b/<email id>" into k. */
void evm_fts_key_body(struct buf *k, const struct buf *acct, const char *email_id);
/* Takes val[vlen] (malloc'ed: the fields, then the body text, which may
 * be empty) into t. 0, or -1 when it is malformed (then val is freed). */
int evm_fts_text_parse(char *val, size_t vlen, struct evm_fts_text *t);
/* The same without taking val: t points into it (clearing t frees
 * nothing of it). 0, or -1 when it is malformed. */
int evm_fts_text_view(const char *val, size_t vlen, struct evm_fts_text *t);
/* Where the fields end in a stored text val[vlen] (the writer splits it
 * into d/ and b/ there): 0 and *at_r, -1 when it is malformed. */
int evm_fts_text_split(const char *val, size_t vlen, size_t *at_r);
/* 1 when the casemapped needle occurs in a piece of t's part (an
 * EVM_FTS_F_* letter: 'h' HEADER's "name:value" pieces, 'x' the body),
 * else 0. An empty needle is in every piece: 1 for 's'..'b' when the
 * part has a piece, always for 'h' and 'x' (TEXT, BODY). */
int evm_fts_text_find(const struct evm_fts_text *t, int part, const char *mapped);
/* HEADER name string (RFC 9051 6.4.4): 1 when the casemapped needle
 * occurs in the value of a field of that name (ASCII case-insensitive),
 * 0 when not, -1 when t cannot tell (a field name not ASCII: scan). */
int evm_fts_text_header(const struct evm_fts_text *t, const char *name, const char *mapped);
void evm_fts_text_clear(struct evm_fts_text *t);

/* ---- fts_index.c: the write side ---- */
/* "local/fts/<acct>/" into k. */
void evm_fts_key_account(struct buf *k, const char *account);
/* Indexes the account's messages that are not indexed yet, on the calling
 * thread (the worker; tests). 0, or -1 with *error_r. */
int evm_fts_index_account(struct view *view, const char *account, const char **error_r);
/* fts_gc.c: marks dead ('x') the documents of email ids not in live (a
 * set: the account's messages) and deletes their stored texts, once they
 * are more than a quarter of the index. 0, or -1 with *error_r. */
int evm_fts_gc(struct view *view, const struct buf *acct, json_t *live, const char **error_r);
/* Documents written to the index by this process (any thread; /metrics). */
uint64_t evm_fts_docs_written(void);

struct node;
/* Activates the account on node: queues it for the worker (started on
 * first use) and from then on re-queues it whenever the projector
 * changes it. Loop thread. */
void evm_fts_activate(struct node *node, const char *account);
struct evm_fts_ids;
/* node's cache of the email ids of a mailbox's UIDs (fts_idcache.h),
 * NULL when node has no indexer. Loop thread; valid until the next call. */
struct evm_fts_ids *evm_fts_ids_box(struct node *node, const char *owner, const char *mailbox_id,
				    uint32_t uidvalidity);
/* Queues an active account again (a search met messages not indexed). */
void evm_fts_kick(struct node *node, const char *account);
/* Stops node's worker (before its projector and view close). Loop thread. */
void evm_fts_stop(struct node *node);
/* The indexer's gauge and counters (Prometheus text) appended to out:
 * evmail_fts_accounts_pending (accounts queued or being indexed: 0 once
 * every activated account's messages are indexed) and
 * evmail_fts_documents_indexed_total. Loop thread. */
void evm_fts_metrics(struct node *node, struct buf *out);

/* ---- evm_fts_query.c: the read side ---- */
struct evm_fts;
/* The account's indexed email ids. 0, or -1 with *error_r. */
int evm_fts_open(struct view *view, const char *account, struct evm_fts **f_r, const char **error_r);
void evm_fts_close(struct evm_fts **f);
/* Number of documents indexed. */
size_t evm_fts_docs(const struct evm_fts *f);
/* The number of the next segment to write (the writer). */
uint32_t evm_fts_next_seg(const struct evm_fts *f);
struct evm_fts_cand;
/* The candidates for a casemapped needle in any of the fields (a string
 * of FTS_F_* letters): 1 and *c_r, 0 when the needle is too short
 * to narrow (*c_r NULL), -1 with *error_r. */
int evm_fts_query(struct evm_fts *f, const char *fields, const char *mapped, struct evm_fts_cand **c_r,
		   const char **error_r);
/* 0 when the message with email_id cannot match (indexed, fully, and not
 * a candidate), else 1 (a candidate, or not indexed: check it). */
int evm_fts_may_match(const struct evm_fts *f, const struct evm_fts_cand *c, const char *email_id);
/* At most how many indexed emails evm_fts_may_match leaves for c (its
 * documents plus those indexed partially); emails not indexed come on
 * top. */
size_t evm_fts_cand_count(const struct evm_fts *f, const struct evm_fts_cand *c);
/* 1 when email_id is indexed. */
int evm_fts_indexed(const struct evm_fts *f, const char *email_id);
/* How email_id is indexed: 0 (not), 'u', 't', '1' or 'p' (THE INDEX). */
int evm_fts_doc_state(const struct evm_fts *f, const char *email_id);
/* The stored fields of a 'u' document (body empty): 1 and *t, 0 when
 * there are none (not indexed, partial, indexed by an older version, or
 * written after evm_fts_open), -1 with *error_r. */
int evm_fts_text_get(struct evm_fts *f, const char *email_id, struct evm_fts_text *t, const char **error_r);
/* The stored body text of a 'u' document as t (its body; no fields):
 * 1, 0 when there is none, -1 with *error_r. */
int evm_fts_text_get_body(struct evm_fts *f, const char *email_id, struct evm_fts_text *t, const char **error_r);
/* The stored fields of many documents in one pass (a field search most
 * of a mailbox's messages are candidates of): for each ids[i] (i < n;
 * 32 hex digits and a NUL each) that is a 'u' document, calls cb(ctx,
 * i, NULL) when c (NULL: no narrowing) rules it out, else cb(ctx, i, t)
 * with its stored fields as evm_fts_text_get gives them (t borrowed for
 * the call) unless it has none. The d/ keys are read with one iterator
 * when those left are a large share of the documents (cb is then called
 * during the view's scan: it must not use the view), else one at a
 * time. 0, or -1 with *error_r. */
typedef void evm_fts_text_cb(void *ctx, size_t i, const struct evm_fts_text *t);
int evm_fts_text_each(struct evm_fts *f, const struct evm_fts_cand *c, const char (*ids)[33], size_t n,
		      evm_fts_text_cb *cb, void *ctx, const char **error_r);
void evm_fts_cand_free(struct evm_fts_cand **c);

#endif
