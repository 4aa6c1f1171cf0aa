/* decider - see decider.h. */
#include "gateway/decider.h"
#include "gateway/node.h"
#include "gateway/outbound/queue_worker.h"

#include <jansson.h>
#include <string.h>

bool decider_is_me(struct node *node)
{
	json_t *st, *p;
	size_t i;
	bool own = false;

	if (node->cfg->log_backend == EVM_LOG_EMBEDDED)
		return true;
	if (node->delivery == NULL)
		return false;
	st = queue_worker_status(node->delivery);
	json_array_foreach(json_object_get(st, "owned"), i, p)
		own |= json_integer_value(p) == 0;
	json_decref(st);
	return own;
}

/* Whether topic is one of topics. */
static bool listed(const char *topic, const char *const *topics)
{
	for (; *topics != NULL; topics++) {
		if (strcmp(topic, *topics) == 0)
			return true;
	}
	return false;
}

bool decider_caught_up(struct node *node, const char *const *topics)
{
	json_t *st = projector_status(node->projector), *p;
	const char *state = json_string_value(json_object_get(st, "state"));
	bool ok = state != NULL && strcmp(state, "running") == 0;
	size_t i;

	json_array_foreach(json_object_get(st, "partitions"), i, p) {
		const char *topic = json_string_value(json_object_get(p, "topic"));

		if (topic != NULL && listed(topic, topics) &&
		    json_integer_value(json_object_get(p, "lag")) != 0)
			ok = false;
	}
	json_decref(st);
	return ok;
}
