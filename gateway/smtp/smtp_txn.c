/* smtp_txn - the mail transaction: MAIL and RCPT parameters (SIZE, BODY,
 * SMTPUTF8, DSN), recipient resolution, the Received: field and the
 * delivery with its replies (RFC 5321 4.4, RFC 2033 4.2). */
#include "gateway/smtp/smtp_session_private.h"
#include "gateway/smtp/smtp_rate.h"
#include "common/ids.h"
#include "common/log.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void smtp_txn_reset(struct smtp_session *s)
{
	struct smtp_txn *t = &s->txn;

	free(t->mail_from);
	json_decref(t->dsn);
	for (size_t i = 0; i < t->nrcpts; i++) {
		free(t->rcpts[i].path);
		free(t->rcpts[i].targets);
	}
	free(t->rcpts);
	for (size_t i = 0; i < t->nremote; i++) {
		free(t->remote[i].addr);
		free(t->remote[i].orcpt);
		free(t->remote[i].notify);
	}
	free(t->remote);
	free(t->targets);
	free(t->fwd);
	buf_free(&t->msg);
	memset(t, 0, sizeof *t);
}

/* RFC 3461 4: xtext = *( xchar / "+" 2HEXCHAR ), bounded. */
static int xtext_ok(const char *v, size_t max, int utf8)
{
	size_t n = 0;

	for (; *v != '\0'; v++, n++) {
		unsigned char c = (unsigned char)*v;
		if (c == '+') {
			if (!strchr("0123456789ABCDEF", v[1]) || v[1] == '\0' ||
			    !strchr("0123456789ABCDEF", v[2]) || v[2] == '\0')
				return 0;
			v += 2;
		} else if ((c < 0x21 || c > 0x7e || c == '=') && !(utf8 && c >= 0x80)) {
			return 0;
		}
	}
	return n > 0 && n <= max;
}

static json_t *dsn_obj(struct smtp_txn *t)
{
	if (t->dsn == NULL)
		t->dsn = json_pack("{s:{}}", "rcpts");
	return t->dsn;
}

/* Parses digits into *v (at most 18). */
static int parse_u64(const char *s, uint64_t *v)
{
	size_t n = 0;

	*v = 0;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (++n > 18)
			return -1;
		*v = *v * 10 + (uint64_t)(*s - '0');
	}
	return n > 0 && *s == '\0' ? 0 : -1;
}

int smtp_txn_mail(struct smtp_session *s, const struct smtp_command *cmd)
{
	struct smtp_txn *t = &s->txn;
	const char *err = NULL;

	smtp_txn_reset(s);
	/* per-client limit: a temporary refusal (RFC 5321 4.2.5; RFC 3463
	 * X.7.1 "delivery not authorized"), so a legitimate sender retries */
	if (!smtp_rate_allowed(s->set.ip_msgs, s->peer_ip, evm_now_ms())) {
		log_info("smtp[%s]: [%s] over limits.smtp_msgs_per_min_ip", s->id, s->peer_ip);
		smtp_reply(s, "451 4.7.1 Too many messages from your address, try again later");
		return -1;
	}
	smtp_rate_record(s->set.ip_msgs, s->peer_ip, evm_now_ms());
	if (cmd->nparams > 0 && !s->esmtp) {
		smtp_reply_error(s, "555 5.5.4 MAIL parameters need EHLO");
		return -1;
	}
	for (size_t i = 0; i < cmd->nparams && err == NULL; i++) {
		const struct smtp_param *p = &cmd->params[i];

		for (size_t j = 0; j < i; j++) {
			if (strcmp(cmd->params[j].name, p->name) == 0)
				err = "501 5.5.4 Duplicate MAIL parameter";
		}
		if (err != NULL)
			break;
		if (strcmp(p->name, "SIZE") == 0) {               /* RFC 1870 */
			if (p->value == NULL || parse_u64(p->value, &t->declared_size) < 0)
				err = "501 5.5.4 Bad SIZE parameter";
			else if (t->declared_size > s->set.max_message)
				err = "552 5.3.4 Message size exceeds fixed maximum message size";
		} else if (strcmp(p->name, "BODY") == 0) {        /* RFC 6152 */
			if (p->value != NULL && strcasecmp(p->value, "BINARYMIME") == 0)
				err = "555 5.5.4 BODY=BINARYMIME not supported";
			else if (p->value == NULL || (strcasecmp(p->value, "7BIT") != 0 &&
						      strcasecmp(p->value, "8BITMIME") != 0))
				err = "501 5.5.4 Bad BODY parameter";
			else
				t->body8bit = strcasecmp(p->value, "8BITMIME") == 0;
		} else if (strcmp(p->name, "SMTPUTF8") == 0) {    /* RFC 6531 3.4 */
			if (p->value != NULL)
				err = "501 5.5.4 SMTPUTF8 takes no value";
			t->smtputf8 = 1;
		} else if (strcmp(p->name, "RET") == 0) {         /* RFC 3461 4.3 */
			if (p->value == NULL || (strcasecmp(p->value, "FULL") != 0 && strcasecmp(p->value, "HDRS") != 0))
				err = "501 5.5.4 Bad RET parameter";
			else
				json_object_set_new(dsn_obj(t), "ret", json_string(strcasecmp(p->value, "FULL") == 0 ? "FULL" : "HDRS"));
		} else if (strcmp(p->name, "ENVID") == 0) {       /* RFC 3461 4.4 */
			if (p->value == NULL || !xtext_ok(p->value, 100, 0))
				err = "501 5.5.4 Bad ENVID parameter";
			else
				json_object_set_new(dsn_obj(t), "envid", json_string(p->value));
		} else if (strcmp(p->name, "REQUIRETLS") == 0 && s->set.submission && s->tls) {
			/* RFC 8689 4.1: offered on submission over TLS only; carried
			 * into the queue so the next hops must use TLS too. */
			if (p->value != NULL)
				err = "501 5.5.4 REQUIRETLS takes no value";
			t->requiretls = 1;
		} else {
			err = "555 5.5.4 Unsupported MAIL parameter";
		}
	}
	if (err == NULL && cmd->path_8bit && !t->smtputf8)
		err = "553 5.6.7 Non-ASCII address needs SMTPUTF8";
	if (err != NULL) {
		smtp_txn_reset(s);
		smtp_reply_error(s, err);
		return -1;
	}
	t->mail_from = xstrdup(cmd->path);
	log_info("%s[%s]: mail from=<%s> size=%llu", s->set.lmtp ? "lmtp" : "smtp", s->id, t->mail_from,
		 (unsigned long long)t->declared_size);
	return 0;
}

/* RCPT parameters (RFC 3461 4.1, 4.2); the reply for an error or NULL. */
static const char *rcpt_params(struct smtp_session *s, const struct smtp_command *cmd, json_t **dsn_r)
{
	*dsn_r = NULL;
	if (cmd->nparams > 0 && !s->esmtp)
		return "555 5.5.4 RCPT parameters need EHLO";
	for (size_t i = 0; i < cmd->nparams; i++) {
		const struct smtp_param *p = &cmd->params[i];
		const char *err = NULL;

		for (size_t j = 0; j < i; j++) {
			if (strcmp(cmd->params[j].name, p->name) == 0)
				err = "501 5.5.4 Duplicate RCPT parameter";
		}
		if (err == NULL && strcmp(p->name, "NOTIFY") == 0) {
			char norm[64] = "", *dup, *tok, *save = NULL;
			unsigned seen = 0;

			if (p->value == NULL || strlen(p->value) > 40)
				err = "501 5.5.4 Bad NOTIFY parameter";
			dup = xstrdup(p->value != NULL ? p->value : "");
			for (tok = strtok_r(dup, ",", &save); tok != NULL && err == NULL; tok = strtok_r(NULL, ",", &save)) {
				static const char *const kw[] = { "NEVER", "SUCCESS", "FAILURE", "DELAY" };
				size_t k;
				for (k = 0; k < 4 && strcasecmp(tok, kw[k]) != 0; k++)
					;
				if (k == 4 || (seen & (1u << k)) || (seen != 0 && (k == 0 || (seen & 1u))))
					err = "501 5.5.4 Bad NOTIFY parameter";
				else {
					seen |= 1u << k;
					if (norm[0] != '\0')
						strcat(norm, ",");
					strcat(norm, kw[k]);
				}
			}
			free(dup);
			if (err == NULL && seen == 0)
				err = "501 5.5.4 Bad NOTIFY parameter";
			if (err == NULL)
				json_object_set_new(*dsn_r != NULL ? *dsn_r : (*dsn_r = json_object()), "notify", json_string(norm));
		} else if (err == NULL && strcmp(p->name, "ORCPT") == 0) {
			const char *semi = p->value != NULL ? strchr(p->value, ';') : NULL;
			int ok = semi != NULL && semi > p->value && xtext_ok(semi + 1, 500, s->txn.smtputf8);
			for (const char *c = p->value; ok && c < semi; c++) {
				if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-'))
					ok = 0;
			}
			if (!ok)
				err = "501 5.5.4 Bad ORCPT parameter";
			else
				json_object_set_new(*dsn_r != NULL ? *dsn_r : (*dsn_r = json_object()), "orcpt", json_string(p->value));
		} else if (err == NULL) {
			err = "555 5.5.4 Unsupported RCPT parameter";
		}
		if (err != NULL) {
			json_decref(*dsn_r);
			*dsn_r = NULL;
			return err;
		}
	}
	return NULL;
}

/* True when the backend can tell and every target is over its quota for
 * the declared size (0 when none was declared: already full). */
static int all_over_quota(struct smtp_session *s, const struct deliver_target *targets, size_t n)
{
	if (s->backend.over_quota == NULL || n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!s->backend.over_quota(s->backend.ctx, targets[i].account, s->txn.declared_size))
			return 0;
	}
	return 1;
}

/* Adds a resolved target once per account; returns its index. */
static size_t add_target(struct smtp_txn *t, const struct deliver_target *tg)
{
	for (size_t i = 0; i < t->ntargets; i++) {
		if (strcmp(t->targets[i].account, tg->account) == 0 && strcmp(t->targets[i].tenant, tg->tenant) == 0)
			return i;
	}
	t->targets = xrealloc(t->targets, (t->ntargets + 1) * sizeof *t->targets);
	t->targets[t->ntargets] = *tg;
	return t->ntargets++;
}

static const char *const rcpt_replies[] = {
	[RCPT_OK] = "250 2.1.5 Ok",
	[RCPT_UNKNOWN] = "550 5.1.1 Recipient address rejected: User unknown",
	[RCPT_NOT_LOCAL] = "550 5.7.1 Relaying denied",
	[RCPT_DISABLED] = "550 5.2.1 Mailbox disabled",
	[RCPT_INVALID] = "501 5.1.3 Bad recipient address syntax",
	[RCPT_TEMPFAIL] = "451 4.3.0 Temporary lookup failure, try again later",
};

void smtp_txn_rcpt(struct smtp_session *s, const struct smtp_command *cmd)
{
	struct smtp_txn *t = &s->txn;
	struct deliver_target *targets = NULL;
	size_t n = 0, nfwd = 0;
	char local[EVM_ADDRESS_MAX + 1];
	enum deliver_rcpt_status st;
	const char *err;
	json_t *dsn;
	struct smtp_rcpt *r;

	if (t->nrcpts + t->nremote >= s->set.max_recipients || t->ntargets >= SMTP_MAX_TARGETS) {
		smtp_reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	/* every attempt counts, unknown recipients included (a dictionary
	 * attack is what this limit slows down); RFC 5321 4.2.5, RFC 3463 */
	if (!smtp_rate_allowed(s->set.ip_rcpts, s->peer_ip, evm_now_ms())) {
		log_info("smtp[%s]: [%s] over limits.smtp_rcpts_per_min_ip", s->id, s->peer_ip);
		smtp_reply(s, "451 4.7.1 Too many recipients from your address, try again later");
		return;
	}
	smtp_rate_record(s->set.ip_rcpts, s->peer_ip, evm_now_ms());
	if ((err = rcpt_params(s, cmd, &dsn)) != NULL) {
		smtp_reply_error(s, err);
		return;
	}
	if (cmd->path_8bit && !t->smtputf8) {
		json_decref(dsn);
		smtp_reply_error(s, "553 5.6.7 Non-ASCII address needs SMTPUTF8");
		return;
	}
	/* Forwarding (smtp_forward.c): remote targets, or an SRS bounce whose
	 * original sender is local and resolved in place of the path. */
	if (smtp_forward_rcpt(s, cmd->path, local, &nfwd) < 0) {
		json_decref(dsn);
		return;
	}
	st = s->backend.resolve(s->backend.ctx, local[0] != '\0' ? local : cmd->path, &targets, &n);
	if (nfwd > 0 && (st == RCPT_UNKNOWN || (st == RCPT_OK && n == 0)))
		st = RCPT_OK;     /* forwarded only */
	else if (st == RCPT_OK && n == 0)
		st = RCPT_TEMPFAIL;
	if ((unsigned)st >= sizeof rcpt_replies / sizeof rcpt_replies[0])
		st = RCPT_TEMPFAIL;
	log_info("%s[%s]: rcpt to=<%s> %s", s->set.lmtp ? "lmtp" : "smtp", s->id, cmd->path,
		 st == RCPT_NOT_LOCAL && s->set.submission ? "remote (queued)" : rcpt_replies[st] + 10);
	if (st == RCPT_OK && all_over_quota(s, targets, n)) {
		/* Refused early, before the data (RFC 1870 6: the declared SIZE
		 * decides); temporary, as the mailbox may be emptied. The
		 * projector's check on the append still decides at the end. */
		log_info("%s[%s]: rcpt to=<%s> mailbox full", s->set.lmtp ? "lmtp" : "smtp", s->id,
			 cmd->path);
		free(targets);
		json_decref(dsn);
		smtp_reply(s, "452 4.2.2 Mailbox full");
		return;
	}
	if (st == RCPT_NOT_LOCAL && s->set.submission) {
		free(targets);
		smtp_submit_remote_rcpt(s, cmd->path, dsn);
		return;
	}
	if (st != RCPT_OK) {
		free(targets);
		json_decref(dsn);
		if (st == RCPT_TEMPFAIL)
			smtp_reply(s, "%s", rcpt_replies[st]);
		else
			smtp_reply_error(s, rcpt_replies[st]);
		return;
	}
	t->rcpts = xrealloc(t->rcpts, (t->nrcpts + 1) * sizeof *t->rcpts);
	r = &t->rcpts[t->nrcpts++];
	r->path = xstrdup(cmd->path);
	r->targets = xcalloc(n, sizeof *r->targets);
	r->ntargets = n;
	for (size_t i = 0; i < n; i++)
		r->targets[i] = add_target(t, &targets[i]);
	free(targets);
	if (dsn != NULL)
		json_object_set_new(json_object_get(dsn_obj(t), "rcpts"), cmd->path, dsn);
	smtp_reply(s, "%s", rcpt_replies[RCPT_OK]);
}

void smtp_reply_txn(struct smtp_session *s, const char *line)
{
	size_t n = s->set.lmtp && s->txn.nrcpts > 0 ? s->txn.nrcpts : 1;

	for (size_t i = 0; i < n; i++)
		smtp_reply(s, "%s", line);
}
