/* What every C test shares: a failure counter and CHECK, which names file and line of the first failures
 * (a broken kernel fails thousands of checks; the first few say where). */
#ifndef ALT_TEST_CHECK_H
#define ALT_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                             \
    do {                                                             \
        if (!(cond) && failures++ < 50) {                            \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);     \
            fprintf(stderr, __VA_ARGS__);                            \
            fputc('\n', stderr);                                     \
        }                                                            \
    } while (0)

#endif
