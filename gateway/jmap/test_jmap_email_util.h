/* test_jmap_email_util - for the Email method tests and fuzz target: a real
 * view filled by the real appliers (messages parsed like ingest parses
 * them, stored as blobs or left incomplete), an engine with JMAP Mail, and
 * one request run to its end. Header-only; each binary includes it once. */
#ifndef EVM_TEST_JMAP_EMAIL_UTIL_H
#define EVM_TEST_JMAP_EMAIL_UTIL_H

#include "gateway/jmap/jmap_mail.h"
#include "gateway/fts/fts.h"
#include "common/buf.h"
#include "common/mime.h"
#include "projector/mail.h"
#include "projector/applier.h"
#include "projector/test_apply.h"

#include <event2/event.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BOB "bob@acme.test"
#define USING "\"using\":[\"urn:ietf:params:jmap:core\",\"urn:ietf:params:jmap:mail\"]"

static struct view *view;
static int64_t next_offset;
static struct apply_env env = { &next_offset, 0xe9e7000, "acme", 0, NULL, "" };
static struct event_base *base;
static struct jmap_api *api;
static struct node node;
static struct jmap_mail_req req;
static struct jmap_account account;
static struct jmap_user user;

/* Applies one event of BOB's (data stolen); "accepted" or the code. */
static inline const char *run(const char *type, json_t *data)
{
	return apply_event(&env, view, type, BOB, data);
}

/* Stores raw as a blob (unless without_blob: its body then is not complete
 * on this node) and appends it to mailbox (an id or "INBOX") received at
 * `date` ms with IMAP flags (e.g. "\\Seen"); its email id (static). */
static inline const char *deliver_flags(const char *mailbox, const char *raw, int64_t date, const char *flag,
					int without_blob)
{
	static char email[33];
	unsigned char md[32];
	char hex[65], *b64;
	size_t len = strlen(raw);
	json_t *d;
	int bl;

	EVP_Digest(raw, len, md, NULL, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + i * 2, 3, "%02x", md[i]);
	if (!without_blob) {
		b64 = xmalloc(len * 2 + 8);
		bl = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)raw, (int)len);
		b64[bl] = '\0';
		run("blob.chunk", json_pack("{s:s, s:i, s:i, s:I, s:s}", "blob_id", hex, "index", 0, "count", 1,
					    "size", (json_int_t)len, "data", b64));
		free(b64);
	}
	d = json_pack("{s:s, s:I, s:s, s:I, s:o, s:[], s:[]}", "blob_id", hex, "blob_size", (json_int_t)len,
		      "prefix", "", "internal_date", (json_int_t)date, "summary", mime_parse(raw, len, NULL),
		      "flags", "keywords");
	if (flag != NULL)
		json_array_append_new(json_object_get(d, "flags"), json_string(flag));
	json_object_set_new(d, strlen(mailbox) == 32 ? "mailbox_id" : "mailbox", json_string(mailbox));
	if (strcmp(run("message.append", d), "accepted") != 0)
		return "(rejected)";
	snprintf(email, sizeof email, "%s", json_string_value(json_object_get(env.result, "email_id")));
	return email;
}

static inline const char *deliver(const char *mailbox, const char *raw, int64_t date)
{
	return deliver_flags(mailbox, raw, date, NULL, 0);
}

/* The uid of the last append. */
static inline uint32_t last_uid(void)
{
	return (uint32_t)json_integer_value(json_object_get(env.result, "uid"));
}

/* The id of the mailbox named name. */
static inline const char *mailbox_id(const char *name)
{
	static char id[33];
	json_t *m = NULL;
	const char *error;

	id[0] = '\0';
	if (mail_mailbox_by_name(view, BOB, name, &m, &error) == 1)
		snprintf(id, sizeof id, "%s", json_string_value(json_object_get(m, "id")));
	json_decref(m);
	return id;
}

/* message.store of flags (a JSON array text) on one uid. */
static inline const char *store(const char *mbox, uint32_t uid, const char *action, const char *flags)
{
	return run("message.store", json_pack("{s:s, s:[[i,i]], s:s, s:o}", "mailbox_id", mbox, "uids", uid, uid,
					      "action", action, "flags", json_loads(flags, 0, NULL)));
}

struct result {
	int done, status;
	json_t *body;
};

static struct result last;

static inline void done_cb(void *arg, int status, json_t *body)
{
	struct result *r = arg;

	r->done++;
	r->status = status;
	r->body = json_deep_copy(body);
}

/* Runs one request whose methodCalls are given as printf arguments, with
 * "$A" in the text replaced by the account id; returns the first response's
 * arguments (owned by `last`), or NULL. */
static inline json_t *call(const char *fmt, ...)
{
	struct jmap_run_params p = { .user = &user, .session_state = "s", .request_ctx = &req };
	struct buf calls = BUF_INIT, body = BUF_INIT;
	va_list ap;
	const char *s;

	va_start(ap, fmt);
	buf_vprintf(&calls, fmt, ap);
	va_end(ap);
	buf_puts(&body, "{" USING ",\"methodCalls\":");
	for (s = calls.data; *s; s++) {
		if (s[0] == '$' && s[1] == 'A') {
			buf_puts(&body, req.account_id);
			s++;
		} else {
			buf_append(&body, s, 1);
		}
	}
	buf_puts(&body, "}");
	json_decref(last.body);
	memset(&last, 0, sizeof last);
	jmap_api_run(api, &p, "application/json", body.data, body.len, done_cb, &last);
	event_base_dispatch(base);
	buf_free(&calls);
	buf_free(&body);
	if (last.done != 1 || last.status != 200)
		return NULL;
	return json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 0), 1);
}

/* The name of the first response ("error" for a method-level error). */
static inline const char *resp_name(void)
{
	const char *s = json_string_value(
		json_array_get(json_array_get(json_object_get(last.body, "methodResponses"), 0), 0));

	return s != NULL ? s : "(none)";
}

static inline const char *sget(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s != NULL ? s : "(none)";
}

/* The compact JSON of v, keys sorted (static buffer). */
static inline const char *jdump(const json_t *v)
{
	static char out[8192];
	char *s = v != NULL ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;

	snprintf(out, sizeof out, "%s", s != NULL ? s : "(null)");
	free(s);
	return out;
}

/* A view in the new directory dir and an engine (maxObjectsInGet max_get). */
static inline void email_setup(const char *dir, unsigned max_get)
{
	struct jmap_settings s;
	const char *error;

	if (view_open(dir, &view, &error) < 0)
		exit(2);
	base = event_base_new();
	jmap_settings_default(&s);
	s.max_objects_in_get = max_get;
	api = jmap_api_new(base, &s);
	jmap_mail_register(api);
	node.view = view;
	req.node = &node;
	snprintf(req.address, sizeof req.address, "%s", BOB);
	snprintf(req.tenant, sizeof req.tenant, "acme");
	jmap_account_id(BOB, req.account_id);
	snprintf(req.actor, sizeof req.actor, "jmap:test");
	jmap_mail_account(&req, &account);
	user.username = BOB;
	user.accounts = &account;
	user.naccounts = 1;
}

static inline void email_teardown(void)
{
	json_decref(last.body);
	last.body = NULL;
	jmap_api_free(&api);
	event_base_free(base);
	evm_fts_stop(&node);   /* a text query started the indexer: it reads the view */
	view_close(&view);
	json_decref(env.result);
	env.result = NULL;
}

#endif
