/* mail_changes - reads of the per-mailbox modseq index (mail_keys.h mseq/,
 * mexp/) and of message records by UID range: what a session needs to
 * apply only the changes since the modseq it has seen (mail.h). */
#include "projector/mail_internal.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct changes_scan {
	mail_change_fn *fn;
	void *ctx;
	size_t plen;
	int expunged;
	int corrupt;
	int stopped;
};

static int changes_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct changes_scan *c = vctx;
	struct mail_change ch;
	char *end;
	unsigned long bits = 0;

	memset(&ch, 0, sizeof ch);
	if (mail_key_num_uid(key + c->plen, klen - c->plen, &ch.modseq, &ch.uid) < 0) {
		c->corrupt = 1;
		return 1;
	}
	ch.expunged = c->expunged;
	ch.keywords = "";
	if (!c->expunged) {
		/* "<bits>[ kw...]", bounded by vlen. */
		char digits[4];
		size_t n = 0;

		while (n < vlen && n < 3 && val[n] >= '0' && val[n] <= '9') {
			digits[n] = val[n];
			n++;
		}
		digits[n] = '\0';
		bits = strtoul(digits, &end, 10);
		if (n == 0 || bits > 31 || (n < vlen && val[n] != ' ')) {
			c->corrupt = 1;
			return 1;
		}
		ch.flags = (unsigned)bits;
		ch.keywords = n < vlen ? val + n + 1 : "";
		ch.kwlen = n < vlen ? vlen - n - 1 : 0;
	}
	if (c->fn(c->ctx, &ch) < 0) {
		c->stopped = 1;
		return 1;
	}
	return 0;
}

/* Scans one index (mseq/ or mexp/) of a mailbox from modseq since + 1. */
static int scan_index(struct view *view, const char *acct, const char *kind, const char *mailbox_id,
		      int64_t since, struct changes_scan *c, const char **error_r)
{
	struct buf prefix = BUF_INIT, start = BUF_INIT;
	int r;

	mail_key_uid(&prefix, acct, kind, mailbox_id, 0);
	buf_append(&start, prefix.data, prefix.len);
	buf_printf(&start, "%020" PRId64, since + 1);
	c->plen = prefix.len;
	r = view_scan_from(view, prefix.data, prefix.len, start.data, start.len, changes_cb, c, error_r);
	buf_free(&prefix);
	buf_free(&start);
	if (r < 0)
		return -1;
	if (c->corrupt) {
		log_error("mail: the modseq index of %s/%s is corrupt", acct, mailbox_id);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	if (c->stopped) {
		*error_r = "stopped by the caller";
		return -1;
	}
	return 0;
}

int mail_changes(struct view *view, const char *account, const char *mailbox_id, int64_t since,
		 int with_expunged, mail_change_fn *fn, void *ctx, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	const char *ignored;
	struct changes_scan c = { fn, ctx, 0, 0, 0, 0 };

	if (since < 0)
		since = 0;
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0 ||
	    strlen(mailbox_id) != MAIL_ID_LEN)
		return 0;
	if (scan_index(view, acct, MAIL_K_MSEQ, mailbox_id, since, &c, error_r) < 0)
		return -1;
	if (!with_expunged)
		return 0;
	c.expunged = 1;
	return scan_index(view, acct, MAIL_K_MEXP, mailbox_id, since, &c, error_r);
}

struct range_scan {
	json_t *list;
	size_t plen;
	uint32_t hi;
	int corrupt;
};

static int range_cb(void *vctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct range_scan *r = vctx;
	char digits[11];
	json_t *msg;

	if (klen - r->plen != 10) {
		r->corrupt = 1;
		return 1;
	}
	memcpy(digits, key + r->plen, 10);
	digits[10] = '\0';
	if ((uint32_t)strtoul(digits, NULL, 10) > r->hi)
		return 1;
	msg = evm_json_loadb(val, vlen, 0, NULL);
	if (!json_is_object(msg)) {
		json_decref(msg);
		r->corrupt = 1;
		return 1;
	}
	json_array_append_new(r->list, msg);
	return 0;
}

int mail_messages_range(struct view *view, const char *account, const char *mailbox_id, uint32_t lo,
			uint32_t hi, json_t **list_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1];
	const char *ignored;
	struct buf prefix = BUF_INIT, start = BUF_INIT;
	struct range_scan r = { json_array(), 0, hi, 0 };
	int ret;

	*list_r = NULL;
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0 ||
	    strlen(mailbox_id) != MAIL_ID_LEN || lo == 0 || lo > hi) {
		*list_r = r.list;
		return 0;
	}
	mail_key_uid(&prefix, acct, MAIL_K_MSG, mailbox_id, 0);
	mail_key_uid(&start, acct, MAIL_K_MSG, mailbox_id, lo);
	r.plen = prefix.len;
	if (lo == hi) {
		/* One UID (a UID FETCH of one message): a point read, which
		 * the bloom filters serve, not an iterator's seek. */
		char *val = NULL;
		size_t vlen = 0;

		ret = view_get(view, start.data, start.len, &val, &vlen, error_r);
		if (ret == 1) {
			range_cb(&r, start.data, start.len, val, vlen);
			free(val);
			ret = 0;
		}
	} else {
		ret = view_scan_from(view, prefix.data, prefix.len, start.data, start.len, range_cb, &r,
				     error_r);
	}
	buf_free(&prefix);
	buf_free(&start);
	if (ret == 0 && r.corrupt) {
		log_error("mail: a message record of %s/%s is corrupt", acct, mailbox_id);
		*error_r = MAIL_CORRUPT;
		ret = -1;
	}
	if (ret < 0) {
		json_decref(r.list);
		return -1;
	}
	*list_r = r.list;
	return 0;
}
