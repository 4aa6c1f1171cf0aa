/* jmap_email_patch - see jmap_email_patch.h. */
#include "gateway/jmap/jmap_email_patch.h"
#include "gateway/jmap/jmap_email_create.h"
#include "gateway/jmap/jmap_keywords.h"
#include "gateway/jmap/jmap_mail.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

static void fail(struct jmap_setrun *sr, enum jmap_set_op op, const char *key, const char *type,
		 const char *desc, const char *prop)
{
	jmap_setrun_fail(sr, op, key, jmap_set_error(type, desc, prop != NULL ? json_pack("[s]", prop) : NULL));
}

/* A JSON pointer token (RFC 6901 4): "~1" is '/', "~0" is '~'. */
static int unescape(const char *in, char *out, size_t size)
{
	size_t n = 0;

	for (; *in; in++) {
		char c = *in;

		if (c == '/')
			return -1;
		if (c == '~') {
			if (in[1] != '0' && in[1] != '1')
				return -1;
			c = *++in == '0' ? '~' : '/';
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	return 0;
}

void jmap_email_patch_free(struct jmap_email_patch *e)
{
	json_decref(e->kw_whole);
	json_decref(e->kw_add);
	json_decref(e->kw_remove);
	json_decref(e->mb_whole);
	json_decref(e->mb_add);
	json_decref(e->mb_remove);
	memset(e, 0, sizeof *e);
}

int jmap_email_patch_parse(struct jmap_setrun *sr, const char *id, json_t *patch, struct jmap_email_patch *e)
{
	struct jmap_call *call = jmap_setrun_call(sr);
	const char *k, *error = NULL, *mid;
	json_t *v;
	char tok[JMAP_KEYWORD_MAX + 1], flag[JMAP_KEYWORD_MAX + 1];

	memset(e, 0, sizeof *e);
	e->kw_add = json_array();
	e->kw_remove = json_array();
	e->mb_add = json_array();
	e->mb_remove = json_array();
	json_object_foreach(patch, k, v) {
		if (strcmp(k, "keywords") == 0) {
			if ((e->kw_whole = jmap_keywords_flags(v)) == NULL)
				goto bad;
		} else if (strncmp(k, "keywords/", 9) == 0) {
			if (unescape(k + 9, tok, sizeof tok) < 0 || !jmap_keyword_valid(tok) ||
			    !(json_is_true(v) || json_is_null(v)))
				goto bad;
			jmap_keyword_flag(tok, flag);
			json_array_append_new(json_is_true(v) ? e->kw_add : e->kw_remove, json_string(flag));
		} else if (strcmp(k, "mailboxIds") == 0) {
			if (jmap_email_mailbox_ids(call, v, &e->mb_whole, &error) < 0)
				goto bad_mb;
		} else if (strncmp(k, "mailboxIds/", 11) == 0) {
			json_t *one, *ids;

			if (unescape(k + 11, tok, sizeof tok) < 0 || !(json_is_true(v) || json_is_null(v)))
				goto bad;
			if (json_is_null(v)) {
				/* Removing a mailbox it is not in changes nothing. */
				if (jmap_call_resolve_id(call, tok, &mid))
					json_array_append_new(e->mb_remove, json_string(mid));
				continue;
			}
			one = json_pack("{s:b}", tok, 1);
			if (jmap_email_mailbox_ids(call, one, &ids, &error) < 0) {
				json_decref(one);
				goto bad_mb;
			}
			json_array_extend(e->mb_add, ids);
			json_decref(ids);
			json_decref(one);
		} else {
			goto bad;
		}
	}
	/* RFC 8620 5.3: a patch may not set a property and a path in it. */
	if ((e->kw_whole != NULL && json_array_size(e->kw_add) + json_array_size(e->kw_remove) > 0) ||
	    (e->mb_whole != NULL && json_array_size(e->mb_add) + json_array_size(e->mb_remove) > 0)) {
		fail(sr, JMAP_OP_UPDATE, id, "invalidPatch", "a property and a path inside it are both patched", NULL);
		jmap_email_patch_free(e);
		return -1;
	}
	return 0;
bad_mb:
	jmap_email_patch_free(e);
	if (error != NULL) {
		log_error("jmap: Email/set: %s", error);
		fail(sr, JMAP_OP_UPDATE, id, "serverFail", "the view cannot be read", NULL);
		return -1;
	}
	fail(sr, JMAP_OP_UPDATE, id, "invalidProperties", "not existing mailboxes of this account", k);
	return -1;
bad:
	jmap_email_patch_free(e);
	fail(sr, JMAP_OP_UPDATE, id, "invalidProperties",
	     strncmp(k, "keywords", 8) == 0 || strncmp(k, "mailboxIds", 10) == 0 ? "not a valid value" :
										     "cannot be changed",
	     k);
	return -1;
}

