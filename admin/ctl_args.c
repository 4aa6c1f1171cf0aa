/* ctl_args - see ctl_args.h */
#include "admin/ctl_args.h"
#include "admin/ctl.h"

#include <string.h>

int ctl_args_parse(struct ctl_args *a, int argc, char **argv,
		   const char *const *opts, const char *const *flags)
{
	int nopts = 0, nflags = 0;

	memset(a, 0, sizeof *a);
	for (; opts != NULL && opts[nopts] != NULL && nopts < CTL_ARGS_MAX; nopts++)
		a->opt_names[nopts] = opts[nopts];
	for (; flags != NULL && flags[nflags] != NULL && nflags < CTL_ARGS_MAX; nflags++)
		a->flag_names[nflags] = flags[nflags];
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];
		int found = 0;
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			if (a->npos == CTL_ARGS_MAX) {
				ctl_fail("too many arguments");
				return -1;
			}
			a->pos[a->npos++] = arg;
			continue;
		}
		for (int k = 0; k < nopts; k++) {
			if (strcmp(arg, a->opt_names[k]) == 0) {
				if (i + 1 >= argc) {
					ctl_fail("%s needs a value", arg);
					return -1;
				}
				a->opt_values[k] = argv[++i];
				found = 1;
			}
		}
		for (int k = 0; k < nflags && !found; k++) {
			if (strcmp(arg, a->flag_names[k]) == 0) {
				a->flag_set[k] = 1;
				found = 1;
			}
		}
		if (!found) {
			ctl_fail("unknown option %s", arg);
			return -1;
		}
	}
	return 0;
}

const char *ctl_args_opt(const struct ctl_args *a, const char *name)
{
	for (int k = 0; k < CTL_ARGS_MAX && a->opt_names[k] != NULL; k++) {
		if (strcmp(a->opt_names[k], name) == 0)
			return a->opt_values[k];
	}
	return NULL;
}

int ctl_args_flag(const struct ctl_args *a, const char *name)
{
	for (int k = 0; k < CTL_ARGS_MAX && a->flag_names[k] != NULL; k++) {
		if (strcmp(a->flag_names[k], name) == 0)
			return a->flag_set[k];
	}
	return 0;
}
