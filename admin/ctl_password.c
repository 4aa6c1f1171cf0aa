/* ctl_password - reading a new password without it ever touching argv. */
#include "admin/ctl.h"
#include "common/buf.h"
#include "common/password.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

/* Reads one line into a malloc'ed string without the newline. */
static int read_line(FILE *in, char **line_r)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, in);

	if (n < 0) {
		free(line);
		return -1;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	*line_r = line;
	return 0;
}

static int prompt_noecho(FILE *tty, const char *prompt, char **line_r)
{
	struct termios old, noecho;
	int ret;

	fputs(prompt, tty);
	fflush(tty);
	if (tcgetattr(fileno(tty), &old) < 0)
		return -1;
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
	ret = read_line(tty, line_r);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	return ret;
}

int ctl_read_password(int from_stdin, char **pw_r)
{
	char *a = NULL, *b = NULL;
	FILE *tty;

	if (from_stdin) {
		if (read_line(stdin, &a) < 0)
			return ctl_fail("no password on standard input");
	} else {
		tty = fopen("/dev/tty", "r+");
		if (tty == NULL)
			return ctl_fail("no terminal to ask for the password: use --password-stdin");
		if (prompt_noecho(tty, "New password: ", &a) < 0 ||
		    prompt_noecho(tty, "Repeat password: ", &b) < 0) {
			fclose(tty);
			free(a);
			return ctl_fail("cannot read the password");
		}
		fclose(tty);
		if (strcmp(a, b) != 0) {
			explicit_bzero(a, strlen(a));
			explicit_bzero(b, strlen(b));
			free(a);
			free(b);
			return ctl_fail("the passwords do not match");
		}
		explicit_bzero(b, strlen(b));
		free(b);
	}
	if (a[0] == '\0' || strlen(a) > EVM_PASSWORD_MAX) {
		free(a);
		return ctl_fail("the password must be 1 to %d characters", EVM_PASSWORD_MAX);
	}
	*pw_r = a;
	return CTL_OK;
}
