/* evmailctl - administer an evmail cluster. See README.md. */
#include "admin/ctl.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evmailctl [--config FILE] [--node HOST:PORT] [--json] COMMAND ...\n"
		"\n"
		"  topics create|describe|check\n"
		"  tenant create|list|show|delete NAME\n"
		"  domain add|list|remove DOMAIN --tenant NAME\n"
		"  account add|list|show|passwd|set|remove ADDRESS   (add/passwd: --password-stdin)\n"
		"  account erase ADDRESS [--yes]            remove it and crypto-shred its mail (log included)\n"
		"  account key rotate ADDRESS               a new content key (the first for older accounts)\n"
		"  alias add|list|remove ALIAS TARGET\n"
		"  dkim create DOMAIN [--selector S] [--algorithm ed25519|rsa2048]\n"
		"  dkim list [DOMAIN] | show DOMAIN SELECTOR | remove DOMAIN SELECTOR\n"
		"  status                                   (this node and every node's heartbeat)\n"
		"  node drain|undrain NAME [--wait]         refuse new sessions, close idle ones\n"
		"  view digest | view compact\n"
		"  rebuild [--no-wait]\n"
		"  log compact [--no-wait]                  compact the embedded log's compacted topics now\n"
		"  checkpoint create [--out FILE]           a checkpoint of the node's view (stdout without --out)\n"
		"  replica bootstrap --from HOST:PORT | --file FILE   install one into this machine's empty view\n"
		"  queue list [--limit N] | show ID | retry ID|--all | hold ID | release ID\n"
		"  queue delete ID [--bounce]\n"
		"  mailbox restore ADDRESS MAILBOX --at TIME [--into NAME]   re-append what was there at TIME\n"
		"  account restore ADDRESS --at TIME        the same for every mailbox\n"
		"  account history ADDRESS [--since TIME] [--limit N]   the account's events from the log\n"
		"  retention set --tenant NAME [--trash DAYS] [--junk DAYS] [--all DAYS]   expunge older mail\n"
		"  retention set --mailbox ADDRESS MAILBOX --days DAYS   a mailbox's own rule (0: keep)\n"
		"  retention clear --tenant NAME | --mailbox ADDRESS MAILBOX\n"
		"  retention show --tenant NAME | --mailbox ADDRESS   (DAYS: decimals allowed, 0.5)\n"
		"                                           (TIME: RFC 3339 or -2h, -30m, -1d)\n"
		"\n"
		"The node is reached at mgmt.listen from the configuration (EVMAIL_MGMT_LISTEN)\n"
		"unless --node is given. Exit status: 0 done, 1 failed or refused, 2 usage.\n");
}

static int set_node(struct ctl *ctl, const char *hostport)
{
	const char *colon = strrchr(hostport, ':');
	char *end;
	unsigned long port;

	if (strncmp(hostport, "http://", 7) == 0)
		hostport += 7;
	colon = strrchr(hostport, ':');
	if (colon == NULL || (size_t)(colon - hostport) >= sizeof ctl->host || colon == hostport)
		return -1;
	port = strtoul(colon + 1, &end, 10);
	if ((*end != '\0' && *end != '/') || port == 0 || port > 65535)
		return -1;
	memcpy(ctl->host, hostport, (size_t)(colon - hostport));
	ctl->host[colon - hostport] = '\0';
	/* A wildcard listener is reached through loopback. */
	if (strcmp(ctl->host, "0.0.0.0") == 0)
		snprintf(ctl->host, sizeof ctl->host, "127.0.0.1");
	ctl->port = (unsigned)port;
	return 0;
}

int main(int argc, char **argv)
{
	struct ctl ctl;
	const char *config_path = NULL, *node = NULL, *error = NULL, *cmd;
	int i, ret;

	memset(&ctl, 0, sizeof ctl);
	log_set_ident("evmailctl");
	log_set_level(LOG_WARN);
	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config_path = argv[++i];
		else if (strcmp(argv[i], "--node") == 0 && i + 1 < argc)
			node = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			ctl.json = 1;
		else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return CTL_OK;
		} else {
			usage(stderr);
			return CTL_USAGE;
		}
	}
	/* --json is also accepted after the command, where people type it. */
	for (int k = i; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0) {
			ctl.json = 1;
			memmove(&argv[k], &argv[k + 1], (size_t)(argc - k - 1) * sizeof *argv);
			argc--;
			k--;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CTL_USAGE;
	}
	if (config_load(config_path, &ctl.cfg, &error) < 0)
		return ctl_fail("configuration: %s", error);
	if (set_node(&ctl, node ? node : ctl.cfg.mgmt_listen) < 0) {
		config_free(&ctl.cfg);
		return ctl_fail("'%s' is not HOST:PORT", node ? node : ctl.cfg.mgmt_listen);
	}
	cmd = argv[i++];
	if (strcmp(cmd, "topics") == 0)
		ret = cmd_topics(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "tenant") == 0)
		ret = cmd_tenant(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "domain") == 0)
		ret = cmd_domain(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "account") == 0)
		ret = cmd_account(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "alias") == 0)
		ret = cmd_alias(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "dkim") == 0)
		ret = cmd_dkim(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "status") == 0)
		ret = cmd_status(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "view") == 0)
		ret = cmd_view(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "log") == 0)
		ret = cmd_log(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "rebuild") == 0)
		ret = cmd_rebuild(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "queue") == 0)
		ret = cmd_queue(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "mailbox") == 0)
		ret = cmd_mailbox(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "node") == 0)
		ret = cmd_node(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "checkpoint") == 0)
		ret = cmd_checkpoint(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "retention") == 0)
		ret = cmd_retention(&ctl, argc - i, argv + i);
	else if (strcmp(cmd, "replica") == 0)
		ret = cmd_replica(&ctl, argc - i, argv + i);
	else {
		usage(stderr);
		ret = CTL_USAGE;
	}
	config_free(&ctl.cfg);
	return ret;
}
