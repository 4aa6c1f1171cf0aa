/* projector_format - the view's format number (keys.h KEY_VIEW_FORMAT)
 * and the horizon it was made with (KEY_VIEW_HORIZON).
 *
 * A view holds derived state only, so a build whose appliers write keys an
 * older build did not (format 2: the modseq index, mail_keys.h) cannot
 * use an older view as it is: it rebuilds it from the log, saying so. A
 * view without a format number that has applied nothing is simply
 * stamped; one that has applied records (it has offsets) is format 1.
 * mail.tombstone_days is an input of the appliers (what they prune), so a
 * view made with another value is rebuilt too: it would differ from its
 * peers' (digests) and hold too few or too many tombstones. blob.store
 * is one too (log: chunk locations instead of chunk bytes), stamped apart
 * from the format number; a view without the stamp was made with view. */
#include "projector/projector_internal.h"
#include "projector/keys.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int any_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	(void)key;
	(void)klen;
	(void)val;
	(void)vlen;
	*(int *)ctx = 1;
	return 1;
}

/* This node's blob.store. */
static const char *store_name(const struct projector *p)
{
	return config_blob_store_log(p->cfg) ? "log" : "view";
}

/* Stamps the view with VIEW_FORMAT and the horizon. 0 or -1. */
int proj_format_stamp(struct projector *p, const char **error_r)
{
	struct view_batch *vb = view_batch_begin(p->view);
	char val[32];

	snprintf(val, sizeof val, "%d", VIEW_FORMAT);
	view_batch_put(vb, KEY_VIEW_FORMAT, strlen(KEY_VIEW_FORMAT), val, strlen(val));
	snprintf(val, sizeof val, "%lld", (long long)p->cfg->mail_tombstone_ms);
	view_batch_put(vb, KEY_VIEW_HORIZON, strlen(KEY_VIEW_HORIZON), val, strlen(val));
	view_batch_put(vb, KEY_VIEW_BLOBSTORE, strlen(KEY_VIEW_BLOBSTORE), store_name(p), strlen(store_name(p)));
	return view_batch_commit(&vb, error_r);
}

/* 1 when the view was made with this node's mail.tombstone_days (logs
 * why not), 0 when not, -1 on error. */
static int horizon_same(struct projector *p, const char **error_r)
{
	char *val = NULL;
	long long ms = -1;
	int r;

	if ((r = view_get(p->view, KEY_VIEW_HORIZON, strlen(KEY_VIEW_HORIZON), &val, NULL, error_r)) < 0)
		return -1;
	if (r == 1)
		ms = atoll(val);
	free(val);
	if (ms == p->cfg->mail_tombstone_ms)
		return 1;
	if (ms < 0)
		log_info("projector: the view does not say which mail.tombstone_days it was made with: "
			 "rebuilding it from the log");
	else
		log_info("projector: the view was made with mail.tombstone_days = %.9g, this node has %.9g "
			 "(it must be the same on every node): rebuilding it from the log",
			 (double)ms / 86400000, (double)p->cfg->mail_tombstone_ms / 86400000);
	return 0;
}

/* 1 when the view was made with this node's blob.store (logs why not),
 * 0 when not, -1 on error. */
static int store_same(struct projector *p, const char **error_r)
{
	char *val = NULL;
	int r, same;

	if ((r = view_get(p->view, KEY_VIEW_BLOBSTORE, strlen(KEY_VIEW_BLOBSTORE), &val, NULL, error_r)) < 0)
		return -1;
	same = strcmp(r == 1 ? val : "view", store_name(p)) == 0;
	if (!same)
		log_info("projector: the view was made with blob.store = %s, this node has %s: rebuilding it "
			 "from the log", r == 1 ? val : "view", store_name(p));
	free(val);
	return same;
}

int proj_format_check(struct projector *p, int *rebuild_r, const char **error_r)
{
	char *val = NULL;
	int r, format = 1, applied = 0;

	*rebuild_r = 0;
	if ((r = view_get(p->view, KEY_VIEW_FORMAT, strlen(KEY_VIEW_FORMAT), &val, NULL, error_r)) < 0)
		return -1;
	if (r == 1) {
		format = atoi(val);
		free(val);
		if (format == VIEW_FORMAT) {
			if ((r = horizon_same(p, error_r)) < 0)
				return -1;
			if (r == 1 && (r = store_same(p, error_r)) < 0)
				return -1;
			*rebuild_r = !r;
			return 0;
		}
	} else {
		if (view_scan(p->view, KEY_OFFSET, strlen(KEY_OFFSET), any_cb, &applied, error_r) < 0)
			return -1;
		if (!applied)
			return proj_format_stamp(p, error_r);
	}
	log_info("projector: the view has format %d, this build needs %d: rebuilding it from the log",
		 format, VIEW_FORMAT);
	*rebuild_r = 1;
	return 0;
}
