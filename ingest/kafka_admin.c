/* kafka_admin - topic creation and description for the Kafka log backend.
 *
 * Both run the admin API on the log's producer handle with a temporary
 * queue and block (KAFKA_ADMIN_TIMEOUT_MS); safe from any thread. */
#include "ingest/kafka_common.h"
#include "common/ids.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The topic configs the report shows. */
static const char *const report_configs[] = {
	"cleanup.policy", "retention.ms", "min.insync.replicas",
};

/* Waits for the admin result of type want on q; *event_r owned by caller. */
static int admin_wait(rd_kafka_queue_t *q, rd_kafka_event_type_t want, const char *what,
		      rd_kafka_event_t **event_r, const char **error_r)
{
	rd_kafka_event_t *ev = rd_kafka_queue_poll(q, KAFKA_ADMIN_TIMEOUT_MS + 5000);

	if (ev == NULL) {
		*error_r = kafka_errf("kafka %s: no answer within %d ms", what,
				      KAFKA_ADMIN_TIMEOUT_MS + 5000);
		return -1;
	}
	if (rd_kafka_event_type(ev) != want) {
		*error_r = kafka_errf("kafka %s: unexpected event %s", what, rd_kafka_event_name(ev));
		rd_kafka_event_destroy(ev);
		return -1;
	}
	if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
		*error_r = kafka_errf("kafka %s: %s", what, rd_kafka_event_error_string(ev));
		rd_kafka_event_destroy(ev);
		return -1;
	}
	*event_r = ev;
	return 0;
}

/* Admin options with our timeouts (operation timeout: wait until the
 * controller has applied the change). */
static rd_kafka_AdminOptions_t *admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
	rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
	char errstr[256];

	rd_kafka_AdminOptions_set_request_timeout(opts, KAFKA_ADMIN_TIMEOUT_MS, errstr, sizeof errstr);
	if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS)
		rd_kafka_AdminOptions_set_operation_timeout(opts, KAFKA_ADMIN_TIMEOUT_MS,
							    errstr, sizeof errstr);
	return opts;
}

/* DescribeConfigs of the existing topics; fills configs_r[i] (a JSON object
 * of report_configs) for each existing topic. */
static int describe_configs(struct kafka_log *kl, const struct kafka_topic_meta meta[EVM_TOPIC_COUNT],
			    json_t *configs_r[EVM_TOPIC_COUNT], const char **error_r)
{
	rd_kafka_ConfigResource_t *res[EVM_TOPIC_COUNT];
	const rd_kafka_ConfigResource_t **out;
	rd_kafka_AdminOptions_t *opts;
	rd_kafka_queue_t *q;
	rd_kafka_event_t *ev;
	size_t n = 0, out_cnt;

	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		configs_r[i] = json_object();
		if (meta[i].exists)
			res[n++] = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, kl->topic_names[i]);
	}
	if (n == 0)
		return 0;
	q = rd_kafka_queue_new(kl->rk);
	opts = admin_options(kl->rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
	rd_kafka_DescribeConfigs(kl->rk, res, n, opts, q);
	rd_kafka_AdminOptions_destroy(opts);
	rd_kafka_ConfigResource_destroy_array(res, n);
	if (admin_wait(q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, "DescribeConfigs", &ev, error_r) < 0) {
		rd_kafka_queue_destroy(q);
		return -1;
	}
	out = rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev),
							&out_cnt);
	for (size_t r = 0; r < out_cnt; r++) {
		int id = evm_topic_by_name(kl->log.cfg, rd_kafka_ConfigResource_name(out[r]));
		const rd_kafka_ConfigEntry_t **entries;
		size_t entry_cnt;

		if (id < 0)
			continue;
		if (rd_kafka_ConfigResource_error(out[r]) != RD_KAFKA_RESP_ERR_NO_ERROR) {
			log_warn("kafka DescribeConfigs %s: %s", rd_kafka_ConfigResource_name(out[r]),
				 rd_kafka_ConfigResource_error_string(out[r]));
			continue;
		}
		entries = rd_kafka_ConfigResource_configs(out[r], &entry_cnt);
		for (size_t e = 0; e < entry_cnt; e++) {
			const char *name = rd_kafka_ConfigEntry_name(entries[e]);
			const char *value = rd_kafka_ConfigEntry_value(entries[e]);
			for (size_t k = 0; k < sizeof report_configs / sizeof report_configs[0]; k++) {
				if (strcmp(name, report_configs[k]) == 0 && value != NULL)
					json_object_set_new(configs_r[id], name, json_string(value));
			}
		}
	}
	rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	return 0;
}

/* evlog_topics_describe(): metadata + configs -> the report of evlog.h. */
int kafka_topics_describe(struct evlog *log, json_t **report_r, const char **error_r)
{
	struct kafka_log *kl = (struct kafka_log *)log;
	struct kafka_topic_meta meta[EVM_TOPIC_COUNT];
	json_t *configs[EVM_TOPIC_COUNT];
	json_t *report;

	if (kafka_metadata(kl->rk, kl, KAFKA_ADMIN_TIMEOUT_MS, meta, NULL, error_r) < 0)
		return -1;
	kafka_store_partitions(kl, meta);
	if (describe_configs(kl, meta, configs, error_r) < 0) {
		for (int i = 0; i < EVM_TOPIC_COUNT; i++)
			json_decref(configs[i]);
		return -1;
	}
	report = json_array();
	for (int i = 0; i < EVM_TOPIC_COUNT; i++) {
		json_t *cp = json_object_get(configs[i], "cleanup.policy");
		json_t *problems;

		if (meta[i].exists) {
			problems = evlog_topic_problems(log->cfg, (enum evm_topic_id)i, meta[i].partitions,
							json_string_value(cp));
		} else {
			problems = json_array();
			json_array_append_new(problems, json_string("topic does not exist"));
		}
		json_array_append_new(report, json_pack("{s:s, s:s, s:i, s:i, s:i, s:o, s:b, s:o}",
			"name", kl->topic_names[i],
			"topic", evm_topics[i].suffix,
			"partitions", meta[i].exists ? (int)meta[i].partitions : 0,
			"expected_partitions", (int)evm_topic_create_partitions(log->cfg, (enum evm_topic_id)i),
			"replication_factor", meta[i].exists ? meta[i].replication_factor : 0,
			"configs", configs[i],
			"exists", meta[i].exists,
			"problems", problems));
	}
	*report_r = report;
	return 0;
}

/* A NewTopic for spec id with the given replication and min ISR. */
static rd_kafka_NewTopic_t *new_topic(struct kafka_log *kl, enum evm_topic_id id, int rf,
				      int min_isr, const char **error_r)
{
	const struct evm_topic_spec *spec = &evm_topics[id];
	rd_kafka_NewTopic_t *nt;
	char errstr[256], isr[16];

	nt = rd_kafka_NewTopic_new(kl->topic_names[id], evm_topic_create_partitions(kl->log.cfg, id),
				   rf, errstr, sizeof errstr);
	if (nt == NULL) {
		*error_r = kafka_errf("kafka topic %s: %s", kl->topic_names[id], errstr);
		return NULL;
	}
	snprintf(isr, sizeof isr, "%d", min_isr);
	rd_kafka_NewTopic_set_config(nt, "cleanup.policy", spec->cleanup_policy);
	if (spec->retention_ms != NULL)
		rd_kafka_NewTopic_set_config(nt, "retention.ms", spec->retention_ms);
	rd_kafka_NewTopic_set_config(nt, "min.insync.replicas", isr);
	return nt;
}

/* Sends CreateTopics for the given topics and checks each result; a topic
 * that meanwhile exists (another node created it) is fine. */
static int create_topics(struct kafka_log *kl, rd_kafka_NewTopic_t **nts, size_t n,
			 const char **error_r)
{
	rd_kafka_queue_t *q = rd_kafka_queue_new(kl->rk);
	rd_kafka_AdminOptions_t *opts = admin_options(kl->rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
	const rd_kafka_topic_result_t **results;
	rd_kafka_event_t *ev;
	size_t cnt;
	int ret = 0;

	rd_kafka_CreateTopics(kl->rk, nts, n, opts, q);
	rd_kafka_AdminOptions_destroy(opts);
	if (admin_wait(q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, "CreateTopics", &ev, error_r) < 0) {
		rd_kafka_queue_destroy(q);
		return -1;
	}
	results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &cnt);
	for (size_t i = 0; i < cnt; i++) {
		rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
		const char *name = rd_kafka_topic_result_name(results[i]);

		if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
			log_info("kafka: created topic %s", name);
		} else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
			log_info("kafka: topic %s already exists", name);
		} else if (ret == 0) {
			const char *msg = rd_kafka_topic_result_error_string(results[i]);
			*error_r = kafka_errf("kafka: creating topic %s failed: %s", name,
					      msg != NULL ? msg : rd_kafka_err2str(err));
			ret = -1;
		}
	}
	rd_kafka_event_destroy(ev);
	rd_kafka_queue_destroy(q);
	return ret;
}

/* Waits (bounded) until metadata shows every topic, as creation reaches
 * the brokers asynchronously. */
static void wait_topics_visible(struct kafka_log *kl)
{
	struct kafka_topic_meta meta[EVM_TOPIC_COUNT];
	const char *error;

	for (int tries = 0; tries < 50; tries++) {
		int all = 1;
		if (kafka_metadata(kl->rk, kl, 2000, meta, NULL, &error) == 0) {
			for (int i = 0; i < EVM_TOPIC_COUNT; i++)
				all &= meta[i].exists;
			if (all)
				return;
		}
		usleep(200 * 1000);
	}
	log_warn("kafka: created topics are not all visible in metadata yet");
}

/* evlog_topics_create(): creates missing topics (partitions from the spec,
 * replication lowered to the broker count), then describes all. */
int kafka_topics_create(struct evlog *log, json_t **report_r, const char **error_r)
{
	struct kafka_log *kl = (struct kafka_log *)log;
	struct kafka_topic_meta meta[EVM_TOPIC_COUNT];
	rd_kafka_NewTopic_t *nts[EVM_TOPIC_COUNT];
	size_t n = 0;
	int brokers, rf, min_isr, ret = 0;

	if (kafka_metadata(kl->rk, kl, KAFKA_ADMIN_TIMEOUT_MS, meta, &brokers, error_r) < 0)
		return -1;
	rf = (int)log->cfg->log_replication_factor;
	if (brokers > 0 && rf > brokers)
		rf = brokers;
	min_isr = (int)log->cfg->log_min_insync_replicas;
	if (min_isr > rf)
		min_isr = rf;
	for (int i = 0; i < EVM_TOPIC_COUNT && ret == 0; i++) {
		if (meta[i].exists)
			continue;
		nts[n] = new_topic(kl, (enum evm_topic_id)i, rf, min_isr, error_r);
		if (nts[n] == NULL)
			ret = -1;
		else
			n++;
	}
	if (ret == 0 && n > 0 && rf < log->cfg->log_replication_factor)
		log_warn("kafka: log.replication_factor %d lowered to %d, the number of brokers",
			 (int)log->cfg->log_replication_factor, rf);
	if (ret == 0 && n > 0 && create_topics(kl, nts, n, error_r) < 0)
		ret = -1;
	rd_kafka_NewTopic_destroy_array(nts, n);
	if (ret < 0)
		return -1;
	if (n > 0)
		wait_topics_visible(kl);
	return kafka_topics_describe(log, report_r, error_r);
}
