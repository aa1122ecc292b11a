/* A minimal test harness for the C tests: counters, CHECK and the status expectations.
 * Each test program ends with check_summary(), which prints "N passed, M failed" and returns the
 * exit code. */
#ifndef AE_TESTS_CHECK_H
#define AE_TESTS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoders.h"

static int check_passed = 0;
static int check_failed = 0;

static inline void check_record(int ok, const char *what, const char *file, int line) {
    if (ok) {
        check_passed++;
    } else {
        check_failed++;
        fprintf(stderr, "%s:%d: FAILED: %s\n", file, line, what);
    }
}

/* REGRESSION("description", checks...): checks of a bug that was found and fixed; the
 * description says what used to go wrong. */
#define REGRESSION(description, ...)                                                              \
    do {                                                                                          \
        (void)(description);                                                                      \
        __VA_ARGS__;                                                                              \
    } while (0)

#define CHECK(cond) check_record((cond) ? 1 : 0, #cond, __FILE__, __LINE__)

/* A call that must succeed; on failure prints the status and ae_last_error(). */
#define CHECK_OK(call)                                                                            \
    do {                                                                                          \
        ae_status check_status_ = (call);                                                         \
        if (check_status_ != AE_OK)                                                               \
            fprintf(stderr, "%s:%d: %s returned %s: %s\n", __FILE__, __LINE__, #call,             \
                    ae_status_string(check_status_), ae_last_error());                            \
        check_record(check_status_ == AE_OK, #call, __FILE__, __LINE__);                          \
    } while (0)

/* Checks a failed call: the status, a non-empty ae_last_error() that names the function, and
 * (if `needle` is not NULL) contains `needle`. Before the call, a known failure of another
 * function resets the message, so the message checked is the one this call set. */
static inline void check_failure(ae_status got, ae_status expected, const char *function, const char *needle,
                          const char *call, const char *file, int line) {
    const char *message = ae_last_error();
    int ok = got == expected && message != NULL && message[0] != '\0' && strstr(message, function) != NULL &&
             (needle == NULL || strstr(message, needle) != NULL);
    if (!ok) {
        fprintf(stderr, "%s:%d: FAILED: %s\n    expected %s naming %s%s%s; got %s, message \"%s\"\n", file, line,
                call, ae_status_string(expected), function,
                needle ? " and " : "", needle ? needle : "", ae_status_string(got), message ? message : "(NULL)");
    }
    if (ok && getenv("AE_TEST_VERBOSE")) printf("  %-28s %s\n", ae_status_string(got), message);
    check_record(ok, call, file, line);
}

static inline void check_reset_last_error(void) {
    /* ae_set_num_threads(0) always fails with a message naming ae_set_num_threads. */
    (void)ae_set_num_threads(0);
}

#define EXPECT_FAIL_MSG(call, status, function, needle)                                           \
    do {                                                                                          \
        check_reset_last_error();                                                                 \
        ae_status check_status_ = (call);                                                         \
        check_failure(check_status_, status, function, needle, #call, __FILE__, __LINE__);        \
    } while (0)

#define EXPECT_FAIL(call, status, function) EXPECT_FAIL_MSG(call, status, function, NULL)

static inline int check_summary(const char *program) {
    printf("%s: %d passed, %d failed\n", program, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
