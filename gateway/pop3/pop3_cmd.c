/* pop3_cmd - the command table and the commands that need neither the
 * password check nor the view: CAPA (RFC 2449 5), STLS (RFC 2595 4), QUIT,
 * NOOP, STAT, LIST, UIDL, DELE, RSET (RFC 1939 5-7). */
#include "gateway/pop3/pop3_session_private.h"

#include <event2/buffer.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* RFC 2449 5: the capabilities of the current state, one per line. */
static void cmd_capa(struct pop3_session *s, const struct pop3_command *cmd)
{
	struct evbuffer *out = pop3_output(s);

	if (out == NULL)
		return;
	evbuffer_add_printf(out, "+OK Capability list follows\r\n"
			    "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
			    "EXPIRE NEVER\r\nIMPLEMENTATION evmail %s\r\n", EVMAIL_VERSION);
	if (s->state == POP3_S_AUTH) {
		if (pop3_auth_allowed(s))
			evbuffer_add_printf(out, "USER\r\nSASL PLAIN LOGIN\r\n");
		if (s->set.tls != NULL && !s->tls)
			evbuffer_add_printf(out, "STLS\r\n");
	}
	evbuffer_add(out, ".\r\n", 3);
}

/* RFC 2595 4: only in AUTHORIZATION, only once. */
static void cmd_stls(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->set.tls == NULL || s->tls) {
		pop3_err(s, "STLS not available");
		return;
	}
	pop3_ok(s, "Begin TLS negotiation now");
	pop3_starttls(s);
}

/* RFC 1939 4 (AUTHORIZATION) and 6 (TRANSACTION: enter UPDATE). */
static void cmd_quit(struct pop3_session *s, const struct pop3_command *cmd)
{
	if (s->state == POP3_S_TRANS) {
		pop3_update(s);
		return;
	}
	pop3_ok(s, "evmail POP3 signing off");
	pop3_close_after_flush(s, "quit");
}

static void cmd_noop(struct pop3_session *s, const struct pop3_command *cmd)
{
	pop3_ok(s, "NOOP");
}

/* A message-number argument (RFC 1939 5): 1..n, not deleted. The index,
 * or -1 after an -ERR. */
static long msg_arg(struct pop3_session *s, const char *arg)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9' || (v = strtoul(arg, &end, 10), errno != 0) || *end != '\0') {
		pop3_err(s, "Invalid message number");
		return -1;
	}
	if (v == 0 || v > s->nmsgs || s->msgs[v - 1].deleted) {
		pop3_err(s, "No such message");
		return -1;
	}
	return (long)v - 1;
}

static void totals(const struct pop3_session *s, size_t *count_r, uint64_t *size_r)
{
	*count_r = 0;
	*size_r = 0;
	for (size_t i = 0; i < s->nmsgs; i++) {
		if (!s->msgs[i].deleted) {
			(*count_r)++;
			*size_r += s->msgs[i].size;
		}
	}
}

static void cmd_stat(struct pop3_session *s, const struct pop3_command *cmd)
{
	size_t n;
	uint64_t size;

	totals(s, &n, &size);
	pop3_ok(s, "%zu %llu", n, (unsigned long long)size);
}

/* The unique-id of RFC 1939 7: stable for the message's lifetime, 1-70
 * characters 0x21-0x7E; UIDVALIDITY.UID never names another message. */
static void uidl_line(struct evbuffer *out, const struct pop3_session *s, size_t i)
{
	evbuffer_add_printf(out, "%zu %u.%u\r\n", i + 1, s->uidvalidity, s->msgs[i].uid);
}

/* LIST and UIDL: one message, or a multi-line list of those not deleted. */
static void cmd_list_uidl(struct pop3_session *s, const struct pop3_command *cmd, int uidl)
{
	struct evbuffer *out;
	long i;

	if (cmd->nargs > 1) {
		pop3_err(s, "Too many arguments");
		return;
	}
	if (cmd->nargs == 1) {
		if ((i = msg_arg(s, cmd->args[0])) < 0 || (out = pop3_output(s)) == NULL)
			return;
		evbuffer_add(out, "+OK ", 4);
		if (uidl)
			uidl_line(out, s, (size_t)i);
		else
			evbuffer_add_printf(out, "%ld %llu\r\n", i + 1, (unsigned long long)s->msgs[i].size);
		return;
	}
	if ((out = pop3_output(s)) == NULL)
		return;
	evbuffer_add_printf(out, "+OK\r\n");
	for (size_t k = 0; k < s->nmsgs; k++) {
		if (s->msgs[k].deleted)
			continue;
		if (uidl)
			uidl_line(out, s, k);
		else
			evbuffer_add_printf(out, "%zu %llu\r\n", k + 1, (unsigned long long)s->msgs[k].size);
	}
	evbuffer_add(out, ".\r\n", 3);
}

static void cmd_list(struct pop3_session *s, const struct pop3_command *cmd)
{
	cmd_list_uidl(s, cmd, 0);
}

static void cmd_uidl(struct pop3_session *s, const struct pop3_command *cmd)
{
	cmd_list_uidl(s, cmd, 1);
}

static void cmd_dele(struct pop3_session *s, const struct pop3_command *cmd)
{
	long i;

	if (cmd->nargs != 1) {
		pop3_err(s, "DELE needs a message number");
		return;
	}
	if ((i = msg_arg(s, cmd->args[0])) < 0)
		return;
	s->msgs[i].deleted = 1;
	pop3_ok(s, "Message %ld deleted", i + 1);
}

static void cmd_rset(struct pop3_session *s, const struct pop3_command *cmd)
{
	size_t n;
	uint64_t size;

	for (size_t i = 0; i < s->nmsgs; i++)
		s->msgs[i].deleted = 0;
	totals(s, &n, &size);
	pop3_ok(s, "Maildrop has %zu messages (%llu octets)", n, (unsigned long long)size);
}

static void cmd_retr(struct pop3_session *s, const struct pop3_command *cmd)
{
	pop3_cmd_retr_top(s, cmd, 0);
}

static void cmd_top(struct pop3_session *s, const struct pop3_command *cmd)
{
	pop3_cmd_retr_top(s, cmd, 1);
}

#define IN_AUTH 1
#define IN_TRANS 2

static const struct {
	const char *name;
	unsigned states;
	void (*fn)(struct pop3_session *s, const struct pop3_command *cmd);
} commands[] = {
	{ "CAPA", IN_AUTH | IN_TRANS, cmd_capa },
	{ "QUIT", IN_AUTH | IN_TRANS, cmd_quit },
	{ "NOOP", IN_TRANS, cmd_noop },
	{ "STLS", IN_AUTH, cmd_stls },
	{ "USER", IN_AUTH, pop3_cmd_user },
	{ "PASS", IN_AUTH, pop3_cmd_pass },
	{ "AUTH", IN_AUTH, pop3_cmd_auth },
	{ "STAT", IN_TRANS, cmd_stat },
	{ "LIST", IN_TRANS, cmd_list },
	{ "UIDL", IN_TRANS, cmd_uidl },
	{ "RETR", IN_TRANS, cmd_retr },
	{ "TOP", IN_TRANS, cmd_top },
	{ "DELE", IN_TRANS, cmd_dele },
	{ "RSET", IN_TRANS, cmd_rset },
};

void pop3_dispatch(struct pop3_session *s, const struct pop3_command *cmd)
{
	unsigned state = s->state == POP3_S_AUTH ? IN_AUTH : IN_TRANS;

	if (strcmp(cmd->name, "USER") != 0 && strcmp(cmd->name, "PASS") != 0 && strcmp(cmd->name, "CAPA") != 0)
		s->user[0] = '\0';     /* RFC 1939 7: PASS follows USER at once */
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, cmd->name) != 0)
			continue;
		if (!(commands[i].states & state)) {
			pop3_err(s, state == IN_AUTH ? "Log in first" : "Not in AUTHORIZATION state");
			return;
		}
		commands[i].fn(s, cmd);
		return;
	}
	pop3_err(s, "Unknown command");
}
