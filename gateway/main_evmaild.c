/* evmaild - the evmail node daemon. See README.md and node.h. */
#include "gateway/node.h"
#include "common/config.h"
#include "common/log.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evmaild [--config FILE] [--check-config]\n"
		"  --config FILE   configuration file (default: $EVMAIL_CONFIG, else none)\n"
		"  --check-config  validate the configuration, print every key with its\n"
		"                  effective value and documentation, and exit\n"
		"  --version       print the version and exit\n"
		"Every key can be set from the environment as EVMAIL_<SECTION>_<KEY>.\n");
}

static enum log_level parse_level(const char *s)
{
	if (strcmp(s, "debug") == 0)
		return LOG_DEBUG;
	if (strcmp(s, "warning") == 0 || strcmp(s, "warn") == 0)
		return LOG_WARN;
	if (strcmp(s, "error") == 0)
		return LOG_ERROR;
	return LOG_INFO;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *error = NULL;
	int check = 0, c;
	struct evm_config cfg;
	struct event_base *base;
	struct node node;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'k': check = 1; break;
		case 'V': printf("evmaild %s\n", EVMAIL_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_set_ident("evmaild");
	if (config_load(config_path, &cfg, &error) < 0) {
		fprintf(stderr, "evmaild: configuration: %s\n", error);
		return 1;
	}
	if (check) {
		config_print(&cfg, stdout);
		printf("\n# configuration OK\n");
		config_free(&cfg);
		return 0;
	}
	log_set_level(parse_level(cfg.log_level));
	signal(SIGPIPE, SIG_IGN);
	if (evthread_use_pthreads() < 0)
		log_fatal("libevent has no pthreads support");
	base = event_base_new();
	if (base == NULL)
		log_fatal("cannot create the event loop");
	if (node_start(&node, &cfg, base, &error) < 0) {
		log_error("%s", error);
		event_base_free(base);
		config_free(&cfg);
		return 1;
	}
	event_base_dispatch(base);
	node_stop(&node);
	event_base_free(base);
	config_free(&cfg);
	log_info("stopped");
	return 0;
}
