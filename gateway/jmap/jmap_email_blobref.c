/* jmap_email_blobref - see jmap_email_blobref.h. */
#include "gateway/jmap/jmap_email_blobref.h"
#include "gateway/jmap/jmap_email_body.h"
#include "gateway/jmap/jmap_mail.h"
#include "common/buf.h"
#include "projector/mail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "m" + 32 lower-case hex digits. */
static int email_blob(const char *s)
{
	if (s[0] != 'm' || strlen(s) != 33)
		return 0;
	for (int i = 1; i < 33; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* The stored message of email_id (its first copy) and its prefix length. */
static int read_message(struct jmap_mail_req *req, const char *email_id, char **data_r, size_t *len_r,
			size_t *base_r, const char **error_r)
{
	json_t *locs = json_array(), *msg = NULL;
	const char *mbox;
	uint32_t uid;
	int r;

	if ((r = mail_jmap_email_locations(req->node->view, req->address, email_id, locs, error_r)) <= 0)
		goto out;
	mbox = json_string_value(json_array_get(json_array_get(locs, 0), 0));
	uid = (uint32_t)json_integer_value(json_array_get(json_array_get(locs, 0), 1));
	if ((r = mail_message_get(req->node->view, req->address, mbox, uid, &msg, error_r)) <= 0)
		goto out;
	*base_r = strlen(json_string_value(json_object_get(msg, "prefix")) ?: "");
	r = mail_message_body(req->node->view, req->address, mbox, uid, data_r, len_r, error_r);
out:
	json_decref(locs);
	json_decref(msg);
	return r;
}

int jmap_email_blob_fetch(void *ctx, const char *blob_id, char **data_r, size_t *len_r, const char **error_r)
{
	struct jmap_mail_req *req = ctx;
	char prefix[64], part_id[64];
	struct jmap_body_msg m;
	struct buf out = BUF_INIT;
	json_t *summary = NULL, *part;
	char *raw = NULL;
	size_t len = 0, base = 0;
	int r;

	*data_r = NULL;
	*len_r = 0;
	if (email_blob(blob_id))
		return read_message(req, blob_id + 1, data_r, len_r, &base, error_r);
	if (jmap_body_blob_part(blob_id, prefix, sizeof prefix, part_id, sizeof part_id) < 0 || !email_blob(prefix))
		return 0;
	if ((r = read_message(req, prefix + 1, &raw, &len, &base, error_r)) <= 0)
		return r;
	if ((r = mail_summary_get(req->node->view, req->address, prefix + 1, &summary, error_r)) <= 0)
		goto out;
	m.raw = raw;
	m.raw_len = len;
	m.base = base;
	m.blob_prefix = prefix;
	if ((part = jmap_body_find(json_object_get(summary, "part"), part_id)) == NULL) {
		r = 0;
		goto out;
	}
	jmap_body_content(&m, part, &out);
	*len_r = out.len;
	*data_r = out.data != NULL ? buf_steal(&out) : xstrdup("");
	r = 1;
out:
	buf_free(&out);
	json_decref(summary);
	free(raw);
	return r;
}
