/* Unit tests: the privilege plan, the data dir hand-over and the switch
 * itself (as root: a forked child with two threads becomes `nobody`; the
 * parent reads the Uid/Gid/Groups lines of every thread in /proc). */
#include "gateway/privdrop.h"
#include "tests/unit/testlib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOBODY 65534u

static void test_plan(void)
{
	struct privdrop pd;
	const char *error = NULL;

	/* Not root: nothing changes, whatever the configuration says. */
	CHECK(privdrop_plan("nobody", "", 0, 1000, &pd, &error) == 0);
	CHECK_EQ_INT(pd.active, 0);
	CHECK(privdrop_plan("no-such-user-evm", "", 0, 1000, &pd, &error) == 0);
	CHECK_EQ_INT(pd.active, 0);
	/* Root with a known user: switch, to its primary group by default. */
	CHECK(privdrop_plan("nobody", "", 0, 0, &pd, &error) == 0);
	CHECK_EQ_INT(pd.active, 1);
	CHECK_EQ_INT(pd.uid, NOBODY);
	CHECK_EQ_INT(pd.gid, NOBODY);
	CHECK_EQ_STR(pd.user, "nobody");
	/* allow_root never keeps root when the user exists. */
	CHECK(privdrop_plan("nobody", "", 1, 0, &pd, &error) == 0);
	CHECK_EQ_INT(pd.active, 1);
	/* An explicit group. */
	CHECK(privdrop_plan("nobody", "root", 0, 0, &pd, &error) == 0);
	CHECK_EQ_INT(pd.gid, 0);
	CHECK(privdrop_plan("nobody", "no-such-group-evm", 0, 0, &pd, &error) == -1);
	CHECK(strstr(error, "node.group no-such-group-evm does not exist") != NULL);
	/* Root, unknown user: refuse, unless allowed to stay root. */
	CHECK(privdrop_plan("no-such-user-evm", "", 0, 0, &pd, &error) == -1);
	CHECK(strstr(error, "node.user no-such-user-evm does not exist; create it") != NULL);
	CHECK(strstr(error, "node.allow_root = true") != NULL);
	CHECK(privdrop_plan("no-such-user-evm", "", 1, 0, &pd, &error) == 0);
	CHECK_EQ_INT(pd.active, 0);
	/* Root, empty user: the same. */
	CHECK(privdrop_plan("", "", 0, 0, &pd, &error) == -1);
	CHECK(strstr(error, "node.allow_root") != NULL);
	CHECK(privdrop_plan("", "", 1, 0, &pd, &error) == 0);
	CHECK_EQ_INT(pd.active, 0);
	/* A user with uid 0 is root by another name. */
	CHECK(privdrop_plan("root", "", 0, 0, &pd, &error) == -1);
	CHECK(strstr(error, "uid 0") != NULL);
}

static uid_t owner(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_uid : (uid_t)-1;
}

/* Root-owned entries go to the user; others' files and what a symbolic link
 * points to are left alone. */
static void test_chown_tree(void)
{
	char dir[1100], sub[1200], file[1200], other[1200], link[1200], outside[1200];
	const char *error = NULL;
	int fd;

	if (geteuid() != 0) {
		printf("  (not root: chown skipped)\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/data", test_tmpdir("chown"));
	snprintf(sub, sizeof sub, "%s/view", dir);
	snprintf(file, sizeof file, "%s/view/CURRENT", dir);
	snprintf(other, sizeof other, "%s/someone-elses", dir);
	snprintf(link, sizeof link, "%s/link", dir);
	snprintf(outside, sizeof outside, "%s/outside", test_tmpdir("chown"));
	CHECK(mkdir(dir, 0755) == 0 || errno == EEXIST);
	CHECK(mkdir(sub, 0755) == 0 || errno == EEXIST);
	CHECK((fd = open(file, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	CHECK((fd = open(other, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	CHECK(chown(other, 1234, 1234) == 0);
	CHECK((fd = open(outside, O_CREAT | O_WRONLY, 0600)) >= 0);
	close(fd);
	unlink(link);
	CHECK(symlink(outside, link) == 0);

	CHECK(privdrop_chown_tree(dir, NOBODY, NOBODY, &error) == 0);
	CHECK_EQ_INT(owner(dir), NOBODY);
	CHECK_EQ_INT(owner(sub), NOBODY);
	CHECK_EQ_INT(owner(file), NOBODY);
	CHECK_EQ_INT(owner(link), NOBODY);
	CHECK_EQ_INT(owner(other), 1234);
	CHECK_EQ_INT(owner(outside), 0);
	CHECK(privdrop_chown_tree("/nonexistent/evm-data", NOBODY, NOBODY, &error) == -1);
	CHECK(strstr(error, "/nonexistent/evm-data") != NULL);
}

/* 1 when the list of numbers in s is exactly gid. */
static int only_group(char *s, unsigned gid)
{
	char *save = NULL, *tok;
	int n = 0, ok = 1;

	for (tok = strtok_r(s, " \t\n", &save); tok != NULL; tok = strtok_r(NULL, " \t\n", &save)) {
		n++;
		ok = ok && strtoul(tok, NULL, 10) == gid;
	}
	return n == 1 && ok;
}

/* The "Uid:", "Gid:" and "Groups:" lines of a status file: 1 when all
 * four ids of each are uid / gid and the group list is gid alone. */
static int status_ids_are(const char *path, unsigned uid, unsigned gid)
{
	FILE *f = fopen(path, "r");
	char line[256];
	unsigned a, b, c, d;
	int ok_uid = 0, ok_gid = 0, ok_groups = 0;

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "Uid: %u %u %u %u", &a, &b, &c, &d) == 4)
			ok_uid = a == uid && b == uid && c == uid && d == uid;
		else if (sscanf(line, "Gid: %u %u %u %u", &a, &b, &c, &d) == 4)
			ok_gid = a == gid && b == gid && c == gid && d == gid;
		else if (strncmp(line, "Groups:", 7) == 0)
			ok_groups = only_group(line + 7, gid);
	}
	fclose(f);
	return ok_uid && ok_gid && ok_groups;
}

/* Sleeps for good: pause() returns after glibc's own SIGSETXID handler
 * (the signal that makes every thread follow setresuid), so loop. */
static void *sleeper(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* In the child: a second thread exists before the switch (as librdkafka's
 * would if the order in node.c changed). Writes one byte to the parent: 0
 * when the switch and the child's own checks succeeded; then waits to be
 * looked at and killed. */
static void child_switch(int fd)
{
	struct privdrop pd;
	const char *error = NULL;
	pthread_t t;
	char code = 0;

	if (pthread_create(&t, NULL, sleeper, NULL) != 0)
		code = 10;
	else if (privdrop_plan("nobody", "", 0, geteuid(), &pd, &error) < 0 || !pd.active)
		code = 11;
	else if (privdrop_apply(&pd, &error) < 0)
		code = 12;
	else if (getuid() != NOBODY || geteuid() != NOBODY || getgid() != NOBODY ||
		 getegid() != NOBODY)
		code = 13;
	else if (setuid(0) == 0 || setgid(0) == 0 || seteuid(0) == 0)
		code = 14;
	(void)!write(fd, &code, 1);
	for (;;)
		pause();
}

/* As root, from outside: every thread of pid carries uid/gid. Returns the
 * number of threads checked, or -1 when one does not. */
static int threads_dropped(pid_t pid, unsigned uid, unsigned gid)
{
	char dir[64], path[128];
	DIR *d;
	struct dirent *e;
	int n = 0;

	snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof path, "%s/%.20s/status", dir, e->d_name);
		if (!status_ids_are(path, uid, gid)) {
			n = -1;
			break;
		}
		n++;
	}
	closedir(d);
	return n;
}

static void test_apply(void)
{
	struct privdrop none = { 0 };
	const char *error = NULL;
	int status, fds[2], threads;
	char code = 99;
	pid_t pid;

	CHECK(privdrop_apply(&none, &error) == 0);   /* nothing to do */
	if (geteuid() != 0) {
		printf("  (not root: the switch is not tried)\n");
		return;
	}
	CHECK(pipe(fds) == 0);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		child_switch(fds[1]);
	}
	close(fds[1]);
	CHECK(read(fds[0], &code, 1) == 1);
	close(fds[0]);
	threads = threads_dropped(pid, NOBODY, NOBODY);
	kill(pid, SIGKILL);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK_EQ_INT(code, 0);
	CHECK_EQ_INT(threads, 2);
	CHECK_EQ_INT(geteuid(), 0);   /* the parent is untouched */
}

int main(void)
{
	test_run("plan", test_plan);
	test_run("chown tree", test_chown_tree);
	test_run("apply (forked child)", test_apply);
	return test_done();
}
