/* evlog_group - public entry points of group membership; dispatches to the
 * backend (embedded_group.c, kafka_group.c). See evlog_group.h. */
#include "ingest/evlog_backend.h"
#include "common/log.h"

#include <stdlib.h>
#include <string.h>

/* qsort comparator for int32_t, ascending. */
static int cmp_i32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

	return x < y ? -1 : x > y;
}

void evlog_group_sort(int32_t *partitions, size_t n)
{
	if (n > 1)
		qsort(partitions, n, sizeof *partitions, cmp_i32);
}

int evlog_group_join(struct evlog *log, enum evm_topic_id topic, const char *name,
		     evlog_group_cb *cb, evlog_group_busy_cb *busy, void *ctx, struct evlog_group **g_r,
		     const char **error_r)
{
	struct evlog_group *g;

	if ((int)topic < 0 || topic >= EVM_TOPIC_COUNT || name == NULL || name[0] == '\0' ||
	    strlen(name) > 200 || cb == NULL) {
		*error_r = "group join: bad topic, name or callback";
		return -1;
	}
	if (log->ops->group_join(log, topic, name, cb, busy, ctx, &g, error_r) < 0)
		return -1;
	if (g->ops != log->ops || g->log != log)
		log_panic("log backend %s did not initialise struct evlog_group", log->ops->name);
	*g_r = g;
	return 0;
}

void evlog_group_leave(struct evlog_group **g)
{
	if (*g == NULL)
		return;
	(*g)->ops->group_leave(*g);
	*g = NULL;
}
