/* auth_throttle - see auth_throttle.h. */
#include "gateway/auth_throttle.h"
#include "common/buf.h"
#include "common/ids.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLIENT_KEY_MAX AUTH_THROTTLE_CLIENT_KEY_MAX   /* "4:255.255.255.255", "6:" + 16 hex */
#define EXEMPT_MAX 256

struct entry {
	struct entry *hnext;             /* hash chain */
	struct entry *older, *newer;     /* LRU list */
	int64_t window_start;
	unsigned failures;
	int64_t locked_until;            /* refused while now < this */
	/* accounts: clients that logged in within the window */
	char good[AUTH_THROTTLE_GOOD_CLIENTS][CLIENT_KEY_MAX];
	int64_t good_at[AUTH_THROTTLE_GOOD_CLIENTS];
	char key[];
};

/* One bounded table with least-recently-used eviction. */
struct table {
	struct entry **chains;
	size_t nchains;                  /* a power of two */
	struct entry *oldest, *newest;
	unsigned count, max;
};

struct cidr {
	int family;                      /* AF_INET, AF_INET6 */
	unsigned char addr[16];
	unsigned bits;
};

struct auth_throttle {
	struct auth_throttle_settings set;
	struct table clients, accounts;
	struct cidr exempt[EXEMPT_MAX];
	size_t nexempt;
};

static void table_init(struct table *tb, unsigned max)
{
	tb->nchains = 64;
	while (tb->nchains < max && tb->nchains < (1u << 20))
		tb->nchains <<= 1;
	tb->chains = xcalloc(tb->nchains, sizeof *tb->chains);
	tb->max = max;
}

static void table_clear(struct table *tb)
{
	struct entry *e = tb->oldest;

	while (e != NULL) {
		struct entry *next = e->newer;
		free(e);
		e = next;
	}
	free(tb->chains);
	memset(tb, 0, sizeof *tb);
}

/* Takes e out of the LRU list. */
static void lru_unlink(struct table *tb, struct entry *e)
{
	if (e->older != NULL)
		e->older->newer = e->newer;
	else
		tb->oldest = e->newer;
	if (e->newer != NULL)
		e->newer->older = e->older;
	else
		tb->newest = e->older;
	e->older = e->newer = NULL;
}

/* Puts e at the most recently used end. */
static void lru_push(struct table *tb, struct entry *e)
{
	e->older = tb->newest;
	e->newer = NULL;
	if (tb->newest != NULL)
		tb->newest->newer = e;
	else
		tb->oldest = e;
	tb->newest = e;
}

/* Drops the least recently used entry. */
static void table_evict(struct table *tb)
{
	struct entry *e = tb->oldest, **pp;

	pp = &tb->chains[evm_fnv1a32(e->key, strlen(e->key)) & (tb->nchains - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(tb, e);
	tb->count--;
	free(e);
}

/* key's entry, marked as just used; created (evicting when full) when
 * create, else NULL when absent. */
static struct entry *table_get(struct table *tb, const char *key, int create)
{
	size_t len = strlen(key);
	struct entry **head = &tb->chains[evm_fnv1a32(key, len) & (tb->nchains - 1)], *e;

	for (e = *head; e != NULL; e = e->hnext) {
		if (strcmp(e->key, key) == 0) {
			lru_unlink(tb, e);
			lru_push(tb, e);
			return e;
		}
	}
	if (!create)
		return NULL;
	if (tb->count >= tb->max)
		table_evict(tb);
	/* the eviction may have emptied this chain: take its head again */
	head = &tb->chains[evm_fnv1a32(key, len) & (tb->nchains - 1)];
	e = xcalloc(1, sizeof *e + len + 1);
	memcpy(e->key, key, len + 1);
	e->hnext = *head;
	*head = e;
	lru_push(tb, e);
	tb->count++;
	return e;
}

/* ip as family and bytes (IPv4-mapped IPv6 becomes IPv4); -1 when not an
 * address. */
static int parse_ip(const char *ip, int *family_r, unsigned char addr[16])
{
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (inet_pton(AF_INET, ip, addr) == 1) {
		*family_r = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, addr) != 1)
		return -1;
	if (memcmp(addr, mapped, sizeof mapped) == 0) {
		memmove(addr, addr + 12, 4);
		*family_r = AF_INET;
		return 0;
	}
	*family_r = AF_INET6;
	return 0;
}

/* The client's key: "4:" + the IPv4 address, "6:" + its /64 in hex, or
 * "?:" + the text when it is not an address (a unix socket, a test). */
static void client_key(const char *ip, char key[CLIENT_KEY_MAX])
{
	unsigned char a[16];
	int family;

	if (parse_ip(ip, &family, a) < 0)
		snprintf(key, CLIENT_KEY_MAX, "?:%.40s", ip);
	else if (family == AF_INET)
		snprintf(key, CLIENT_KEY_MAX, "4:%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
	else
		snprintf(key, CLIENT_KEY_MAX, "6:%02x%02x%02x%02x%02x%02x%02x%02x", a[0], a[1], a[2], a[3],
			 a[4], a[5], a[6], a[7]);
}

void auth_throttle_client_key(const char *ip, char key[AUTH_THROTTLE_CLIENT_KEY_MAX])
{
	client_key(ip, key);
}

/* One "addr/bits" (or a bare address: a host) into *c. */
static int parse_cidr(const char *text, struct cidr *c)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	unsigned long bits;

	if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
		return -1;
	slash = strchr(buf, '/');
	if (slash != NULL)
		*slash = '\0';
	if (parse_ip(buf, &c->family, c->addr) < 0)
		return -1;
	c->bits = c->family == AF_INET ? 32 : 128;
	if (slash != NULL) {
		bits = strtoul(slash + 1, &end, 10);
		if (slash[1] == '\0' || *end != '\0' || bits > c->bits)
			return -1;
		/* an IPv4-mapped prefix counts within the IPv4 part */
		if (c->family == AF_INET && strchr(buf, ':') != NULL)
			bits = bits >= 96 ? bits - 96 : 0;
		c->bits = (unsigned)bits;
	}
	return 0;
}

/* The comma-separated exempt list into t. */
static int parse_exempt(struct auth_throttle *t, const char *list, const char **error_r)
{
	static __thread char err[160];
	const char *p = list;

	while (*p != '\0') {
		size_t n = strcspn(p, ",");
		char item[INET6_ADDRSTRLEN + 8];
		const char *s = p;

		while (n > 0 && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n > 0) {
			if (t->nexempt == EXEMPT_MAX || n >= sizeof item) {
				*error_r = "auth.throttle_exempt: too many or too long entries";
				return -1;
			}
			memcpy(item, s, n);
			item[n] = '\0';
			if (parse_cidr(item, &t->exempt[t->nexempt]) < 0) {
				snprintf(err, sizeof err, "auth.throttle_exempt: not an address or CIDR: %.80s", item);
				*error_r = err;
				return -1;
			}
			t->nexempt++;
		}
		p += strcspn(p, ",");
		if (*p == ',')
			p++;
	}
	return 0;
}

int auth_throttle_new(const struct auth_throttle_settings *set, struct auth_throttle **t_r,
		      const char **error_r)
{
	struct auth_throttle *t;

	if (set->window_s == 0 || set->lockout_s == 0) {
		*error_r = "auth throttle: window and lockout must be positive";
		return -1;
	}
	if (set->max_entries == 0 || set->max_entries > AUTH_THROTTLE_ENTRIES_MAX) {
		*error_r = "auth throttle: entries out of range";
		return -1;
	}
	t = xcalloc(1, sizeof *t);
	t->set = *set;
	t->set.exempt = NULL;
	if (parse_exempt(t, set->exempt != NULL ? set->exempt : "", error_r) < 0) {
		free(t);
		return -1;
	}
	table_init(&t->clients, set->max_entries);
	table_init(&t->accounts, set->max_entries);
	*t_r = t;
	return 0;
}

void auth_throttle_free(struct auth_throttle **tp)
{
	struct auth_throttle *t = *tp;

	if (t == NULL)
		return;
	table_clear(&t->clients);
	table_clear(&t->accounts);
	free(t);
	*tp = NULL;
}

int auth_throttle_exempt(const struct auth_throttle *t, const char *ip)
{
	unsigned char a[16];
	int family;

	if (t->nexempt == 0 || parse_ip(ip, &family, a) < 0)
		return 0;
	for (size_t i = 0; i < t->nexempt; i++) {
		const struct cidr *c = &t->exempt[i];
		unsigned full = c->bits / 8, rest = c->bits % 8;

		if (c->family != family || memcmp(c->addr, a, full) != 0)
			continue;
		if (rest == 0 || ((c->addr[full] ^ a[full]) & (0xff00u >> rest)) == 0)
			return 1;
	}
	return 0;
}

/* 1 when client logged in to the account entry e within the window. */
static int good_client(const struct auth_throttle *t, const struct entry *e, const char *client,
		       int64_t now_ms)
{
	for (size_t i = 0; i < AUTH_THROTTLE_GOOD_CLIENTS; i++) {
		if (e->good_at[i] > now_ms - (int64_t)t->set.window_s * 1000 && strcmp(e->good[i], client) == 0)
			return 1;
	}
	return 0;
}

enum auth_throttle_verdict auth_throttle_check(struct auth_throttle *t, const char *ip,
					       const char *account, int64_t now_ms)
{
	char client[CLIENT_KEY_MAX];
	struct entry *e;

	if (auth_throttle_exempt(t, ip))
		return AUTH_THROTTLE_ALLOW;
	client_key(ip, client);
	e = table_get(&t->clients, client, 0);
	if (e != NULL && now_ms < e->locked_until)
		return AUTH_THROTTLE_REFUSE_IP;
	if (account[0] == '\0')
		return AUTH_THROTTLE_ALLOW;
	e = table_get(&t->accounts, account, 0);
	if (e != NULL && now_ms < e->locked_until && !good_client(t, e, client, now_ms))
		return AUTH_THROTTLE_REFUSE_ACCOUNT;
	return AUTH_THROTTLE_ALLOW;
}

/* One more failure in e's window; locked when it reaches max (0: never). */
static void count_failure(const struct auth_throttle *t, struct entry *e, unsigned max, int64_t now_ms)
{
	if (e->failures == 0 || now_ms - e->window_start >= (int64_t)t->set.window_s * 1000) {
		e->window_start = now_ms;
		e->failures = 0;
	}
	e->failures++;
	if (max > 0 && e->failures >= max) {
		e->locked_until = now_ms + (int64_t)t->set.lockout_s * 1000;
		e->failures = 0;        /* a new window starts after the lockout */
	}
}

void auth_throttle_failure(struct auth_throttle *t, const char *ip, const char *account, int64_t now_ms)
{
	char client[CLIENT_KEY_MAX];

	if (auth_throttle_exempt(t, ip))
		return;
	client_key(ip, client);
	count_failure(t, table_get(&t->clients, client, 1), t->set.max_failures_ip, now_ms);
	if (account[0] != '\0')
		count_failure(t, table_get(&t->accounts, account, 1), t->set.max_failures_account, now_ms);
}

void auth_throttle_success(struct auth_throttle *t, const char *ip, const char *account, int64_t now_ms)
{
	char client[CLIENT_KEY_MAX];
	struct entry *e;
	size_t slot = 0;

	if (account[0] == '\0' || auth_throttle_exempt(t, ip))
		return;
	client_key(ip, client);
	e = table_get(&t->accounts, account, 1);
	/* the client's own slot, else the oldest */
	for (size_t i = 0; i < AUTH_THROTTLE_GOOD_CLIENTS; i++) {
		if (strcmp(e->good[i], client) == 0) {
			slot = i;
			break;
		}
		if (e->good_at[i] < e->good_at[slot])
			slot = i;
	}
	memcpy(e->good[slot], client, sizeof client);
	e->good_at[slot] = now_ms;
}

void auth_throttle_entries(const struct auth_throttle *t, unsigned *clients_r, unsigned *accounts_r)
{
	*clients_r = t->clients.count;
	*accounts_r = t->accounts.count;
}
