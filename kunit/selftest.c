// SPDX-License-Identifier: GPL-2.0
/*
 * A test of the test wiring: a broken expectation must fail the run.
 *
 * "kpaxos-selftest" has one case that always passes and one that fails on
 * purpose when the kernel is booted with kpaxos_kunit.selftest_fail=1 (and
 * is skipped otherwise).  kunit/run.sh --selftest boots the suite that way
 * and checks that the run exits non-zero and reports "1 passed, 1 failed";
 * the normal run filters this suite out ("kpaxos_*").
 */
#include <kunit/test.h>
#include <linux/module.h>

static bool selftest_fail;
module_param(selftest_fail, bool, 0444);
MODULE_PARM_DESC(selftest_fail, "enable the deliberately failing case");

static void selftest_sound_expectation(struct kunit *test)
{
	int v = 40;

	KUNIT_EXPECT_EQ(test, v + 2, 42);
}

static void selftest_broken_expectation(struct kunit *test)
{
	int v = 40;

	if (!selftest_fail)
		kunit_skip(test, "boot with kpaxos_kunit.selftest_fail=1");
	KUNIT_EXPECT_EQ_MSG(test, v + 2, 43, "this case fails on purpose");
}

static struct kunit_case selftest_cases[] = {
	KUNIT_CASE(selftest_sound_expectation),
	KUNIT_CASE(selftest_broken_expectation),
	{}
};

static struct kunit_suite selftest_suite = {
	.name = "kpaxos-selftest",
	.test_cases = selftest_cases,
};

kunit_test_suite(selftest_suite);

MODULE_DESCRIPTION("kpaxos KUnit suites");
MODULE_LICENSE("GPL");
