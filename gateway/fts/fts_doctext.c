/* fts_doctext - the stored text of an indexed document (fts.h, THE TEXT
 * STORED): its key, its parsing and the substring test that confirms a
 * candidate without reading and decoding the message again. */
#include "gateway/fts/fts.h"

#include <stdlib.h>
#include <string.h>

/* "local/fts/<acct>/d/<email id>". */
void evm_fts_key_text(struct buf *k, const struct buf *acct, const char *email_id)
{
	buf_truncate(k, 0);
	buf_append(k, acct->data, acct->len);
	buf_puts(k, "d/");
	buf_puts(k, email_id);
}

/* The 4-octet header length, then the two parts. */
int evm_fts_text_parse(char *val, size_t vlen, struct evm_fts_text *t)
{
	const unsigned char *u = (const unsigned char *)val;
	size_t hlen;

	memset(t, 0, sizeof *t);
	if (val == NULL || vlen < 4) {
		free(val);
		return -1;
	}
	hlen = (size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16 | (size_t)u[3] << 24;
	if (hlen > vlen - 4) {
		free(val);
		return -1;
	}
	t->val = val;
	t->head = val + 4;
	t->hlen = hlen;
	t->body = val + 4 + hlen;
	t->blen = vlen - 4 - hlen;
	return 0;
}

/* RFC 9051 6.4.4 substring match on one casemapped part. */
int evm_fts_text_find(const struct evm_fts_text *t, int part, const char *mapped)
{
	size_t nl = strlen(mapped);

	if (nl == 0)
		return 1;
	if (part == EVM_FTS_F_HEADER)
		return memmem(t->head, t->hlen, mapped, nl) != NULL;
	return memmem(t->body, t->blen, mapped, nl) != NULL;
}

void evm_fts_text_clear(struct evm_fts_text *t)
{
	free(t->val);
	memset(t, 0, sizeof *t);
}
