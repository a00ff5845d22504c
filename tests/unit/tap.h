/* A minimal TAP producer for unit tests (automake's tap-driver.sh reads it). */
#ifndef VXC_TAP_H
#define VXC_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define tap_plan(n) printf("1..%d\n", (n))
#define tap_done() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#define ok(cond, ...)                                                                 \
	do {                                                                          \
		int ok_ = !!(cond);                                                   \
		tap_n++;                                                              \
		if (!ok_)                                                             \
			tap_failed++;                                                 \
		printf("%s %d - ", ok_ ? "ok" : "not ok", tap_n);                     \
		printf(__VA_ARGS__);                                                  \
		printf("\n");                                                         \
		if (!ok_)                                                             \
			printf("#   failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
	} while (0)

#define is_str(got, want, ...)                                                        \
	do {                                                                          \
		const char *g_ = (got), *w_ = (want);                                 \
		ok(g_ && w_ ? !strcmp(g_, w_) : g_ == w_, __VA_ARGS__);               \
		if (g_ && w_ && strcmp(g_, w_))                                       \
			printf("#   got:  '%s'\n#   want: '%s'\n", g_, w_);         \
	} while (0)

#endif
