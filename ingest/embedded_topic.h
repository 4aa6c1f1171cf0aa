/* embedded_topic - a topic directory of the embedded log and its meta.json.
 *
 * <root>/<full topic name>/meta.json records what the topic was created
 * with: {"version":1,"partitions":N,"cleanup.policy":".."}. It is written
 * atomically after the partition directories exist, so a topic directory
 * without it is an interrupted creation and is completed on the next open. */
#ifndef EVM_EMBEDDED_TOPIC_H
#define EVM_EMBEDDED_TOPIC_H

#include <jansson.h>

#include "common/config.h"
#include "ingest/evlog.h"
#include "ingest/embedded_partition.h"

struct emb_topic {
	enum evm_topic_id id;
	char *name;              /* full name: prefix + suffix */
	char *dir;
	int32_t npart;
	char *cleanup_policy;
	struct emb_partition *parts;
};

/* Opens topic id under root, creating it when missing, and recovers each
 * of its partitions. On failure the topic is freed. */
int emb_topic_open(struct emb_topic *t, const char *root, const struct evm_config *cfg,
		   enum evm_topic_id id, const char **error_r);
void emb_topic_free(struct emb_topic *t);
/* The topic's entry of the topics_create/describe report. */
json_t *emb_topic_report(const struct emb_topic *t, const struct evm_config *cfg);

#endif
