/* ctl - what every evmailctl command shares: configuration, how to reach
 * the node's admin API, output mode, and the one-line error convention
 * (ctl_fail prints "evmailctl: <message>" and returns 1). */
#ifndef EVM_CTL_H
#define EVM_CTL_H

#include <jansson.h>
#include <stdio.h>

#include "common/config.h"

struct ctl {
	struct evm_config cfg;
	char host[256];
	unsigned port;
	int json;          /* --json: machine-readable output */
};

/* Exit codes. */
#define CTL_OK 0
#define CTL_FAIL 1
#define CTL_USAGE 2

int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int ctl_usage(const char *usage);

/* Blocking request to the node's admin API. body may be NULL (consumed).
 * Returns the HTTP status (>= 100) with *reply_r (new ref, may be NULL when
 * the body is not JSON), or -1 when the node cannot be reached (*error_r). */
int ctl_http(struct ctl *ctl, const char *method, const char *path, json_t *body,
	     json_t **reply_r, const char **error_r);
/* GET path and require 200; prints the failure itself. Returns CTL_OK with
 * *reply_r or CTL_FAIL. */
int ctl_get(struct ctl *ctl, const char *path, json_t **reply_r);
/* Submits one directory command and reports its outcome: prints ok_message
 * (or the outcome with --json) when accepted; returns CTL_OK, or CTL_FAIL
 * with the rejection reason on one line. */
int ctl_command(struct ctl *ctl, const char *type, const char *tenant, const char *account,
		json_t *data, const char *ok_message);
/* Prints JSON (pretty) to stdout. Consumes v. */
void ctl_print_json(json_t *v);
/* URL-encodes s into a static buffer (valid until the next call). */
const char *ctl_escape(const char *s);

/* Reads a password: one line from stdin with --password-stdin, else from
 * the terminal twice without echo. *pw_r is malloc'ed; wipe it after use. */
int ctl_read_password(int from_stdin, char **pw_r);

int cmd_topics(struct ctl *ctl, int argc, char **argv);
int cmd_tenant(struct ctl *ctl, int argc, char **argv);
int cmd_domain(struct ctl *ctl, int argc, char **argv);
int cmd_account(struct ctl *ctl, int argc, char **argv);
int cmd_alias(struct ctl *ctl, int argc, char **argv);
int cmd_dkim(struct ctl *ctl, int argc, char **argv);
int cmd_status(struct ctl *ctl, int argc, char **argv);
int cmd_view(struct ctl *ctl, int argc, char **argv);
int cmd_rebuild(struct ctl *ctl, int argc, char **argv);
int cmd_queue(struct ctl *ctl, int argc, char **argv);
int cmd_node(struct ctl *ctl, int argc, char **argv);
int cmd_checkpoint(struct ctl *ctl, int argc, char **argv);
int cmd_replica(struct ctl *ctl, int argc, char **argv);
int cmd_retention(struct ctl *ctl, int argc, char **argv);
/* cmd_log.c: `log compact`. */
int cmd_log(struct ctl *ctl, int argc, char **argv);
/* cmd_restore.c: `mailbox restore`, and `account restore|history`. */
int cmd_mailbox(struct ctl *ctl, int argc, char **argv);
int cmd_account_log(struct ctl *ctl, int argc, char **argv);

/* cmd_node.c: where to reach node name, from a /admin/status reply: *self_r
 * 1 when it is the node that answered (host and port untouched), else its
 * heartbeat's management address in host/port. -1 with *error_r when name
 * sent no heartbeat or advertises no reachable address (a wildcard). */
int ctl_node_target(json_t *status, const char *name, char *host, size_t hsize, unsigned *port_r,
		    int *self_r, const char **error_r);
/* The cluster table of `status`: each node's roles, version, lag (events
 * behind this node's log ends at its last heartbeat), readiness, draining,
 * heartbeat age and management address. */
void ctl_status_print_nodes(FILE *out, json_t *status);

/* The human output of `queue list` and `queue show` (cmd_queue.c); now in
 * ms, so ages and due times are relative to it. */
void ctl_queue_print_list(FILE *out, json_t *items, long long now);
void ctl_queue_print_item(FILE *out, json_t *item, long long now);

#endif
