/* imap_cmd_metadata - GETMETADATA and SETMETADATA (RFC 5464 METADATA and
 * METADATA-SERVER) over mailbox.metadata (projector/mail.h).
 *
 * Entries of a mailbox and the server's (mailbox "") "/private/..." entries
 * live in the account's mail partition. The server's "/shared/..." entries
 * are the administrator's: read-only here, and the one served is
 * "/shared/admin" (RFC 5464 3.2.1.1), "mailto:postmaster@<the account's
 * domain>" (RFC 5321 4.5.1 requires that address). Entry names are
 * case-insensitive (RFC 5464 3.2) and folded to lower case. Limits:
 * MAIL_META_VALUE_MAX octets a value (NO [METADATA MAXSIZE n]),
 * MAIL_META_ENTRIES_MAX entries a mailbox (NO [METADATA TOOMANY], decided
 * by the applier). Unsolicited METADATA responses (NOTIFY) are not sent.
 *
 * "/private/specialuse" of a mailbox (RFC 6154 4) is not an entry of its
 * own: it is the mailbox's special use, read from the mailbox record and
 * set by mailbox.update (the event JMAP's Mailbox role uses), so LIST
 * (SPECIAL-USE), METADATA and JMAP show one value. We keep one attribute
 * per mailbox and one mailbox per attribute (NO [USEATTR] otherwise); it
 * is set alone, since it is not part of the METADATA event. */
#include "gateway/imap/imap_session_private.h"
#include "common/base64.h"
#include "gateway/imap/imap_session_write.h"
#include "gateway/imap/imap_session_util.h"
#include "gateway/imap/imap_mbox_name.h"
#include "gateway/imap/imap_commands.h"
#include "common/scram.h"
#include "projector/mail.h"
#include "gateway/node.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEPTH_INFINITY 1000
#define SPECIALUSE "/private/specialuse"

/* The special uses mailbox.update takes (projector/mail.h). */
static const char *const uses[] = { "\\Drafts", "\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\All",
				    "\\Flagged", NULL };

/* The lower-case entry name of an argument into out: 1 an entry, 2 one
 * of the roots "/private" "/shared" (only when root_ok), 0 invalid. */
static int entry_arg(const struct imap_arg *a, int root_ok, char out[MAIL_META_NAME_MAX + 1])
{
	const char *v = imap_arg_str(a);
	size_t n;

	if (v == NULL || (n = strlen(v)) != a->len || n > MAIL_META_NAME_MAX)
		return 0;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)v[i]);
	if (root_ok && (strcmp(out, "/private") == 0 || strcmp(out, "/shared") == 0))
		return 2;
	return mail_meta_entry_valid(out, n) ? 1 : 0;
}

/* The mailbox argument: "" (server) or an existing mailbox's id into id
 * and its name into name: 1, or 0/-1 after answering. */
static int mailbox_of(struct imap_session *s, const struct imap_arg *a, char id[33],
		      char name[MAIL_MAILBOX_NAME_MAX + 1], const char *what)
{
	const char *error = NULL;
	json_t *box = NULL;
	int r;

	id[0] = name[0] = '\0';
	if (a->type == IMAP_ARG_STRING && a->len == 0)
		return 1;
	if (imap_mailbox_arg_s(s, a, name, MAIL_MAILBOX_NAME_MAX + 1) < 0) {
		imap_bad(s, "%s needs a mailbox name", what);
		return 0;
	}
	if ((r = mail_mailbox_by_name(s->node->view, s->account, name, &box, &error)) <= 0) {
		if (r < 0)
			imap_no(s, "[SERVERBUG] Cannot read the mailbox list: %s", error);
		else
			imap_no(s, "[NONEXISTENT] No such mailbox");
		return r;
	}
	snprintf(id, 33, "%s", json_string_value(json_object_get(box, "id")));
	json_decref(box);
	return 1;
}

/* A value as an IMAP string: quoted when plain, a literal (literal8 with
 * a NUL, RFC 5464 5) otherwise. */
static void put_value(struct buf *out, const char *v, size_t len)
{
	int plain = len < 1024;

	for (size_t i = 0; i < len && plain; i++) {
		unsigned char c = (unsigned char)v[i];

		plain = c >= 0x20 && c < 0x7f;
	}
	if (plain) {
		buf_puts(out, "\"");
		for (size_t i = 0; i < len; i++) {
			if (v[i] == '"' || v[i] == '\\')
				buf_puts(out, "\\");
			buf_append(out, &v[i], 1);
		}
		buf_puts(out, "\"");
		return;
	}
	buf_printf(out, "%s{%zu}\r\n", memchr(v, '\0', len) != NULL ? "~" : "", len);
	buf_append(out, v, len);
}

/* 1 when entry name n is what a request for e at depth gives (RFC 5464 4.2.2). */
static int matches(const char *n, const char *e, int depth)
{
	size_t el = strlen(e);

	if (strcmp(n, e) == 0)
		return 1;
	if (depth == 0 || strncmp(n, e, el) != 0 || n[el] != '/')
		return 0;
	return depth == DEPTH_INFINITY || strchr(n + el + 1, '/') == NULL;
}

/* The value of entry n (1, malloc'ed), 0 none, -1 error. */
static int value_of(struct imap_session *s, const char *id, const char *n, char **v, size_t *len,
		    const char **error_r)
{
	if (id[0] == '\0' && strcmp(n, "/shared/admin") == 0) {
		const char *at = strrchr(s->account, '@');
		struct buf b = BUF_INIT;

		buf_printf(&b, "mailto:postmaster@%s", at != NULL ? at + 1 : "localhost");
		*len = b.len;
		*v = b.data;
		return 1;
	}
	if (id[0] != '\0' && strcmp(n, SPECIALUSE) == 0) {
		json_t *box = NULL;
		const char *su;
		int r;

		if ((r = mail_mailbox_get(s->node->view, s->account, id, &box, error_r)) <= 0)
			return r;
		su = json_string_value(json_object_get(box, "special_use"));
		r = su != NULL && su[0] != '\0';
		if (r) {
			*v = xstrdup(su);
			*len = strlen(su);
		}
		json_decref(box);
		return r;
	}
	return mail_metadata_get(s->node->view, s->account, id, n, v, len, error_r);
}

/* 1 when names (sorted strings) holds n. */
static int has_name(json_t *names, const char *n)
{
	json_t *v;
	size_t i;

	json_array_foreach(names, i, v)
		if (strcmp(json_string_value(v), n) == 0)
			return 1;
	return 0;
}

/* GETMETADATA's options "(MAXSIZE n DEPTH 0|1|infinity)": 0 or -1. */
static int get_options(const struct imap_arg *a, long long *maxsize, int *depth)
{
	/* getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")" */
	if (a->count == 0)
		return -1;
	for (size_t i = 0; i < a->count; i += 2) {
		const char *k = imap_arg_str(&a->list[i]), *v;
		char *end;

		if (i + 1 >= a->count || k == NULL || (v = imap_arg_str(&a->list[i + 1])) == NULL ||
		    a->list[i + 1].type != IMAP_ARG_ATOM)
			return -1;
		if (strcasecmp(k, "MAXSIZE") == 0) {
			*maxsize = strtoll(v, &end, 10);
			/* number: 32-bit unsigned (RFC 3501 9) */
			if (*end != '\0' || end == v || v[0] == '-' || v[0] == '+' || strlen(v) > 10 ||
			    *maxsize > 4294967295LL)
				return -1;
		} else if (strcasecmp(k, "DEPTH") == 0) {
			if (strcmp(v, "0") == 0)
				*depth = 0;
			else if (strcmp(v, "1") == 0)
				*depth = 1;
			else if (strcasecmp(v, "infinity") == 0)
				*depth = DEPTH_INFINITY;
			else
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* RFC 5464 4.2: GETMETADATA [(options)] mailbox entry | (entry ...). */
void imap_cmd_getmetadata(struct imap_session *s, const struct imap_command *cmd)
{
	char id[33], name[MAIL_MAILBOX_NAME_MAX + 1], e[MAIL_META_NAME_MAX + 1];
	const struct imap_arg *args = cmd->args, *ents;
	const char *error = NULL;
	long long maxsize = -1, longest = 0;
	json_t *names = NULL, *want = json_array(), *n;
	struct buf out = BUF_INIT;
	int depth = 0, any = 0;
	size_t nargs = cmd->nargs, i, k;

	if (nargs == 3 && args[0].type == IMAP_ARG_LIST) {
		if (get_options(&args[0], &maxsize, &depth) < 0) {
			imap_bad(s, "Bad GETMETADATA options");
			goto out;
		}
		args++;
		nargs--;
	}
	if (nargs != 2) {
		imap_bad(s, "GETMETADATA needs a mailbox and entries");
		goto out;
	}
	ents = &args[1];
	for (i = 0; i < (ents->type == IMAP_ARG_LIST ? ents->count : 1); i++) {
		if (entry_arg(ents->type == IMAP_ARG_LIST ? &ents->list[i] : ents, 1, e) == 0) {
			imap_bad(s, "Bad entry name");
			goto out;
		}
		json_array_append_new(want, json_string(e));
	}
	if (json_array_size(want) == 0) {
		imap_bad(s, "GETMETADATA needs entries");
		goto out;
	}
	if (mailbox_of(s, &args[0], id, name, "GETMETADATA") <= 0)
		goto out;
	if (mail_metadata_names(s->node->view, s->account, id, &names, &error) < 0) {
		imap_no(s, "[SERVERBUG] Cannot read the metadata: %s", error);
		goto out;
	}
	if (id[0] == '\0')
		json_array_append_new(names, json_string("/shared/admin"));
	else if (!has_name(names, SPECIALUSE)) {
		char *su = NULL;
		size_t sulen = 0;
		int r = value_of(s, id, SPECIALUSE, &su, &sulen, &error);

		free(su);
		if (r < 0) {
			imap_no(s, "[SERVERBUG] Cannot read the mailbox: %s", error);
			goto out;
		}
		if (r > 0)
			json_array_append_new(names, json_string(SPECIALUSE));
	}
	buf_puts(&out, "* METADATA ");
	if (id[0] == '\0')
		buf_puts(&out, "\"\"");
	else
		imap_quote_mailbox(s, &out, name);
	buf_puts(&out, " (");
	json_array_foreach(want, k, n) {
		const char *w = json_string_value(n);
		int exact = 0;
		json_t *m;

		json_array_foreach(names, i, m) {
			const char *nm = json_string_value(m);
			char *v = NULL;
			size_t len = 0;
			int r;

			if (!matches(nm, w, depth))
				continue;
			exact |= strcmp(nm, w) == 0;
			if ((r = value_of(s, id, nm, &v, &len, &error)) < 0) {
				imap_no(s, "[SERVERBUG] Cannot read the metadata: %s", error);
				goto out;
			}
			if (r > 0 && maxsize >= 0 && (long long)len > maxsize) {
				if ((long long)len > longest)
					longest = (long long)len;
			} else if (r > 0) {
				buf_printf(&out, "%s%s ", any++ ? " " : "", nm);
				put_value(&out, v, len);
			}
			free(v);
		}
		/* RFC 5464 4.2: a requested entry without a value is NIL */
		if (!exact && mail_meta_entry_valid(w, strlen(w)))
			buf_printf(&out, "%s%s NIL", any++ ? " " : "", w);
	}
	buf_puts(&out, ")\r\n");
	if (any)
		imap_write(s, out.data, out.len);
	if (longest > 0)
		imap_ok(s, "[METADATA LONGENTRIES %lld] GETMETADATA completed", longest);
	else
		imap_ok(s, "GETMETADATA completed");
out:
	buf_free(&out);
	json_decref(names);
	json_decref(want);
}

static void setmetadata_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *code = status == 0 ? json_string_value(json_object_get(outcome, "code")) : NULL;

	if (code != NULL && strcmp(code, "quota") == 0) {
		imap_no(s, "[METADATA TOOMANY] Too many entries on this mailbox");
		return;
	}
	if (!imap_outcome_ok(s, status, outcome, error, "SETMETADATA"))
		return;
	imap_ok(s, "SETMETADATA completed");
}

static void specialuse_done(struct imap_session *s, int status, json_t *outcome, const char *error)
{
	const char *code = status == 0 ? json_string_value(json_object_get(outcome, "code")) : NULL;

	if (code != NULL && strcmp(code, "exists") == 0) {
		imap_no(s, "[USEATTR] Another mailbox has that special use");
		return;
	}
	if (code != NULL && strcmp(code, "invalid") == 0) {
		imap_no(s, "[USEATTR] This mailbox cannot have that special use");
		return;
	}
	if (!imap_outcome_ok(s, status, outcome, error, "SETMETADATA"))
		return;
	imap_ok(s, "SETMETADATA completed");
}

/* RFC 6154 4: SETMETADATA mailbox (/private/specialuse value|NIL) as
 * mailbox.update. v: the value argument. */
static void set_specialuse(struct imap_session *s, const char *id, const struct imap_arg *v)
{
	const char *use = "";

	if (v->type == IMAP_ARG_STRING && v->len > 0) {
		use = NULL;
		for (size_t i = 0; uses[i] != NULL; i++)
			if (strlen(v->str) == v->len && strcasecmp(v->str, uses[i]) == 0)
				use = uses[i];
		if (use == NULL) {
			imap_no(s, "[USEATTR] One of \\Drafts \\Sent \\Junk \\Trash \\Archive \\All \\Flagged");
			return;
		}
	}
	imap_submit(s, "mailbox.update", json_pack("{s:s, s:s}", "mailbox_id", id, "special_use", use),
		    specialuse_done);
}

/* RFC 5464 4.3: SETMETADATA mailbox (entry value|NIL ...), all or none. */
void imap_cmd_setmetadata(struct imap_session *s, const struct imap_command *cmd)
{
	char id[33], name[MAIL_MAILBOX_NAME_MAX + 1], e[MAIL_META_NAME_MAX + 1];
	const struct imap_arg *l;
	json_t *entries;

	if (cmd->nargs != 2 || cmd->args[1].type != IMAP_ARG_LIST || cmd->args[1].count == 0 ||
	    cmd->args[1].count % 2 != 0) {
		imap_bad(s, "SETMETADATA needs a mailbox and (entry value ...)");
		return;
	}
	l = &cmd->args[1];
	if (l->count / 2 > MAIL_META_SET_MAX) {
		imap_no(s, "[METADATA TOOMANY] At most %d entries at once", MAIL_META_SET_MAX);
		return;
	}
	entries = json_object();
	for (size_t i = 0; i < l->count; i += 2) {
		const struct imap_arg *v = &l->list[i + 1];

		if (entry_arg(&l->list[i], 0, e) != 1 || (v->type != IMAP_ARG_NIL && v->type != IMAP_ARG_STRING)) {
			json_decref(entries);
			imap_bad(s, "Bad entry name or value");
			return;
		}
		if (v->type == IMAP_ARG_STRING && v->len > MAIL_META_VALUE_MAX) {
			json_decref(entries);
			imap_no(s, "[METADATA MAXSIZE %d] Value too large", MAIL_META_VALUE_MAX);
			return;
		}
		if (v->type == IMAP_ARG_NIL) {
			json_object_set_new(entries, e, json_null());
		} else {
			char *b64 = evm_b64_encode((const unsigned char *)v->str, v->len);

			json_object_set_new(entries, e, json_string(b64));
			free(b64);
		}
	}
	if (mailbox_of(s, &cmd->args[0], id, name, "SETMETADATA") <= 0) {
		json_decref(entries);
		return;
	}
	if (id[0] != '\0' && json_object_get(entries, SPECIALUSE) != NULL) {
		for (size_t i = 0; i < l->count; i += 2) {
			if (entry_arg(&l->list[i], 0, e) == 1 && strcmp(e, SPECIALUSE) == 0 && l->count == 2) {
				json_decref(entries);
				set_specialuse(s, id, &l->list[i + 1]);
				return;
			}
		}
		json_decref(entries);
		imap_no(s, "Set " SPECIALUSE " alone: it is the mailbox's special use");
		return;
	}
	if (id[0] == '\0') {
		const char *k;
		json_t *v;

		json_object_foreach(entries, k, v) {
			if (strncmp(k, "/shared/", 8) == 0) {
				json_decref(entries);
				imap_no(s, "[NOPERM] The server's /shared entries are the administrator's");
				return;
			}
		}
	}
	imap_submit(s, "mailbox.metadata", json_pack("{s:s, s:o}", "mailbox_id", id, "entries", entries),
		    setmetadata_done);
}
