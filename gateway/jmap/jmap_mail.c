/* jmap_mail - see jmap_mail.h: ids, states, the write path. */
#include "gateway/jmap/jmap_mail.h"
#include "gateway/command.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_std.h"
#include "gateway/jmap/jmap_submission.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/mime.h"

#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void jmap_account_id(const char *address, char out[JMAP_ACCOUNT_ID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(address, strlen(address), md, &n, EVP_sha256(), NULL);
	out[0] = 'a';
	for (unsigned i = 0; i < 12; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
}

struct jmap_mail_req *jmap_mail_req_new(struct node *node, const char *address, const char *tenant,
					const char *actor)
{
	struct jmap_mail_req *req = xcalloc(1, sizeof *req);

	req->refs = 1;
	req->node = node;
	snprintf(req->address, sizeof req->address, "%s", address);
	snprintf(req->tenant, sizeof req->tenant, "%s", tenant);
	snprintf(req->actor, sizeof req->actor, "%s", actor);
	jmap_account_id(address, req->account_id);
	return req;
}

void jmap_mail_req_ref(struct jmap_mail_req *req)
{
	req->refs++;
}

void jmap_mail_req_unref(struct jmap_mail_req **reqp)
{
	struct jmap_mail_req *req = *reqp;

	*reqp = NULL;
	if (req != NULL && --req->refs == 0)
		free(req);
}

/* The capabilities whose methods this node serves, in an own account. */
static const char *const own_caps[] = { JMAP_CAP_MAIL, JMAP_CAP_SUBMISSION, JMAP_CAP_VACATION, JMAP_CAP_BLOB,
					 JMAP_CAP_QUOTA, NULL };

void jmap_mail_account(const struct jmap_mail_req *req, struct jmap_account *acct)
{
	memset(acct, 0, sizeof *acct);
	acct->id = req->account_id;
	acct->name = req->address;
	acct->is_personal = 1;
	acct->is_read_only = 0;
	acct->capabilities = own_caps;
}

struct jmap_mail_req *jmap_mail_req(const struct jmap_call *call)
{
	return jmap_call_request_ctx(call);
}

const char *jmap_mail_address(const struct jmap_call *call)
{
	const struct jmap_account *a = jmap_call_target(call);

	return a != NULL && a->owner != NULL ? a->owner : jmap_mail_req(call)->address;
}

int jmap_mail_state(struct jmap_call *call, enum mail_jtype t, char out[JMAP_STATE_MAX])
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *error = NULL;
	int64_t st = 0;

	/* A shared account's state is its owner's: the same on every node.
	 * Identity's covers the directory's defaults too (jmap_submission.h). */
	if ((t == MAIL_J_IDENTITY ? jmap_identity_state(req->node->view, jmap_mail_address(call), &st, &error) :
	     mail_jmap_state(req->node->view, jmap_mail_address(call), t, &st, &error)) < 0) {
		log_error("jmap: state of %s for %s: %s", mail_jtype_name(t), jmap_mail_address(call), error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	snprintf(out, JMAP_STATE_MAX, "%" PRId64, st);
	return 0;
}

int jmap_changes_pruned(struct jmap_call *call, enum mail_jtype t, int64_t since)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const char *error = NULL;
	int64_t horizon;

	if (mail_jmap_horizon(req->node->view, jmap_mail_address(call), t, &horizon, &error) < 0) {
		log_error("jmap: horizon of %s for %s: %s", mail_jtype_name(t), jmap_mail_address(call), error);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return -1;
	}
	return since < horizon;
}

int jmap_state_parse(const char *s, int64_t *modseq_r, char id[33])
{
	char *end;
	long long v;

	id[0] = '\0';
	if (s == NULL || s[0] < '0' || s[0] > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
		return -1;
	v = strtoll(s, &end, 10);
	if (v < 0 || (*end != '\0' && *end != '.'))
		return -1;
	if (*end == '.') {
		size_t n = strlen(end + 1);

		/* 32 hex digits, or a shorter id (an Identity's). */
		if (n == 0 || n > 32)
			return -1;
		for (size_t i = 0; i < n; i++) {
			char c = end[1 + i];

			if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z')))
				return -1;
		}
		memcpy(id, end + 1, n + 1);
	}
	*modseq_r = v;
	return 0;
}

struct changes_out {
	json_t *created, *updated, *destroyed;
	int64_t last_modseq;
	char last_id[33];
	struct view *view;
	const char *owner;
	enum mail_jtype t;
	json_t *scope;        /* a shared account's (jmap_shared_scope), or NULL */
	const char *error;
};

/* 1 when a changed object is visible in the shared scope now, 0 when not,
 * -1 on error: a mailbox when shared, an email with a copy in a shared
 * mailbox, a thread with such an email (as Thread/get shows it). */
static int in_scope(struct changes_out *o, const char *id)
{
	json_t *locs, *l;
	size_t i;
	int r;

	if (o->t == MAIL_J_MAILBOX)
		return json_object_get(o->scope, id) != NULL;
	if (o->t == MAIL_J_THREAD) {
		json_t *ids = json_array();

		r = mail_jmap_thread_emails(o->view, o->owner, id, ids, &o->error);
		if (r > 0 && jmap_shared_filter_emails(o->view, o->owner, o->scope, ids, &o->error) < 0)
			r = -1;
		if (r > 0)
			r = json_array_size(ids) > 0;
		json_decref(ids);
		return r;
	}
	locs = json_array();
	r = mail_jmap_email_locations(o->view, o->owner, id, locs, &o->error);
	if (r > 0) {
		r = 0;
		json_array_foreach(locs, i, l)
			r |= json_object_get(o->scope, json_string_value(json_array_get(l, 0))) != NULL;
	}
	json_decref(locs);
	return r;
}

static int change_cb(void *ctx, const struct mail_jchange *c)
{
	struct changes_out *o = ctx;
	int visible = 1;

	/* In a shared account, an object outside the shared mailboxes (now)
	 * is destroyed as far as the sharee knows (RFC 8620 5.2 allows
	 * reporting an id the client never saw); one created there is not
	 * reported at all. */
	if (o->scope != NULL && !c->destroyed && (visible = in_scope(o, c->id)) < 0)
		return 1;   /* stops the scan; o->error says why */
	if (visible)
		json_array_append_new(c->destroyed ? o->destroyed : c->created ? o->created : o->updated,
				      json_string(c->id));
	else if (!c->created)
		json_array_append_new(o->destroyed, json_string(c->id));
	o->last_modseq = c->modseq;
	snprintf(o->last_id, sizeof o->last_id, "%s", c->id);
	return 0;
}

/* The server's own cap on one /changes answer. */
#define JMAP_CHANGES_MAX 5000

void jmap_mail_changes(struct jmap_call *call, json_t *args, enum mail_jtype t)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_changes_args a;
	struct changes_out o = { .t = t };
	char cur[JMAP_STATE_MAX], since_id[33], next[JMAP_STATE_MAX];
	const char *error = NULL;
	int64_t since, now, digest = 0;
	size_t max;
	int more = 0, r = 0;
	json_t *resp;

	if (jmap_changes_args_parse(call, args, &a) < 0)
		return;
	if (jmap_mail_state(call, t, cur) < 0 || jmap_shared_scope(call, &o.scope) < 0)
		return;
	o.view = req->node->view;
	o.owner = jmap_mail_address(call);
	now = strtoll(cur, NULL, 10);
	/* RFC 8620 5.2: a state we cannot work from (not ours, ahead of this
	 * view, or before the horizon) cannot be calculated. */
	if (jmap_state_parse(a.since_state, &since, since_id) < 0) {
		jmap_call_error(call, "cannotCalculateChanges", NULL);
		json_decref(o.scope);
		return;
	}
	/* Identity: the stored changes are calculable while the defaults the
	 * directory derives stayed the same (jmap_submission.h). */
	if (t == MAIL_J_IDENTITY) {
		digest = now & JMAP_IDENTITY_DIGEST_MASK;
		if ((since & JMAP_IDENTITY_DIGEST_MASK) != digest) {
			jmap_call_error(call, "cannotCalculateChanges", "the default identities changed");
			json_decref(o.scope);
			return;
		}
		since >>= JMAP_IDENTITY_DIGEST_BITS;
		now >>= JMAP_IDENTITY_DIGEST_BITS;
	}
	if (since > now || (r = jmap_changes_pruned(call, t, since)) != 0) {
		if (since > now || r > 0)
			jmap_call_error(call, "cannotCalculateChanges",
					since > now ? NULL : "changes before this state were pruned (mail.tombstone_days)");
		json_decref(o.scope);
		return;
	}
	max = a.max_changes > 0 && a.max_changes < JMAP_CHANGES_MAX ? (size_t)a.max_changes : JMAP_CHANGES_MAX;
	o.created = json_array();
	o.updated = json_array();
	o.destroyed = json_array();
	if (mail_jmap_changes(req->node->view, o.owner, t, since, since_id, max, change_cb, &o, &more,
			      &error) < 0 || o.error != NULL) {
		log_error("jmap: changes of %s for %s: %s", mail_jtype_name(t), o.owner,
			  o.error != NULL ? o.error : error);
		json_decref(o.scope);
		json_decref(o.created);
		json_decref(o.updated);
		json_decref(o.destroyed);
		jmap_call_error(call, "serverFail", "the view cannot be read");
		return;
	}
	/* After a full answer the client is at the newest position read: the
	 * state before the scan, or a later one the scan saw (one event's
	 * changes are committed together, so a modseq is seen whole). */
	if (!more && o.last_modseq < now)
		o.last_modseq = now;
	if (t == MAIL_J_IDENTITY)
		o.last_modseq = o.last_modseq << JMAP_IDENTITY_DIGEST_BITS | digest;
	if (more)
		snprintf(next, sizeof next, "%" PRId64 ".%s", o.last_modseq, o.last_id);
	else
		snprintf(next, sizeof next, "%" PRId64, o.last_modseq);
	resp = jmap_changes_response(a.account->id, a.since_state, next, more,
				     o.created, o.updated, o.destroyed);
	if (t == MAIL_J_MAILBOX)
		json_object_set_new(resp, "updatedProperties", json_null());
	json_decref(o.scope);
	jmap_call_reply(call, resp);
}

struct write_op {
	struct jmap_mail_req *req;
	struct jmap_call *call;
	jmap_mail_write_cb *cb;
	void *ctx;
};

static void write_done(void *ctx, int status, json_t *outcome, const char *error)
{
	struct write_op *op = ctx;

	op->cb(op->call, op->ctx, status, outcome, error);
	jmap_mail_req_unref(&op->req);
	free(op);
}

/* A write that cannot even be built still answers on a later turn. */
static void build_failed(evutil_socket_t fd, short what, void *ctx)
{
	(void)fd;
	(void)what;
	write_done(ctx, -1, NULL, "the event cannot be built");
}

void jmap_mail_submit(struct jmap_call *call, const char *type, json_t *data, jmap_mail_write_cb *cb,
		      void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct write_op *op = xcalloc(1, sizeof *op);
	const char *account = jmap_mail_address(call);
	struct evm_event ev;
	const char *error = NULL;

	op->req = req;
	jmap_mail_req_ref(req);
	op->call = call;
	op->cb = cb;
	op->ctx = ctx;
	/* In a shared account the event goes to the owner's partition acting
	 * as the user; the owner's projector checks the rights (mail_acl.h). */
	if (strcmp(account, req->address) != 0)
		json_object_set_new(data, "as", json_string(req->address));
	if (evm_event_init(&ev, type, req->tenant, account, req->actor, data, &error) < 0) {
		log_error("jmap: cannot build %s for %s: %s", type, account, error);
		event_base_once(jmap_call_base(call), -1, EV_TIMEOUT, build_failed, op, NULL);
		return;
	}
	command_submit(req->node, &ev, EVM_TOPIC_MAIL, account, JMAP_WRITE_TIMEOUT_MS, write_done, op);
}

void jmap_utcdate_format(int64_t ms, char *out, size_t size)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;

	if (ms < 0 || gmtime_r(&t, &tm) == NULL || strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, size, "1970-01-01T00:00:00Z");
}

int jmap_utcdate_parse(const char *s, int64_t *ms_r)
{
	static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";
	unsigned y, mo, d, h, mi, sec;
	int n = 0, frac = 0;
	const char *p;

	/* RFC 3339 5.6 date-time, digits exactly where they belong: sscanf's
	 * %u alone would take a sign or a space ("-024" wraps around). */
	for (size_t i = 0; s != NULL && i < sizeof shape - 1; i++) {
		if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
			return -1;
	}
	if (s == NULL || sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 ||
	    n != 19 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 59 ||
	    (mo == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
		return -1;
	p = s + 19;
	if (*p == '.') {   /* RFC 3339 time-secfrac: milliseconds kept */
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		for (int scale = 100, digits = 0; *p >= '0' && *p <= '9'; p++, scale /= 10) {
			if (++digits > 9)
				return -1;
			frac += (*p - '0') * scale;
		}
	}
	if (strcmp(p, "Z") != 0 || y < 1970)
		return -1;
	*ms_r = (mime_days_from_civil(y, (int)mo, (int)d) * 86400 + h * 3600 + mi * 60 + sec) * 1000 + frac;
	return 0;
}

/* RFC 8621 1.3.1: the Mail capability of an account. */
static json_t *mail_account_caps(void)
{
	return json_pack("{s:n, s:n, s:i, s:i, s:[s,s,s,s,s,s,s,s,s], s:b}", "maxMailboxesPerEmail",
			 "maxMailboxDepth", "maxSizeMailboxName", 255, "maxSizeAttachmentsPerEmail",
			 50 * 1024 * 1024, "emailQuerySortOptions", "receivedAt", "size", "from", "to",
			 "subject", "sentAt", "hasKeyword", "allInThreadHaveKeyword",
			 "someInThreadHaveKeyword", "mayCreateTopLevelMailbox", 1);
}

void jmap_mail_register(struct jmap_api *api)
{
	jmap_api_add_capability(api, JMAP_CAP_MAIL, json_object(), mail_account_caps());
	jmap_api_add_capability(api, JMAP_CAP_VACATION, json_object(), json_object());
	jmap_mailbox_register(api);
	jmap_vacation_register(api);
	jmap_blob_register(api);
	jmap_email_register(api);
	jmap_mail_set_register(api);
	jmap_pushsub_register(api);
	jmap_submission_register(api);
	jmap_shared_register(api);
}
