/* msgauth_dkim - DKIM verification of a received message (RFC 6376 6):
 * the first MSGAUTH_MAX_DKIM DKIM-Signature fields, each with its key from
 * DNS, its body hash and its header signature. */
#include "gateway/msgauth/msgauth.h"
#include "common/dkim_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Verifies the signature field f of msg; the result word in out. */
static void verify_one(const struct msgauth_dns *dns, const struct dkim_field *fields, size_t n,
		       const struct dkim_field *f, const char *body, size_t body_len, int64_t now,
		       struct msgauth_dkim_result *out)
{
	struct dkim_sig sig;
	const char *error = NULL, *value = f->p + f->name_len;
	EVP_PKEY *key = NULL;
	struct buf data = BUF_INIT;
	int r;

	while (*value != ':')
		value++;
	value++;
	if (dkim_sig_parse(value, f->len - (size_t)(value - f->p), 0, &sig, &error) < 0) {
		snprintf(out->result, sizeof out->result, "permerror");
		return;
	}
	snprintf(out->domain, sizeof out->domain, "%s", sig.d);
	snprintf(out->selector, sizeof out->selector, "%s", sig.s);
	for (size_t i = 0, k = 0; sig.b[i] != '\0' && k < 8; i++)
		if (sig.b[i] != ' ' && sig.b[i] != '\t' && sig.b[i] != '\r' && sig.b[i] != '\n')
			out->b[k++] = sig.b[i];
	if (sig.x >= 0 && sig.x < now) {
		snprintf(out->result, sizeof out->result, "fail");   /* expired, RFC 6376 3.5 x= */
		goto done;
	}
	r = msgauth_key_fetch(dns, sig.s, sig.d, sig.alg, &key);
	if (r <= 0) {
		snprintf(out->result, sizeof out->result, r < 0 ? "temperror" : "permerror");
		goto done;
	}
	r = dkim_body_check(body, body_len, &sig, &error);
	if (r <= 0) {
		snprintf(out->result, sizeof out->result, "fail");
		goto done;
	}
	buf_puts(&data, "");
	dkim_header_input(fields, n, sig.h, sig.hcanon, f, &data);
	r = dkim_signature_check(key, sig.alg, data.data, data.len, sig.b);
	snprintf(out->result, sizeof out->result, r == 1 ? "pass" : "fail");
done:
	buf_free(&data);
	EVP_PKEY_free(key);
	dkim_sig_free(&sig);
}

void msgauth_dkim_check(const struct msgauth_dns *dns, const char *msg, size_t len, int64_t now,
			struct msgauth_result *res)
{
	struct dkim_field *f = xcalloc(DKIM_MAX_FIELDS, sizeof *f);
	size_t body = 0, n = dkim_header_split(msg, len, f, DKIM_MAX_FIELDS, &body);

	res->ndkim = 0;
	for (size_t i = 0; i < n && res->ndkim < MSGAUTH_MAX_DKIM; i++) {
		if (f[i].name_len != 14 || strncasecmp(f[i].p, "DKIM-Signature", 14) != 0)
			continue;
		memset(&res->dkim[res->ndkim], 0, sizeof res->dkim[0]);
		verify_one(dns, f, n, &f[i], msg + body, len - body, now, &res->dkim[res->ndkim]);
		res->ndkim++;
	}
	free(f);
}
