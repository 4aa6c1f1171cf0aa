/* queue_read - the queue's read API over the committed view (see
 * projector/queue.h): one item, the due scan, the listing, the stats. */
#include "projector/queue_internal.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/json_fast.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses a stored item; NULL (logged) when it is not one. */
static json_t *parse_item(const char *key, size_t klen, const char *val, size_t vlen)
{
	json_t *item = evm_json_loadb(val, vlen, 0, NULL);

	if (!json_is_object(item) || !json_is_array(json_object_get(item, "rcpts"))) {
		json_decref(item);
		log_error("queue: %.*s in the view is not a queue record", (int)klen, key);
		return NULL;
	}
	return item;
}

int queue_item_get(struct view *view, const char *id, json_t **item_r, const char **error_r)
{
	struct buf key = BUF_INIT;
	char *val = NULL;
	size_t vlen = 0;
	int r;

	*item_r = NULL;
	if (!evm_id_valid(id))
		return 0;
	queue_key_item(&key, id);
	r = view_get(view, key.data, key.len, &val, &vlen, error_r);
	if (r > 0 && (*item_r = parse_item(key.data, key.len, val, vlen)) == NULL) {
		*error_r = QUEUE_CORRUPT;
		r = -1;
	}
	free(val);
	buf_free(&key);
	return r;
}

/* The ids of one partition's due keys up to now, in due order. */
struct due_ids {
	int64_t now;
	size_t max, n;
	char (*ids)[QUEUE_ID_LEN + 1];
	size_t plen;
	int corrupt;
};

static int due_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct due_ids *d = ctx;
	const char *p = key + d->plen;
	uint64_t t = 0;

	/* <next_try %016llx>/<id> */
	if (klen != d->plen + 16 + 1 + QUEUE_ID_LEN || p[16] != '/') {
		d->corrupt = 1;
		return 1;
	}
	for (int i = 0; i < 16; i++) {
		int c = p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
			d->corrupt = 1;
			return 1;
		}
		t = t * 16 + (uint64_t)(c >= 'a' ? c - 'a' + 10 : c - '0');
	}
	if ((int64_t)t > d->now || d->n == d->max)
		return 1;
	memcpy(d->ids[d->n], p + 17, QUEUE_ID_LEN);
	d->ids[d->n++][QUEUE_ID_LEN] = '\0';
	return 0;
}

int queue_due_scan(struct view *view, int32_t partition, int64_t now_ms, size_t max,
		   queue_due_cb *cb, void *ctx, const char **error_r)
{
	struct due_ids d = { .now = now_ms, .max = max };
	char prefix[32];
	int ret = 0;

	if (max == 0)
		return 0;
	snprintf(prefix, sizeof prefix, "%s%05d/", KEY_QUEUE_DUE, (int)partition);
	d.plen = strlen(prefix);
	d.ids = xcalloc(max, sizeof *d.ids);
	/* Collect first, read the items after: no view_get inside a scan. */
	if (view_scan(view, prefix, d.plen, due_cb, &d, error_r) < 0) {
		ret = -1;
	} else if (d.corrupt) {
		*error_r = QUEUE_CORRUPT;
		ret = -1;
	}
	for (size_t i = 0; ret == 0 && i < d.n; i++) {
		json_t *item = NULL;
		int r = queue_item_get(view, d.ids[i], &item, error_r);

		if (r < 0) {
			ret = -1;
		} else if (r > 0 && !json_is_true(json_object_get(item, "held"))) {
			/* (an item gone or held since the scan is skipped) */
			if (cb(ctx, item) == 1)
				i = d.n;
		}
		json_decref(item);
	}
	free(d.ids);
	return ret;
}

/* The listing: items in id order, at most max (0 = all). */
struct list_ctx {
	json_t *items;
	size_t max;
	int corrupt;
};

static int list_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct list_ctx *l = ctx;
	json_t *item = parse_item(key, klen, val, vlen);

	if (item == NULL) {
		l->corrupt = 1;
		return 1;
	}
	json_array_append_new(l->items, item);
	return l->max != 0 && json_array_size(l->items) >= l->max;
}

int queue_list(struct view *view, size_t max, json_t **items_r, const char **error_r)
{
	struct list_ctx l = { json_array(), max, 0 };

	*items_r = NULL;
	if (view_scan(view, KEY_QUEUE_ITEM, strlen(KEY_QUEUE_ITEM), list_cb, &l, error_r) < 0 ||
	    (l.corrupt && (*error_r = QUEUE_CORRUPT) != NULL)) {
		json_decref(l.items);
		return -1;
	}
	*items_r = l.items;
	return 0;
}

/* Gauges over every item. */
static int stats_item_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct queue_stats *st = ctx;
	json_t *item = parse_item(key, klen, val, vlen), *r;
	int64_t arrival;
	size_t i;

	if (item == NULL)
		return 0;  /* logged; the gauges skip it */
	st->size++;
	if (json_is_true(json_object_get(item, "held")))
		st->held++;
	json_array_foreach(json_object_get(item, "rcpts"), i, r) {
		if (!queue_rcpt_final(r))
			st->recipients++;
	}
	arrival = queue_jint(item, "arrival");
	if (st->oldest_arrival == 0 || arrival < st->oldest_arrival)
		st->oldest_arrival = arrival;
	json_decref(item);
	return 0;
}

/* The q/stat/ counters. */
static int stats_counter_cb(void *ctx, const char *key, size_t klen, const char *val, size_t vlen)
{
	struct queue_stats *st = ctx;
	uint64_t *fields[QS_COUNT] = {
		[QS_ENQUEUED] = &st->enqueued, [QS_DELIVERED] = &st->delivered,
		[QS_DEFERRED] = &st->deferred, [QS_FAILED] = &st->failed, [QS_REMOVED] = &st->removed,
	};
	const char *name = key + strlen(KEY_QUEUE_STAT);
	size_t nlen = klen - strlen(KEY_QUEUE_STAT);
	uint64_t n = 0;

	/* (the value is not NUL-terminated) */
	for (size_t i = 0; i < vlen && i < 19 && val[i] >= '0' && val[i] <= '9'; i++)
		n = n * 10 + (uint64_t)(val[i] - '0');
	for (int s = 0; s < QS_COUNT; s++) {
		if (strlen(queue_stat_names[s]) == nlen && memcmp(name, queue_stat_names[s], nlen) == 0)
			*fields[s] = n;
	}
	return 0;
}

int queue_stats(struct view *view, struct queue_stats *st_r, const char **error_r)
{
	memset(st_r, 0, sizeof *st_r);
	if (view_scan(view, KEY_QUEUE_ITEM, strlen(KEY_QUEUE_ITEM), stats_item_cb, st_r, error_r) < 0 ||
	    view_scan(view, KEY_QUEUE_STAT, strlen(KEY_QUEUE_STAT), stats_counter_cb, st_r, error_r) < 0)
		return -1;
	return 0;
}
