/* mail_vacation - the vacation (out-of-office) state of an account and
 * the decision "may this sender get an automatic reply now" (RFC 3834,
 * RFC 8621 8), taken by the applier from the log so that one reply per
 * sender per period goes out whichever node delivered the mail.
 *
 *   vacation.set   {enabled: bool, from_date: ms|null, to_date: ms|null,
 *                   subject: str|null, text_body: str|null, html_body: str|null}
 *                  replaces the account's vacation response (JMAP's
 *                  VacationResponse "singleton").
 *   vacation.reply {sender: address}
 *                  accepted when the response is enabled, the event's time
 *                  is within [from_date, to_date), and this sender got no
 *                  reply in the last MAIL_VACATION_PERIOD_MS; rejected
 *                  "off" or "not-due" otherwise. The writer sends the
 *                  reply only after an accepted outcome.
 * Keys: mail_keys.h vac, vacr/. */
#include "projector/mail_internal.h"
#include "projector/mail_jmap.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <stdlib.h>
#include <string.h>

#define VAC_TEXT_MAX (64 * 1024)

/* An optional string field: 0 with *s_r (NULL when null or absent), or
 * -1 after recording the rejection. */
static int opt_str(struct apply_ctx *ctx, const char *field, size_t max, const char **s_r)
{
	json_t *v = json_object_get(ctx->ev->data, field);

	*s_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
		apply_reject(ctx, "invalid", "%s: a string of at most %zu octets expected", field, max);
		return -1;
	}
	*s_r = json_string_value(v);
	return 0;
}

static int opt_date(struct apply_ctx *ctx, const char *field, json_t **out)
{
	json_t *v = json_object_get(ctx->ev->data, field);

	if (v == NULL || json_is_null(v)) {
		*out = json_null();
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > MAIL_DATE_MAX) {
		apply_reject(ctx, "invalid", "%s: milliseconds since the epoch or null expected", field);
		return -1;
	}
	*out = json_integer(json_integer_value(v));
	return 0;
}

enum apply_status mail_apply_vacation_set(struct apply_ctx *ctx, const char **error_r)
{
	json_t *enabled = json_object_get(ctx->ev->data, "enabled"), *from = NULL, *to = NULL, *rec;
	const char *subject, *text, *html;
	struct mail_acct a;
	enum apply_status st;

	if (!json_is_boolean(enabled))
		return apply_reject(ctx, "invalid", "enabled: a boolean expected");
	if (opt_str(ctx, "subject", 998, &subject) < 0 || opt_str(ctx, "text_body", VAC_TEXT_MAX, &text) < 0 ||
	    opt_str(ctx, "html_body", VAC_TEXT_MAX, &html) < 0)
		return APPLY_REJECTED;
	if (opt_date(ctx, "from_date", &from) < 0)
		return APPLY_REJECTED;
	if (opt_date(ctx, "to_date", &to) < 0) {
		json_decref(from);
		return APPLY_REJECTED;
	}
	rec = json_pack("{s:O, s:o, s:o, s:s?, s:s?, s:s?}", "enabled", enabled, "from_date", from,
			"to_date", to, "subject", subject, "text_body", text, "html_body", html);
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED) {
		json_decref(rec);
		return st;
	}
	mail_acct_begin_write(&a);
	mail_key(&a.key, a.address, MAIL_K_VAC, NULL);
	mail_batch_put_json(ctx->batch, &a.key, rec);
	json_decref(rec);
	st = mail_jmap_touch(&a, MAIL_J_VACATION, "singleton", 0, error_r) < 0 ? APPLY_FAILED : APPLY_ACCEPTED;
	mail_acct_close(&a);
	return st;
}

/* Whether the response is on at time ts (ms). */
static int active_at(json_t *vac, int64_t ts)
{
	json_t *from = json_object_get(vac, "from_date"), *to = json_object_get(vac, "to_date");

	if (!json_is_true(json_object_get(vac, "enabled")))
		return 0;
	if (json_is_integer(from) && ts < json_integer_value(from))
		return 0;
	if (json_is_integer(to) && ts >= json_integer_value(to))
		return 0;
	return 1;
}

enum apply_status mail_apply_vacation_reply(struct apply_ctx *ctx, const char **error_r)
{
	const char *sender, *error = NULL;
	char norm[EVM_ADDRESS_MAX + 1];
	struct mail_acct a;
	enum apply_status st;
	json_t *vac = NULL;
	int64_t last = 0;
	int r;

	if ((sender = evm_data_str(ctx->ev, "sender", EVM_ADDRESS_MAX, &error)) == NULL ||
	    evm_address_normalize(sender, norm, &error) < 0)
		return apply_reject(ctx, "invalid", "sender: %s", error ? error : "an address expected");
	if ((st = mail_acct_open(ctx, &a, error_r)) != APPLY_ACCEPTED)
		return st;
	st = APPLY_FAILED;
	mail_key(&a.key, a.address, MAIL_K_VAC, NULL);
	if ((r = mail_batch_get_json(ctx->batch, &a.key, &vac, error_r)) < 0)
		goto out;
	if (r == 0 || !active_at(vac, ctx->ev->ts)) {
		st = apply_reject(ctx, "off", "no vacation response is active");
		goto out;
	}
	mail_key(&a.key, a.address, MAIL_K_VACR, NULL);
	mail_key_escape(&a.key, norm);
	if ((r = mail_batch_get_int(ctx->batch, &a.key, &last, error_r)) < 0)
		goto out;
	/* RFC 3834 4: not more than one reply per sender per period. */
	if (r == 1 && ctx->ev->ts - last < MAIL_VACATION_PERIOD_MS) {
		st = apply_reject(ctx, "not-due", "%s got a reply less than a period ago", norm);
		goto out;
	}
	mail_acct_begin_write(&a);
	mail_key(&a.key, a.address, MAIL_K_VACR, NULL);
	mail_key_escape(&a.key, norm);
	mail_batch_put_int(ctx->batch, &a.key, ctx->ev->ts);
	mail_result(ctx, "sender", json_string(norm));
	st = APPLY_ACCEPTED;
out:
	json_decref(vac);
	mail_acct_close(&a);
	return st;
}

int mail_vacation_get(struct view *view, const char *account, json_t **vac_r, const char **error_r)
{
	char acct[EVM_ADDRESS_MAX + 1], *val = NULL;
	const char *ignored;
	struct buf key = BUF_INIT;
	size_t vlen = 0;
	int r;

	*vac_r = NULL;
	if (account == NULL || evm_address_normalize(account, acct, &ignored) < 0)
		return 0;
	mail_key(&key, acct, MAIL_K_VAC, NULL);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	buf_free(&key);
	if (r <= 0)
		return r;
	*vac_r = evm_json_loadb(val, vlen, 0, NULL);
	free(val);
	if (!json_is_object(*vac_r)) {
		json_decref(*vac_r);
		*vac_r = NULL;
		log_error("mail: the vacation record of %s is corrupt", acct);
		*error_r = MAIL_CORRUPT;
		return -1;
	}
	return 1;
}
