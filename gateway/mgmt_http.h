/* mgmt_http - the management listener (mgmt.listen): /healthz, /readyz,
 * /metrics, and the admin API under /admin/ that evmailctl uses. */
#ifndef EVM_MGMT_HTTP_H
#define EVM_MGMT_HTTP_H

#include <event2/http.h>
#include <jansson.h>

#include "gateway/node.h"

int mgmt_http_start(struct node *node, struct mgmt_http **mgmt_r, const char **error_r);
void mgmt_http_stop(struct mgmt_http **mgmt);

/* Sends a JSON body (consumed) with the status code. */
void mgmt_reply_json(struct evhttp_request *req, int code, json_t *body);
/* Sends {"error": message} with the status code. */
void mgmt_reply_error(struct evhttp_request *req, int code, const char *message);

/* Admin API (admin_api.c): handles every /admin/ path. */
void admin_api_handle(struct node *node, struct evhttp_request *req, const char *path);
/* /admin/mail/... (admin_mail.c); path is what follows "mail/". */
void admin_mail_handle(struct node *node, struct evhttp_request *req, const char *path);
/* /admin/queue... (admin_queue.c); path is what follows "queue" ("" or
 * "/..."). */
void admin_queue_handle(struct node *node, struct evhttp_request *req, const char *path);
/* Prometheus exposition (metrics.c), appended to out. */
struct buf;
void metrics_render(struct node *node, struct buf *out);

#endif
