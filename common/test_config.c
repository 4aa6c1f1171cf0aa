/* Unit tests: configuration defaults, file, environment precedence, errors. */
#include "common/config.h"
#include "tests/unit/testlib.h"

#include <stdio.h>
#include <stdlib.h>

static const char *write_file(const char *name, const char *text)
{
	static char path[1100];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", test_tmpdir(name), name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static void clear_env(void)
{
	unsetenv("EVMAIL_CONFIG");
	unsetenv("EVMAIL_LOG_BACKEND");
	unsetenv("EVMAIL_LOG_BROKERS");
	unsetenv("EVMAIL_LOG_PARTITIONS");
	unsetenv("EVMAIL_NODE_ID");
	unsetenv("EVMAIL_MGMT_LISTEN");
	unsetenv("EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH");
	unsetenv("EVMAIL_NODE_ALLOW_ROOT");
	unsetenv("EVMAIL_NODE_USER");
}

static void test_defaults(void)
{
	struct evm_config cfg;
	const char *error = NULL;

	clear_env();
	CHECK(config_load(NULL, &cfg, &error) == 0);
	CHECK_EQ_STR(cfg.node_data_dir, "./data");
	CHECK(cfg.log_backend == EVM_LOG_EMBEDDED);
	CHECK_EQ_STR(cfg.log_topic_prefix, "evmail.");
	CHECK_EQ_INT(cfg.log_partitions, 16);
	CHECK_EQ_STR(cfg.mgmt_listen, "127.0.0.1:8080");
	CHECK(cfg.node_id[0] != '\0');
	CHECK_EQ_STR(config_topic(&cfg, "mail"), "evmail.mail");
	CHECK(config_has_role(&cfg, "projector"));
	CHECK(config_has_role(&cfg, "gateway"));
	CHECK(!config_has_role(&cfg, "gate"));
	config_free(&cfg);
}

static void test_file_and_env(void)
{
	struct evm_config cfg;
	const char *error = NULL;
	const char *path = write_file("a.conf",
		"# comment\n[node]\nid = n1\ndata_dir = /tmp/x\n\n[log]\nbrokers = 127.0.0.1:9092\n"
		"partitions = 4\ntopic_prefix = \"t.\"\nmgmt.listen = 127.0.0.1:9000\n");

	clear_env();
	setenv("EVMAIL_LOG_PARTITIONS", "8", 1);
	CHECK(config_load(path, &cfg, &error) == 0);
	CHECK_EQ_STR(cfg.node_id, "n1");
	CHECK_EQ_STR(cfg.node_data_dir, "/tmp/x");
	CHECK(cfg.log_backend == EVM_LOG_KAFKA);   /* brokers set, backend not */
	CHECK_EQ_INT(cfg.log_partitions, 8);       /* environment wins */
	CHECK_EQ_STR(cfg.log_topic_prefix, "t.");
	CHECK_EQ_STR(cfg.mgmt_listen, "127.0.0.1:9000");
	config_free(&cfg);
	clear_env();
}

static void test_errors(void)
{
	struct evm_config cfg;
	const char *error = NULL;

	clear_env();
	CHECK(config_load(write_file("b.conf", "[node]\nidd = x\n"), &cfg, &error) == -1);
	CHECK(strstr(error, "unknown configuration key 'node.idd'") != NULL);
	CHECK(config_load(write_file("c.conf", "[log]\npartitions = many\n"), &cfg, &error) == -1);
	CHECK(strstr(error, "c.conf:2") != NULL);
	CHECK(config_load(write_file("d.conf", "[log\n"), &cfg, &error) == -1);
	CHECK(config_load(write_file("e.conf", "just words\n"), &cfg, &error) == -1);
	CHECK(config_load("/nonexistent/evmail.conf", &cfg, &error) == -1);
	setenv("EVMAIL_LOG_BACKEND", "nats", 1);
	CHECK(config_load(NULL, &cfg, &error) == -1);
	CHECK(strstr(error, "EVMAIL_LOG_BACKEND") != NULL);
	setenv("EVMAIL_LOG_BACKEND", "kafka", 1);
	CHECK(config_load(NULL, &cfg, &error) == -1);   /* kafka without brokers */
	setenv("EVMAIL_LOG_PARTITIONS", "0", 1);
	unsetenv("EVMAIL_LOG_BACKEND");
	CHECK(config_load(NULL, &cfg, &error) == -1);
	clear_env();
}

/* Every spelling of a boolean, from the environment (issue 8: "=true"
 * used to stop the node) and from a file; anything else is an error that
 * names the variable. */
static void test_booleans(void)
{
	static const struct { const char *text; int value; } cases[] = {
		{ "true", 1 }, { "TRUE", 1 }, { "yes", 1 }, { "on", 1 }, { "1", 1 },
		{ "false", 0 }, { "No", 0 }, { "off", 0 }, { "OFF", 0 }, { "0", 0 },
	};
	struct evm_config cfg;
	const char *error = NULL;

	clear_env();
	CHECK(config_load(NULL, &cfg, &error) == 0);
	CHECK_EQ_INT(cfg.imap_allow_plaintext_auth, 0);   /* default */
	CHECK_EQ_INT(cfg.node_allow_root, 0);
	CHECK_EQ_STR(cfg.node_user, "evmail");
	CHECK_EQ_STR(cfg.node_group, "");
	config_free(&cfg);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		setenv("EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH", cases[i].text, 1);
		CHECK(config_load(NULL, &cfg, &error) == 0);
		CHECK_EQ_INT(cfg.imap_allow_plaintext_auth, cases[i].value);
		config_free(&cfg);
	}
	setenv("EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH", "maybe", 1);
	CHECK(config_load(NULL, &cfg, &error) == -1);
	CHECK(strstr(error, "EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH") != NULL);
	CHECK(strstr(error, "true/false") != NULL);
	setenv("EVMAIL_IMAP_ALLOW_PLAINTEXT_AUTH", "", 1);
	CHECK(config_load(NULL, &cfg, &error) == -1);
	clear_env();
	CHECK(config_load(write_file("bool.conf", "[node]\nallow_root = yes\nuser =\n"
				     "[imap]\nallow_plaintext_auth = on\n"), &cfg, &error) == 0);
	CHECK_EQ_INT(cfg.node_allow_root, 1);
	CHECK_EQ_STR(cfg.node_user, "");
	CHECK_EQ_INT(cfg.imap_allow_plaintext_auth, 1);
	config_free(&cfg);
	CHECK(config_load(write_file("bool2.conf", "[node]\nallow_root = sure\n"), &cfg, &error) == -1);
	CHECK(strstr(error, "bool2.conf:2") != NULL);
}

static void test_print(void)
{
	struct evm_config cfg;
	const char *error = NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	clear_env();
	CHECK(config_load(NULL, &cfg, &error) == 0);
	f = open_memstream(&text, &len);
	config_print(&cfg, f);
	fclose(f);
	for (size_t i = 0; i < config_keys_count; i++)
		CHECK(strstr(text, config_keys[i].name) != NULL);
	CHECK(strstr(text, "EVMAIL_LOG_TOPIC_PREFIX") != NULL);
	free(text);
	config_free(&cfg);
}

/* mail.tombstone_days: decimal days to milliseconds without floating
 * point (0.00003 days = 2592 ms, every node the same), bounded, strict. */
static void test_days(void)
{
	struct evm_config cfg;
	const char *error = NULL;
	int64_t ms = 0;

	clear_env();
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK(cfg.mail_tombstone_ms == INT64_C(30) * 86400000);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "0.00003", &error), 0);
	CHECK(cfg.mail_tombstone_ms == 2592);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "1.5", &error), 0);
	CHECK(cfg.mail_tombstone_ms == 129600000);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "0", &error), -1);
	CHECK(strstr(error, "mail.tombstone_days: '0' is not a number of days") != NULL);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "36501", &error), -1);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "-1", &error), -1);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "1.", &error), -1);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", ".5", &error), -1);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "1e3", &error), -1);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "0.0000000001", &error), -1);
	CHECK_EQ_INT(config_set(&cfg, "mail.tombstone_days", "99999999999999999999", &error), -1);
	CHECK(cfg.mail_tombstone_ms == 129600000);
	CHECK_EQ_INT(config_parse_days("36500", INT64_C(36500) * 86400000, &ms), 0);
	CHECK(ms == INT64_C(36500) * 86400000);
	config_free(&cfg);
	setenv("EVMAIL_MAIL_TOMBSTONE_DAYS", "0.25", 1);
	CHECK_EQ_INT(config_load(NULL, &cfg, &error), 0);
	CHECK(cfg.mail_tombstone_ms == 21600000);
	config_free(&cfg);
	unsetenv("EVMAIL_MAIL_TOMBSTONE_DAYS");
}

/* crypto.*: off by default; the file and the environment set them. */
static void test_crypto_keys(void)
{
	struct evm_config cfg;
	const char *error = NULL;
	const char *path = write_file("c.conf", "[crypto]\nold_master_key_files = /k/old1,/k/old2\n");

	clear_env();
	CHECK(config_load(NULL, &cfg, &error) == 0);
	CHECK_EQ_STR(cfg.crypto_master_key_file, "");
	CHECK_EQ_STR(cfg.crypto_old_master_key_files, "");
	config_free(&cfg);
	setenv("EVMAIL_CRYPTO_MASTER_KEY_FILE", "/k/kek", 1);
	CHECK(config_load(path, &cfg, &error) == 0);
	unsetenv("EVMAIL_CRYPTO_MASTER_KEY_FILE");
	CHECK_EQ_STR(cfg.crypto_master_key_file, "/k/kek");
	CHECK_EQ_STR(cfg.crypto_old_master_key_files, "/k/old1,/k/old2");
	config_free(&cfg);
}

int main(void)
{
	test_run("defaults", test_defaults);
	test_run("file and environment", test_file_and_env);
	test_run("errors", test_errors);
	test_run("booleans", test_booleans);
	test_run("print", test_print);
	test_run("days", test_days);
	test_run("crypto keys", test_crypto_keys);
	return test_done();
}
