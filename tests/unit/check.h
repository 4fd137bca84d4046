/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Minimal unit-test harness for user-space tests: one executable per
 * test_*.c, each test a function registered with RUN().  The executable ends
 * with "N passed, N failed" and exits non-zero on any failure.
 */
#ifndef KPAXOS_CHECK_H
#define KPAXOS_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <inttypes.h>

static int check_failed_here;
static int check_passed, check_failed;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: CHECK(%s) failed\n",		\
			__FILE__, __LINE__, #cond);			\
		check_failed_here = 1;					\
	}								\
} while (0)

#define CHECK_EQ(a, b) do {						\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n",\
			__FILE__, __LINE__, #a, #b, _a, _b);		\
		check_failed_here = 1;					\
	}								\
} while (0)

#define RUN(fn) do {							\
	check_failed_here = 0;						\
	fn();								\
	if (check_failed_here) {					\
		check_failed++;						\
		printf("FAIL %s\n", #fn);				\
	} else {							\
		check_passed++;						\
		printf("ok   %s\n", #fn);				\
	}								\
} while (0)

#define CHECK_DONE() do {						\
	printf("%d passed, %d failed\n", check_passed, check_failed);	\
	return check_failed ? 1 : 0;					\
} while (0)

#endif /* KPAXOS_CHECK_H */
