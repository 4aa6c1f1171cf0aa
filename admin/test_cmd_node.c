/* test_cmd_node - where `evmailctl node drain NAME` goes (ctl_node_target)
 * and the cluster table of `evmailctl status`, from /admin/status replies
 * as a node sends them. */
#include "admin/ctl.h"
#include "tests/unit/testlib.h"

#include <stdlib.h>
#include <string.h>

static const char *STATUS =
	"{\"node\": {\"id\": \"a1\", \"draining\": false, \"sessions\": 3},"
	" \"partitions\": [{\"topic\": \"mail\", \"partition\": 0, \"applied\": 10, \"end\": 10, \"lag\": 0}],"
	" \"nodes\": {"
	"  \"a1\": {\"id\": \"a1\", \"roles\": \"projector,gateway\", \"mgmt\": \"127.0.0.1:8080\","
	"          \"version\": \"0.1.0\", \"ready\": true, \"draining\": false, \"lag\": 0, \"age_ms\": 1200},"
	"  \"b2\": {\"id\": \"b2\", \"roles\": \"projector,delivery\", \"mgmt\": \"10.0.0.2:9090\","
	"          \"version\": \"0.1.0\", \"ready\": false, \"draining\": true, \"lag\": 42, \"age_ms\": 3500},"
	"  \"c3\": {\"id\": \"c3\", \"mgmt\": \"0.0.0.0:8080\", \"lag\": -1},"
	"  \"d4\": {\"id\": \"d4\", \"mgmt\": \"[::1]:8081\"},"
	"  \"e5\": {\"id\": \"e5\", \"mgmt\": \"host:99999\"}}}";

static void test_target(void)
{
	json_t *st = json_loads(STATUS, 0, NULL);
	char host[256] = "untouched";
	unsigned port = 7;
	const char *error = NULL;
	int self = -1;

	CHECK(st != NULL);
	CHECK(ctl_node_target(st, "a1", host, sizeof host, &port, &self, &error) == 0);
	CHECK_EQ_INT(self, 1);
	CHECK_EQ_STR(host, "untouched");
	CHECK(ctl_node_target(st, "b2", host, sizeof host, &port, &self, &error) == 0);
	CHECK_EQ_INT(self, 0);
	CHECK_EQ_STR(host, "10.0.0.2");
	CHECK_EQ_INT(port, 9090);
	CHECK(ctl_node_target(st, "d4", host, sizeof host, &port, &self, &error) == 0);
	CHECK_EQ_STR(host, "::1");
	CHECK_EQ_INT(port, 8081);
	/* A wildcard is no address: say how to get there instead. */
	CHECK(ctl_node_target(st, "c3", host, sizeof host, &port, &self, &error) == -1);
	CHECK(strstr(error, "--node") != NULL);
	CHECK(ctl_node_target(st, "e5", host, sizeof host, &port, &self, &error) == -1);
	CHECK(strstr(error, "bad management address") != NULL);
	/* Unknown: the error lists who is there. */
	CHECK(ctl_node_target(st, "zz", host, sizeof host, &port, &self, &error) == -1);
	CHECK(strstr(error, "no node zz") != NULL);
	CHECK(strstr(error, "b2") != NULL);
	json_decref(st);
}

static void test_table(void)
{
	json_t *st = json_loads(STATUS, 0, NULL);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK(st != NULL && f != NULL);
	ctl_status_print_nodes(f, st);
	fclose(f);
	CHECK(strstr(text, "LAG") != NULL && strstr(text, "VERSION") != NULL);
	/* One line per node with its fields; this node marked. */
	CHECK(strstr(text, "a1 ") != NULL && strstr(text, "(this node)") != NULL);
	CHECK(strstr(strstr(text, "b2 "), "projector,delivery") != NULL);
	CHECK(strstr(strstr(text, "b2 "), " 42 ") != NULL);
	CHECK(strstr(strstr(text, "b2 "), "draining") != NULL);
	CHECK(strstr(strstr(text, "b2 "), "3s") != NULL);
	CHECK(strstr(strstr(text, "a1 "), "serving") != NULL);
	/* Unknown lag and missing fields print as "-", never "(null)". */
	CHECK(strstr(text, "(null)") == NULL);
	free(text);
	json_decref(st);
}

int main(void)
{
	test_run("drain target", test_target);
	test_run("status table", test_table);
	return test_done();
}
