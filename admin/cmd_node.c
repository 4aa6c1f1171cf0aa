/* cmd_node - `evmailctl node drain|undrain NAME [--wait]` and the cluster
 * table of `evmailctl status`.
 *
 * How a drain reaches NAME: evmailctl asks the node it talks to for the
 * cluster status, takes NAME's management address from NAME's heartbeat
 * ("mgmt"), and asks NAME itself (POST /admin/drain, which a node accepts
 * only for its own id). A drain is a node-local, momentary state, like a
 * load balancer's: it must take effect now, be confirmed by the node
 * itself (with its open session count), and end with the process. An event
 * on the cluster topic would be durable and replayed, so a restarted node
 * would need to tell old drains from new ones, and the reply would come
 * before the node had acted. The price: NAME's mgmt.listen must be
 * reachable from here; a wildcard address (0.0.0.0) is not an address, and
 * evmailctl then says to use --node with NAME's real one. */
#include "admin/ctl.h"
#include "admin/ctl_args.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NODE_USAGE "node drain|undrain NAME [--wait]"
#define DRAIN_WAIT_S 3600

int ctl_node_target(json_t *status, const char *name, char *host, size_t hsize, unsigned *port_r,
		    int *self_r, const char **error_r)
{
	static __thread char err[600];
	json_t *hb = json_object_get(json_object_get(status, "nodes"), name);
	const char *mgmt, *colon, *self = json_string_value(json_object_get(json_object_get(status, "node"), "id"));
	char *end;
	unsigned long port;
	size_t hlen;

	*self_r = self != NULL && strcmp(self, name) == 0;
	if (*self_r)
		return 0;
	if (hb == NULL) {
		const char *id;
		json_t *v;
		size_t n = (size_t)snprintf(err, sizeof err, "no node %s in the cluster (heartbeats from:", name);
		json_object_foreach(json_object_get(status, "nodes"), id, v) {
			if (n < sizeof err)
				n += (size_t)snprintf(err + n, sizeof err - n, " %s", id);
		}
		if (n < sizeof err)
			snprintf(err + n, sizeof err - n, ")");
		*error_r = err;
		return -1;
	}
	mgmt = json_string_value(json_object_get(hb, "mgmt"));
	colon = mgmt != NULL ? strrchr(mgmt, ':') : NULL;
	if (colon == NULL || colon == mgmt) {
		snprintf(err, sizeof err, "node %s advertises no management address", name);
		*error_r = err;
		return -1;
	}
	hlen = (size_t)(colon - mgmt);
	if (mgmt[0] == '[' && hlen >= 2 && mgmt[hlen - 1] == ']') {
		mgmt++;
		hlen -= 2;
	}
	port = strtoul(colon + 1, &end, 10);
	if (*end != '\0' || port == 0 || port > 65535 || hlen == 0 || hlen >= hsize) {
		snprintf(err, sizeof err, "node %s advertises a bad management address '%s'", name,
			 json_string_value(json_object_get(hb, "mgmt")));
		*error_r = err;
		return -1;
	}
	memcpy(host, mgmt, hlen);
	host[hlen] = '\0';
	if (strcmp(host, "0.0.0.0") == 0 || strcmp(host, "::") == 0) {
		snprintf(err, sizeof err, "node %s listens on %s (mgmt.listen), which is no address to "
			 "reach it by; run evmailctl --node ITS-ADDRESS:%lu node ... %s", name,
			 json_string_value(json_object_get(hb, "mgmt")), port, name);
		*error_r = err;
		return -1;
	}
	*port_r = (unsigned)port;
	return 0;
}

/* A string field, or "-". */
static const char *str_or_dash(json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v != NULL && v[0] != '\0' ? v : "-";
}

void ctl_status_print_nodes(FILE *out, json_t *status)
{
	json_t *nodes = json_object_get(status, "nodes"), *n;
	const char *id, *self = json_string_value(json_object_get(json_object_get(status, "node"), "id"));

	if (json_object_size(nodes) == 0)
		return;
	fprintf(out, "\n%-24s %-28s %-8s %8s %-5s %-8s %6s %s\n", "NODE", "ROLES", "VERSION", "LAG",
		"READY", "STATE", "SEEN", "MGMT");
	json_object_foreach(nodes, id, n) {
		json_int_t lag = json_integer_value(json_object_get(n, "lag"));
		char lagtext[32];

		if (json_is_integer(json_object_get(n, "lag")) && lag >= 0)
			snprintf(lagtext, sizeof lagtext, "%lld", (long long)lag);
		else
			snprintf(lagtext, sizeof lagtext, "-");
		fprintf(out, "%-24s %-28s %-8s %8s %-5s %-8s %5llds %s%s\n", id,
			str_or_dash(n, "roles"), str_or_dash(n, "version"),
			lagtext, json_is_true(json_object_get(n, "ready")) ? "yes" : "no",
			json_is_true(json_object_get(n, "draining")) ? "draining" : "serving",
			(long long)(json_integer_value(json_object_get(n, "age_ms")) / 1000),
			str_or_dash(n, "mgmt"),
			self != NULL && strcmp(self, id) == 0 ? "  (this node)" : "");
	}
}

/* Polls the drained node until its sessions are gone. */
static int drain_wait(struct ctl *target, const char *name)
{
	for (int waited = 0; waited < DRAIN_WAIT_S * 10; waited++) {
		json_t *st;
		json_int_t left;

		if (ctl_get(target, "/admin/status", &st) != CTL_OK)
			return CTL_FAIL;
		left = json_integer_value(json_object_get(json_object_get(st, "node"), "sessions"));
		json_decref(st);
		if (left == 0) {
			printf("node %s: no sessions left; it can be stopped\n", name);
			return CTL_OK;
		}
		usleep(100 * 1000);
	}
	return ctl_fail("node %s still has sessions after %d s", name, DRAIN_WAIT_S);
}

int cmd_node(struct ctl *ctl, int argc, char **argv)
{
	static const char *const flags[] = { "--wait", NULL };
	struct ctl_args a;
	struct ctl target = *ctl;
	const char *error = NULL, *name;
	json_t *st = NULL, *reply = NULL;
	int drain, self, status;

	if (ctl_args_parse(&a, argc, argv, NULL, flags) < 0 || a.npos != 2)
		return ctl_usage(NODE_USAGE);
	drain = strcmp(a.pos[0], "drain") == 0;
	if (!drain && strcmp(a.pos[0], "undrain") != 0)
		return ctl_usage(NODE_USAGE);
	name = a.pos[1];
	if (ctl_get(ctl, "/admin/status", &st) != CTL_OK)
		return CTL_FAIL;
	if (ctl_node_target(st, name, target.host, sizeof target.host, &target.port, &self, &error) < 0) {
		json_decref(st);
		return ctl_fail("%s", error);
	}
	json_decref(st);
	status = ctl_http(&target, "POST", "/admin/drain",
			  json_pack("{s:s,s:b}", "node", name, "drain", drain), &reply, &error);
	if (status < 0)
		return ctl_fail("%s", error);
	if (status != 200) {
		const char *e = json_string_value(json_object_get(reply, "error"));
		ctl_fail("node %s at %s:%u refused: %s", name, target.host, target.port,
			 status == 409 ? "another node answers there (stale heartbeat?)" : e ? e : "error");
		json_decref(reply);
		return CTL_FAIL;
	}
	if (ctl->json) {
		ctl_print_json(reply);
	} else {
		printf("node %s %s (%lld open sessions)\n", name,
		       drain ? "draining: new sessions refused, idle ones closed" : "accepting sessions",
		       (long long)json_integer_value(json_object_get(reply, "sessions")));
		json_decref(reply);
	}
	if (drain && ctl_args_flag(&a, "--wait"))
		return drain_wait(&target, name);
	return CTL_OK;
}
