/* evmaild - the evmail node daemon. See README.md and node.h. */
#include "gateway/node.h"
#include "common/config.h"
#include "common/log.h"
#include "gateway/outbound/route.h"
#include "gateway/outbound/route_report.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: evmaild [--config FILE] [--check-config | --route DOMAIN]\n"
		"  --config FILE   configuration file (default: $EVMAIL_CONFIG, else none)\n"
		"  --check-config  validate the configuration, print every key with its\n"
		"                  effective value and documentation, and exit\n"
		"  --route DOMAIN  resolve where mail to DOMAIN goes, as the delivery role\n"
		"                  would (relay/routes, MX, addresses, DNSSEC, DANE, MTA-STS),\n"
		"                  print it as JSON and exit: 0 when deliverable, 1 when not\n"
		"                  (\"status\": \"temporary\" or \"permanent\" and the error)\n"
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

struct route_query {
	const char *domain;
	int status;
};

static void route_printed(void *ctx, enum route_status status, const struct route *r, const char *error)
{
	struct route_query *q = ctx;
	json_t *j = route_report_json(q->domain, status, r, error);

	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(j);
	q->status = status == ROUTE_OK ? 0 : 1;
}

/* --route DOMAIN: the route on a private loop, as JSON (an admin's
 * posttls-finger: why does mail to DOMAIN wait?). */
static int print_route(const struct evm_config *cfg, const char *domain)
{
	struct route_query q = { domain, -1 };
	struct route_resolver *rr = NULL;
	struct event_base *base;
	const char *error = NULL;

	if (evthread_use_pthreads() < 0 || (base = event_base_new()) == NULL) {
		fprintf(stderr, "evmaild: cannot create the event loop\n");
		return 1;
	}
	if (route_resolver_create(base, cfg, &rr, &error) < 0) {
		fprintf(stderr, "evmaild: %s\n", error);
		event_base_free(base);
		return 1;
	}
	route_resolve(rr, domain, route_printed, &q);
	while (q.status < 0 && event_base_loop(base, EVLOOP_ONCE) == 0)
		;
	route_resolver_free(&rr);
	event_base_free(base);
	return q.status < 0 ? 1 : q.status;
}

/* Every connection is a descriptor: 10,000 idle IMAP sessions need more
 * than the usual soft limit of 1024. Raises it to the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the open-files limit to %llu", (unsigned long long)rl.rlim_max);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'k' },
		{ "route", required_argument, NULL, 'r' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config_path = NULL, *error = NULL, *route_domain = NULL;
	int check = 0, c;
	struct evm_config cfg;
	struct event_base *base;
	struct node node;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config_path = optarg; break;
		case 'k': check = 1; break;
		case 'r': route_domain = optarg; break;
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
	if (route_domain != NULL) {
		int rc = print_route(&cfg, route_domain);

		config_free(&cfg);
		return rc;
	}
	signal(SIGPIPE, SIG_IGN);
	raise_fd_limit();
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
