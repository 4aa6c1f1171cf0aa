/* arc_seal - see arc_seal.h. */
#include "common/arc_seal.h"
#include "common/buf.h"
#include "common/dkim.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARC_FOLD 72     /* b= pieces per line */

/* One header field: the text from its name to, not including, the CRLF
 * that ends it (folded lines included). */
struct hfield {
	const char *p;
	size_t len;
};

/* Calls fn for each header field of msg until it returns nonzero or the
 * header ends (the first empty line, or DKIM_MAX_FIELDS fields). */
static void each_field(const char *msg, size_t len, int (*fn)(void *ctx, struct hfield f), void *ctx)
{
	size_t i = 0, count = 0;

	while (i < len && count < DKIM_MAX_FIELDS) {
		size_t start = i, end;

		if (len - i >= 2 && msg[i] == '\r' && msg[i + 1] == '\n')
			return;
		for (;;) {
			const char *nl = memchr(msg + i, '\n', len - i);
			end = nl != NULL ? (size_t)(nl - msg) : len;
			i = nl != NULL ? end + 1 : len;
			if (i >= len || (msg[i] != ' ' && msg[i] != '\t'))
				break;
		}
		if (end > start && msg[end - 1] == '\r')
			end--;
		count++;
		if (fn(ctx, (struct hfield){ msg + start, end - start }))
			return;
	}
}

/* True when f is named name (case-insensitive, WSP before ':' allowed). */
static int field_is(struct hfield f, const char *name)
{
	size_t n = strlen(name), j = n;

	if (f.len <= n || strncasecmp(f.p, name, n) != 0)
		return 0;
	while (j < f.len && (f.p[j] == ' ' || f.p[j] == '\t'))
		j++;
	return j < f.len && f.p[j] == ':';
}

/* The i= tag of an ARC field (RFC 8617 4.2.1: 1..50), -1 when absent or bad. */
static int field_instance(struct hfield f)
{
	const char *p = memchr(f.p, ':', f.len), *end = f.p + f.len;

	if (p == NULL)
		return -1;
	for (p++; p < end;) {
		const char *semi = memchr(p, ';', (size_t)(end - p)), *tend = semi != NULL ? semi : end;
		int v = 0, digits = 0;

		while (p < tend && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
			p++;
		if (tend - p >= 2 && p[0] == 'i' && (p[1] == '=' || p[1] == ' ' || p[1] == '\t')) {
			p++;
			while (p < tend && (*p == ' ' || *p == '\t'))
				p++;
			if (p == tend || *p++ != '=')
				return -1;
			while (p < tend && (*p == ' ' || *p == '\t'))
				p++;
			for (; p < tend && *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
				v = v * 10 + (*p - '0');
			while (p < tend && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
				p++;
			return digits > 0 && p == tend && v >= 1 && v <= ARC_MAX_INSTANCES ? v : -1;
		}
		p = semi != NULL ? semi + 1 : end;
	}
	return -1;
}

/* What the scan of the existing chain collects: per instance and kind
 * (0 AAR, 1 AMS, 2 AS) the field, once. */
struct chain {
	struct hfield set[ARC_MAX_INSTANCES + 1][3];
	int bad;
};

static const char *const kinds[3] = { "ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal" };

static int collect(void *ctx, struct hfield f)
{
	struct chain *c = ctx;

	for (int k = 0; k < 3; k++) {
		int i;

		if (!field_is(f, kinds[k]))
			continue;
		i = field_instance(f);
		if (i < 0 || c->set[i][k].p != NULL)
			c->bad = 1;
		else
			c->set[i][k] = f;
		return c->bad;
	}
	return 0;
}

/* Scans msg's chain into c: the number of sets, or -1 when broken. */
static int scan_chain(const char *msg, size_t len, struct chain *c, const char **error_r)
{
	int n = 0;

	memset(c, 0, sizeof *c);
	each_field(msg, len, collect, c);
	if (c->bad) {
		*error_r = "arc: an ARC field without a valid i= tag, or one instance twice";
		return -1;
	}
	while (n < ARC_MAX_INSTANCES && c->set[n + 1][2].p != NULL)
		n++;
	for (int i = 1; i <= ARC_MAX_INSTANCES; i++) {
		int present = (c->set[i][0].p != NULL) + (c->set[i][1].p != NULL) + (c->set[i][2].p != NULL);
		if ((i <= n && present != 3) || (i > n && present != 0)) {
			*error_r = "arc: the chain's sets are incomplete or not numbered 1..n";
			return -1;
		}
	}
	return n;
}

int arc_chain_instances(const char *msg, size_t len, int *n_r, const char **error_r)
{
	struct chain *c = xcalloc(1, sizeof *c);
	int n = scan_chain(msg, len, c, error_r);

	free(c);
	if (n < 0)
		return -1;
	*n_r = n;
	return 0;
}

/* The h= list of the AMS: one name per present instance of the DKIM
 * signed fields, in dkim.h's order. */
struct names {
	struct buf *h;
	const char *name;
};

static int count_name(void *ctx, struct hfield f)
{
	struct names *n = ctx;

	if (field_is(f, n->name))
		buf_printf(n->h, "%s%s", n->h->len > 0 ? ":" : "", n->name);
	return 0;
}

static void ams_header_list(const char *msg, size_t len, struct buf *h)
{
	static const char *const signed_names[] = { DKIM_SIGNED_HEADERS };

	buf_puts(h, "");
	for (size_t k = 0; k < sizeof signed_names / sizeof signed_names[0]; k++) {
		struct names n = { h, signed_names[k] };
		each_field(msg, len, count_name, &n);
	}
}

/* Appends b64 after "b=" in pieces of ARC_FOLD, folded (RFC 5322 2.2.3). */
static void append_b(struct buf *out, const char *b64)
{
	size_t n = strlen(b64);

	for (size_t off = 0; off < n; off += ARC_FOLD) {
		if (off > 0)
			buf_puts(out, "\r\n\t");
		buf_append(out, b64 + off, n - off < ARC_FOLD ? n - off : ARC_FOLD);
	}
}

/* The AMS of instance i over msg: "ARC-Message-Signature: ...\r\n" into out. */
static int make_ams(const struct arc_seal_request *req, int i, struct buf *out, const char **error_r)
{
	struct buf h = BUF_INIT, field = BUF_INIT;
	char bh[45], *b = NULL;

	if (dkim_body_hash(req->msg, req->len, bh, error_r) < 0)
		return -1;
	ams_header_list(req->msg, req->len, &h);
	if (h.len == 0) {
		buf_free(&h);
		*error_r = "arc: the message has none of the signed header fields";
		return -1;
	}
	buf_printf(&field, "ARC-Message-Signature: i=%d; a=rsa-sha256; c=relaxed/relaxed;\r\n"
		   "\td=%s; s=%s; t=%lld;\r\n\th=%s;\r\n\tbh=%s;\r\n\tb=", i, req->domain,
		   req->selector, (long long)req->t, h.data, bh);
	if (dkim_sign_fields(req->msg, req->len, h.data, field.data, req->key, &b, error_r) < 0) {
		buf_free(&h);
		buf_free(&field);
		return -1;
	}
	append_b(&field, b);
	buf_puts(&field, "\r\n");
	buf_append(out, field.data, field.len);
	free(b);
	buf_free(&h);
	buf_free(&field);
	return 0;
}

/* The AS of instance n + 1 over the chain c and the new AAR and AMS. The
 * sets go into a block of fields, newest on top, and are picked from the
 * bottom per name by dkim_sign_fields, so instance 1 is signed first. */
static int make_as(const struct arc_seal_request *req, const struct chain *c, int n, const char *aar,
		   const char *ams, struct buf *out, const char **error_r)
{
	struct buf block = BUF_INIT, h = BUF_INIT, field = BUF_INIT;
	char *b = NULL;
	int r;

	buf_puts(&block, aar);
	buf_puts(&block, ams);
	for (int i = n; i >= 1; i--) {
		for (int k = 0; k < 3; k++) {
			buf_append(&block, c->set[i][k].p, c->set[i][k].len);
			buf_puts(&block, "\r\n");
		}
	}
	buf_puts(&h, "");
	for (int i = 1; i <= n; i++)
		buf_puts(&h, "arc-authentication-results:arc-message-signature:arc-seal:");
	buf_puts(&h, "arc-authentication-results:arc-message-signature");
	buf_printf(&field, "ARC-Seal: i=%d; a=rsa-sha256; t=%lld; cv=%s;\r\n\td=%s; s=%s;\r\n\tb=", n + 1,
		   (long long)req->t, req->cv, req->domain, req->selector);
	r = dkim_sign_fields(block.data, block.len, h.data, field.data, req->key, &b, error_r);
	if (r == 0) {
		append_b(&field, b);
		buf_puts(&field, "\r\n");
		buf_append(out, field.data, field.len);
	}
	free(b);
	buf_free(&block);
	buf_free(&h);
	buf_free(&field);
	return r;
}

int arc_seal(const struct arc_seal_request *req, char **fields_r, int *i_r, const char **error_r)
{
	struct chain *c;
	struct buf aar = BUF_INIT, ams = BUF_INIT, out = BUF_INIT;
	int n, r = -1;

	*fields_r = NULL;
	if (req->key == NULL || EVP_PKEY_id(req->key) != EVP_PKEY_RSA) {
		*error_r = "arc: sealing needs an RSA key";
		return -1;
	}
	if (strpbrk(req->results, "\r\n") != NULL || strpbrk(req->authserv_id, "\r\n; ") != NULL ||
	    strpbrk(req->domain, "\r\n; ") != NULL || strpbrk(req->selector, "\r\n; ") != NULL) {
		*error_r = "arc: a field value contains a line break or separator";
		return -1;
	}
	c = xcalloc(1, sizeof *c);
	n = scan_chain(req->msg, req->len, c, error_r);
	if (n < 0)
		goto out;
	if (n >= ARC_MAX_INSTANCES) {
		*error_r = "arc: the chain has the most instances allowed";
		goto out;
	}
	/* RFC 8617 4.1.3: cv=none only for i=1; a later set states the chain's validity. */
	if ((n == 0) != (strcmp(req->cv, "none") == 0) ||
	    (n > 0 && strcmp(req->cv, "pass") != 0 && strcmp(req->cv, "fail") != 0)) {
		*error_r = "arc: cv does not fit the chain";
		goto out;
	}
	buf_printf(&aar, "ARC-Authentication-Results: i=%d; %s;\r\n\t%s\r\n", n + 1, req->authserv_id,
		   req->results[0] != '\0' ? req->results : "none");
	if (make_ams(req, n + 1, &ams, error_r) < 0 ||
	    make_as(req, c, n, aar.data, ams.data, &out, error_r) < 0)
		goto out;
	buf_append(&out, ams.data, ams.len);
	buf_append(&out, aar.data, aar.len);
	*fields_r = buf_steal(&out);
	*i_r = n + 1;
	r = 0;
out:
	free(c);
	buf_free(&aar);
	buf_free(&ams);
	buf_free(&out);
	return r;
}
