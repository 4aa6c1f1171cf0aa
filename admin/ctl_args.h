/* ctl_args - subcommand argument parsing: positionals plus --name value
 * options and --flag switches, each declared up front so a typo is an
 * error, never ignored. */
#ifndef EVM_CTL_ARGS_H
#define EVM_CTL_ARGS_H

#define CTL_ARGS_MAX 8

struct ctl_args {
	const char *pos[CTL_ARGS_MAX];
	int npos;
	const char *opt_names[CTL_ARGS_MAX];   /* "--tenant" (takes a value) */
	const char *opt_values[CTL_ARGS_MAX];
	const char *flag_names[CTL_ARGS_MAX];  /* "--password-stdin" */
	int flag_set[CTL_ARGS_MAX];
};

/* opts and flags are NULL-terminated lists. Returns 0, or -1 after printing
 * what is wrong. */
int ctl_args_parse(struct ctl_args *a, int argc, char **argv,
		   const char *const *opts, const char *const *flags);
const char *ctl_args_opt(const struct ctl_args *a, const char *name);
int ctl_args_flag(const struct ctl_args *a, const char *name);

#endif
