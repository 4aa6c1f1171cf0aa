/* test_fts - the text search engine: the normaliser on odd input
 * (encodings, charsets, folding, NULs, broken summaries), trigram sets,
 * postings written from a real view's mail state, and queries: never a
 * message ruled out that contains the needle (random texts and needles),
 * and messages without the needle ruled out. */
#include "gateway/fts/fts.h"
#include "gateway/fts/fts_casemap.h"
#include "common/mime.h"
#include "projector/applier.h"
#include "projector/mail.h"
#include "tests/unit/testlib.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"

static struct view *view;
static int64_t next_offset;
static json_t *last;

/* Applies one event in its own batch; aborts unless accepted. */
static void run(const char *type, json_t *data)
{
	const struct applier *a = applier_find(type);
	struct evm_event ev;
	struct apply_ctx ctx;
	const char *error = NULL;

	if (a == NULL || evm_event_init(&ev, type, "", BOB, "test", data, &error) < 0)
		abort();
	snprintf(ev.id, sizeof ev.id, "%032" PRIx64, (uint64_t)next_offset + 0xabc000);
	ev.ts = 1700000000000 + next_offset;
	memset(&ctx, 0, sizeof ctx);
	ctx.batch = view_batch_begin(view);
	ctx.ev = &ev;
	ctx.topic = a->topic;
	ctx.offset = next_offset++;
	ctx.result = json_object();
	ctx.changed = json_array();
	if (a->apply(&ctx, &error) != APPLY_ACCEPTED || view_batch_commit(&ctx.batch, &error) < 0) {
		fprintf(stderr, "%s: %s\n", type, error ? error : "rejected");
		abort();
	}
	json_decref(last);
	last = ctx.result;
	json_decref(ctx.changed);
	evm_event_clear(&ev);
}

/* Stores msg as a complete blob and appends it to INBOX; its email id. */
static const char *deliver(const char *msg)
{
	static char email_id[33];
	unsigned char md[32];
	char hex[65], *b64;
	size_t len = strlen(msg);
	json_t *d;
	int bl;

	EVP_Digest(msg, len, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	b64 = xmalloc(len * 2 + 8);
	bl = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)msg, (int)len);
	b64[bl] = '\0';
	run("blob.chunk", json_pack("{s:s, s:i, s:i, s:I, s:s}", "blob_id", hex, "index", 0, "count", 1,
				    "size", (json_int_t)len, "data", b64));
	free(b64);
	d = json_object();
	json_object_set_new(d, "mailbox", json_string("INBOX"));
	json_object_set_new(d, "blob_id", json_string(hex));
	json_object_set_new(d, "blob_size", json_integer((json_int_t)len));
	json_object_set_new(d, "prefix", json_string(""));
	json_object_set_new(d, "flags", json_array());
	json_object_set_new(d, "keywords", json_array());
	json_object_set_new(d, "internal_date", json_integer(1700000000000));
	json_object_set_new(d, "summary", mime_parse(msg, len, NULL));
	run("message.append", d);
	snprintf(email_id, sizeof email_id, "%s", json_string_value(json_object_get(last, "email_id")));
	return email_id;
}

/* BODY's text of a raw message (no prefix). */
static char *body_text(const char *msg)
{
	json_t *sum = mime_parse(msg, strlen(msg), NULL);
	struct buf out = BUF_INIT;

	evm_fts_body_text(msg, strlen(msg), 0, sum, &out);
	json_decref(sum);
	return buf_steal(&out);
}

static void test_body_decoding(void)
{
	char *t;

	t = body_text("Subject: x\r\nContent-Transfer-Encoding: quoted-printable\r\n"
		      "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nK=E4se und Wu=\r\nrst\r\n");
	CHECK(strstr(t, "K\xc3\xa4se und Wurst") != NULL);
	free(t);
	t = body_text("Content-Type: multipart/mixed; boundary=b\r\n\r\npre\r\n--b\r\n"
		      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		      "aMOpbGxvIHdvcmxk\r\n--b\r\nContent-Type: image/png\r\n\r\nSECRETPIXELS\r\n--b--\r\n");
	CHECK(strstr(t, "h\xc3\xa9llo world") != NULL);
	CHECK(strstr(t, "SECRETPIXELS") == NULL);   /* not a text part */
	CHECK(strstr(t, "pre") == NULL);            /* preamble is not a part */
	free(t);
	/* an attached message: its header fields and text are body text */
	t = body_text("Content-Type: message/rfc822\r\n\r\nSubject: =?utf-8?q?inner_=C3=BC?=\r\n\r\ninner body\r\n");
	CHECK(strstr(t, "Subject: inner \xc3\xbc") != NULL);
	CHECK(strstr(t, "inner body") != NULL);
	free(t);
	/* a NUL octet in the text does not end it */
	{
		const char raw[] = "Subject: n\r\n\r\nab\0cd\r\n";
		json_t *sum = mime_parse(raw, sizeof raw - 1, NULL);
		struct buf out = BUF_INIT;

		evm_fts_body_text(raw, sizeof raw - 1, 0, sum, &out);
		CHECK(out.len > 6 && strlen(out.data) == out.len && memcmp(out.data, "ab", 2) == 0);
		json_decref(sum);
		buf_free(&out);
	}
}

static void test_odd_input(void)
{
	struct buf out = BUF_INIT;
	json_t *bad = json_pack("{s:{s:s, s:[i,i], s:s}}", "part", "type", "text", "body", 5, 999999,
				"encoding", "base64");
	struct evm_fts_doc d = { 0 };

	/* offsets past the message are ignored, a prefix longer than it too */
	evm_fts_body_text("abc", 3, 0, bad, &out);
	CHECK_EQ_INT(out.len, 0);
	evm_fts_body_text("abc", 3, 10, bad, &out);
	CHECK_EQ_INT(out.len, 0);
	json_object_set_new(json_object_get(bad, "part"), "body", json_pack("[i,i]", 3, 1));
	evm_fts_body_text("abcdef", 6, 0, bad, &out);
	CHECK_EQ_INT(out.len, 0);
	/* no summary at all, no header block */
	evm_fts_body_text("", 0, 0, NULL, &out);
	CHECK_EQ_INT(out.len, 0);
	CHECK_EQ_INT(evm_fts_doc_message(&d, "", 0, 0, NULL, NULL), 0);
	{
		json_t *empty = json_object();

		CHECK_EQ_INT(evm_fts_doc_message(&d, "no colon\r\n:x\r\n", 14, 0, empty, NULL), 0);
		json_decref(empty);
	}
	CHECK_EQ_INT(evm_fts_doc_add(&d, EVM_FTS_F_BODY, "ab", 2), 0);
	evm_fts_doc_free(&d);
	json_decref(bad);
	buf_free(&out);
}

struct fields_seen {
	struct buf all;
};

static int collect(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct fields_seen *f = ctx;

	buf_append(&f->all, name, nlen);
	buf_printf(&f->all, "=%s|", value);
	return 0;
}

static void test_header_fields(void)
{
	const char *m = "Subject: =?iso-8859-1?q?caf=E9?=\r\n folded\r\nX-A:1\r\n\tmore\r\nbroken line\r\n"
			"\r\nBody: not a header\r\n";
	struct fields_seen f = { BUF_INIT };

	evm_fts_header_fields(m, strlen(m), collect, &f);
	CHECK_EQ_STR(f.all.data, "Subject= caf\xc3\xa9   folded |X-A=1  \tmore |");
	buf_free(&f.all);
}

static void test_trigrams(void)
{
	struct evm_fts_doc d = { 0 };
	char big[64];

	CHECK_EQ_INT(evm_fts_doc_add(&d, EVM_FTS_F_SUBJECT, "ABCABC", 6), 0);
	CHECK_EQ_INT(d.n, 3);   /* ABC BCA CAB */
	CHECK_EQ_INT(evm_fts_doc_add(&d, EVM_FTS_F_BODY, "ABC", 3), 0);
	CHECK_EQ_INT(d.n, 4);   /* another field, another trigram */
	for (int i = 0; i < 5000; i++) {   /* growth keeps every member */
		snprintf(big, sizeof big, "%04d", i);
		evm_fts_doc_add(&d, EVM_FTS_F_TO, big, 4);
	}
	CHECK(d.n > 1000);
	evm_fts_doc_free(&d);
}

static void fresh(const char *name)
{
	const char *error;

	view_close(&view);
	if (view_open(test_tmpdir(name), &view, &error) < 0)
		abort();
}

/* evm_fts_cand_count for fields/needle (casemapped here). */
static size_t cand_count(const char *fields, const char *needle)
{
	struct evm_fts *f = NULL;
	struct evm_fts_cand *c = NULL;
	const char *error = NULL;
	char *m = fts_casemap(needle, strlen(needle));
	size_t n;

	if (evm_fts_open(view, BOB, &f, &error) < 0 || evm_fts_query(f, fields, m, &c, &error) != 1)
		abort();
	n = evm_fts_cand_count(f, c);
	evm_fts_cand_free(&c);
	evm_fts_close(&f);
	free(m);
	return n;
}

/* may_match of email id for fields/needle (needle raw, casemapped here). */
static int may(const char *fields, const char *needle, const char *id)
{
	struct evm_fts *f = NULL;
	struct evm_fts_cand *c = NULL;
	const char *error = NULL;
	char *m = fts_casemap(needle, strlen(needle));
	int r;

	if (evm_fts_open(view, BOB, &f, &error) < 0)
		abort();
	r = evm_fts_query(f, fields, m, &c, &error);
	if (r < 0)
		abort();
	r = r == 0 ? 2 : evm_fts_may_match(f, c, id);   /* 2: not narrowed */
	evm_fts_cand_free(&c);
	evm_fts_close(&f);
	free(m);
	return r;
}

static void test_index_query(void)
{
	const char *error = NULL;
	char a[33], b[33], c[33];
	struct evm_fts *f = NULL;
	uint64_t written;

	fresh("evm_fts_query");
	snprintf(a, sizeof a, "%s", deliver("From: \"Ann Example\" <ann@one.test>\r\nTo: bob@acme.test\r\n"
					     "Subject: Quarterly report\r\n\r\nThe numbers are in.\r\n"));
	snprintf(b, sizeof b, "%s", deliver("From: carl@two.test\r\nSubject: =?utf-8?b?R3LDvMOfZQ==?=\r\n"
					     "Content-Transfer-Encoding: base64\r\n\r\nU2VjcmV0IHdvcmQ6IHBpbmVhcHBsZQ==\r\n"));
	written = evm_fts_docs_written();
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK(evm_fts_docs_written() == written + 2);   /* the /metrics counter */
	/* a message after indexing is not indexed: always a candidate */
	snprintf(c, sizeof c, "%s", deliver("Subject: late\r\n\r\nquarterly\r\n"));
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 2);
	CHECK(evm_fts_indexed(f, a) && evm_fts_indexed(f, b) && !evm_fts_indexed(f, c));
	evm_fts_close(&f);

	CHECK_EQ_INT(may("s", "QUARTERLY", a), 1);
	CHECK_EQ_INT(may("s", "quarterly", b), 0);
	CHECK_EQ_INT(may("s", "quarterly", c), 1);
	CHECK_EQ_INT(may("s", "gr\xc3\x9c\xc3\x9f", b), 1);   /* decoded, casemapped */
	CHECK_EQ_INT(may("x", "PINEAPPLE", b), 1);             /* base64 body decoded */
	CHECK_EQ_INT(may("x", "U2VjcmV0", b), 0);              /* not the raw octets */
	CHECK_EQ_INT(may("f", "ann exam", a), 1);
	CHECK_EQ_INT(may("f", "one.test", a), 1);
	CHECK_EQ_INT(may("f", "one.test", b), 0);
	CHECK_EQ_INT(may("t", "acme", a), 1);
	CHECK_EQ_INT(may("h", "subject: quarterly", a), 1);
	CHECK_EQ_INT(may("hx", "numbers", a), 1);
	CHECK_EQ_INT(may("hx", "numbers", b), 0);
	CHECK_EQ_INT(may("s", "qu", b), 2);                    /* too short to narrow */
	CHECK_EQ_INT(cand_count("s", "quarterly"), 1);         /* a: c is not indexed */
	CHECK_EQ_INT(cand_count("sx", "numbers"), 1);
	CHECK_EQ_INT(cand_count("f", ".test"), 2);
	CHECK_EQ_INT(cand_count("s", "nowhere"), 0);
	/* indexing again adds nothing twice; then c is indexed too */
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK(evm_fts_docs_written() == written + 3);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 3);
	evm_fts_close(&f);
	CHECK_EQ_INT(may("s", "quarterly", c), 0);
	CHECK_EQ_INT(may("x", "quarterly", c), 1);
}

/* account.purge drops the account's index; a segment written after it
 * (a worker run that began before) goes at the worker's next run. */
static void test_purge(void)
{
	const char *error = NULL;
	struct evm_fts *f = NULL;
	struct view_batch *b;
	struct buf k = BUF_INIT;

	fresh("evm_fts_purge");
	deliver("Subject: gone soon\r\n\r\nsecret words\r\n");
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 1);
	evm_fts_close(&f);
	run("account.purge", json_object());
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 0);
	evm_fts_close(&f);
	/* a late segment */
	evm_fts_key_account(&k, BOB);
	buf_puts(&k, "seg/0000000007");
	b = view_batch_begin(view);
	view_batch_put(b, k.data, k.len, "0123456789abcdef0123456789abcdef1", 33);
	CHECK(view_batch_commit(&b, &error) == 0);
	buf_free(&k);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 1);
	evm_fts_close(&f);
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 0);
	evm_fts_close(&f);
}

/* Random subjects and bodies over a small alphabet with non-ASCII
 * letters; for random needles, every message whose text contains the
 * needle (casemapped) stays a candidate. */
static void test_no_false_negatives(void)
{
	static const char *const sym[] = { "a", "B", "c", " ", "\xc3\xa9", "\xc3\x89", "\xc3\x9f", "ss", "\xef\xac\x81", "fi" };
	char ids[60][33], subj[60][80];
	const char *error = NULL;
	unsigned seed = 12345;
	int pos = 0, ruled_out = 0;

	fresh("fts_random");
	for (int i = 0; i < 60; i++) {
		char msg[256];

		snprintf(subj[i], sizeof subj[i], "X");   /* no leading or trailing space: a header keeps none */
		for (int k = 0; k < 12; k++) {
			seed = seed * 1103515245u + 12345u;
			strcat(subj[i], sym[(seed >> 16) % 10]);
		}
		strcat(subj[i], "Y");
		snprintf(msg, sizeof msg, "Subject: %s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			 subj[i], subj[i]);
		snprintf(ids[i], sizeof ids[i], "%s", deliver(msg));
	}
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	for (int q = 0; q < 150; q++) {
		char needle[40] = "";
		char *m;
		int nl = 3 + q % 4;

		for (int k = 0; k < nl; k++) {
			seed = seed * 1103515245u + 12345u;
			strcat(needle, sym[(seed >> 16) % 10]);
		}
		m = fts_casemap(needle, strlen(needle));
		for (int i = 0; i < 60; i++) {
			int has = fts_casemap_find(subj[i], strlen(subj[i]), m);

			if (has) {
				if (may("s", needle, ids[i]) == 0)
					fprintf(stderr, "needle [%s] subject [%s]\n", needle, subj[i]);
				CHECK(may("s", needle, ids[i]) != 0);
				CHECK(may("x", needle, ids[i]) != 0);
				pos++;
			} else if (may("s", needle, ids[i]) == 0) {
				ruled_out++;
			}
		}
		free(m);
	}
	CHECK(pos > 30);           /* the check above ran */
	CHECK(ruled_out > 1000);   /* and the index narrows */
}


/* What a scan answers for TEXT (text 1) or BODY of raw msg: the
 * casemapped needle in one header piece or in the body text. */
struct scan_hdr {
	const char *needle;
	int hit;
};

static int scan_hdr_cb(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct scan_hdr *h = ctx;
	struct buf line = BUF_INIT;

	buf_append(&line, name, nlen);
	buf_append(&line, ":", 1);
	buf_puts(&line, value);
	h->hit |= fts_casemap_find(line.data, line.len, h->needle);
	buf_free(&line);
	return h->hit;
}

static int scan_match(const char *msg, size_t len, int text, const char *mapped)
{
	json_t *sum = mime_parse(msg, len, NULL);
	struct scan_hdr h = { mapped, 0 };
	struct buf body = BUF_INIT;
	int hit;

	if (text)
		evm_fts_header_fields(msg, len, scan_hdr_cb, &h);
	evm_fts_body_text(msg, len, 0, sum, &body);
	hit = h.hit || fts_casemap_find(body.data, body.len, mapped);
	buf_free(&body);
	json_decref(sum);
	return hit;
}

/* The stored text's answer for id: 1/0, or 2 when it has none. */
static int stored_match(const char *id, int text, const char *mapped)
{
	struct evm_fts *f = NULL;
	struct evm_fts_text t, b;
	const char *error = NULL;
	int r, rb;

	if (evm_fts_open(view, BOB, &f, &error) < 0 || (r = evm_fts_text_get(f, id, &t, &error)) < 0 ||
	    (rb = evm_fts_text_get_body(f, id, &b, &error)) < 0)
		abort();
	if (r == 1 && rb == 1)
		r = (text && evm_fts_text_find(&t, EVM_FTS_F_HEADER, mapped)) || evm_fts_text_find(&b, EVM_FTS_F_BODY, mapped);
	else
		r = 2;
	evm_fts_text_clear(&t);
	evm_fts_text_clear(&b);
	evm_fts_close(&f);
	return r;
}

/* stored_match with the needle casemapped here. */
static int stored_raw(const char *id, int text, const char *needle)
{
	char *m = fts_casemap(needle, strlen(needle));
	int r = stored_match(id, text, m);

	free(m);
	return r;
}

/* The stored text answers TEXT and BODY as a scan of the message does:
 * header only, body only, quoted-printable, base64, ISO-8859-1, an
 * attached message, trigrams present but not the needle ("abc bcd"). */
static void test_stored_text(void)
{
	static const char *const msgs[] = {
		"Subject: Header Only Word\r\nX-Tag: Zebra\r\n\r\nplain body abc bcd\r\n",
		"Subject: s\r\nContent-Transfer-Encoding: quoted-printable\r\n"
		"Content-Type: text/plain; charset=iso-8859-1\r\n\r\nK=E4se und Wu=\r\nrst\r\n",
		"Subject: s\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
		"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		"aMOpbGxvIHdvcmxk\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nnested text\r\n--b--\r\n",
	};
	static const char *const needles[] = {
		"header only", "zebra", "x-tag: zeb", "subject:", "abc bcd", "abcd", "k\xc3\x84SE UND WURST",
		"K=E4se", "h\xc3\xa9llo", "HELLO", "aMOpbG", "subject: inner", "nested text", "only word\r\nx-tag",
		"", "s", "\xc3\xa4", "und wu=",
	};
	const char *error = NULL;
	char ids[3][33];

	fresh("fts_stored");
	for (size_t i = 0; i < 3; i++)
		snprintf(ids[i], sizeof ids[i], "%s", deliver(msgs[i]));
	CHECK_EQ_INT(stored_match(ids[0], 1, "ZEBRA"), 2);   /* not indexed yet: none */
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	for (size_t i = 0; i < 3; i++) {
		for (size_t n = 0; n < sizeof needles / sizeof needles[0]; n++) {
			char *m = fts_casemap(needles[n], strlen(needles[n]));

			for (int text = 0; text <= 1; text++) {
				int want = scan_match(msgs[i], strlen(msgs[i]), text, m);

				if (stored_match(ids[i], text, m) != want)
					fprintf(stderr, "message %zu needle [%s] text %d: want %d\n", i, needles[n], text, want);
				CHECK_EQ_INT(stored_match(ids[i], text, m), want);
			}
			free(m);
		}
	}
	/* the cases the brief names, spelled out */
	CHECK_EQ_INT(stored_match(ids[0], 1, "ZEBRA"), 1);
	CHECK_EQ_INT(stored_match(ids[0], 0, "ZEBRA"), 0);
	CHECK_EQ_INT(stored_match(ids[0], 1, "ABCD"), 0);
	CHECK_EQ_INT(may("hx", "abcd", ids[0]), 1);   /* a candidate all the same */
	CHECK_EQ_INT(stored_raw(ids[1], 0, "k\xc3\xa4se und wurst"), 1);   /* QP, ISO-8859-1 */
	CHECK_EQ_INT(stored_raw(ids[1], 0, "K=E4se"), 0);
	CHECK_EQ_INT(stored_raw(ids[2], 0, "H\xc3\x89LLO WORLD"), 1);     /* base64 */
	CHECK_EQ_INT(stored_raw(ids[2], 0, "aMOpbG"), 0);
}

/* What a scan answers (imap_search.c) for SUBJECT (field "subject"),
 * FROM..BCC ("from".."bcc": each group name of the envelope, each display
 * name and address of the summary) or HEADER name (any other field) of
 * raw msg. */
struct scan_field {
	const char *name, *needle;
	int hit;
};

static int scan_field_cb(void *ctx, const char *name, size_t nlen, const char *value)
{
	struct scan_field *h = ctx;

	if (strlen(h->name) == nlen && strncasecmp(name, h->name, nlen) == 0)
		h->hit |= fts_casemap_find(value, strlen(value), h->needle);
	return h->hit;
}

/* A summary string (NULL: none) holding the casemapped needle. */
static int scan_str(json_t *v, const char *mapped)
{
	const char *s = json_string_value(v);

	return s != NULL && fts_casemap_find(s, strlen(s), mapped);
}

static int scan_field(const char *msg, const char *field, const char *mapped)
{
	json_t *sum = mime_parse(msg, strlen(msg), NULL), *h = json_object_get(sum, "headers"), *a;
	struct scan_field sf = { field, mapped, 0 };
	size_t i;

	if (strcmp(field, "subject") == 0) {
		sf.hit = scan_str(json_object_get(h, "subject"), mapped);
	} else if (strcmp(field, "from") == 0 || strcmp(field, "to") == 0 || strcmp(field, "cc") == 0 ||
		   strcmp(field, "bcc") == 0) {
		json_array_foreach(json_object_get(json_object_get(sum, "envelope"), field), i, a)
			sf.hit |= json_is_null(json_object_get(a, "host")) && scan_str(json_object_get(a, "mailbox"), mapped);
		json_array_foreach(json_object_get(h, field), i, a)
			sf.hit |= scan_str(json_object_get(a, "name"), mapped) || scan_str(json_object_get(a, "email"), mapped);
	} else {
		evm_fts_header_fields(msg, strlen(msg), scan_field_cb, &sf);
	}
	json_decref(sum);
	return sf.hit;
}

/* The stored text's answer for a field of id (as scan_field names it):
 * 1/0, 2 when it has none, 3 when it cannot tell (HEADER). */
static int stored_field(const char *id, const char *field, const char *mapped)
{
	static const struct { const char *name; int f; } crit[] = {
		{ "subject", EVM_FTS_F_SUBJECT }, { "from", EVM_FTS_F_FROM }, { "to", EVM_FTS_F_TO },
		{ "cc", EVM_FTS_F_CC }, { "bcc", EVM_FTS_F_BCC },
	};
	struct evm_fts *f = NULL;
	struct evm_fts_text t;
	const char *error = NULL;
	int r;

	if (evm_fts_open(view, BOB, &f, &error) < 0 || (r = evm_fts_text_get(f, id, &t, &error)) < 0)
		abort();
	if (r == 1) {
		r = evm_fts_text_header(&t, field, mapped);
		for (size_t i = 0; i < sizeof crit / sizeof crit[0]; i++) {
			if (strcmp(field, crit[i].name) == 0)
				r = evm_fts_text_find(&t, crit[i].f, mapped);
		}
		r = r < 0 ? 3 : r;
	} else {
		r = 2;
	}
	evm_fts_text_clear(&t);
	evm_fts_close(&f);
	return r;
}

/* stored_field with the needle casemapped here. */
static int stored_field_raw(const char *id, const char *field, const char *needle)
{
	char *m = fts_casemap(needle, strlen(needle));
	int r = stored_field(id, field, m);

	free(m);
	return r;
}

/* The stored text answers SUBJECT, FROM..BCC and HEADER as a scan does:
 * display names, group names, RFC 2047 encoded words, addresses; a
 * needle across two pieces (or two parts) matches neither. */
static void test_stored_fields(void)
{
	static const char *const msgs[] = {
		"From: \"Alice Smith\" <alice@example.com>\r\n"
		"To: bob@x.org, \"Carol\" <carol@y.org>\r\n"
		"Cc: Friends: dave@z.org, Erin <erin@z.org>;, frank@w.org\r\n"
		"Bcc: undisclosed-recipients:;\r\n"
		"Subject: =?UTF-8?B?R3LDvMOfZSBhdXM=?= =?ISO-8859-1?Q?K=F6ln?= end\r\n"
		"X-Tag: Zebra\r\nX-Tag: second value\r\n\r\nbody alice\r\n",
		"From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@m.de>\r\n"
		"Subject: plain\r\n  folded subject\r\n"
		"Reply-To: list@l.org\r\n\r\nno more\r\n",
		"Subject:\r\nTo: Undisclosed:;\r\n\r\nempty subject\r\n",
	};
	static const char *const fields[] = {
		"subject", "from", "to", "cc", "bcc", "x-tag", "X-TAG", "reply-to", "Subject", "to", "date", "",
		"x-tag:", "subject: ",
	};
	static const char *const needles[] = {
		"", "alice", "ALICE SMITH", "smith<alice", "smithalice", "alice@example.com", "bob", "x.orgcarol",
		"carol", "friends", "FRIENDS DAVE", "dave", "erin", "frank", "undisclosed-recipients", "recipients",
		"gr\xc3\xbc\xc3\x9f\x65 aus k\xc3\xb6ln", "GRUSSE", "k\xc3\xb6ln end", "=?UTF-8", "endalice",
		"zebra", "zebrasecond", "second", "x-tag", "x-tag:", "tag: zeb", "j\xc3\xbcrgen m\xc3\xbcller", "jm@m",
		"plain folded", "plain  ", "list@l", "subject", "undisclosed", "empty", "smith\"",
	};
	const char *error = NULL;
	char ids[3][33];

	fresh("fts_fields");
	for (size_t i = 0; i < 3; i++)
		snprintf(ids[i], sizeof ids[i], "%s", deliver(msgs[i]));
	CHECK_EQ_INT(stored_field(ids[0], "from", "ALICE"), 2);   /* not indexed yet: none */
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	for (size_t i = 0; i < 3; i++) {
		for (size_t fi = 0; fi < sizeof fields / sizeof fields[0]; fi++) {
			for (size_t n = 0; n < sizeof needles / sizeof needles[0]; n++) {
				char *m = fts_casemap(needles[n], strlen(needles[n]));
				int want = scan_field(msgs[i], fields[fi], m), got = stored_field(ids[i], fields[fi], m);

				if (got != want)
					fprintf(stderr, "message %zu %s [%s]: want %d got %d\n", i, fields[fi], needles[n], want, got);
				CHECK_EQ_INT(got, want);
				free(m);
			}
		}
	}
	/* the cases the brief names, spelled out */
	CHECK_EQ_INT(stored_field_raw(ids[0], "from", "alice smith"), 1);          /* a display name */
	CHECK_EQ_INT(stored_field_raw(ids[0], "from", "smithalice"), 0);           /* across two pieces */
	CHECK_EQ_INT(stored_field_raw(ids[0], "to", "x.orgcarol"), 0);
	CHECK_EQ_INT(stored_field_raw(ids[0], "cc", "friends"), 1);               /* a group name */
	CHECK_EQ_INT(stored_field_raw(ids[0], "bcc", "undisclosed-recipients"), 1);
	CHECK_EQ_INT(stored_field_raw(ids[0], "subject", "GR\xc3\x9c\xc3\x9f" "E AUS"), 1);   /* RFC 2047 */
	CHECK_EQ_INT(stored_field_raw(ids[0], "subject", "endalice"), 0);          /* across two parts */
	CHECK_EQ_INT(stored_field_raw(ids[0], "x-tag", "zebrasecond"), 0);
	CHECK_EQ_INT(stored_field_raw(ids[0], "x-tag", "second"), 1);
	CHECK_EQ_INT(stored_field_raw(ids[0], "x-tag", "x-tag"), 0);              /* the name is not the value */
	CHECK_EQ_INT(stored_field_raw(ids[1], "from", "j\xc3\xbcrgen"), 1);
	CHECK_EQ_INT(stored_field_raw(ids[2], "subject", ""), 1);                  /* present, empty */
	CHECK_EQ_INT(stored_field_raw(ids[2], "cc", ""), 0);                       /* absent */
}

/* A field name that is not ASCII: HEADER cannot be told from the stored
 * text (a casemapped name may hold ':'), the others still can. */
static void test_stored_odd_name(void)
{
	static const char msg[] = "Subject: zoo\r\nX-\xef\xbc\x9a" "A: zebra\r\n\r\nbody\r\n";
	const char *error = NULL;
	char id[33];

	fresh("fts_odd_name");
	snprintf(id, sizeof id, "%s", deliver(msg));
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK_EQ_INT(stored_field_raw(id, "x-", "a: zebra"), 3);
	CHECK_EQ_INT(scan_field(msg, "x-", "A: ZEBRA"), 0);
	CHECK_EQ_INT(stored_field_raw(id, "subject", "zoo"), 1);
	CHECK_EQ_INT(stored_match(id, 1, "X-:A: ZEBRA"), 1);   /* TEXT: "name:value" casemapped */
}

/* Documents of an older version ('1': no text stored, 't': the text of
 * TEXT and BODY only) are indexed again and the new document wins; a
 * stored value that does not parse is "none" (the message is scanned). */
static void upgrade_from(char old)
{
	const char *error = NULL;
	struct evm_fts *f = NULL;
	struct view_batch *b;
	struct buf k = BUF_INIT, acct = BUF_INIT;
	char id[33], *val = NULL;
	size_t vlen = 0;
	uint64_t written;

	snprintf(id, sizeof id, "%s", deliver("Subject: old\r\n\r\nold index body\r\n"));
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	/* make it an index of an older version: '1' with no d/ key, or 't'
	 * with a text of its layout (the header part's length, its pieces,
	 * the body) */
	evm_fts_key_account(&acct, BOB);
	buf_append(&k, acct.data, acct.len);
	buf_puts(&k, "seg/0000000000");
	CHECK(view_get(view, k.data, k.len, &val, &vlen, &error) == 1);
	CHECK_EQ_INT(vlen, 33);
	CHECK(val[32] == 'u');
	val[32] = old;
	b = view_batch_begin(view);
	view_batch_put(b, k.data, k.len, val, vlen);
	evm_fts_key_text(&k, &acct, id);
	if (old == '1')
		view_batch_delete(b, k.data, k.len);
	else
		view_batch_put(b, k.data, k.len, "\x0c\0\0\0SUBJECT:OLD\0OLD INDEX BODY\n", 31);
	CHECK(view_batch_commit(&b, &error) == 0);
	free(val);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_doc_state(f, id), old);
	evm_fts_close(&f);
	CHECK_EQ_INT(stored_match(id, 0, "INDEX BODY"), 2);
	CHECK_EQ_INT(may("x", "index body", id), 1);
	CHECK_EQ_INT(may("x", "nowhere", id), 0);
	written = evm_fts_docs_written();
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK(evm_fts_docs_written() == written + 1);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_doc_state(f, id), 'u');
	CHECK_EQ_INT(evm_fts_docs(f), 1);
	CHECK_EQ_INT(evm_fts_next_seg(f), 2);
	evm_fts_close(&f);
	CHECK_EQ_INT(stored_match(id, 0, "INDEX BODY"), 1);
	CHECK_EQ_INT(may("x", "index body", id), 1);   /* the new segment's postings */
	CHECK_EQ_INT(may("x", "nowhere", id), 0);
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);   /* and not a third time */
	CHECK(evm_fts_docs_written() == written + 1);
	/* a broken value: none */
	b = view_batch_begin(view);
	view_batch_put(b, k.data, k.len, "\x09\0\0\0abc", 7);
	CHECK(view_batch_commit(&b, &error) == 0);
	CHECK_EQ_INT(stored_match(id, 0, "ABC"), 2);
	buf_free(&k);
	buf_free(&acct);
}

static void test_stored_upgrade(void)
{
	fresh("fts_upgrade1");
	upgrade_from('1');
	fresh("fts_upgrade_t");
	upgrade_from('t');
}

#define EACH_MSGS 12
struct each_seen {
	struct evm_fts *f;
	const char (*ids)[33];
	int calls[EACH_MSGS + 4];
	int same[EACH_MSGS + 4];   /* 1 the text evm_fts_text_get gives, 2 ruled out */
};

/* One answer of evm_fts_text_each: what evm_fts_text_get gives? */
static void each_cb(void *ctx, size_t i, const struct evm_fts_text *t)
{
	struct each_seen *e = ctx;
	struct evm_fts_text g;
	const char *error = NULL;
	int same;

	if (t == NULL) {
		e->calls[i]++;
		e->same[i] = 2;
		return;
	}
	if (evm_fts_text_get(e->f, e->ids[i], &g, &error) != 1) {
		e->calls[i]++;
		return;
	}
	same = g.names_ascii == t->names_ascii;
	for (size_t p = 0; p < 6; p++)
		same &= g.plen[p] == t->plen[p] && memcmp(g.part[p], t->part[p], g.plen[p]) == 0;
	e->calls[i]++;
	e->same[i] = same;
	evm_fts_text_clear(&g);
}

/* evm_fts_text_each on ids[n] with candidates c: every 'u' id answered
 * once, as evm_fts_text_get answers it (want 1) or ruled out by c (2);
 * the others not at all (0). */
static void check_each(struct evm_fts *f, const struct evm_fts_cand *c, const char (*ids)[33], size_t n,
		       const int *want)
{
	struct each_seen e = { f, ids, { 0 }, { 0 } };
	const char *error = NULL;

	CHECK(evm_fts_text_each(f, c, ids, n, each_cb, &e, &error) == 0);
	for (size_t i = 0; i < n; i++) {
		CHECK_EQ_INT(e.calls[i], want[i] != 0);
		CHECK_EQ_INT(e.same[i], want[i]);
	}
}

/* The stored fields of many documents in one pass (all asked for: one
 * scan of the d/ keys) or of a few (point reads): each the one
 * evm_fts_text_get reads, an id asked twice answered twice, ids not
 * indexed (or unknown) not answered. */
static void test_text_each(void)
{
	char ids[EACH_MSGS + 4][33], few[3][33];
	int want[EACH_MSGS + 4], want_few[3] = { 1, 0, 1 }, want_s1[EACH_MSGS + 4];
	struct evm_fts *f = NULL;
	struct evm_fts_cand *c = NULL;
	const char *error = NULL;

	fresh("fts_each");
	for (size_t i = 0; i < EACH_MSGS; i++) {
		char msg[200];

		snprintf(msg, sizeof msg, "From: s%zu@x.test\r\nTo: bob@acme.test\r\nSubject: m %zu\r\n\r\nbody %zu\r\n", i,
			 i, i);
		snprintf(ids[i], sizeof ids[i], "%s", deliver(msg));
		want[i] = 1;
	}
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	snprintf(ids[EACH_MSGS], sizeof ids[0], "%s", deliver("Subject: late\r\n\r\nnot indexed\r\n"));
	snprintf(ids[EACH_MSGS + 1], sizeof ids[0], "%032d", 7);   /* no such document */
	memcpy(ids[EACH_MSGS + 2], ids[3], 33);                    /* asked twice */
	memcpy(ids[EACH_MSGS + 3], ids[0], 33);
	want[EACH_MSGS] = want[EACH_MSGS + 1] = 0;
	want[EACH_MSGS + 2] = want[EACH_MSGS + 3] = 1;
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	check_each(f, NULL, (const char (*)[33])ids, EACH_MSGS + 4, want);
	check_each(f, NULL, (const char (*)[33])ids + 5, 4, want + 5);   /* a third: still one scan */
	memcpy(few[0], ids[9], 33);
	memcpy(few[1], ids[EACH_MSGS], 33);
	memcpy(few[2], ids[2], 33);
	check_each(f, NULL, (const char (*)[33])few, 3, want_few);        /* a quarter: point reads */
	check_each(f, NULL, (const char (*)[33])few, 1, want_few);
	check_each(f, NULL, (const char (*)[33])few, 0, want_few);
	/* FROM "s1@x": the others indexed are ruled out, not read */
	CHECK(evm_fts_query(f, "f", "S1@X", &c, &error) == 1);
	for (size_t i = 0; i < EACH_MSGS + 4; i++)
		want_s1[i] = want[i] == 0 ? 0 : i == 1 ? 1 : 2;
	check_each(f, c, (const char (*)[33])ids, EACH_MSGS + 4, want_s1);
	evm_fts_cand_free(&c);
	evm_fts_close(&f);
}

/* Five empty parts (SUBJECT..BCC) of a stored text: its names octet and
 * 20 octets of lengths. */
#define EMPTY5 "a\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"

/* The value's bounds, and a document over EVM_FTS_TEXT_MAX stores no
 * text (it is partial: always a candidate, always scanned). */
static void test_text_limits(void)
{
	struct evm_fts_text t;
	struct evm_fts_doc d = { 0 };
	struct buf text = BUF_INIT, msg = BUF_INIT;
	json_t *sum;

	CHECK_EQ_INT(evm_fts_text_parse(NULL, 0, &t), -1);
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup("a", 1), 1, &t), -1);
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup(EMPTY5 "\0\0\0", 24), 24, &t), -1);
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup("x" EMPTY5 "\0\0\0\0", 25), 25, &t), -1);
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup(EMPTY5 "\x03\0\0\0a\0", 27), 27, &t), -1);
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup(EMPTY5 "\x01\0\0\x01" "\0", 26), 26, &t), -1);
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup(EMPTY5 "\x01\0\0\0a", 26), 26, &t), -1);   /* no NUL */
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup(EMPTY5 "\x02\0\0\0a\0", 27), 27, &t), 0);
	CHECK(t.plen[5] == 2 && t.blen == 0 && t.names_ascii && evm_fts_text_find(&t, EVM_FTS_F_HEADER, "a") &&
	      !evm_fts_text_find(&t, EVM_FTS_F_BODY, "a") && evm_fts_text_find(&t, EVM_FTS_F_BODY, "") &&
	      !evm_fts_text_find(&t, EVM_FTS_F_SUBJECT, "") && evm_fts_text_header(&t, "a", "") == 0);
	evm_fts_text_clear(&t);
	CHECK_EQ_INT(evm_fts_text_parse(xstrndup("n" "\x02\0\0\0" "a\0" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
						"\x04\0\0\0A:B\0bc", 33), 33, &t), 0);
	CHECK(t.plen[5] == 4 && t.blen == 2 && evm_fts_text_find(&t, EVM_FTS_F_BODY, "BC") == 0 &&
	      evm_fts_text_find(&t, EVM_FTS_F_BODY, "bc") && evm_fts_text_find(&t, EVM_FTS_F_SUBJECT, "") &&
	      evm_fts_text_find(&t, EVM_FTS_F_SUBJECT, "a") && !evm_fts_text_find(&t, EVM_FTS_F_FROM, "a") &&
	      evm_fts_text_header(&t, "a", "B") == -1);   /* 'n': HEADER is scanned */
	evm_fts_text_clear(&t);
	/* a message and its text: SUBJECT's part "X\0" (the summary's), the
	 * header part "SUBJECT:X \0" (the CR: a space), then the body */
	sum = mime_parse("Subject:x\r\n\r\nbody\r\n", 19, NULL);
	buf_puts(&text, "keep");
	CHECK_EQ_INT(evm_fts_doc_message(&d, "Subject:x\r\n\r\nbody\r\n", 19, 0, sum, &text), 0);
	CHECK(text.len > 46 && memcmp(text.data, "keep" "a" "\x02\0\0\0X\0" "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
				      "\x0b\0\0\0SUBJECT:X \0BODY", 46) == 0);
	{   /* the writer's split: d/ the fields, b/ the body */
		size_t at = 0;

		CHECK_EQ_INT(evm_fts_text_split(text.data + 4, text.len - 4, &at), 0);
		CHECK_EQ_INT(at, 38);
		CHECK_EQ_INT(evm_fts_text_split(text.data + 4, 37, &at), -1);
		CHECK_EQ_INT(evm_fts_text_split("b", 1, &at), -1);
	}
	json_decref(sum);
	evm_fts_doc_free(&d);
	/* over the limit: nothing appended */
	buf_puts(&msg, "Subject: big\r\n\r\n");
	while (msg.len <= EVM_FTS_TEXT_MAX + 100)
		buf_puts(&msg, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\r\n");
	sum = mime_parse(msg.data, msg.len, NULL);
	buf_truncate(&text, 4);
	CHECK_EQ_INT(evm_fts_doc_message(&d, msg.data, msg.len, 0, sum, &text), 1);
	CHECK_EQ_INT(text.len, 4);
	json_decref(sum);
	evm_fts_doc_free(&d);
	buf_free(&msg);
	buf_free(&text);
}

/* The messages of expunged mail leave the index ('x', no stored text)
 * once they are many enough; an email id that comes back is indexed
 * again; a few expunged messages change nothing. */
static void test_gc(void)
{
	const char *error = NULL;
	struct evm_fts *f = NULL;
	char ids[80][33], mbox[64] = "", msg[128];
	json_t *uids = json_array(), *few = json_array();   /* UID ranges [lo, hi] */

	fresh("fts_gc");
	for (int i = 0; i < 80; i++) {
		snprintf(msg, sizeof msg, "Subject: gc %d\r\n\r\nbody number%d here\r\n", i, i);
		snprintf(ids[i], sizeof ids[i], "%s", deliver(msg));
		snprintf(mbox, sizeof mbox, "%s", json_string_value(json_object_get(last, "mailbox_id")));
		if (i >= 10)
			json_array_append_new(i < 13 ? few : uids, json_pack("[I,I]", json_integer_value(json_object_get(last, "uid")),
									      json_integer_value(json_object_get(last, "uid"))));
	}
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	/* 3 of 80 gone: below the threshold, nothing marked */
	run("message.expunge", json_pack("{s:s, s:O}", "mailbox_id", mbox, "uids", few));
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 80);
	evm_fts_close(&f);
	CHECK_EQ_INT(stored_raw(ids[11], 0, "number11 "), 1);
	/* 70 of 80 gone: marked dead, texts deleted */
	run("message.expunge", json_pack("{s:s, s:O}", "mailbox_id", mbox, "uids", uids));
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK(evm_fts_open(view, BOB, &f, &error) == 0);
	CHECK_EQ_INT(evm_fts_docs(f), 10);
	CHECK_EQ_INT(evm_fts_doc_state(f, ids[40]), 0);
	CHECK_EQ_INT(evm_fts_doc_state(f, ids[5]), 'u');
	evm_fts_close(&f);
	{
		struct buf k = BUF_INIT, acct = BUF_INIT;
		char *val = NULL;
		size_t vlen = 0;

		evm_fts_key_account(&acct, BOB);
		evm_fts_key_text(&k, &acct, ids[40]);
		CHECK_EQ_INT(view_get(view, k.data, k.len, &val, &vlen, &error), 0);
		evm_fts_key_body(&k, &acct, ids[40]);
		CHECK_EQ_INT(view_get(view, k.data, k.len, &val, &vlen, &error), 0);
		evm_fts_key_text(&k, &acct, ids[5]);
		CHECK_EQ_INT(view_get(view, k.data, k.len, &val, &vlen, &error), 1);
		free(val);
		evm_fts_key_body(&k, &acct, ids[5]);
		CHECK_EQ_INT(view_get(view, k.data, k.len, &val, &vlen, &error), 1);
		free(val);
		buf_free(&k);
		buf_free(&acct);
	}
	CHECK_EQ_INT(stored_raw(ids[5], 0, "number5 "), 1);
	CHECK_EQ_INT(may("x", "number40 ", ids[40]), 1);   /* not indexed: a candidate */
	/* the same content again: the same email id, indexed anew */
	deliver("Subject: gc 40\r\n\r\nbody number40 here\r\n");
	CHECK_EQ_STR(json_string_value(json_object_get(last, "email_id")), ids[40]);
	CHECK(evm_fts_index_account(view, BOB, &error) == 0);
	CHECK_EQ_INT(stored_raw(ids[40], 0, "number40 "), 1);
	CHECK_EQ_INT(may("x", "number41 ", ids[40]), 0);
	json_decref(uids);
	json_decref(few);
}

int main(void)
{
	test_run("body_decoding", test_body_decoding);
	test_run("odd_input", test_odd_input);
	test_run("header_fields", test_header_fields);
	test_run("trigrams", test_trigrams);
	test_run("index_query", test_index_query);
	test_run("no_false_negatives", test_no_false_negatives);
	test_run("purge", test_purge);
	test_run("stored_text", test_stored_text);
	test_run("stored_fields", test_stored_fields);
	test_run("stored_odd_name", test_stored_odd_name);
	test_run("stored_upgrade", test_stored_upgrade);
	test_run("text_each", test_text_each);
	test_run("text_limits", test_text_limits);
	test_run("gc", test_gc);
	view_close(&view);
	json_decref(last);
	return test_done();
}
