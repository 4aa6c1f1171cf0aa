/* imap_search - SEARCH criteria (RFC 9051 6.4.4) parsed into a tree and
 * matched against one message of the selected mailbox: flags and sizes
 * from the message record, addresses, subject and Date from the MIME
 * summary, HEADER / BODY / TEXT from the stored bytes. String matches are
 * substring matches under i;unicode-casemap (RFC 5051, fts_casemap.c) on
 * decoded UTF-8 text (fts.h, THE TEXT: BODY is the decoded text of
 * the text parts); the text index (fts.h) first removes the messages
 * a text key cannot match, and confirms every text key (SUBJECT, FROM..
 * BCC, HEADER, BODY, TEXT) on a candidate from the casemapped text it
 * stored (fts.h, THE TEXT STORED; a field key most documents are
 * candidates of reads that of every message left in one pass,
 * field_answers), so only
 * messages not indexed yet (or indexed partially) are read and decoded
 * here; a message's email id (what the index knows it by) comes from the
 * node's cache (fts_idcache.c) once a search met it, so a message the
 * index rules out costs no view read at all. Dates compare by UTC day; OLDER / YOUNGER
 * (RFC 5032) by seconds against the wall clock. "$" (RFC 5182) is the
 * saved result wherever a sequence set is allowed. */
#include "gateway/imap/imap_search.h"
#include "gateway/imap/imap_session_private.h"
#include "gateway/imap/imap_snapshot.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_msgrec.h"
#include "gateway/imap/imap_recent.h"
#include "gateway/imap/imap_searchres.h"
#include "gateway/fts/fts_casemap.h"
#include "gateway/fts/fts.h"
#include "gateway/fts/fts_idcache.h"
#include "gateway/node.h"
#include "common/log.h"
#include "common/mime.h"
#include "projector/mail.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

enum skind {
	S_ALL, S_NONE, S_AND, S_OR, S_NOT, S_SEQ, S_UID, S_FLAG, S_UNFLAG, S_KEYWORD, S_UNKEYWORD,
	S_ADDR, S_SUBJECT, S_HEADER, S_BODY, S_TEXT, S_LARGER, S_SMALLER,
	S_BEFORE, S_ON, S_SINCE, S_SENTBEFORE, S_SENTON, S_SENTSINCE,
	S_MODSEQ,       /* RFC 7162 3.1.5 */
	S_OLDER, S_YOUNGER,       /* RFC 5032 WITHIN: num = seconds */
	S_SAVEDBEFORE, S_SAVEDON, S_SAVEDSINCE,   /* RFC 8514 4.3 */
	S_EMAILID, S_THREADID,    /* RFC 8474 6 */
	S_RECENT, S_NEW, S_OLD,   /* RFC 3501 6.4.4: \Recent in this session (imap_recent.c) */
};

struct snode {
	enum skind k;
	struct snode **kids;
	size_t nkids;
	const char *str;          /* borrowed from the command's arguments */
	char *mapped;             /* str casemapped (RFC 5051), for text matches */
	const char *field;        /* S_ADDR: "from"...; S_HEADER: the field name */
	int64_t num;              /* size, or a day number */
	struct imap_range *r;
	size_t nr;
	const char *fts_fields;   /* text keys: the index fields (FTS_F_*) */
	struct evm_fts_cand *cand;   /* NULL: no narrowing (short needle, no index) */
	/* a field key's answers from the stored fields, read in one pass
	 * (field_answers): per message index ANS_*, NULL when not read */
	signed char *ans;
	int ans_done;
};

enum { ANS_UNKNOWN, ANS_MATCH, ANS_NO };

struct imap_search {
	struct snode *root;
	/* the message being matched */
	json_t *summary;
	char *body;
	size_t len;
	int body_missing;
	struct buf btext;         /* BODY's decoded text of the message */
	int btext_done;
	struct evm_fts_text dtext;   /* the index's stored fields of the message */
	struct evm_fts_text dbody;   /* and its stored body text */
	int dtext_state;          /* its fields: 0 not looked up, 1 in dtext, -1 none */
	int dbody_state;          /* its body text, the same */
	/* the text index (fts.h), opened on the first match */
	int fts_ready;
	struct evm_fts *fts;
	struct evm_fts_ids *ids;   /* the node's email ids of this mailbox's UIDs */
	char idbuf[33];
	struct node *node;
	char account[EVM_ADDRESS_MAX + 1];
	size_t unindexed;         /* messages a text key met that are not indexed */
	struct imap_recs recs;   /* view records, read in runs (imap_msgrec.c) */
};

static struct snode *node_new(enum skind k)
{
	struct snode *n = xcalloc(1, sizeof *n);

	n->k = k;
	return n;
}

static void node_free(struct snode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->r);
	free(n->mapped);
	free(n->ans);
	evm_fts_cand_free(&n->cand);
	free(n);
}

static void node_add(struct snode *p, struct snode *kid)
{
	p->kids = xrealloc(p->kids, (p->nkids + 1) * sizeof *p->kids);
	p->kids[p->nkids++] = kid;
}

/* "1-Feb-1994" -> days since the epoch; -1 invalid. */
static int64_t parse_day(const char *v)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;
	char ms[4];
	int d, y, m = -1, used = 0;

	if (v == NULL || sscanf(v, "%2d-%3c-%4d%n", &d, ms, &y, &used) != 3 || v[used] != '\0')
		return -1;
	ms[3] = '\0';
	for (int i = 0; i < 12; i++) {
		if (strcasecmp(ms, mon[i]) == 0)
			m = i;
	}
	if (m < 0 || d < 1 || d > 31 || y < 1900)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_mday = d;
	tm.tm_mon = m;
	tm.tm_year = y - 1900;
	return (int64_t)timegm(&tm) / 86400;
}

struct pstate {
	const struct imap_arg *args;
	size_t n, i;
	struct imap_mbox *mb;
	const char *error;
};

static const char *next_str(struct pstate *p)
{
	const char *v;

	if (p->i >= p->n || (v = imap_arg_str(&p->args[p->i])) == NULL)
		return NULL;
	p->i++;
	return v;
}

static struct snode *parse_key(struct pstate *p);

static struct snode *flag_node(enum skind k, const char *flag)
{
	struct snode *n = node_new(k);

	n->str = flag;
	return n;
}

static struct snode *parse_key(struct pstate *p)
{
	static const struct { const char *key; enum skind k; const char *flag; } flags[] = {
		{ "ANSWERED", S_FLAG, "\\Answered" }, { "DELETED", S_FLAG, "\\Deleted" },
		{ "DRAFT", S_FLAG, "\\Draft" }, { "FLAGGED", S_FLAG, "\\Flagged" },
		{ "SEEN", S_FLAG, "\\Seen" }, { "UNANSWERED", S_UNFLAG, "\\Answered" },
		{ "UNDELETED", S_UNFLAG, "\\Deleted" }, { "UNDRAFT", S_UNFLAG, "\\Draft" },
		{ "UNFLAGGED", S_UNFLAG, "\\Flagged" }, { "UNSEEN", S_UNFLAG, "\\Seen" },
		{ "OLD", S_OLD, NULL }, { "ALL", S_ALL, NULL }, { "NEW", S_NEW, NULL },
		{ "RECENT", S_RECENT, NULL },
		{ "SAVEDATESUPPORTED", S_ALL, NULL },   /* RFC 8514 4.3: every mailbox has save dates */
	};
	static const struct { const char *key; enum skind k; const char *field; } strs[] = {
		{ "FROM", S_ADDR, "from" }, { "TO", S_ADDR, "to" }, { "CC", S_ADDR, "cc" },
		{ "BCC", S_ADDR, "bcc" }, { "SUBJECT", S_SUBJECT, NULL }, { "BODY", S_BODY, NULL },
		{ "TEXT", S_TEXT, NULL }, { "KEYWORD", S_KEYWORD, NULL }, { "UNKEYWORD", S_UNKEYWORD, NULL },
		{ "EMAILID", S_EMAILID, NULL }, { "THREADID", S_THREADID, NULL },
	};
	static const char *const fts_fields[] = { "f", "t", "c", "b", "s", "x", "hx", NULL, NULL, NULL, NULL };
	static const struct { const char *key; enum skind k; } dates[] = {
		{ "BEFORE", S_BEFORE }, { "ON", S_ON }, { "SINCE", S_SINCE },
		{ "SENTBEFORE", S_SENTBEFORE }, { "SENTON", S_SENTON }, { "SENTSINCE", S_SENTSINCE },
		{ "SAVEDBEFORE", S_SAVEDBEFORE }, { "SAVEDON", S_SAVEDON }, { "SAVEDSINCE", S_SAVEDSINCE },
	};
	const struct imap_arg *a;
	struct snode *n;
	const char *key, *v;

	if (p->i >= p->n) {
		p->error = "Missing search key";
		return NULL;
	}
	a = &p->args[p->i++];
	if (a->type == IMAP_ARG_LIST) {
		struct pstate sub = { a->list, a->count, 0, p->mb, NULL };

		if (a->count == 0) {
			p->error = "Empty search list";
			return NULL;
		}
		n = node_new(S_AND);
		while (sub.i < sub.n) {
			struct snode *k = parse_key(&sub);
			if (k == NULL) {
				p->error = sub.error;
				node_free(n);
				return NULL;
			}
			node_add(n, k);
		}
		return n;
	}
	if (a->type != IMAP_ARG_ATOM) {
		p->error = "Invalid search key";
		return NULL;
	}
	key = a->str;
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		if (strcasecmp(key, flags[i].key) == 0)
			return flag_node(flags[i].k, flags[i].flag);
	}
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
		if (strcasecmp(key, strs[i].key) != 0)
			continue;
		if ((v = next_str(p)) == NULL) {
			p->error = "Missing search string";
			return NULL;
		}
		n = node_new(strs[i].k);
		n->str = v;
		n->mapped = fts_casemap(v, strlen(v));
		n->field = strs[i].field;
		n->fts_fields = fts_fields[i];
		return n;
	}
	for (size_t i = 0; i < sizeof dates / sizeof dates[0]; i++) {
		if (strcasecmp(key, dates[i].key) != 0)
			continue;
		n = node_new(dates[i].k);
		if ((n->num = parse_day(next_str(p))) < 0) {
			free(n);
			p->error = "Invalid search date";
			return NULL;
		}
		return n;
	}
	if (strcasecmp(key, "LARGER") == 0 || strcasecmp(key, "SMALLER") == 0) {
		char *end;

		v = next_str(p);
		n = node_new(toupper((unsigned char)key[0]) == 'L' ? S_LARGER : S_SMALLER);
		/* number64 (RFC 9051 9): at most 2^63-1 */
		errno = 0;
		if (v == NULL || !isdigit((unsigned char)v[0]) || (n->num = strtoll(v, &end, 10), *end != '\0') ||
		    errno == ERANGE) {
			free(n);
			p->error = "Invalid size";
			return NULL;
		}
		return n;
	}
	if (strcasecmp(key, "MODSEQ") == 0) {
		/* RFC 7162 3.1.5: MODSEQ [entry-name entry-type-req] valzer; one
		 * modseq per message covers every entry. */
		uint64_t ms;

		if (p->i + 2 < p->n && p->args[p->i].type == IMAP_ARG_STRING) {
			const char *t = imap_arg_str(&p->args[p->i + 1]);
			const char *e = p->args[p->i].str;

			/* entry-flag-name = DQUOTE "/flags/" attr-flag DQUOTE;
			 * attr-flag excludes \Recent (RFC 7162 7) */
			if (strncasecmp(e, "/flags/", 7) != 0 || e[7] == '\0' ||
			    strcasecmp(e + 7, "\\Recent") == 0 || strpbrk(e + 7 + (e[7] == '\\'), " (){%*\"\\]") != NULL) {
				p->error = "Invalid MODSEQ entry name";
				return NULL;
			}
			if (t == NULL || (strcasecmp(t, "priv") && strcasecmp(t, "shared") && strcasecmp(t, "all"))) {
				p->error = "Invalid MODSEQ entry type";
				return NULL;
			}
			p->i += 2;
		}
		if (p->i >= p->n || imap_modseq_arg(&p->args[p->i], 1, &ms) < 0) {
			p->error = "Invalid MODSEQ";
			return NULL;
		}
		p->i++;
		n = node_new(S_MODSEQ);
		n->num = (int64_t)ms;
		return n;
	}
	if (strcasecmp(key, "HEADER") == 0) {
		n = node_new(S_HEADER);
		if ((n->field = next_str(p)) == NULL || (n->str = next_str(p)) == NULL) {
			free(n);
			p->error = "HEADER needs a field name and a string";
			return NULL;
		}
		n->mapped = fts_casemap(n->str, strlen(n->str));
		n->fts_fields = "h";
		return n;
	}
	if (strcasecmp(key, "OLDER") == 0 || strcasecmp(key, "YOUNGER") == 0) {
		char *end;

		v = next_str(p);
		n = node_new(toupper((unsigned char)key[0]) == 'O' ? S_OLDER : S_YOUNGER);
		if (v == NULL || !isdigit((unsigned char)v[0]) || (n->num = strtoll(v, &end, 10), *end != '\0') ||
		    n->num < 1) {
			free(n);
			p->error = "Invalid interval";
			return NULL;
		}
		return n;
	}
	if (strcasecmp(key, "NOT") == 0 || strcasecmp(key, "OR") == 0) {
		int or = toupper((unsigned char)key[0]) == 'O';
		struct snode *k;

		n = node_new(or ? S_OR : S_NOT);
		for (int j = 0; j < (or ? 2 : 1); j++) {
			if ((k = parse_key(p)) == NULL) {
				node_free(n);
				return NULL;
			}
			node_add(n, k);
		}
		return n;
	}
	if (strcasecmp(key, "UID") == 0) {
		struct imap_mbox *mb = p->mb;

		n = node_new(S_UID);
		if ((v = next_str(p)) == NULL ||
		    imap_set_resolve(mb, v, true, &n->r, &n->nr) < 0) {
			node_free(n);
			p->error = "Invalid UID set";
			return NULL;
		}
		return n;
	}
	if (p->mb != NULL && p->mb->uidonly && (isdigit((unsigned char)key[0]) || key[0] == '*')) {
		p->error = "[UIDREQUIRED] Sequence sets are not allowed with UIDONLY";   /* RFC 9586 3 */
		return NULL;
	}
	n = node_new(S_SEQ);
	if (imap_set_resolve(p->mb, key, false, &n->r, &n->nr) < 0) {   /* RFC 5182: "$" */
		node_free(n);
		p->error = "Unknown search key";
		return NULL;
	}
	return n;
}

int imap_search_parse(const struct imap_arg *args, size_t n, struct imap_mbox *mb,
		      struct imap_search **sr_r, const char **error_r)
{
	struct pstate p = { args, n, 0, mb, NULL };
	struct snode *root = node_new(S_AND), *k;

	if (n == 0) {
		free(root);
		*error_r = "Missing search key";
		return -1;
	}
	while (p.i < p.n) {
		if ((k = parse_key(&p)) == NULL) {
			node_free(root);
			*error_r = p.error ? p.error : "Invalid search";
			return -1;
		}
		node_add(root, k);
	}
	*sr_r = xcalloc(1, sizeof **sr_r);
	(*sr_r)->root = root;
	return 0;
}

void imap_search_free(struct imap_search **sr)
{
	if (*sr == NULL)
		return;
	/* met messages not indexed yet: have the indexer look again */
	if ((*sr)->fts != NULL && (*sr)->unindexed > 0)
		evm_fts_kick((*sr)->node, (*sr)->account);
	evm_fts_close(&(*sr)->fts);
	node_free((*sr)->root);
	json_decref((*sr)->summary);
	free((*sr)->body);
	buf_free(&(*sr)->btext);
	evm_fts_text_clear(&(*sr)->dtext);
	evm_fts_text_clear(&(*sr)->dbody);
	imap_recs_free(&(*sr)->recs);
	free(*sr);
	*sr = NULL;
}

/* The view record of message idx (NULL when gone): matching goes up the
 * mailbox, so one range read serves a run of messages. */
static json_t *msg_rec(struct imap_session *s, struct imap_search *sr, size_t idx)
{
	return imap_recs_get(s, &sr->recs, idx, IMAP_RECS_RUN);
}

static json_t *summary(struct imap_session *s, struct imap_search *sr, json_t *rec)
{
	const char *error = NULL;

	if (sr->summary == NULL &&
	    mail_summary_get(s->node->view, s->mbox->owner, json_string_value(json_object_get(rec, "email_id")),
			     &sr->summary, &error) <= 0)
		sr->summary = json_object();
	return sr->summary;
}

static int body(struct imap_session *s, struct imap_search *sr, struct imap_msg *m)
{
	const char *error = NULL;

	if (sr->body == NULL && !sr->body_missing &&
	    mail_message_body(s->node->view, s->mbox->owner, s->mbox->id, m->uid, &sr->body, &sr->len, &error) <= 0)
		sr->body_missing = 1;
	return sr->body != NULL;
}

/* The message's email id (its key in the text index). */
static const char *msg_email_id(json_t *rec)
{
	return json_string_value(json_object_get(rec, "email_id"));
}

/* The length of the prefix stored before the message's blob (mail.h). */
static size_t msg_prefix_len(json_t *rec)
{
	const char *p = json_string_value(json_object_get(rec, "prefix"));

	return p != NULL ? strlen(p) : 0;
}

struct field_find {
	const char *name;         /* NULL: every field, matched as "name:value" */
	const char *needle;       /* casemapped */
	struct buf line;
	int hit;
};

/* HEADER field string / TEXT's header part: one decoded field. */
static int field_find_cb(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct field_find *ff = ctx;

	if (ff->name == NULL) {
		buf_truncate(&ff->line, 0);
		buf_append(&ff->line, name, nlen);
		buf_append(&ff->line, ":", 1);
		buf_puts(&ff->line, value);
		ff->hit = fts_casemap_find(ff->line.data, ff->line.len, ff->needle);
	} else if (strlen(ff->name) == nlen && strncasecmp(name, ff->name, nlen) == 0) {
		ff->hit = fts_casemap_find(value, strlen(value), ff->needle);
	}
	return ff->hit;
}

/* HEADER field string (field NULL: any field as "name:value", for TEXT):
 * each field of that name, unfolded and decoded. */
static int header_match(const char *b, size_t len, const char *field, const char *str)
{
	struct field_find ff = { field, str, BUF_INIT, 0 };

	evm_fts_header_fields(b, len, field_find_cb, &ff);
	buf_free(&ff.line);
	return ff.hit;
}

/* BODY: the decoded text of the message's text parts (fts.h). */
static int body_match(struct imap_session *s, struct imap_search *sr, struct imap_msg *m, json_t *rec,
		      const char *str)
{
	if (!body(s, sr, m))
		return 0;
	if (!sr->btext_done) {
		buf_truncate(&sr->btext, 0);
		evm_fts_body_text(sr->body, sr->len, msg_prefix_len(rec), summary(s, sr, rec), &sr->btext);
		sr->btext_done = 1;
	}
	return fts_casemap_find(sr->btext.data, sr->btext.len, str);
}

/* Opens the text index and narrows every text key of the tree. */
static void fts_narrow(struct imap_search *sr, struct snode *n)
{
	const char *error = NULL;

	for (size_t i = 0; i < n->nkids; i++)
		fts_narrow(sr, n->kids[i]);
	if (n->fts_fields != NULL && n->mapped != NULL &&
	    evm_fts_query(sr->fts, n->fts_fields, n->mapped, &n->cand, &error) < 0)
		log_warn("imap search: text index: %s", error ? error : "failed");
}

/* 1 when the tree has a text key. */
static int has_text(const struct snode *n)
{
	if (n->fts_fields != NULL)
		return 1;
	for (size_t i = 0; i < n->nkids; i++) {
		if (has_text(n->kids[i]))
			return 1;
	}
	return 0;
}

/* Before the first message: the account's index (activating it here). */
static void fts_prepare(struct imap_session *s, struct imap_search *sr)
{
	const char *error = NULL;

	sr->fts_ready = 1;
	if (s->node == NULL || s->node->view == NULL || !has_text(sr->root))
		return;
	evm_fts_activate(s->node, s->mbox->owner);
	sr->node = s->node;
	snprintf(sr->account, sizeof sr->account, "%s", s->mbox->owner);
	if (evm_fts_open(s->node->view, s->mbox->owner, &sr->fts, &error) < 0) {
		log_warn("imap search: text index: %s", error ? error : "failed");
		return;
	}
	sr->ids = evm_fts_ids_box(s->node, s->mbox->owner, s->mbox->id, s->mbox->uidvalidity);
	fts_narrow(sr, sr->root);
}

/* Message idx's email id: from the node's cache, else from its record
 * (then cached): no record is read for a message the index rules out. */
static const char *msg_id(struct imap_session *s, struct imap_search *sr, size_t idx)
{
	uint32_t uid = s->mbox->msgs[idx].uid;
	const char *id;

	if (sr->ids != NULL && evm_fts_ids_get(sr->ids, uid, sr->idbuf))
		return sr->idbuf;
	id = msg_email_id(msg_rec(s, sr, idx));
	if (sr->ids != NULL && id != NULL)
		evm_fts_ids_put(sr->ids, uid, id);
	return id;
}

/* 0 when the index rules message idx out for text key n, else 1. */
static int text_may_match(struct imap_session *s, struct imap_search *sr, const struct snode *n, size_t idx)
{
	const char *id;

	if (sr->fts == NULL)
		return 1;
	id = msg_id(s, sr, idx);
	if (!evm_fts_indexed(sr->fts, id)) {
		sr->unindexed++;
		return 1;
	}
	return evm_fts_may_match(sr->fts, n->cand, id);
}

/* A field key (SUBJECT, FROM..BCC, HEADER) on stored fields t: 1, 0,
 * or -1 when t cannot tell (HEADER of a non-ASCII field name). */
static int field_on_stored(const struct snode *n, const struct evm_fts_text *t)
{
	if (n->k == S_HEADER)
		return evm_fts_text_header(t, n->field, n->mapped);
	return evm_fts_text_find(t, n->fts_fields[0], n->mapped);   /* 's', 'f'..'b' */
}

struct answers {
	const struct snode *n;
	const size_t *idx;         /* message index of each id asked for */
};

/* t NULL: the index rules the message out. */
static void answer_cb(void *ctx, size_t i, const struct evm_fts_text *t)
{
	struct answers *a = ctx;
	int r = t != NULL ? field_on_stored(a->n, t) : 0;

	if (r >= 0)
		a->n->ans[a->idx[i]] = r ? ANS_MATCH : ANS_NO;
}

/* When most documents are candidates of field key n (an address every
 * message holds), the answers for messages from idx on, read with one
 * pass over the stored fields (evm_fts_text_each) instead of a point
 * read per message: a message the index rules out is ANS_NO, an indexed
 * candidate the answer on its stored fields, any other ANS_UNKNOWN
 * (checked one by one as before). Once per key and search. */
#define ANS_DENSE_SHARE 4   /* candidates at least 1/4 of the documents */
static void field_answers(struct imap_session *s, struct imap_search *sr, struct snode *n, size_t idx)
{
	struct imap_mbox *mb = s->mbox;
	struct answers a = { n, NULL };
	char (*ids)[33];
	size_t *at, k = 0;
	const char *error = NULL;

	n->ans_done = 1;
	if (sr->fts == NULL || n->cand == NULL ||
	    evm_fts_cand_count(sr->fts, n->cand) * ANS_DENSE_SHARE < evm_fts_docs(sr->fts))
		return;
	n->ans = xcalloc(mb->n + 1, 1);
	ids = xmalloc((mb->n - idx + 1) * sizeof *ids);
	at = xmalloc((mb->n - idx + 1) * sizeof *at);
	for (size_t j = idx; j < mb->n && j < mb->exists_sent; j++) {
		const char *id;

		if (mb->msgs[j].expunged || (id = msg_id(s, sr, j)) == NULL || strlen(id) != 32)
			continue;
		memcpy(ids[k], id, 33);
		at[k++] = j;
	}
	a.idx = at;
	if (evm_fts_text_each(sr->fts, n->cand, (const char (*)[33])ids, k, answer_cb, &a, &error) < 0) {
		log_warn("imap search: text index: %s", error ? error : "failed");
		memset(n->ans, ANS_UNKNOWN, mb->n);
	}
	free(ids);
	free(at);
}

/* Field key n's answer for message idx from field_answers: 1, 0, or -1
 * when it must be checked on its own. */
static int field_answer(struct imap_session *s, struct imap_search *sr, struct snode *n, size_t idx)
{
	if (!n->ans_done)
		field_answers(s, sr, n, idx);
	if (n->ans == NULL || n->ans[idx] == ANS_UNKNOWN)
		return -1;
	return n->ans[idx] == ANS_MATCH;
}

typedef int stored_get_fn(struct evm_fts *f, const char *email_id, struct evm_fts_text *t,
			  const char **error_r);

/* A stored value of an indexed candidate, read once per message into t
 * (*state: 0 not read yet, 1 read, -1 none), or NULL. */
static const struct evm_fts_text *stored(struct imap_session *s, struct imap_search *sr, size_t idx,
					 stored_get_fn *get, struct evm_fts_text *t, int *state)
{
	const char *error = NULL;
	int r;

	if (*state == 0) {
		r = sr->fts != NULL ? get(sr->fts, msg_id(s, sr, idx), t, &error) : 0;
		if (r < 0)
			log_warn("imap search: text index: %s", error ? error : "failed");
		*state = r > 0 ? 1 : -1;
	}
	return *state > 0 ? t : NULL;
}

/* The stored fields of an indexed candidate (fts.h, THE TEXT STORED),
 * or NULL: then the summary or the message is read. */
static const struct evm_fts_text *stored_text(struct imap_session *s, struct imap_search *sr, size_t idx)
{
	return stored(s, sr, idx, evm_fts_text_get, &sr->dtext, &sr->dtext_state);
}

/* Its stored body text, or NULL. */
static const struct evm_fts_text *stored_body(struct imap_session *s, struct imap_search *sr, size_t idx)
{
	return stored(s, sr, idx, evm_fts_text_get_body, &sr->dbody, &sr->dbody_state);
}

/* BODY (part 'x') or TEXT (header or body, RFC 9051 6.4.4) of an
 * indexed message from its stored text (the body first: a word in every
 * body costs one read), else from the message. */
static int text_match(struct imap_session *s, struct imap_search *sr, size_t idx, int text, const char *str)
{
	const struct evm_fts_text *b = stored_body(s, sr, idx), *t;
	struct imap_msg *m = &s->mbox->msgs[idx];
	json_t *rec;

	if (b != NULL && evm_fts_text_find(b, EVM_FTS_F_BODY, str))
		return 1;
	if (b != NULL && !text)
		return 0;
	if (b != NULL && (t = stored_text(s, sr, idx)) != NULL)
		return evm_fts_text_find(t, EVM_FTS_F_HEADER, str);
	rec = msg_rec(s, sr, idx);
	if (text)
		return body(s, sr, m) && (header_match(sr->body, sr->len, NULL, str) || body_match(s, sr, m, rec, str));
	return body_match(s, sr, m, rec, str);
}

/* RFC 9051 6.4.4 FROM/TO/CC/BCC: str (case-mapped) within a display name
 * or an address of the field (list: the summary's headers form), or
 * within the name of a group (env: its envelope form, where a group start
 * is an address with a mailbox and no host, RFC 9051 7.5.2). */
static int addr_match(json_t *list, json_t *env, const char *str)
{
	json_t *a;
	size_t i;

	json_array_foreach(env, i, a) {
		const char *group = json_string_value(json_object_get(a, "mailbox"));

		if (group != NULL && json_is_null(json_object_get(a, "host")) &&
		    fts_casemap_find(group, strlen(group), str))
			return 1;
	}
	json_array_foreach(list, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		const char *email = json_string_value(json_object_get(a, "email"));

		if ((name != NULL && fts_casemap_find(name, strlen(name), str)) ||
		    (email != NULL && fts_casemap_find(email, strlen(email), str)))
			return 1;
	}
	return 0;
}

/* RFC 9051 6.4.4: SENT* compare the date in the Date field's own zone: the
 * offset of its trailing "+hhmm" / "-hhmm" in milliseconds (0 if none). */
static int64_t zone_ms(const char *raw)
{
	const char *p;
	int64_t z;

	if (raw == NULL || (p = strrchr(raw, ' ')) == NULL)
		return 0;
	p++;
	if ((p[0] != '+' && p[0] != '-') || strlen(p) < 5 || !isdigit((unsigned char)p[1]) ||
	    !isdigit((unsigned char)p[2]) || !isdigit((unsigned char)p[3]) || !isdigit((unsigned char)p[4]))
		return 0;
	z = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600000 + ((p[3] - '0') * 10 + (p[4] - '0')) * 60000;
	return p[0] == '-' ? -z : z;
}

static int eval(struct imap_session *s, struct imap_search *sr, struct snode *n, size_t idx)
{
	struct imap_msg *m = &s->mbox->msgs[idx];
	const struct evm_fts_text *t;
	json_t *h;
	const char *v;
	int64_t day, ms;
	int r;

	switch (n->k) {
	case S_ALL:
		return 1;
	case S_NONE:
		return 0;
	case S_AND:
		for (size_t i = 0; i < n->nkids; i++) {
			if (!eval(s, sr, n->kids[i], idx))
				return 0;
		}
		return 1;
	case S_OR:
		return eval(s, sr, n->kids[0], idx) || eval(s, sr, n->kids[1], idx);
	case S_NOT:
		return !eval(s, sr, n->kids[0], idx);
	case S_SEQ:
		return imap_seqset_contains(n->r, n->nr, (unsigned)(idx + 1));
	case S_UID:
		return imap_seqset_contains(n->r, n->nr, m->uid);
	case S_FLAG:
		return imap_msg_has_flag(s->mbox, m, n->str);
	case S_UNFLAG:
		return !imap_msg_has_flag(s->mbox, m, n->str);
	case S_RECENT:
		return imap_msg_recent(s->mbox, m->uid);
	case S_NEW:
		return imap_msg_recent(s->mbox, m->uid) && !(m->flags & MAIL_F_SEEN);
	case S_OLD:
		return !imap_msg_recent(s->mbox, m->uid);
	case S_KEYWORD:
		return imap_msg_has_flag(s->mbox, m, n->str);
	case S_UNKEYWORD:
		return !imap_msg_has_flag(s->mbox, m, n->str);
	case S_LARGER:
		return json_integer_value(json_object_get(msg_rec(s, sr, idx), "size")) > n->num;
	case S_SMALLER:
		return json_integer_value(json_object_get(msg_rec(s, sr, idx), "size")) < n->num;
	case S_BEFORE:
	case S_ON:
	case S_SINCE:
		day = json_integer_value(json_object_get(msg_rec(s, sr, idx), "internal_date")) / 86400000;
		return n->k == S_BEFORE ? day < n->num : n->k == S_ON ? day == n->num : day >= n->num;
	case S_EMAILID:
		v = json_string_value(json_object_get(msg_rec(s, sr, idx), "email_id"));
		return v != NULL && strcmp(v, n->str) == 0;
	case S_THREADID:
		return 0;   /* THREADID is NIL: no thread ids */
	case S_SAVEDBEFORE:
	case S_SAVEDON:
	case S_SAVEDSINCE:
		day = json_integer_value(json_object_get(msg_rec(s, sr, idx), "savedate")) / 86400000;
		return n->k == S_SAVEDBEFORE ? day < n->num : n->k == S_SAVEDON ? day == n->num : day >= n->num;
	case S_OLDER:
	case S_YOUNGER:
		/* RFC 5032: against the gateway's wall clock, in seconds */
		ms = (int64_t)time(NULL) * 1000 - json_integer_value(json_object_get(msg_rec(s, sr, idx), "internal_date"));
		return n->k == S_OLDER ? ms > n->num * 1000 : ms <= n->num * 1000;
	case S_SENTBEFORE:
	case S_SENTON:
	case S_SENTSINCE:
		h = json_object_get(json_object_get(summary(s, sr, msg_rec(s, sr, idx)), "headers"), "date");
		if (!json_is_integer(h))
			return 0;
		ms = json_integer_value(h) + zone_ms(json_string_value(json_object_get(
			json_object_get(summary(s, sr, msg_rec(s, sr, idx)), "envelope"), "date")));
		day = (ms >= 0 ? ms : ms - 86399999) / 86400000;
		return n->k == S_SENTBEFORE ? day < n->num : n->k == S_SENTON ? day == n->num : day >= n->num;
	case S_ADDR:
		if ((r = field_answer(s, sr, n, idx)) >= 0)
			return r;
		if (!text_may_match(s, sr, n, idx))
			return 0;
		if ((t = stored_text(s, sr, idx)) != NULL)
			return field_on_stored(n, t);
		h = json_object_get(summary(s, sr, msg_rec(s, sr, idx)), "headers");
		return addr_match(json_object_get(h, n->field),
				  json_object_get(json_object_get(summary(s, sr, msg_rec(s, sr, idx)), "envelope"), n->field),
				  n->mapped);
	case S_SUBJECT:
		if ((r = field_answer(s, sr, n, idx)) >= 0)
			return r;
		if (!text_may_match(s, sr, n, idx))
			return 0;
		if ((t = stored_text(s, sr, idx)) != NULL)
			return field_on_stored(n, t);
		v = json_string_value(json_object_get(json_object_get(summary(s, sr, msg_rec(s, sr, idx)), "headers"), "subject"));
		return v != NULL && fts_casemap_find(v, strlen(v), n->mapped);
	case S_HEADER:
		if ((r = field_answer(s, sr, n, idx)) >= 0)
			return r;
		if (!text_may_match(s, sr, n, idx))
			return 0;
		if ((t = stored_text(s, sr, idx)) != NULL && (r = field_on_stored(n, t)) >= 0)
			return r;
		return body(s, sr, m) && header_match(sr->body, sr->len, n->field, n->mapped);
	case S_BODY:
	case S_TEXT:
		return text_may_match(s, sr, n, idx) && text_match(s, sr, idx, n->k == S_TEXT, n->mapped);
	case S_MODSEQ:
		return m->modseq >= n->num;
	}
	return 0;
}

/* 1 when n or a node under it is MODSEQ. */
static int uses_modseq(const struct snode *n)
{
	if (n->k == S_MODSEQ)
		return 1;
	for (size_t i = 0; i < n->nkids; i++) {
		if (uses_modseq(n->kids[i]))
			return 1;
	}
	return 0;
}

int imap_search_uses_modseq(const struct imap_search *sr)
{
	return sr != NULL && uses_modseq(sr->root);
}

int imap_search_match(struct imap_session *s, struct imap_search *sr, size_t idx)
{
	int r;

	if (!sr->fts_ready)
		fts_prepare(s, sr);
	r = eval(s, sr, sr->root, idx);
	json_decref(sr->summary);
	sr->summary = NULL;
	free(sr->body);
	sr->body = NULL;
	sr->body_missing = 0;
	sr->btext_done = 0;
	if (sr->dtext_state > 0)   /* else nothing was read into it */
		evm_fts_text_clear(&sr->dtext);
	if (sr->dbody_state > 0)
		evm_fts_text_clear(&sr->dbody);
	sr->dtext_state = 0;
	sr->dbody_state = 0;
	return r;
}
