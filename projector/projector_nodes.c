/* projector_nodes - the in-memory node table fed by cluster heartbeats.
 *
 * Heartbeats are node-local by nature (who is alive right now), so they
 * never enter the view; projector_status() shows the table. */
#include "projector/projector_internal.h"
#include "common/log.h"

#include <string.h>

/* Records a node.heartbeat: its data object plus the producer's ts, keyed
 * by data.id (or the actor when the data carries no id). */
void proj_node_heartbeat(struct projector *p, const struct evm_event *ev,
			 const struct evlog_record *rec)
{
	const char *id = json_string_value(json_object_get(ev->data, "id"));
	json_t *entry;

	if (id == NULL || id[0] == '\0')
		id = ev->actor;
	if (id == NULL || id[0] == '\0') {
		log_warn("projector: heartbeat at cluster/%d@%lld names no node, ignored",
			 (int)rec->partition, (long long)rec->offset);
		return;
	}
	entry = json_deep_copy(ev->data);
	json_object_set_new(entry, "ts", json_integer(ev->ts));
	pthread_mutex_lock(&p->mu);
	json_object_set_new(p->nodes, id, entry);
	pthread_mutex_unlock(&p->mu);
}
