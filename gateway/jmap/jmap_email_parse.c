/* jmap_email_parse - Email/parse (RFC 8621 4.9): blobs the account can
 * read, parsed as messages and returned as Email objects with the
 * properties of Email/get (4.1), from our MIME summary
 * (jmap_email_body.h) and header forms (jmap_email_header.h). The
 * convenience header properties are their RFC 8621 4.1.2-4.1.3
 * definitions ("subject" = header:Subject:asText, ...). A parsed blob is
 * in no account's store: id, threadId, mailboxIds, keywords and
 * receivedAt are null (4.9). Part blob ids are the blob's id + "_<part>",
 * which jmap_blob_read resolves. Our parser reads any octets as a
 * message: only an empty blob is notParsable. */
#include "gateway/jmap/jmap_blob_private.h"
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/jmap/jmap_email_header.h"
#include "gateway/jmap/jmap_std.h"
#include "common/log.h"
#include "common/mime.h"

#include <stdlib.h>
#include <string.h>

static const char *const email_props[] = {
	"id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt", "messageId",
	"inReplyTo", "references", "sender", "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt",
	"hasAttachment", "preview", "bodyStructure", "bodyValues", "textBody", "htmlBody", "attachments",
	"headers", NULL,
};

/* The convenience properties and the header form each stands for (4.1.2). */
static const char *const header_props[][2] = {
	{ "messageId", "header:Message-ID:asMessageIds" }, { "inReplyTo", "header:In-Reply-To:asMessageIds" },
	{ "references", "header:References:asMessageIds" }, { "sender", "header:Sender:asAddresses" },
	{ "from", "header:From:asAddresses" }, { "to", "header:To:asAddresses" },
	{ "cc", "header:Cc:asAddresses" }, { "bcc", "header:Bcc:asAddresses" },
	{ "replyTo", "header:Reply-To:asAddresses" }, { "subject", "header:Subject:asText" },
	{ "sentAt", "header:Date:asDate" }, { "headers", "headers" },
};

/* RFC 8621 4.9: the default properties of Email/parse. */
static json_t *default_props(void)
{
	return json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "messageId", "inReplyTo", "references",
			 "sender", "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt", "hasAttachment",
			 "preview", "bodyValues", "textBody", "htmlBody", "attachments");
}

struct parse_args {
	json_t *props, *body_props;
	int fetch_text, fetch_html, fetch_all;
	json_int_t max_bytes;
};

/* A String[] of names each valid by ok(); NULL or absent: dflt. 0 or -1
 * (the call finished with invalidArguments). */
static int names_arg(struct jmap_call *call, json_t *args, const char *name, int (*ok)(const char *),
		     json_t *dflt, json_t **out_r)
{
	json_t *v = json_object_get(args, name), *p;
	size_t i;

	*out_r = NULL;
	if (v == NULL || json_is_null(v)) {
		*out_r = dflt;
		return 0;
	}
	json_decref(dflt);
	if (!json_is_array(v))
		return jmap_arg_invalid(call, name, "is not an array of property names");
	json_array_foreach(v, i, p)
		if (!json_is_string(p) || !ok(json_string_value(p)))
			return jmap_arg_invalid(call, name, "names an unknown property");
	*out_r = json_incref(v);
	return 0;
}

static int email_prop_valid(const char *name)
{
	struct jmap_header_prop hp;

	for (size_t i = 0; email_props[i] != NULL; i++)
		if (strcmp(name, email_props[i]) == 0)
			return 1;
	return jmap_header_prop_parse(name, &hp);
}

/* bodyValues (4.2 fetch*BodyValues) of the text parts asked for. */
static json_t *body_values(const struct jmap_body_msg *m, json_t *root, const struct parse_args *a,
			   json_t *text, json_t *html)
{
	json_t *out = json_object(), *lists[2] = { a->fetch_text ? text : NULL, a->fetch_html ? html : NULL };
	json_t *p, *all = NULL;
	size_t i;

	if (a->fetch_all) {
		/* every leaf of type text: the parts of the lists */
		json_t *props = json_pack("[s,s]", "partId", "type");
		json_t *t, *h, *at;

		jmap_body_lists(m, root, props, &t, &h, &at);
		all = json_array();
		json_array_extend(all, t);
		json_array_extend(all, h);
		json_array_extend(all, at);
		json_decref(t);
		json_decref(h);
		json_decref(at);
		json_decref(props);
	}
	for (int l = 0; l < 3; l++) {
		json_t *list = l < 2 ? lists[l] : all;

		json_array_foreach(list, i, p) {
			const char *id = json_string_value(json_object_get(p, "partId"));
			const char *type = json_string_value(json_object_get(p, "type"));
			json_t *part;

			if (id == NULL || (l == 2 && (type == NULL || strncmp(type, "text/", 5) != 0)) ||
			    json_object_get(out, id) != NULL || (part = jmap_body_find(root, id)) == NULL)
				continue;
			json_object_set_new(out, id, jmap_body_value(m, part, (size_t)a->max_bytes));
		}
	}
	json_decref(all);
	return out;
}

/* The Email of one parsed blob. */
static json_t *parse_one(const char *blob_id, const char *raw, size_t len, const struct parse_args *a)
{
	json_t *summary = mime_parse(raw, len, NULL), *root = json_object_get(summary, "part");
	struct jmap_body_msg m = { raw, len, 0, blob_id };
	json_t *o = json_object(), *p, *text = NULL, *html = NULL, *att = NULL, *lprops;
	size_t i;

	/* textBody, htmlBody, attachments with the partIds bodyValues needs. */
	lprops = json_deep_copy(a->body_props);
	if (json_array_size(lprops) == 0 || strcmp(json_string_value(json_array_get(lprops, 0)), "partId") != 0)
		json_array_insert_new(lprops, 0, json_string("partId"));
	jmap_body_lists(&m, root, lprops, &text, &html, &att);
	json_array_foreach(a->props, i, p) {
		const char *name = json_string_value(p);
		json_t *v = NULL;

		for (size_t k = 0; k < sizeof header_props / sizeof header_props[0] && v == NULL; k++) {
			if (strcmp(name, header_props[k][0]) == 0) {
				json_t *one = json_pack("[s]", header_props[k][1]);
				json_t *part = jmap_body_part(&m, root, "", one);

				v = json_incref(json_object_get(part, header_props[k][1]));
				json_decref(part);
				json_decref(one);
			}
		}
		if (v != NULL)
			;
		else if (strncmp(name, "header:", 7) == 0) {
			json_t *one = json_pack("[s]", name), *part = jmap_body_part(&m, root, "", one);

			v = json_incref(json_object_get(part, name));
			json_decref(part);
			json_decref(one);
		} else if (strcmp(name, "blobId") == 0)
			v = json_string(blob_id);
		else if (strcmp(name, "size") == 0)
			v = json_integer((json_int_t)len);
		else if (strcmp(name, "hasAttachment") == 0)
			v = json_boolean(json_is_true(json_object_get(summary, "has_attachment")));
		else if (strcmp(name, "preview") == 0)
			v = json_string(json_string_value(json_object_get(summary, "preview")) ?
						json_string_value(json_object_get(summary, "preview")) : "");
		else if (strcmp(name, "bodyStructure") == 0) {
			json_t *bp = json_deep_copy(a->body_props);

			json_array_append_new(bp, json_string("subParts"));
			v = jmap_body_part(&m, root, "", bp);
			json_decref(bp);
		} else if (strcmp(name, "textBody") == 0 || strcmp(name, "htmlBody") == 0 ||
			   strcmp(name, "attachments") == 0) {
			json_t *list = name[0] == 't' ? text : name[0] == 'h' ? html : att, *out = json_array(), *e;
			size_t k;

			/* as asked: without partId when bodyProperties lacks it */
			json_array_foreach(list, k, e) {
				json_t *copy = json_object(), *bpn;
				size_t j;

				json_array_foreach(a->body_props, j, bpn)
					json_object_set(copy, json_string_value(bpn),
							json_object_get(e, json_string_value(bpn)));
				json_array_append_new(out, copy);
			}
			v = out;
		} else if (strcmp(name, "bodyValues") == 0)
			v = body_values(&m, root, a, text, html);
		if (v == NULL)
			v = json_null();   /* id, threadId, mailboxIds, keywords, receivedAt (4.9) */
		json_object_set_new(o, name, v);
	}
	json_decref(text);
	json_decref(html);
	json_decref(att);
	json_decref(lprops);
	json_decref(summary);
	return o;
}

static void email_parse(struct jmap_call *call, json_t *args, void *ctx)
{
	struct jmap_mail_req *req = jmap_mail_req(call);
	const struct jmap_account *acct;
	struct parse_args a = { NULL, NULL, 0, 0, 0, 0 };
	json_t *ids = NULL, *parsed = NULL, *not_parsable = NULL, *not_found = NULL, *v;
	const char *error = NULL;
	size_t i;

	(void)ctx;
	if (jmap_arg_account(call, args, "accountId", JMAP_READ, &acct) < 0 ||
	    jmap_arg_ids(call, args, "blobIds", jmap_call_settings(call)->max_objects_in_get, &ids) < 0 ||
	    names_arg(call, args, "properties", email_prop_valid, default_props(), &a.props) < 0 ||
	    names_arg(call, args, "bodyProperties", jmap_body_prop_valid, jmap_body_default_props(),
		      &a.body_props) < 0 ||
	    jmap_arg_bool(call, args, "fetchTextBodyValues", 0, &a.fetch_text) < 0 ||
	    jmap_arg_bool(call, args, "fetchHTMLBodyValues", 0, &a.fetch_html) < 0 ||
	    jmap_arg_bool(call, args, "fetchAllBodyValues", 0, &a.fetch_all) < 0 ||
	    jmap_arg_uint(call, args, "maxBodyValueBytes", 0, &a.max_bytes) < 0)
		goto out;
	if (ids == NULL) {
		jmap_arg_invalid(call, "blobIds", "is required");
		goto out;
	}
	parsed = json_object();
	not_parsable = json_array();
	not_found = json_array();
	json_array_foreach(ids, i, v) {
		char *data = NULL, *type = NULL;
		size_t len = 0;
		int r = jmap_blob_read(req->node, req->address, json_string_value(v), &data, &len, &type, &error);

		free(type);
		if (r < 0) {
			log_error("jmap: Email/parse for %s: %s", req->address, error);
			jmap_call_error(call, "serverFail", "the view cannot be read");
			goto out;
		}
		if (r == 0)
			json_array_append(not_found, v);
		else if (len == 0)
			json_array_append(not_parsable, v);
		else
			json_object_set_new(parsed, json_string_value(v), parse_one(json_string_value(v), data, len, &a));
		free(data);
	}
	jmap_call_reply(call, json_pack("{s:s, s:O, s:O, s:O}", "accountId", acct->id, "parsed",
					json_object_size(parsed) ? parsed : json_null(), "notParsable",
					json_array_size(not_parsable) ? not_parsable : json_null(), "notFound",
					json_array_size(not_found) ? not_found : json_null()));
out:
	json_decref(ids);
	json_decref(a.props);
	json_decref(a.body_props);
	json_decref(parsed);
	json_decref(not_parsable);
	json_decref(not_found);
}

void jmap_email_parse_register(struct jmap_api *api)
{
	jmap_method_register(api, "Email/parse", JMAP_CAP_MAIL, email_parse, NULL);
}
