// SPDX-License-Identifier: GPL-2.0
/*
 * kpx_selftest: a module that misbehaves on request, so that the VM test
 * harness can prove it notices.  Loaded with warn=1 it triggers a kernel
 * WARNING (with a call trace) at load time; without parameters it only
 * logs a line.  Not part of paxos.ko.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

static bool warn;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "trigger a WARNING when loaded");

static int __init kpx_selftest_init(void)
{
	pr_info("loaded (warn=%d)\n", warn);
	WARN(warn, "kpx_selftest: WARNING requested by warn=1\n");
	return 0;
}

static void __exit kpx_selftest_exit(void)
{
	pr_info("unloaded\n");
}

module_init(kpx_selftest_init);
module_exit(kpx_selftest_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kpaxos VM harness self-test module");
