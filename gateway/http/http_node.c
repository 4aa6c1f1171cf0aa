/* http_node - see http_node.h */
#include "gateway/http/http_node.h"
#include "gateway/http/http_server.h"
#include "common/log.h"

#include <stdio.h>
#include <string.h>

/* GET/HEAD /healthz: the process is alive (the same answer as mgmt.listen). */
static void healthz(void *ctx, struct http_request *req)
{
	if (strcmp(http_request_path(req), "/healthz") != 0) {
		http_respond_text(req, 404, "text/plain; charset=utf-8", "Not Found\n");
		return;
	}
	http_respond_text(req, 200, "text/plain; charset=utf-8", "ok\n");
}

/* One listener with the node's limits and routes. 0, or -1 with *error_r. */
static int start_one(struct node *node, const char *key, const char *listen, struct net_tls *tls,
		     struct http_server **srv_r, const char **error_r)
{
	static __thread char err[600];
	const struct evm_config *cfg = node->cfg;
	struct http_server_settings set = {
		.name = tls != NULL ? "https" : "http",
		.listen = listen,
		.tls = tls,
		.max_connections = (unsigned)cfg->limits_connections,
		.max_per_ip = (unsigned)cfg->limits_connections_per_ip,
		.idle_timeout_s = (unsigned)cfg->limits_http_idle_timeout_s,
		.view = node->view,
	};

	http_parser_settings_default(&set.limits);
	set.limits.max_header_bytes = (size_t)cfg->limits_http_header_bytes;
	if (set.limits.max_request_line > set.limits.max_header_bytes)
		set.limits.max_request_line = set.limits.max_field_line = set.limits.max_header_bytes;
	set.limits.max_body = (uint64_t)cfg->limits_http_body;
	if (http_server_start(node->base, &set, srv_r, error_r) < 0 ||
	    http_server_route_methods(*srv_r, "/healthz", "GET, HEAD", healthz, node, error_r) < 0) {
		snprintf(err, sizeof err, "%s %s: %s", key, listen, *error_r);
		*error_r = err;
		return -1;
	}
	return 0;
}

int http_node_start(struct node *node, const char **error_r)
{
	const struct evm_config *cfg = node->cfg;

	if (cfg->http_listen[0] != '\0' &&
	    start_one(node, "http.listen", cfg->http_listen, NULL, &node->http, error_r) < 0)
		return -1;
	if (cfg->https_listen[0] == '\0')
		return 0;
	if (cfg->tls_cert[0] == '\0') {
		log_warn("https.listen %s: no tls.cert, the listener stays off", cfg->https_listen);
		return 0;
	}
	if (net_tls_load_config(cfg, &node->http_tls, error_r) < 0)
		return -1;
	return start_one(node, "https.listen", cfg->https_listen, node->http_tls, &node->https, error_r);
}

void http_node_view_ready(struct node *node)
{
	http_server_set_view(node->http, node->view);
	http_server_set_view(node->https, node->view);
}

void http_node_stop(struct node *node)
{
	http_server_stop(&node->http);
	http_server_stop(&node->https);
	net_tls_free(&node->http_tls);
}

void http_node_set_draining(struct node *node, int on)
{
	http_server_set_draining(node->http, on);
	http_server_set_draining(node->https, on);
}

unsigned http_node_sessions(const struct node *node)
{
	return http_server_connections(node->http) + http_server_connections(node->https);
}
