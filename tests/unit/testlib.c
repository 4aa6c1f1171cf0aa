/* testlib - see testlib.h */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static int passed, failed;
static bool cur_failed;

void test_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, expr);
	cur_failed = true;
}

bool test_case_failed(void)
{
	return cur_failed;
}

void test_run(const char *name, void (*fn)(void))
{
	cur_failed = false;
	fn();
	if (cur_failed) {
		failed++;
		fprintf(stderr, "not ok - %s\n", name);
	} else {
		passed++;
		fprintf(stderr, "ok - %s\n", name);
	}
}

int test_done(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed == 0 ? 0 : 1;
}

const char *test_tmpdir(const char *name)
{
	static char path[1024];
	const char *base = getenv("EVMAIL_TEST_TMP");
	char cmd[1200];

	if (base == NULL || *base == '\0')
		base = "/tmp/evmail-test";
	snprintf(path, sizeof path, "%s/%s.%d", base, name, (int)getpid());
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot create %s\n", path);
		exit(2);
	}
	return path;
}
