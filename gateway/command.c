/* command - see command.h */
#include "gateway/command.h"
#include "common/buf.h"
#include "common/log.h"
#include "projector/keyring.h"

#include <event2/event.h>
#include <string.h>

struct command {
	struct node *node;
	char id[EVM_ID_HEX_LEN + 1];
	char type[EVM_EVENT_TYPE_MAX + 1];
	enum evm_topic_id topic;
	int timeout_ms;
	command_done_cb *cb;
	void *ctx;
	int status;
	char error[256];
	struct event *defer;
};

static void command_finish(struct command *cmd, int status, json_t *outcome, const char *error)
{
	if (status == 0) {
		const char *st = json_string_value(json_object_get(outcome, "status"));
		if (st != NULL && strcmp(st, "accepted") == 0)
			cmd->node->counters.commands_accepted++;
		else
			cmd->node->counters.commands_rejected++;
	} else {
		cmd->node->counters.commands_failed++;
		log_warn("command %s %s failed: %s", cmd->type, cmd->id, error);
	}
	cmd->cb(cmd->ctx, status, outcome, error);
	if (cmd->defer != NULL)
		event_free(cmd->defer);
	free(cmd);
}

/* The projector has applied our offset (or gave up): read the outcome. */
static void command_applied(void *ctx, int status)
{
	struct command *cmd = ctx;
	json_t *outcome = NULL;
	const char *error = NULL;
	int ret;

	if (status < 0) {
		command_finish(cmd, -1, NULL, "timeout: the command was logged but not applied in time");
		return;
	}
	ret = projector_outcome(cmd->node->projector, cmd->id, &outcome, &error);
	if (ret < 0) {
		command_finish(cmd, -1, NULL, error);
	} else if (ret == 0) {
		/* Applied offset passed ours but no outcome: the record did not
		 * decode on apply, which is a bug in our own encoder. */
		command_finish(cmd, -1, NULL, "the command was logged but has no outcome");
	} else {
		command_finish(cmd, 0, outcome, NULL);
		json_decref(outcome);
	}
}

/* Delivery report from the log, on the loop thread. */
static void command_logged(void *ctx, int status, const char *error, int32_t partition, int64_t offset)
{
	struct command *cmd = ctx;

	if (status < 0) {
		char msg[300];
		snprintf(msg, sizeof msg, "log: %s", error ? error : "append failed");
		command_finish(cmd, -1, NULL, msg);
		return;
	}
	projector_wait(cmd->node->projector, cmd->topic, partition, offset, cmd->timeout_ms,
		       command_applied, cmd, NULL);
}

/* Failure before the append was queued, reported on the next loop turn. */
static void command_deferred_fail(evutil_socket_t fd, short what, void *ctx)
{
	struct command *cmd = ctx;

	command_finish(cmd, -1, NULL, cmd->error);
}

void command_submit(struct node *node, struct evm_event *ev, enum evm_topic_id topic,
		    const char *key, int timeout_ms, command_done_cb *cb, void *ctx)
{
	struct command *cmd = xcalloc(1, sizeof *cmd);
	const char *error = NULL;
	char *payload = NULL;
	size_t len = 0;

	cmd->node = node;
	cmd->topic = topic;
	cmd->timeout_ms = timeout_ms;
	cmd->cb = cb;
	cmd->ctx = ctx;
	memcpy(cmd->id, ev->id, sizeof cmd->id);
	memcpy(cmd->type, ev->type, sizeof cmd->type);
	if (key == NULL)
		key = ev->id;
	/* Personal content is logged sealed with the account's current key
	 * (projector/keyring.h): erasing the key makes it unreadable. */
	if ((topic == EVM_TOPIC_MAIL && keyring_seal_event(node->keyring, node->view, ev, &error) < 0) ||
	    evm_event_encode(ev, &payload, &len, &error) < 0 ||
	    evlog_append(node->log, topic, -1, key, strlen(key), payload, len,
			 command_logged, cmd, &error) < 0) {
		snprintf(cmd->error, sizeof cmd->error, "log: %s", error);
		cmd->defer = evtimer_new(node->base, command_deferred_fail, cmd);
		event_active(cmd->defer, EV_TIMEOUT, 0);
	}
	free(payload);
	evm_event_clear(ev);
}
