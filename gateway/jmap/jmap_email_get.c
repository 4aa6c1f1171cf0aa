/* jmap_email_get - Email/get (RFC 8621 4.2) with every property of 4.1.
 *
 * Metadata (id, blobId, threadId, mailboxIds, keywords, size, receivedAt)
 * comes from the copies' records and the thread index; preview and
 * hasAttachment from the MIME summary; every header property, the
 * convenience ones included, from the message's own header block: the
 * summary's header digest keeps the FIRST instance of a field and cannot
 * tell an absent field from an empty one, while 4.1.3 asks for the LAST
 * instance and null when absent, so it is not exact. The body properties
 * come from jmap_email_body.h. The message is read only when a requested
 * property needs it. */
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/jmap/jmap_email_header.h"
#include "gateway/jmap/jmap_email_query.h"
#include "gateway/jmap/jmap_mail.h"
#include "gateway/jmap/jmap_shared.h"
#include "gateway/jmap/jmap_std.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 4.1.2, 4.1.3: the convenience properties and the header form they are. */
static const char *const convenience[][2] = {
	{ "messageId", "header:Message-ID:asMessageIds" },
	{ "inReplyTo", "header:In-Reply-To:asMessageIds" },
	{ "references", "header:References:asMessageIds" },
	{ "sender", "header:Sender:asAddresses" },
	{ "from", "header:From:asAddresses" },
	{ "to", "header:To:asAddresses" },
	{ "cc", "header:Cc:asAddresses" },
	{ "bcc", "header:Bcc:asAddresses" },
	{ "replyTo", "header:Reply-To:asAddresses" },
	{ "subject", "header:Subject:asText" },
	{ "sentAt", "header:Date:asDate" },
};
#define NCONV (sizeof convenience / sizeof convenience[0])

/* Needs: bit 1 the summary, bit 2 the message. */
static const struct {
	const char *name;
	unsigned needs;
} email_props[] = {
	{ "id", 0 }, { "blobId", 0 }, { "threadId", 0 }, { "mailboxIds", 0 }, { "keywords", 0 },
	{ "size", 0 }, { "receivedAt", 0 }, { "headers", 3 }, { "bodyStructure", 3 }, { "bodyValues", 3 },
	{ "textBody", 3 }, { "htmlBody", 3 }, { "attachments", 3 }, { "hasAttachment", 1 }, { "preview", 1 },
};
#define NPROPS (sizeof email_props / sizeof email_props[0])

/* The needs of a property name (3 for header properties), -1 unknown. */
static int prop_needs(const char *name)
{
	struct jmap_header_prop hp;

	for (size_t i = 0; i < NPROPS; i++)
		if (strcmp(name, email_props[i].name) == 0)
			return (int)email_props[i].needs;
	for (size_t i = 0; i < NCONV; i++)
		if (strcmp(name, convenience[i][0]) == 0)
			return 3;
	return jmap_header_prop_parse(name, &hp) ? 3 : -1;
}

/* RFC 8621 4.2: the properties returned when none are asked for. */
static json_t *default_props(void)
{
	return json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "id", "blobId", "threadId",
			 "mailboxIds", "keywords", "size", "receivedAt", "messageId", "inReplyTo", "references",
			 "sender", "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt", "hasAttachment",
			 "preview", "bodyValues", "textBody", "htmlBody", "attachments");
}

struct get_args {
	struct jmap_get_args g;
	json_t *body_props;
	json_t *struct_props;   /* body_props with subParts: a structure has its tree */
	int fetch_text, fetch_html, fetch_all;
	json_int_t max_bytes;
	unsigned needs;
};

/* A String[] of names each valid by ok(): a new array in *out_r, or NULL
 * when absent. -1 after invalidArguments. */
static int names_arg(struct jmap_call *call, const json_t *args, const char *name, int (*ok)(const char *),
		     json_t **out_r)
{
	json_t *v = json_object_get(args, name), *x;
	char msg[160];
	size_t i;

	*out_r = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return jmap_arg_invalid(call, name, "is not a String[]");
	json_array_foreach(v, i, x) {
		if (!json_is_string(x))
			return jmap_arg_invalid(call, name, "holds a value that is not a string");
		if (!ok(json_string_value(x))) {
			snprintf(msg, sizeof msg, "unknown or invalid property \"%.80s\"", json_string_value(x));
			return jmap_arg_invalid(call, name, msg);
		}
	}
	*out_r = json_copy(v);
	return 0;
}

static int email_prop_ok(const char *name)
{
	return prop_needs(name) >= 0;
}

static int body_prop_ok(const char *name)
{
	return jmap_body_prop_valid(name);
}

/* The arguments of 4.2: 0, or -1 after the call was finished. */
static int parse_args(struct jmap_call *call, const json_t *args, struct get_args *a)
{
	json_t *p;
	size_t i;

	memset(a, 0, sizeof *a);
	if (jmap_arg_account(call, args, "accountId", JMAP_READ, &a->g.account) < 0 ||
	    jmap_arg_ids(call, args, "ids", jmap_call_settings(call)->max_objects_in_get, &a->g.ids) < 0)
		return -1;
	if (names_arg(call, args, "properties", email_prop_ok, &a->g.properties) < 0 ||
	    names_arg(call, args, "bodyProperties", body_prop_ok, &a->body_props) < 0 ||
	    jmap_arg_bool(call, args, "fetchTextBodyValues", 0, &a->fetch_text) < 0 ||
	    jmap_arg_bool(call, args, "fetchHTMLBodyValues", 0, &a->fetch_html) < 0 ||
	    jmap_arg_bool(call, args, "fetchAllBodyValues", 0, &a->fetch_all) < 0 ||
	    jmap_arg_uint(call, args, "maxBodyValueBytes", 0, &a->max_bytes) < 0) {
		jmap_get_args_free(&a->g);
		json_decref(a->body_props);
		return -1;
	}
	if (a->g.properties == NULL)
		a->g.properties = default_props();
	/* "id" is always returned (RFC 8620 5.1). */
	json_array_foreach(a->g.properties, i, p) {
		if (strcmp(json_string_value(p), "id") == 0)
			break;
	}
	if (i == json_array_size(a->g.properties))
		json_array_insert_new(a->g.properties, 0, json_string("id"));
	if (a->body_props == NULL)
		a->body_props = jmap_body_default_props();
	/* 4.1.4 bodyStructure is "the full MIME structure": its subParts are
	 * given even when bodyProperties (whose default has none) omits them. */
	a->struct_props = json_copy(a->body_props);
	json_array_foreach(a->struct_props, i, p) {
		if (strcmp(json_string_value(p), "subParts") == 0)
			break;
	}
	if (i == json_array_size(a->struct_props))
		json_array_append_new(a->struct_props, json_string("subParts"));
	json_array_foreach(a->g.properties, i, p)
		a->needs |= (unsigned)prop_needs(json_string_value(p));
	return 0;
}

static void free_args(struct get_args *a)
{
	jmap_get_args_free(&a->g);
	json_decref(a->body_props);
	json_decref(a->struct_props);
}

/* What one email is rendered from. */
struct src {
	const struct jmap_email *e;
	json_t *summary;
	struct jmap_body_msg m;
	char blob_prefix[40];
	size_t hlen;          /* the top header block: raw[0, hlen) */
};

/* bodyValues (4.2): the text parts of textBody, htmlBody, or all. */
static void add_values(const struct get_args *a, const struct src *s, json_t *list, json_t *values)
{
	json_t *p;
	size_t i;

	json_array_foreach(list, i, p) {
		const char *id = json_string_value(json_object_get(p, "partId"));
		const char *type = json_string_value(json_object_get(p, "type"));
		json_t *part;

		if (id == NULL || type == NULL || strncmp(type, "text/", 5) != 0 ||
		    json_object_get(values, id) != NULL ||
		    (part = jmap_body_find(json_object_get(s->summary, "part"), id)) == NULL)
			continue;
		json_object_set_new(values, id, jmap_body_value(&s->m, part, (size_t)a->max_bytes));
	}
}

/* Every leaf of a bodyStructure, depth first (fetchAllBodyValues). */
static void leaves(json_t *part, json_t *out)
{
	json_t *sub = json_object_get(part, "subParts"), *c;
	size_t i;

	if (!json_is_array(sub)) {
		json_array_append(out, part);
		return;
	}
	json_array_foreach(sub, i, c)
		leaves(c, out);
}

static json_t *body_values(const struct get_args *a, const struct src *s)
{
	json_t *values = json_object(), *props = json_pack("[s,s,s]", "partId", "type", "subParts");
	json_t *root = json_object_get(s->summary, "part"), *text, *html, *att;

	jmap_body_lists(&s->m, root, props, &text, &html, &att);
	if (a->fetch_text || a->fetch_all)
		add_values(a, s, text, values);
	if (a->fetch_html || a->fetch_all)
		add_values(a, s, html, values);
	if (a->fetch_all) {
		json_t *tree = jmap_body_part(&s->m, root, "", props), *all = json_array();

		leaves(tree, all);
		add_values(a, s, all, values);
		json_decref(tree);
		json_decref(all);
	}
	json_decref(text);
	json_decref(html);
	json_decref(att);
	json_decref(props);
	return values;
}

/* The value of one property. New reference. */
static json_t *prop_value(const struct get_args *a, const struct src *s, const char *name)
{
	const struct jmap_email *e = s->e;
	struct jmap_header_prop hp;
	char date[32];

	if (strcmp(name, "id") == 0)
		return json_string(e->id);
	if (strcmp(name, "blobId") == 0)
		return json_string(s->blob_prefix);
	if (strcmp(name, "threadId") == 0)
		return json_string(e->thread_id);
	if (strcmp(name, "mailboxIds") == 0)
		return json_deep_copy(e->mailboxes);
	if (strcmp(name, "keywords") == 0)
		return json_deep_copy(e->keywords);
	if (strcmp(name, "size") == 0)
		return json_integer(e->size);
	if (strcmp(name, "receivedAt") == 0) {
		jmap_utcdate_format(e->received, date, sizeof date);
		return json_string(date);
	}
	if (strcmp(name, "hasAttachment") == 0)
		return json_boolean(json_is_true(json_object_get(s->summary, "has_attachment")));
	if (strcmp(name, "preview") == 0) {
		const char *p = json_string_value(json_object_get(s->summary, "preview"));

		return json_string(p != NULL ? p : "");
	}
	if (strcmp(name, "headers") == 0)
		return mime_header_fields(s->m.raw, s->hlen);
	if (strcmp(name, "bodyStructure") == 0)
		return jmap_body_part(&s->m, json_object_get(s->summary, "part"), "", a->struct_props);
	if (strcmp(name, "bodyValues") == 0)
		return body_values(a, s);
	if (strcmp(name, "textBody") == 0 || strcmp(name, "htmlBody") == 0 || strcmp(name, "attachments") == 0) {
		json_t *lists[3], *out;

		jmap_body_lists(&s->m, json_object_get(s->summary, "part"), a->body_props, &lists[0], &lists[1],
				&lists[2]);
		out = json_incref(lists[name[0] == 't' ? 0 : name[0] == 'h' ? 1 : 2]);
		for (int i = 0; i < 3; i++)
			json_decref(lists[i]);
		return out;
	}
	for (size_t i = 0; i < NCONV; i++)
		if (strcmp(name, convenience[i][0]) == 0)
			name = convenience[i][1];
	if (jmap_header_prop_parse(name, &hp))
		return jmap_header_prop_value(&hp, s->m.raw, s->hlen);
	return json_null();
}

/* Renders one email into *obj_r: 1, 0 when its message is not complete
 * on this node, -1 with *error_r. */
static int render(const struct get_args *a, struct jmap_email_content *c, const struct jmap_email *e,
		  json_t **obj_r, const char **error_r)
{
	struct src s;
	json_t *p, *hdr;
	size_t i;
	int r;

	memset(&s, 0, sizeof s);
	s.e = e;
	snprintf(s.blob_prefix, sizeof s.blob_prefix, "m%s", e->id);
	s.m.blob_prefix = s.blob_prefix;
	s.m.raw = "";
	if (a->needs & 1) {
		if ((r = jmap_email_summary(c, e, &s.summary, error_r)) < 0)
			return -1;
		if (r == 0) {
			*error_r = "an email without its summary";
			return -1;
		}
	}
	if (a->needs & 2) {
		if ((r = jmap_email_raw(c, e, error_r)) <= 0)
			return r;
		s.m.raw = c->raw;
		s.m.raw_len = c->raw_len;
		s.m.base = e->prefix_len;
		/* The top header block, the prefix's lines (Delivered-To...)
		 * included: they are part of the message as its blobId gives it. */
		hdr = json_object_get(json_object_get(s.summary, "part"), "header");
		s.hlen = e->prefix_len + (size_t)json_integer_value(json_array_get(hdr, 1));
		if (s.hlen > c->raw_len)
			s.hlen = c->raw_len;
	}
	*obj_r = json_object();
	json_array_foreach(a->g.properties, i, p)
		json_object_set_new(*obj_r, json_string_value(p), prop_value(a, &s, json_string_value(p)));
	return 1;
}

void jmap_email_get(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	struct jmap_email_content c = { .view = req->node->view, .account = req->address };
	struct jmap_email_set set = { NULL, 0 };
	struct get_args a;
	char state[JMAP_STATE_MAX];
	json_t *list = json_array(), *not_found = json_array(), *seen = json_object(), *ids = NULL, *v;
	json_t *scope = NULL;
	const char *error = NULL;
	size_t i;

	(void)ctx;
	if (parse_args(call, args, &a) < 0)
		goto out_noargs;
	if (jmap_mail_state(call, MAIL_J_EMAIL, state) < 0 || jmap_shared_scope(call, &scope) < 0)
		goto out;
	c.account = jmap_mail_address(call);
	if (a.g.ids != NULL) {
		ids = json_incref(a.g.ids);
	} else {
		/* RFC 8620 5.1: ids null is every email, when that is no more
		 * than maxObjectsInGet. */
		if (jmap_email_set_load_in(req->node->view, c.account, scope, &set, &error) < 0)
			goto fail;
		if (set.n > jmap_call_settings(call)->max_objects_in_get) {
			jmap_call_error(call, "requestTooLarge", "the account has more emails than maxObjectsInGet");
			goto out;
		}
		ids = json_array();
		for (i = 0; i < set.n; i++)
			json_array_append_new(ids, json_string(set.v[i].id));
	}
	json_array_foreach(ids, i, v) {
		const char *id = json_string_value(v);
		struct jmap_email e;
		json_t *obj = NULL;
		int r;

		/* RFC 8620 5.1: an id asked twice is answered once. */
		if (json_object_get(seen, id) != NULL)
			continue;
		json_object_set_new(seen, id, json_true());
		/* In a shared account, only the shared mailboxes' copies exist. */
		if ((r = jmap_email_load_in(req->node->view, c.account, scope, id, &e, &error)) < 0)
			goto fail;
		if (r == 0) {
			json_array_append(not_found, v);
			continue;
		}
		r = render(&a, &c, &e, &obj, &error);
		jmap_email_content_drop(&c);
		jmap_email_clear(&e);
		if (r < 0)
			goto fail;
		if (r == 0) {
			/* The message is not complete on this node yet (its blob is
			 * still arriving): RFC 8620 3.6.2 serverUnavailable for the
			 * whole call, the client retries; not notFound, which would
			 * claim the email does not exist. */
			jmap_call_error(call, "serverUnavailable", "a message is still arriving on this node");
			goto out;
		}
		json_array_append_new(list, obj);
	}
	jmap_call_reply(call, jmap_get_response(a.g.account->id, state, list, not_found));
	list = not_found = NULL;
	goto out;
fail:
	log_error("jmap: Email/get for %s: %s", req->address, error ? error : "?");
	jmap_call_error(call, "serverFail", "the view cannot be read");
out:
	free_args(&a);
out_noargs:
	json_decref(scope);
	jmap_email_content_drop(&c);
	jmap_email_set_free(&set);
	json_decref(ids);
	json_decref(list);
	json_decref(not_found);
	json_decref(seen);
}
