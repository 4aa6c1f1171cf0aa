/* testlib - minimal assertions for C unit tests.
 *
 * Each test binary calls test_run("name", fn) per case and returns
 * test_done(). A failed check prints file:line and the expression, marks the
 * case failed and carries on with the next case. test_done() prints
 * "N passed, N failed" and returns the process exit status. */
#ifndef EVM_TESTLIB_H
#define EVM_TESTLIB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

void test_fail(const char *file, int line, const char *expr);
bool test_case_failed(void);
void test_run(const char *name, void (*fn)(void));
int test_done(void);
/* A fresh empty directory for this test under $EVMAIL_TEST_TMP (or /tmp);
 * returned string is static until the next call. */
const char *test_tmpdir(const char *name);

#define CHECK(expr) do { if (!(expr)) { test_fail(__FILE__, __LINE__, #expr); return; } } while (0)
#define CHECK_EQ_INT(a, b) do { long long a_ = (long long)(a), b_ = (long long)(b); \
    if (a_ != b_) { char m_[256]; snprintf(m_, sizeof m_, "%s == %s (%lld != %lld)", #a, #b, a_, b_); \
      test_fail(__FILE__, __LINE__, m_); return; } } while (0)
#define CHECK_EQ_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) { char m_[512]; \
      snprintf(m_, sizeof m_, "%s == %s (\"%s\" != \"%s\")", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
      test_fail(__FILE__, __LINE__, m_); return; } } while (0)

#include <stdio.h>
#endif
