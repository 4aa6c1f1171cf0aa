/* mgmt_http - the management listener (mgmt.listen): /healthz, /readyz,
 * /metrics, and the admin API under /admin/ that evmailctl uses, served by
 * the one HTTP server (gateway/http/http_server.h) on the node's loop.
 * Loop thread only. */
#ifndef EVM_MGMT_HTTP_H
#define EVM_MGMT_HTTP_H

#include <jansson.h>

#include "gateway/http/http_server.h"
#include "gateway/node.h"

/* Binds mgmt.listen (every role, before the privilege switch) with the
 * routes above. 0, or -1 with *error_r. */
int mgmt_http_start(struct node *node, struct http_server **srv_r, const char **error_r);
/* Closes the listener and its connections (answers still pending are
 * dropped, see http_server.h). NULL-safe, sets *srv to NULL. */
void mgmt_http_stop(struct http_server **srv);

/* Answers with a JSON body (consumed) and the status. Finishes req. */
void mgmt_reply_json(struct http_request *req, int code, json_t *body);
/* Answers {"error": message} with the status. Finishes req. */
void mgmt_reply_error(struct http_request *req, int code, const char *message);

/* Admin API (admin_api.c): handles every /admin/ path; path is what
 * follows "/admin/" (not decoded). */
void admin_api_handle(struct node *node, struct http_request *req, const char *path);
/* /admin/mail/... (admin_mail.c); path is what follows "mail/". */
void admin_mail_handle(struct node *node, struct http_request *req, const char *path);
/* /admin/queue... (admin_queue.c); path is what follows "queue" ("" or
 * "/..."). */
void admin_queue_handle(struct node *node, struct http_request *req, const char *path);
/* GET /admin/history/ADDRESS (admin_history.c); path is what follows
 * "history/". */
void admin_history_handle(struct node *node, struct http_request *req, const char *path);
/* POST /admin/restore (admin_restore.c). */
void admin_restore_handle(struct node *node, struct http_request *req);
/* GET|POST /admin/log/compact (admin_log.c): the log's compaction. */
void admin_log_compact_handle(struct node *node, struct http_request *req);
/* POST /admin/view/compact (admin_view.c): a forced view compaction. */
void admin_view_compact_handle(struct node *node, struct http_request *req);
/* node_stop: joins a view compaction still running (after mgmt_http_stop,
 * before the view closes). */
void admin_view_compact_stop(void);
/* Prometheus exposition (metrics.c), appended to out. */
struct buf;
void metrics_render(struct node *node, struct buf *out);

#endif
